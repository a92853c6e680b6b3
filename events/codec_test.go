package events

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-ha/vigil/events/conf"
	"github.com/vigil-ha/vigil/internal/testfill"
	"github.com/vigil-ha/vigil/internal/wire"
)

// allKinds returns every declared event kind, from the kind name table, so
// that a kind added to events.go is covered here without editing the test.
func allKinds() []Kind {
	var ks []Kind
	for k, name := range kindNames {
		if name != "" {
			ks = append(ks, Kind(k))
		}
	}
	return ks
}

// zeroOf returns a zero event of kind k through the decoder: a kind the
// decoder does not know fails the test.
func zeroOf(t testing.TB, k Kind) Event {
	t.Helper()
	e := wire.NewEncoder(nil)
	e.AppendUint(uint64(k))
	ev, err := Decode(append(e.Bytes(), 0xa0)) // kind, empty map
	if err != nil {
		t.Fatalf("kind %v: %v (codec support missing?)", k, err)
	}
	if ev.EventKind() != k {
		t.Fatalf("kind %v decoded as %v", k, ev.EventKind())
	}
	return ev
}

// randomEvent returns an event of kind k with every field filled.
func randomEvent(t testing.TB, f *testfill.Filler, k Kind) Event {
	ev := zeroOf(t, k)
	f.Fill(ev)
	return ev
}

func TestRoundTripEveryKind(t *testing.T) {
	f := testfill.New(1)
	var dec Decoder // shared by all kinds, as by a journal's records
	for _, k := range allKinds() {
		t.Run(k.String(), func(t *testing.T) {
			samples := []Event{zeroOf(t, k)}
			for range 50 {
				samples = append(samples, randomEvent(t, f, k))
			}
			for _, ev := range samples {
				b, err := Encode(ev)
				if err != nil {
					t.Fatalf("encode %+v: %v", ev, err)
				}
				got, err := Decode(b)
				if err != nil {
					t.Fatalf("decode %x: %v", b, err)
				}
				if !reflect.DeepEqual(got, ev) {
					t.Fatalf("round trip changed the event\nwant %#v\ngot  %#v", ev, got)
				}
				if got, err := dec.Decode(b); err != nil || !reflect.DeepEqual(got, ev) {
					t.Fatalf("Decoder.Decode: %v\nwant %#v\ngot  %#v", err, ev, got)
				}
				again, _ := Encode(got)
				if !bytes.Equal(again, b) {
					t.Fatalf("encoding not deterministic:\n%x\n%x", b, again)
				}
			}
		})
	}
}

// TestCoreDeterministicCBOR checks with an independent implementation
// that the payload is well-formed CBOR in RFC 8949 core deterministic
// form: decoding and re-encoding it canonically gives the same bytes.
func TestCoreDeterministicCBOR(t *testing.T) {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		t.Fatal(err)
	}
	f := testfill.New(2)
	for _, k := range allKinds() {
		for range 20 {
			b, err := Encode(randomEvent(t, f, k))
			if err != nil {
				t.Fatal(err)
			}
			var kind, payload any
			rest, err := cbor.UnmarshalFirst(b, &kind)
			if err != nil {
				t.Fatalf("%v: kind: %v", k, err)
			}
			if err := cbor.Unmarshal(rest, &payload); err != nil {
				t.Fatalf("%v: payload %x: %v", k, rest, err)
			}
			canon, err := em.Marshal(payload)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(canon, rest) {
				t.Fatalf("%v: not core deterministic:\nours  %x\ncanon %x", k, rest, canon)
			}
		}
	}
}

// sampleAdvert is a realistic advert, also used by the benchmarks.
func sampleAdvert() *AdvertReceived {
	return &AdvertReceived{
		Header:    Header{At: Time(1_000_000_000)},
		Interface: "eth0",
		Src:       netip.MustParseAddr("192.168.1.2"),
		Dst:       netip.MustParseAddr("224.0.0.18"),
		TTL:       255,
		Length:    20,
		Advert: Advert{Version: 3, Type: 1, VRID: 51, Priority: 100, CountAddrs: 1, Interval: 100,
			Addrs: []netip.Addr{netip.MustParseAddr("192.168.1.100")}},
	}
}

// TestFormatStable pins the bytes of one event: a change here breaks every
// journal ever written.
func TestFormatStable(t *testing.T) {
	b, err := Encode(sampleAdvert())
	if err != nil {
		t.Fatal(err)
	}
	const want = "04a7011a3b9aca000264657468300344c0a801020444e000001205" +
		"18ff071408a7010302010318330418640501071864088144c0a80164"
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("AdvertReceived encoding changed:\ngot  %s\nwant %s", got, want)
	}
}

func TestConfigLoadedKeepsWholeConfig(t *testing.T) {
	var c conf.Config
	testfill.New(3).Fill(&c)
	ev := &ConfigLoaded{Header: Header{At: 5}, Config: &c, Digest: "sha256:abc"}
	b, err := Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ev) {
		t.Fatal("configuration changed in the round trip")
	}
	// Keys are keepalived's keywords, readable in any CBOR tool.
	if !bytes.Contains(b, []byte("virtual_router_id")) || !bytes.Contains(b, []byte("Pos")) {
		t.Fatal("expected keyword-named keys, including source positions")
	}
}

func TestUnknownFieldsSkipped(t *testing.T) {
	// A newer writer added key 30 (a nested map) to TimerFired.
	e := wire.NewEncoder(nil)
	e.AppendUint(uint64(KindTimerFired))
	m := e.BeginMap()
	e.Int(1, 7)
	e.String(2, "vrrp/VI_1/adver")
	sub := e.BeginMapField(30)
	e.Strings(1, []string{"x", "y"})
	e.EndMapField(sub)
	e.EndMap(m)
	ev, err := Decode(e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := &TimerFired{Header: Header{At: 7}, Key: "vrrp/VI_1/adver"}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("got %#v", ev)
	}
}

func TestDecodeErrors(t *testing.T) {
	good, _ := Encode(sampleAdvert())
	for n := range len(good) {
		if _, err := Decode(good[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
	}
	cases := map[string][]byte{
		"unknown kind":  {0x18, 200, 0xa0},
		"trailing":      append(append([]byte(nil), good...), 0),
		"not a map":     {0x05, 0x80},
		"wrong type":    {0x05, 0xa1, 0x02, 0x01}, // TimerFired.Key as integer
		"overflow":      {0x04, 0xa1, 0x05, 0x19, 0x01, 0x00},
		"indefinite":    {0x05, 0xbf, 0xff},
		"huge length":   {0x05, 0xa1, 0x02, 0x7b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"empty":         {},
		"bad prefix":    {0x07, 0xa1, 0x03, 0x43, 10, 0, 1},
		"bad addr size": {0x04, 0xa1, 0x03, 0x43, 1, 2, 3},
	}
	for name, b := range cases {
		if _, err := Decode(b); err == nil || !strings.HasPrefix(err.Error(), "events: decode") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := Encode(nil); err == nil {
		t.Error("nil event encoded")
	}
	if _, err := Encode((*Start)(nil)); err == nil {
		t.Error("nil *Start encoded")
	}
}

func FuzzDecodeEvent(f *testing.F) {
	fl := testfill.New(4)
	for _, k := range allKinds() {
		b, err := Encode(randomEvent(f, fl, k))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var dec Decoder // shared across inputs: its names carry over
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := Decode(b)
		if ev2, err2 := dec.Decode(b); (err == nil) != (err2 == nil) || !reflect.DeepEqual(ev, ev2) {
			t.Fatalf("Decoder.Decode differs from Decode: %v %#v, %v %#v", err, ev, err2, ev2)
		}
		if err != nil {
			return
		}
		// Whatever decodes re-encodes, and that encoding is a fixed point.
		b2, err := Encode(ev)
		if err != nil {
			t.Fatalf("decoded %#v does not encode: %v", ev, err)
		}
		ev2, err := Decode(b2)
		if err != nil {
			t.Fatalf("re-encoding %x does not decode: %v", b2, err)
		}
		b3, _ := Encode(ev2)
		if !bytes.Equal(b2, b3) {
			t.Fatalf("encoding not a fixed point:\n%x\n%x", b2, b3)
		}
	})
}

func BenchmarkEncodeAdvert(b *testing.B) {
	ev := sampleAdvert()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendEncode(buf[:0], ev)
	}
	b.ReportMetric(float64(len(buf)), "bytes/event")
}

func BenchmarkDecodeAdvert(b *testing.B) {
	enc, _ := Encode(sampleAdvert())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecoderAdvert is BenchmarkDecodeAdvert through a Decoder, as a
// journal reader decodes: the interface name is shared, not copied.
func BenchmarkDecoderAdvert(b *testing.B) {
	enc, _ := Encode(sampleAdvert())
	var dec Decoder
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// Every event kind can be stamped (each embeds Header): a new kind that
// did not would keep the time its source gave it.
func TestStampEveryKind(t *testing.T) {
	for _, ev := range []Event{&ConfigLoaded{}, &Start{}, &Stop{}, &AdvertReceived{}, &TimerFired{},
		&LinkChanged{}, &AddressChanged{}, &RouteChanged{}, &RuleChanged{}, &ScriptResult{},
		&TrackFileValue{}, &ProcessCount{}, &BFDState{}, &CheckResult{}, &GroupJoined{}, &BFDReceived{}} {
		Stamp(ev, 42)
		if ev.EventTime() != 42 {
			t.Errorf("%v: not stamped", ev.EventKind())
		}
	}
	for k := Kind(1); k < 255; k++ {
		if n := k.String(); n != "Kind("+strconv.Itoa(int(k))+")" && k > KindBFDReceived {
			t.Errorf("kind %s is not in this list", n)
		}
	}
}
