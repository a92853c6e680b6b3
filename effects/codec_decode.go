package effects

import (
	"errors"
	"net/netip"
	"time"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/internal/wire"
)

// decodePayload reads the field map of an effect of kind k; it returns nil
// for an unknown kind. Keys are those written by encodeOne; unknown keys
// are skipped (written by a newer vigil).
func decodePayload(d *wire.Decoder, k Kind) Effect {
	switch k {
	case KindSendAdvert:
		return decodeSendAdvert(d)
	case KindAddAddress, KindDelAddress:
		var v AddAddress
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Instance = d.Name()
			case 2:
				d.DecodeValue(&v.Address)
			case 3:
				v.Interface = d.Name()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		if k == KindDelAddress {
			return (*DelAddress)(&v) // same fields, same keys
		}
		return &v
	case KindAddRoute, KindDelRoute:
		var v AddRoute
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Instance = d.Name()
			case 2:
				d.DecodeValue(&v.Route)
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		if k == KindDelRoute {
			return (*DelRoute)(&v)
		}
		return &v
	case KindAddRule, KindDelRule:
		var v AddRule
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Instance = d.Name()
			case 2:
				d.DecodeValue(&v.Rule)
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		if k == KindDelRule {
			return (*DelRule)(&v)
		}
		return &v
	case KindCreateVMAC:
		v := new(CreateVMAC)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Instance = d.Name()
			case 2:
				v.Name = d.Name()
			case 3:
				v.Parent = d.Name()
			case 4:
				v.MAC = d.Name()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindDeleteVMAC:
		v := new(DeleteVMAC)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Instance = d.Name()
			case 2:
				v.Name = d.Name()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindSendGARP:
		v := new(SendGARP)
		decodeAnnounce(d, &v.Instance, &v.Interface, &v.Addr, &v.Count, &v.Interval)
		return v
	case KindSendNA:
		v := new(SendNA)
		decodeAnnounce(d, &v.Instance, &v.Interface, &v.Addr, &v.Count, &v.Interval)
		return v
	case KindSetTimer:
		v := new(SetTimer)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Key = d.Name()
			case 2:
				v.At = events.Time(d.Int())
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindCancelTimer:
		v := new(CancelTimer)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Key = d.Name()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	}
	return decodePayload2(d, k)
}

// decodePayload2 is decodePayload's second half (kept apart for size).
func decodePayload2(d *wire.Decoder, k Kind) Effect {
	switch k {
	case KindRunScript:
		v := new(RunScript)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Script = d.Name()
			case 2:
				v.Command = d.Strings()
			case 3:
				v.Timeout = time.Duration(d.Int())
			case 4:
				v.User = d.Name()
			case 5:
				v.Group = d.Name()
			case 6:
				v.Phase = d.Name()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindNotify:
		return decodeNotify(d)
	case KindCount:
		v := new(Count)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Instance = d.Name()
			case 2:
				v.Counter = Counter(d.Name())
			case 3:
				v.Delta = int(d.Int())
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindStateChanged:
		v := new(StateChanged)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Instance = d.Name()
			case 2:
				v.From = State(d.UintN(8))
			case 3:
				v.To = State(d.UintN(8))
			case 4:
				v.Priority = int(d.Int())
			case 5:
				v.Reason = d.String()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindLog:
		v := new(Log)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Level = LogLevel(d.Name())
			case 2:
				v.Instance = d.Name()
			case 3:
				v.Message = d.String()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindSetIPVS:
		return decodeSetIPVS(d)
	case KindReconcileIPVS:
		return decodeReconcileIPVS(d)
	case KindIPVSSyncDaemon:
		return decodeSyncDaemon(d)
	case KindSetIPVSTimeouts:
		v := new(SetIPVSTimeouts)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.TCP = time.Duration(d.Int())
			case 2:
				v.TCPFin = time.Duration(d.Int())
			case 3:
				v.UDP = time.Duration(d.Int())
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindSendMail:
		v := new(SendMail)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Server = d.Name()
			case 2:
				v.Port = int(d.Int())
			case 3:
				v.Timeout = time.Duration(d.Int())
			case 4:
				v.Helo = d.Name()
			case 5:
				v.From = d.Name()
			case 6:
				v.To = d.Strings()
			case 7:
				v.Subject = d.String()
			case 8:
				v.Body = d.String()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindSendBFD:
		v := new(SendBFD)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Session = d.Name()
			case 2:
				v.Src = d.Addr()
			case 3:
				v.Dst = d.Addr()
			case 4:
				v.Multihop = d.Bool()
			case 5:
				v.TTL = uint8(d.UintN(8))
			case 6:
				events.DecodeBFDPacketFields(d, &v.Packet)
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindSetPromoteSecondaries:
		v := new(SetPromoteSecondaries)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Interface = d.Name()
			case 2:
				v.On = d.Bool()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindBFDStateChanged:
		v := new(BFDStateChanged)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Session = d.Name()
			case 2:
				v.From = uint8(d.UintN(8))
			case 3:
				v.To = uint8(d.UintN(8))
			case 4:
				v.LocalDiag = uint8(d.UintN(8))
			case 5:
				v.RemoteDiag = uint8(d.UintN(8))
			case 6:
				v.Reason = d.Name()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindRunCheck:
		v := new(RunCheck)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.VirtualServer = d.Name()
			case 2:
				v.RealServer = d.Name()
			case 3:
				v.Checker = int(d.Int())
			case 4:
				v.Type = d.Name()
			case 5:
				v.Addr = d.Addr()
			case 6:
				v.Port = int(d.Int())
			case 7:
				v.Timeout = time.Duration(d.Int())
			case 8:
				d.DecodeValue(&v.Spec)
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindCheckStateChanged:
		v := new(CheckStateChanged)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.VirtualServer = d.Name()
			case 2:
				v.RealServer = d.Name()
			case 3:
				v.Checker = int(d.Int())
			case 4:
				v.Type = d.Name()
			case 5:
				v.Up = d.Bool()
			case 6:
				v.Reason = d.String()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindJoinGroup:
		v := new(JoinGroup)
		decodeJoin(d, v)
		return v
	case KindLeaveGroup:
		v := new(LeaveGroup)
		decodeGroup(d, &v.Interface, &v.Group)
		return v
	case KindCloseSockets:
		v := new(CloseSockets)
		var none netip.Addr
		decodeGroup(d, &v.Interface, &none)
		return v
	case KindAddFirewallVIPs:
		v := new(AddFirewallVIPs)
		decodeFirewallVIPs(d, &v.Instance, &v.Table, &v.VIPs)
		return v
	case KindDelFirewallVIPs:
		v := new(DelFirewallVIPs)
		decodeFirewallVIPs(d, &v.Instance, &v.Table, &v.VIPs)
		return v
	case KindAddFirewallVMAC:
		v := new(AddFirewallVMAC)
		decodeFirewallVMAC(d, &v.Instance, &v.Table, &v.FirewallVMAC)
		return v
	case KindDelFirewallVMAC:
		v := new(DelFirewallVMAC)
		decodeFirewallVMAC(d, &v.Instance, &v.Table, &v.FirewallVMAC)
		return v
	case KindRemoveFirewall:
		v := new(RemoveFirewall)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.Table = d.Name()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	}
	return nil
}

// decodeFirewallVIPs reads the fields encodeFirewallVIPs writes.
// decodeFirewallTable reads the table map of encodeFirewallVIPs.
func decodeFirewallTable(d *wire.Decoder, t *FirewallTable) {
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			t.Name = d.Name()
		case 2:
			t.Priority = int(d.Int())
		case 3:
			t.Counters = d.Bool()
		default:
			d.Skip()
		}
	}
	d.EndContainer()
}

func decodeFirewallVMAC(d *wire.Decoder, inst *string, t *FirewallTable, v *FirewallVMAC) {
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			*inst = d.Name()
		case 2:
			decodeFirewallTable(d, t)
		case 3:
			v.VMAC = d.Name()
		case 4:
			v.Parent = d.Name()
		case 5:
			v.IPv4 = d.Bool()
		case 6:
			v.IPv6 = d.Bool()
		default:
			d.Skip()
		}
	}
	d.EndContainer()
}

func decodeFirewallVIPs(d *wire.Decoder, inst *string, t *FirewallTable, vips *[]FirewallVIP) {
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			*inst = d.Name()
		case 2:
			for range d.MapLen() {
				switch d.Key() {
				case 1:
					t.Name = d.Name()
				case 2:
					t.Priority = int(d.Int())
				case 3:
					t.Counters = d.Bool()
				default:
					d.Skip()
				}
			}
			d.EndContainer()
		case 3:
			n := d.ArrayLen()
			if n > 0 {
				*vips = make([]FirewallVIP, n)
			}
			for i := 0; i < n && d.Err() == nil; i++ {
				p := &(*vips)[i]
				for range d.MapLen() {
					switch d.Key() {
					case 1:
						p.Addr = d.Addr()
					case 2:
						p.Interface = d.Name()
					case 3:
						p.ByName = d.Bool()
					default:
						d.Skip()
					}
				}
				d.EndContainer()
			}
			d.EndContainer()
		default:
			d.Skip()
		}
	}
	d.EndContainer()
}

func decodeSendAdvert(d *wire.Decoder) *SendAdvert {
	v := new(SendAdvert)
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			v.Instance = d.Name()
		case 2:
			v.Interface = d.Name()
		case 3:
			v.VMAC = d.Name()
		case 4:
			v.Version = uint8(d.UintN(8))
		case 5:
			v.VRID = uint8(d.UintN(8))
		case 6:
			v.Priority = uint8(d.UintN(8))
		case 7:
			v.Interval = uint16(d.UintN(16))
		case 8:
			v.Addrs = d.Addrs()
		case 9:
			v.AuthType = uint8(d.UintN(8))
		case 10:
			d.Fixed(v.AuthData[:])
		case 11:
			v.Src = d.Addr()
		case 12:
			v.Dst = d.Addrs()
		case 13:
			v.TTL = uint8(d.UintN(8))
		case 14:
			v.Checksum = events.ChecksumKind(d.UintN(8))
		case 15:
			v.ChecksumGroup = d.Addr()
		default:
			d.Skip()
		}
	}
	d.EndContainer()
	return v
}

func decodeNotify(d *wire.Decoder) *Notify {
	v := new(Notify)
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			v.Type = d.Name()
		case 2:
			v.Name = d.Name()
		case 3:
			v.State = d.Name()
		case 4:
			v.Priority = int(d.Int())
		case 5:
			n := d.ArrayLen()
			if n > 0 {
				v.Scripts = make([][]string, n)
			}
			for i := range n {
				v.Scripts[i] = d.Strings()
			}
			d.EndContainer()
		case 6:
			v.User = d.Name()
		case 7:
			v.Group = d.Name()
		case 8:
			v.FIFOLine = d.String()
		case 9:
			v.SMTPAlert = d.Bool()
		case 10:
			n := d.ArrayLen()
			if n > 0 {
				v.Users = make([]ScriptCred, n)
			}
			for i := range n {
				if d.ArrayLen() != 2 {
					d.Fail(errors.New("notify credentials are not a [user, group] pair"))
					break
				}
				v.Users[i] = ScriptCred{User: d.String(), Group: d.String()}
				d.EndContainer()
			}
			d.EndContainer()
		default:
			d.Skip()
		}
	}
	d.EndContainer()
	return v
}

// decodeAnnounce reads the fields shared by SendGARP and SendNA.
func decodeAnnounce(d *wire.Decoder, inst, ifname *string, addr *netip.Addr, count *int, interval *time.Duration) {
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			*inst = d.Name()
		case 2:
			*ifname = d.Name()
		case 3:
			*addr = d.Addr()
		case 4:
			*count = int(d.Int())
		case 5:
			*interval = time.Duration(d.Int())
		default:
			d.Skip()
		}
	}
	d.EndContainer()
}

// decodeGroup reads the fields shared by JoinGroup and LeaveGroup.
func decodeGroup(d *wire.Decoder, ifname *string, group *netip.Addr) {
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			*ifname = d.Name()
		case 2:
			*group = d.Addr()
		default:
			d.Skip()
		}
	}
	d.EndContainer()
}

func decodeSetIPVS(d *wire.Decoder) *SetIPVS {
	v := new(SetIPVS)
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			v.Op = IPVSOp(d.UintN(8))
		case 2:
			v.VirtualServer = d.Name()
		case 3:
			v.RealServer = d.Name()
		case 4:
			v.Weight = int(d.Int())
		case 5:
			decodeIPVSService(d, &v.Service)
		case 6:
			decodeIPVSDest(d, &v.Dest)
		default:
			d.Skip()
		}
	}
	d.EndContainer()
	return v
}

// decodeIPVSService reads a map written by encodeIPVSService.
func decodeIPVSService(d *wire.Decoder, s *IPVSService) {
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			s.Family = int(d.Int())
		case 2:
			s.Protocol = d.String()
		case 3:
			s.Addr = d.Addr()
		case 4:
			s.Port = int(d.Int())
		case 5:
			s.FwMark = uint32(d.UintN(32))
		case 6:
			s.Scheduler = d.String()
		case 7:
			s.SchedFlags = d.Strings()
		case 8:
			s.OnePacket = d.Bool()
		case 9:
			s.PersistenceTimeout = time.Duration(d.Int())
		case 10:
			s.PersistenceNetmask = d.Addr()
		case 11:
			s.PersistenceEngine = d.String()
		default:
			d.Skip()
		}
	}
	d.EndContainer()
}

// decodeIPVSDest reads a map written by encodeIPVSDest.
func decodeIPVSDest(d *wire.Decoder, p *IPVSDest) {
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			p.Addr = d.Addr()
		case 2:
			p.Port = int(d.Int())
		case 3:
			p.Method = d.String()
		case 4:
			p.TunType = d.String()
		case 5:
			p.TunPort = int(d.Int())
		case 6:
			p.TunCsum = d.String()
		case 7:
			p.UThreshold = int(d.Int())
		case 8:
			p.LThreshold = int(d.Int())
		default:
			d.Skip()
		}
	}
	d.EndContainer()
}

func decodeReconcileIPVS(d *wire.Decoder) *ReconcileIPVS {
	v := new(ReconcileIPVS)
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			v.Flush = d.Bool()
		case 2:
			n := d.ArrayLen()
			if n > 0 {
				v.Services = make([]IPVSTableService, n)
			}
			for i := 0; i < n && d.Err() == nil; i++ {
				decodeIPVSTableService(d, &v.Services[i])
			}
			d.EndContainer()
		default:
			d.Skip()
		}
	}
	d.EndContainer()
	return v
}

func decodeIPVSTableService(d *wire.Decoder, s *IPVSTableService) {
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			s.VirtualServer = d.Name()
		case 2:
			decodeIPVSService(d, &s.Service)
		case 3:
			n := d.ArrayLen()
			if n > 0 {
				s.Dests = make([]IPVSTableDest, n)
			}
			for i := 0; i < n && d.Err() == nil; i++ {
				p := &s.Dests[i]
				for range d.MapLen() {
					switch d.Key() {
					case 1:
						p.RealServer = d.Name()
					case 2:
						p.Weight = int(d.Int())
					case 3:
						decodeIPVSDest(d, &p.Dest)
					default:
						d.Skip()
					}
				}
				d.EndContainer()
			}
			d.EndContainer()
		default:
			d.Skip()
		}
	}
	d.EndContainer()
}

// decodeJoin reads a JoinGroup: decodeGroup's fields and the AH keys.
func decodeJoin(d *wire.Decoder, v *JoinGroup) {
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			v.Interface = d.Name()
		case 2:
			v.Group = d.Addr()
		case 3:
			n := d.ArrayLen()
			if n > 0 {
				v.AH = make([]AuthKey, n)
			}
			for i := range n {
				if d.ArrayLen() != 2 {
					d.Fail(errors.New("an AH key is not a [vrid, key] pair"))
					break
				}
				v.AH[i].VRID = uint8(d.UintN(8))
				d.Fixed(v.AH[i].Key[:])
				d.EndContainer()
			}
			d.EndContainer()
		case 4:
			v.RcvBuf = int(d.Int())
		default:
			d.Skip()
		}
	}
	d.EndContainer()
}

func decodeSyncDaemon(d *wire.Decoder) *IPVSSyncDaemon {
	v := new(IPVSSyncDaemon)
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			v.Op = SyncDaemonOp(d.UintN(8))
		case 2:
			v.State = SyncDaemonState(d.UintN(8))
		case 3:
			v.Interface = d.String()
		case 4:
			v.SyncID = uint8(d.UintN(8))
		case 5:
			v.MaxLen = int(d.Int())
		case 6:
			v.Port = int(d.Int())
		case 7:
			v.TTL = int(d.Int())
		case 8:
			v.Group = d.Addr()
		case 9:
			v.IfRunning = d.Bool()
		default:
			d.Skip()
		}
	}
	d.EndContainer()
	return v
}
