package effects

import (
	"fmt"
	"reflect"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/internal/wire"
)

// The journal codec for effects, the companion of the events codec (see
// events/codec.go for the principles). The effects one event produced are
// encoded together as one CBOR array; each effect is a two-item array of
// its Kind (unsigned integer) and a map from small stable integer keys to
// its fields, zero fields omitted. The conf values inside address, route
// and rule effects are nested maps keyed by keepalived keyword names,
// written reflectively so that no field is silently left out.
//
// Field keys below are part of the journal format: never renumber or
// reuse one; add new fields under new keys. The encoding is deterministic.
// Empty and nil slices encode alike and decode as nil.

// EncodeAll returns the encoding of the effects list effs.
func EncodeAll(effs []Effect) ([]byte, error) { return AppendEncodeAll(nil, effs) }

// AppendEncodeAll appends the encoding of the effects list effs to dst.
func AppendEncodeAll(dst []byte, effs []Effect) ([]byte, error) {
	var e wire.Encoder
	e.Reset(dst)
	e.AppendArrayHeader(len(effs))
	for i, f := range effs {
		if err := encodeOne(&e, f); err != nil {
			return dst, fmt.Errorf("effects: encode effect %d of %d: %w", i, len(effs), err)
		}
	}
	return e.Bytes(), nil
}

func encodeOne(e *wire.Encoder, f Effect) error {
	if f == nil {
		return fmt.Errorf("nil effect")
	}
	if rv := reflect.ValueOf(f); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return fmt.Errorf("nil %T", f)
	}
	e.AppendArrayHeader(2)
	e.AppendUint(uint64(f.EffectKind()))
	m := e.BeginMap()
	var err error
	switch v := f.(type) {
	case *SendAdvert:
		encodeSendAdvert(e, v)
	case *AddAddress:
		e.String(1, v.Instance)
		err = e.Value(2, v.Address)
		e.String(3, v.Interface)
	case *DelAddress:
		e.String(1, v.Instance)
		err = e.Value(2, v.Address)
		e.String(3, v.Interface)
	case *AddRoute:
		e.String(1, v.Instance)
		err = e.Value(2, v.Route)
	case *DelRoute:
		e.String(1, v.Instance)
		err = e.Value(2, v.Route)
	case *AddRule:
		e.String(1, v.Instance)
		err = e.Value(2, v.Rule)
	case *DelRule:
		e.String(1, v.Instance)
		err = e.Value(2, v.Rule)
	case *CreateVMAC:
		e.String(1, v.Instance)
		e.String(2, v.Name)
		e.String(3, v.Parent)
		e.String(4, v.MAC)
	case *DeleteVMAC:
		e.String(1, v.Instance)
		e.String(2, v.Name)
	case *SendGARP:
		e.String(1, v.Instance)
		e.String(2, v.Interface)
		e.Addr(3, v.Addr)
		e.Int(4, int64(v.Count))
		e.Int(5, int64(v.Interval))
	case *SendNA:
		e.String(1, v.Instance)
		e.String(2, v.Interface)
		e.Addr(3, v.Addr)
		e.Int(4, int64(v.Count))
		e.Int(5, int64(v.Interval))
	case *SetTimer:
		e.String(1, v.Key)
		e.Int(2, int64(v.At))
	case *CancelTimer:
		e.String(1, v.Key)
	case *RunScript:
		e.String(1, v.Script)
		e.Strings(2, v.Command)
		e.Int(3, int64(v.Timeout))
		e.String(4, v.User)
		e.String(5, v.Group)
		e.String(6, v.Phase)
	case *Notify:
		encodeNotify(e, v)
	case *Count:
		e.String(1, v.Instance)
		e.String(2, string(v.Counter))
		e.Int(3, int64(v.Delta))
	case *StateChanged:
		e.String(1, v.Instance)
		e.Uint(2, uint64(v.From))
		e.Uint(3, uint64(v.To))
		e.Int(4, int64(v.Priority))
		e.String(5, v.Reason)
	case *Log:
		e.String(1, string(v.Level))
		e.String(2, v.Instance)
		e.String(3, v.Message)
	case *SetIPVS:
		encodeSetIPVS(e, v)
	case *RunCheck:
		e.String(1, v.VirtualServer)
		e.String(2, v.RealServer)
		e.Int(3, int64(v.Checker))
		e.String(4, v.Type)
		e.Addr(5, v.Addr)
		e.Int(6, int64(v.Port))
		e.Int(7, int64(v.Timeout))
		err = e.Value(8, v.Spec)
	case *CheckStateChanged:
		e.String(1, v.VirtualServer)
		e.String(2, v.RealServer)
		e.Int(3, int64(v.Checker))
		e.String(4, v.Type)
		e.Bool(5, v.Up)
		e.String(6, v.Reason)
	case *JoinGroup:
		e.String(1, v.Interface)
		e.Addr(2, v.Group)
		if len(v.AH) > 0 {
			e.Key(3)
			e.AppendArrayHeader(len(v.AH))
			for _, k := range v.AH {
				e.AppendArrayHeader(2)
				e.AppendUint(uint64(k.VRID))
				e.AppendBytes(k.Key[:])
			}
		}
		if v.RcvBuf != 0 {
			e.Int(4, int64(v.RcvBuf))
		}
	case *LeaveGroup:
		e.String(1, v.Interface)
		e.Addr(2, v.Group)
	case *CloseSockets:
		e.String(1, v.Interface)
	case *ReconcileIPVS:
		encodeReconcileIPVS(e, v)
	case *AddFirewallVIPs:
		encodeFirewallVIPs(e, v.Instance, &v.Table, v.VIPs)
	case *DelFirewallVIPs:
		encodeFirewallVIPs(e, v.Instance, &v.Table, v.VIPs)
	case *RemoveFirewall:
		e.String(1, v.Table)
	case *AddFirewallVMAC:
		encodeFirewallVMAC(e, v.Instance, &v.Table, &v.FirewallVMAC)
	case *DelFirewallVMAC:
		encodeFirewallVMAC(e, v.Instance, &v.Table, &v.FirewallVMAC)
	case *IPVSSyncDaemon:
		e.Uint(1, uint64(v.Op))
		e.Uint(2, uint64(v.State))
		e.String(3, v.Interface)
		e.Uint(4, uint64(v.SyncID))
		e.Int(5, int64(v.MaxLen))
		e.Int(6, int64(v.Port))
		e.Int(7, int64(v.TTL))
		e.Addr(8, v.Group)
		e.Bool(9, v.IfRunning)
	case *SetIPVSTimeouts:
		e.Int(1, int64(v.TCP))
		e.Int(2, int64(v.TCPFin))
		e.Int(3, int64(v.UDP))
	case *SendMail:
		e.String(1, v.Server)
		e.Int(2, int64(v.Port))
		e.Int(3, int64(v.Timeout))
		e.String(4, v.Helo)
		e.String(5, v.From)
		e.Strings(6, v.To)
		e.String(7, v.Subject)
		e.String(8, v.Body)
	case *SendBFD:
		e.String(1, v.Session)
		e.Addr(2, v.Src)
		e.Addr(3, v.Dst)
		e.Bool(4, v.Multihop)
		e.Uint(5, uint64(v.TTL))
		pm := e.BeginMapField(6)
		events.EncodeBFDPacketFields(e, &v.Packet)
		e.EndMapField(pm)
	case *SetPromoteSecondaries:
		e.String(1, v.Interface)
		e.Bool(2, v.On)
	case *BFDStateChanged:
		e.String(1, v.Session)
		e.Uint(2, uint64(v.From))
		e.Uint(3, uint64(v.To))
		e.Uint(4, uint64(v.LocalDiag))
		e.Uint(5, uint64(v.RemoteDiag))
		e.String(6, v.Reason)
	default:
		return fmt.Errorf("%T: no codec for kind %v", f, f.EffectKind())
	}
	if err != nil {
		return fmt.Errorf("%v: %w", f.EffectKind(), err)
	}
	e.EndMap(m)
	return nil
}

func encodeSendAdvert(e *wire.Encoder, v *SendAdvert) {
	e.String(1, v.Instance)
	e.String(2, v.Interface)
	e.String(3, v.VMAC)
	e.Uint(4, uint64(v.Version))
	e.Uint(5, uint64(v.VRID))
	e.Uint(6, uint64(v.Priority))
	e.Uint(7, uint64(v.Interval))
	e.Addrs(8, v.Addrs)
	e.Uint(9, uint64(v.AuthType))
	e.ByteString(10, v.AuthData[:])
	e.Addr(11, v.Src)
	e.Addrs(12, v.Dst)
	e.Uint(13, uint64(v.TTL))
	e.Uint(14, uint64(v.Checksum))
	e.Addr(15, v.ChecksumGroup)
}

func encodeNotify(e *wire.Encoder, v *Notify) {
	e.String(1, v.Type)
	e.String(2, v.Name)
	e.String(3, v.State)
	e.Int(4, int64(v.Priority))
	if len(v.Scripts) > 0 {
		e.Key(5)
		e.AppendArrayHeader(len(v.Scripts))
		for _, argv := range v.Scripts {
			e.AppendArrayHeader(len(argv))
			for _, a := range argv {
				e.AppendString(a)
			}
		}
	}
	e.String(6, v.User)
	e.String(7, v.Group)
	e.String(8, v.FIFOLine)
	e.Bool(9, v.SMTPAlert)
	if len(v.Users) > 0 {
		e.Key(10)
		e.AppendArrayHeader(len(v.Users))
		for _, u := range v.Users {
			e.AppendArrayHeader(2)
			e.AppendString(u.User)
			e.AppendString(u.Group)
		}
	}
}

func encodeSetIPVS(e *wire.Encoder, v *SetIPVS) {
	e.Uint(1, uint64(v.Op))
	e.String(2, v.VirtualServer)
	e.String(3, v.RealServer)
	e.Int(4, int64(v.Weight))
	encodeIPVSService(e, 5, &v.Service)
	encodeIPVSDest(e, 6, &v.Dest)
}

// encodeIPVSService writes a service as the map field k, omitted when the
// service is zero. SetIPVS and ReconcileIPVS share its keys.
func encodeIPVSService(e *wire.Encoder, k uint64, s *IPVSService) {
	if isZeroService(s) {
		return
	}
	m := e.BeginMapField(k)
	e.Int(1, int64(s.Family))
	e.String(2, s.Protocol)
	e.Addr(3, s.Addr)
	e.Int(4, int64(s.Port))
	e.Uint(5, uint64(s.FwMark))
	e.String(6, s.Scheduler)
	e.Strings(7, s.SchedFlags)
	e.Bool(8, s.OnePacket)
	e.Int(9, int64(s.PersistenceTimeout))
	e.Addr(10, s.PersistenceNetmask)
	e.String(11, s.PersistenceEngine)
	e.EndMapField(m)
}

// encodeIPVSDest writes a destination as the map field k, omitted when the
// destination is zero. SetIPVS and ReconcileIPVS share its keys.
func encodeIPVSDest(e *wire.Encoder, k uint64, d *IPVSDest) {
	if *d == (IPVSDest{}) {
		return
	}
	m := e.BeginMapField(k)
	e.Addr(1, d.Addr)
	e.Int(2, int64(d.Port))
	e.String(3, d.Method)
	e.String(4, d.TunType)
	e.Int(5, int64(d.TunPort))
	e.String(6, d.TunCsum)
	e.Int(7, int64(d.UThreshold))
	e.Int(8, int64(d.LThreshold))
	e.EndMapField(m)
}

// encodeReconcileIPVS writes the desired table as key 2: an array of
// service maps (1 virtual server, 2 service, 3 destinations), each
// destination a map (1 real server, 2 weight, 3 destination).
func encodeReconcileIPVS(e *wire.Encoder, v *ReconcileIPVS) {
	e.Bool(1, v.Flush)
	if len(v.Services) == 0 {
		return
	}
	e.Key(2)
	e.AppendArrayHeader(len(v.Services))
	for i := range v.Services {
		s := &v.Services[i]
		m := e.BeginMap()
		e.String(1, s.VirtualServer)
		encodeIPVSService(e, 2, &s.Service)
		if len(s.Dests) > 0 {
			e.Key(3)
			e.AppendArrayHeader(len(s.Dests))
			for j := range s.Dests {
				d := &s.Dests[j]
				dm := e.BeginMap()
				e.String(1, d.RealServer)
				e.Int(2, int64(d.Weight))
				encodeIPVSDest(e, 3, &d.Dest)
				e.EndMap(dm)
			}
		}
		e.EndMap(m)
	}
}

// encodeFirewallVIPs writes AddFirewallVIPs and DelFirewallVIPs: 1
// instance, 2 the table (a map: 1 name, 2 priority, 3 counters; omitted
// when zero), 3 the addresses (an array of maps: 1 address, 2 interface, 3
// by name).
func encodeFirewallVIPs(e *wire.Encoder, inst string, t *FirewallTable, vips []FirewallVIP) {
	e.String(1, inst)
	if *t != (FirewallTable{}) {
		m := e.BeginMapField(2)
		e.String(1, t.Name)
		e.Int(2, int64(t.Priority))
		e.Bool(3, t.Counters)
		e.EndMapField(m)
	}
	if len(vips) == 0 {
		return
	}
	e.Key(3)
	e.AppendArrayHeader(len(vips))
	for i := range vips {
		m := e.BeginMap()
		e.Addr(1, vips[i].Addr)
		e.String(2, vips[i].Interface)
		e.Bool(3, vips[i].ByName)
		e.EndMap(m)
	}
}

// encodeFirewallVMAC writes AddFirewallVMAC and DelFirewallVMAC: 1
// instance, 2 the table (as encodeFirewallVIPs), 3 the VMAC, 4 its parent,
// 5 IPv4, 6 IPv6.
func encodeFirewallVMAC(e *wire.Encoder, inst string, t *FirewallTable, v *FirewallVMAC) {
	encodeFirewallVIPs(e, inst, t, nil)
	e.String(3, v.VMAC)
	e.String(4, v.Parent)
	e.Bool(5, v.IPv4)
	e.Bool(6, v.IPv6)
}

func isZeroService(s *IPVSService) bool {
	return s.Family == 0 && s.Protocol == "" && !s.Addr.IsValid() && s.Port == 0 && s.FwMark == 0 &&
		s.Scheduler == "" && len(s.SchedFlags) == 0 && !s.OnePacket && s.PersistenceTimeout == 0 &&
		!s.PersistenceNetmask.IsValid() && s.PersistenceEngine == ""
}

// DecodeAll decodes an effects list encoded by EncodeAll. Corrupt or
// truncated input yields an error, never a panic. An empty list decodes
// as nil.
func DecodeAll(b []byte) ([]Effect, error) { return decodeAll(b, nil) }

// A Decoder decodes effects lists as DecodeAll does, sharing the strings
// that recur from list to list (instance names, timer keys, counters)
// instead of allocating each anew: for reading a journal. The zero value
// is ready; a Decoder is not safe for concurrent use.
type Decoder struct{ names wire.Names }

// DecodeAll decodes an effects list encoded by EncodeAll.
func (dec *Decoder) DecodeAll(b []byte) ([]Effect, error) { return decodeAll(b, &dec.names) }

func decodeAll(b []byte, names *wire.Names) ([]Effect, error) {
	var d wire.Decoder
	d.SetNames(names)
	d.Reset(b)
	n := d.ArrayLen()
	var effs []Effect
	if n > 0 {
		effs = make([]Effect, 0, n)
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		if d.ArrayLen() != 2 && d.Err() == nil {
			d.Fail(fmt.Errorf("effect is not a [kind, fields] pair"))
		}
		k := Kind(d.UintN(8))
		if d.Err() != nil {
			break
		}
		f := decodePayload(&d, k)
		if f == nil {
			return nil, fmt.Errorf("effects: decode effect %d: unknown effect kind %d", i, k)
		}
		d.EndContainer()
		if err := d.Err(); err != nil {
			return nil, fmt.Errorf("effects: decode effect %d (%v): %w", i, k, err)
		}
		effs = append(effs, f)
	}
	d.EndContainer()
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("effects: decode: %w", err)
	}
	if !d.Done() {
		return nil, fmt.Errorf("effects: decode: %d trailing bytes", len(b)-d.Offset())
	}
	return effs, nil
}
