package events

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/vigil-ha/vigil/internal/wire"
)

// The journal codec. An encoded event is a CBOR sequence (RFC 8742) of two
// items: the event's Kind as an unsigned integer, then a map from small
// stable integer keys to the event's fields. Zero fields are omitted,
// unknown keys are skipped on decode, absent ones left zero: fields may be
// added (under new keys) without a version bump. The configuration inside
// ConfigLoaded is a nested map keyed by keepalived keyword names, written
// reflectively so that no configuration field is ever silently left out.
// See package internal/wire for why CBOR and why by hand.
//
// Field keys below are part of the journal format: never renumber or
// reuse one; add new fields under new keys. The encoding is deterministic:
// the same event always yields the same bytes. Empty and nil slices encode
// alike and decode as nil.

// CodecVersion is the version of this encoding. It changes only if an
// incompatible change is ever made (compatible additions do not bump it);
// journals record it in their metadata.
const CodecVersion = 1

// Encode returns the encoding of ev.
func Encode(ev Event) ([]byte, error) { return AppendEncode(nil, ev) }

// AppendEncode appends the encoding of ev to dst.
func AppendEncode(dst []byte, ev Event) ([]byte, error) {
	if ev == nil {
		return dst, errors.New("events: encode nil event")
	}
	if rv := reflect.ValueOf(ev); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return dst, fmt.Errorf("events: encode nil %T", ev)
	}
	var e wire.Encoder
	e.Reset(dst)
	e.AppendUint(uint64(ev.EventKind()))
	m := e.BeginMap()
	var err error
	switch v := ev.(type) {
	case *ConfigLoaded:
		e.Int(1, int64(v.At))
		err = e.Value(2, v.Config)
		e.String(3, v.Digest)
	case *Start:
		e.Int(1, int64(v.At))
		e.Uint(2, v.Seed)
		e.Bool(3, v.ReportsJoins)
	case *GroupJoined:
		e.Int(1, int64(v.At))
		e.String(2, v.Interface)
		e.Addr(3, v.Group)
		e.String(4, v.Err)
	case *Stop:
		e.Int(1, int64(v.At))
		e.Bool(2, v.KeepAddresses)
		e.Bool(3, v.KeepIPVS)
	case *AdvertReceived:
		encodeAdvertReceived(&e, v)
	case *TimerFired:
		e.Int(1, int64(v.At))
		e.String(2, v.Key)
	case *LinkChanged:
		e.Int(1, int64(v.At))
		e.String(2, v.Interface)
		e.Int(3, int64(v.Index))
		e.Bool(4, v.Present)
		e.Bool(5, v.Up)
		e.Bool(6, v.Running)
		e.Int(7, int64(v.MTU))
		e.String(8, v.HWAddr)
		e.Bool(9, v.PromoteSecondaries)
	case *AddressChanged:
		e.Int(1, int64(v.At))
		e.String(2, v.Interface)
		e.Prefix(3, v.Prefix)
		e.Bool(4, v.Added)
	case *RouteChanged:
		e.Int(1, int64(v.At))
		e.Prefix(2, v.Dst)
		e.Int(3, int64(v.Table))
		e.String(4, v.Interface)
		e.Addr(5, v.Gateway)
		e.Bool(6, v.Added)
	case *RuleChanged:
		e.Int(1, int64(v.At))
		e.Int(2, int64(v.Family))
		e.Int(3, int64(v.Priority))
		e.Prefix(4, v.From)
		e.Prefix(5, v.To)
		e.Int(6, int64(v.Table))
		e.Bool(7, v.Added)
	case *ScriptResult:
		e.Int(1, int64(v.At))
		e.String(2, v.Script)
		e.Int(3, int64(v.Status))
		e.Bool(4, v.TimedOut)
		e.Bool(5, v.Failed)
		e.String(6, v.Error)
		e.String(7, v.Phase)
	case *TrackFileValue:
		e.Int(1, int64(v.At))
		e.String(2, v.File)
		e.Int(3, v.Value)
		e.Bool(4, v.Failed)
	case *ProcessCount:
		e.Int(1, int64(v.At))
		e.String(2, v.Process)
		e.Int(3, int64(v.Count))
	case *BFDState:
		e.Int(1, int64(v.At))
		e.String(2, v.Name)
		e.Bool(3, v.Up)
	case *BFDReceived:
		encodeBFDReceived(&e, v)
	case *CheckResult:
		e.Int(1, int64(v.At))
		e.String(2, v.VirtualServer)
		e.String(3, v.RealServer)
		e.Int(4, int64(v.Checker))
		e.Bool(5, v.OK)
		e.String(6, v.Message)
		e.Bool(7, v.Dynamic)
		e.Int(8, int64(v.Weight))
	default:
		return dst, fmt.Errorf("events: encode %T: no codec for kind %v", ev, ev.EventKind())
	}
	if err != nil {
		return dst, fmt.Errorf("events: encode %v: %w", ev.EventKind(), err)
	}
	e.EndMap(m)
	return e.Bytes(), nil
}

func encodeAdvertReceived(e *wire.Encoder, v *AdvertReceived) {
	e.Int(1, int64(v.At))
	e.String(2, v.Interface)
	e.Addr(3, v.Src)
	e.Addr(4, v.Dst)
	e.Uint(5, uint64(v.TTL))
	e.Uint(6, uint64(v.Verdict))
	e.Int(7, int64(v.Length))
	a := &v.Advert
	m := e.BeginMapField(8)
	e.Uint(1, uint64(a.Version))
	e.Uint(2, uint64(a.Type))
	e.Uint(3, uint64(a.VRID))
	e.Uint(4, uint64(a.Priority))
	e.Uint(5, uint64(a.CountAddrs))
	e.Uint(6, uint64(a.AuthType))
	e.Uint(7, uint64(a.Interval))
	e.Addrs(8, a.Addrs)
	e.ByteString(9, a.AuthData[:])
	e.Bool(10, a.AH)
	e.Uint(11, uint64(a.AHSeq))
	e.Uint(12, uint64(a.Checksum))
	e.EndMapField(m)
	e.Int(9, int64(v.Count))
}

func encodeBFDReceived(e *wire.Encoder, v *BFDReceived) {
	e.Int(1, int64(v.At))
	e.Addr(2, v.Src)
	e.Addr(3, v.Dst)
	e.Uint(4, uint64(v.SrcPort))
	e.Int(5, int64(v.Ifindex))
	e.Uint(6, uint64(v.TTL))
	e.Bool(7, v.Multihop)
	e.Uint(8, uint64(v.Verdict))
	m := e.BeginMapField(9)
	EncodeBFDPacketFields(e, &v.Packet)
	e.EndMapField(m)
}

// EncodeBFDPacketFields writes p's fields into the open map of e, under
// the keys DecodeBFDPacketFields reads (shared with the effects codec's
// SendBFD).
func EncodeBFDPacketFields(e *wire.Encoder, p *BFDPacket) {
	e.Uint(1, uint64(p.Version))
	e.Uint(2, uint64(p.Diag))
	e.Uint(3, uint64(p.State))
	e.Bool(4, p.Poll)
	e.Bool(5, p.Final)
	e.Bool(6, p.CPI)
	e.Bool(7, p.Auth)
	e.Bool(8, p.Demand)
	e.Bool(9, p.Multipoint)
	e.Uint(10, uint64(p.DetectMult))
	e.Uint(11, uint64(p.Length))
	e.Uint(12, uint64(p.MyDisc))
	e.Uint(13, uint64(p.YourDisc))
	e.Uint(14, uint64(p.DesiredMinTx))
	e.Uint(15, uint64(p.RequiredMinRx))
	e.Uint(16, uint64(p.RequiredMinEchoRx))
}

// Decode decodes an event encoded by Encode. Corrupt or truncated input
// yields an error, never a panic.
func Decode(b []byte) (Event, error) { return decode(b, nil) }

// A Decoder decodes events as Decode does, sharing the strings that recur
// from event to event (interface names, timer keys, ...) instead of
// allocating each anew: for reading a journal. Events it returns may share
// string data; strings are immutable, so that is invisible. The zero value
// is ready; a Decoder is not safe for concurrent use.
type Decoder struct{ names wire.Names }

// Decode decodes an event encoded by Encode.
func (dec *Decoder) Decode(b []byte) (Event, error) { return decode(b, &dec.names) }

func decode(b []byte, names *wire.Names) (Event, error) {
	var d wire.Decoder
	d.SetNames(names)
	d.Reset(b)
	k := Kind(d.UintN(8))
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("events: decode kind: %w", err)
	}
	ev := decodePayload(&d, k)
	if ev == nil {
		return nil, fmt.Errorf("events: decode: unknown event kind %d", k)
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("events: decode %v: %w", k, err)
	}
	if !d.Done() {
		return nil, fmt.Errorf("events: decode %v: %d trailing bytes", k, len(b)-d.Offset())
	}
	return ev, nil
}
