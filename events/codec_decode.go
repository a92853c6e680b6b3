package events

import (
	"net/netip"

	"github.com/vigil-ha/vigil/events/conf"
	"github.com/vigil-ha/vigil/internal/wire"
)

// decodePayload reads the field map of an event of kind k; it returns nil
// for an unknown kind. Keys are those written by AppendEncode; unknown keys
// are skipped (written by a newer vigil).
func decodePayload(d *wire.Decoder, k Kind) Event {
	switch k {
	case KindConfigLoaded:
		v := new(ConfigLoaded)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.At = Time(d.Int())
			case 2:
				v.Config = new(conf.Config)
				d.DecodeValue(v.Config)
			case 3:
				v.Digest = d.String()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindStart:
		v := new(Start)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.At = Time(d.Int())
			case 2:
				v.Seed = d.Uint()
			case 3:
				v.ReportsJoins = d.Bool()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindStop:
		v := new(Stop)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.At = Time(d.Int())
			case 2:
				v.KeepAddresses = d.Bool()
			case 3:
				v.KeepIPVS = d.Bool()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindAdvertReceived:
		return decodeAdvertReceived(d)
	case KindTimerFired:
		v := new(TimerFired)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.At = Time(d.Int())
			case 2:
				v.Key = d.Name()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindLinkChanged:
		v := new(LinkChanged)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.At = Time(d.Int())
			case 2:
				v.Interface = d.Name()
			case 3:
				v.Index = int(d.Int())
			case 4:
				v.Present = d.Bool()
			case 5:
				v.Up = d.Bool()
			case 6:
				v.Running = d.Bool()
			case 7:
				v.MTU = int(d.Int())
			case 8:
				v.HWAddr = d.Name()
			case 9:
				v.PromoteSecondaries = d.Bool()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindAddressChanged:
		v := new(AddressChanged)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.At = Time(d.Int())
			case 2:
				v.Interface = d.Name()
			case 3:
				v.Prefix = d.Prefix()
			case 4:
				v.Added = d.Bool()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindRouteChanged:
		v := new(RouteChanged)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.At = Time(d.Int())
			case 2:
				v.Dst = d.Prefix()
			case 3:
				v.Table = int(d.Int())
			case 4:
				v.Interface = d.Name()
			case 5:
				v.Gateway = d.Addr()
			case 6:
				v.Added = d.Bool()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindRuleChanged:
		v := new(RuleChanged)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.At = Time(d.Int())
			case 2:
				v.Family = int(d.Int())
			case 3:
				v.Priority = int(d.Int())
			case 4:
				v.From = d.Prefix()
			case 5:
				v.To = d.Prefix()
			case 6:
				v.Table = int(d.Int())
			case 7:
				v.Added = d.Bool()
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
func decodePayload2(d *wire.Decoder, k Kind) Event {
	switch k {
	case KindScriptResult:
		v := new(ScriptResult)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.At = Time(d.Int())
			case 2:
				v.Script = d.Name()
			case 3:
				v.Status = int(d.Int())
			case 4:
				v.TimedOut = d.Bool()
			case 5:
				v.Failed = d.Bool()
			case 6:
				v.Error = d.String()
			case 7:
				v.Phase = d.Name()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindTrackFileValue:
		v := new(TrackFileValue)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.At = Time(d.Int())
			case 2:
				v.File = d.Name()
			case 3:
				v.Value = d.Int()
			case 4:
				v.Failed = d.Bool()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindProcessCount:
		v := new(ProcessCount)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.At = Time(d.Int())
			case 2:
				v.Process = d.Name()
			case 3:
				v.Count = int(d.Int())
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindBFDState:
		v := new(BFDState)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.At = Time(d.Int())
			case 2:
				v.Name = d.Name()
			case 3:
				v.Up = d.Bool()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindGroupJoined:
		v := new(GroupJoined)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.At = Time(d.Int())
			case 2:
				v.Interface = d.Name()
			case 3:
				v.Group = d.Addr()
			case 4:
				v.Err = d.String()
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	case KindBFDReceived:
		return decodeBFDReceived(d)
	case KindCheckResult:
		v := new(CheckResult)
		for range d.MapLen() {
			switch d.Key() {
			case 1:
				v.At = Time(d.Int())
			case 2:
				v.VirtualServer = d.Name()
			case 3:
				v.RealServer = d.Name()
			case 4:
				v.Checker = int(d.Int())
			case 5:
				v.OK = d.Bool()
			case 6:
				v.Message = d.String()
			case 7:
				v.Dynamic = d.Bool()
			case 8:
				v.Weight = int(d.Int())
			default:
				d.Skip()
			}
		}
		d.EndContainer()
		return v
	}
	return nil
}

// advertAlloc is an advert allocated together with room for the one
// address most adverts carry: one allocation instead of two.
type advertAlloc struct {
	ev   AdvertReceived
	addr [1]netip.Addr
}

func decodeAdvertReceived(d *wire.Decoder) *AdvertReceived {
	x := new(advertAlloc)
	v := &x.ev
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			v.At = Time(d.Int())
		case 2:
			v.Interface = d.Name()
		case 3:
			v.Src = d.Addr()
		case 4:
			v.Dst = d.Addr()
		case 5:
			v.TTL = uint8(d.UintN(8))
		case 6:
			v.Verdict = Verdict(d.UintN(8))
		case 7:
			v.Length = int(d.Int())
		case 8:
			decodeAdvert(d, &v.Advert, x.addr[:])
		case 9:
			v.Count = int(d.Int())
		default:
			d.Skip()
		}
	}
	d.EndContainer()
	return v
}

func decodeAdvert(d *wire.Decoder, a *Advert, spare []netip.Addr) {
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			a.Version = uint8(d.UintN(8))
		case 2:
			a.Type = uint8(d.UintN(8))
		case 3:
			a.VRID = uint8(d.UintN(8))
		case 4:
			a.Priority = uint8(d.UintN(8))
		case 5:
			a.CountAddrs = uint8(d.UintN(8))
		case 6:
			a.AuthType = uint8(d.UintN(8))
		case 7:
			a.Interval = uint16(d.UintN(16))
		case 8:
			a.Addrs = d.AddrsInto(spare)
		case 9:
			d.Fixed(a.AuthData[:])
		case 10:
			a.AH = d.Bool()
		case 11:
			a.AHSeq = uint32(d.UintN(32))
		case 12:
			a.Checksum = ChecksumKind(d.UintN(8))
		default:
			d.Skip()
		}
	}
	d.EndContainer()
}

func decodeBFDReceived(d *wire.Decoder) *BFDReceived {
	v := new(BFDReceived)
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			v.At = Time(d.Int())
		case 2:
			v.Src = d.Addr()
		case 3:
			v.Dst = d.Addr()
		case 4:
			v.SrcPort = uint16(d.UintN(16))
		case 5:
			v.Ifindex = int(d.Int())
		case 6:
			v.TTL = uint8(d.UintN(8))
		case 7:
			v.Multihop = d.Bool()
		case 8:
			v.Verdict = BFDVerdict(d.UintN(8))
		case 9:
			DecodeBFDPacketFields(d, &v.Packet)
		default:
			d.Skip()
		}
	}
	d.EndContainer()
	return v
}

// DecodeBFDPacketFields reads a map written by EncodeBFDPacketFields
// into p, the map included.
func DecodeBFDPacketFields(d *wire.Decoder, p *BFDPacket) {
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			p.Version = uint8(d.UintN(8))
		case 2:
			p.Diag = uint8(d.UintN(8))
		case 3:
			p.State = uint8(d.UintN(8))
		case 4:
			p.Poll = d.Bool()
		case 5:
			p.Final = d.Bool()
		case 6:
			p.CPI = d.Bool()
		case 7:
			p.Auth = d.Bool()
		case 8:
			p.Demand = d.Bool()
		case 9:
			p.Multipoint = d.Bool()
		case 10:
			p.DetectMult = uint8(d.UintN(8))
		case 11:
			p.Length = uint8(d.UintN(8))
		case 12:
			p.MyDisc = uint32(d.UintN(32))
		case 13:
			p.YourDisc = uint32(d.UintN(32))
		case 14:
			p.DesiredMinTx = uint32(d.UintN(32))
		case 15:
			p.RequiredMinRx = uint32(d.UintN(32))
		case 16:
			p.RequiredMinEchoRx = uint32(d.UintN(32))
		default:
			d.Skip()
		}
	}
	d.EndContainer()
}
