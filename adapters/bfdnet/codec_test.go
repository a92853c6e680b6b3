package bfdnet

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/vigil-ha/vigil/events"
)

// An Up packet as RFC 5880 §4.1 lays it out (the form keepalived sends):
// version 1, no diagnostic, Up with P, detect multiplier 3, length 24,
// discriminators, 50 ms intervals.
const keepalivedUp = "20e0031812345678cafef00d0000c3500000c35000000000"

func TestDecodeKnownPacket(t *testing.T) {
	b, _ := hex.DecodeString(keepalivedUp)
	var p events.BFDPacket
	if v := Decode(b, &p); v != events.BFDVerdictOK {
		t.Fatalf("verdict %v", v)
	}
	want := events.BFDPacket{Version: 1, State: events.BFDUp, Poll: true, DetectMult: 3, Length: 24, MyDisc: 0x12345678,
		YourDisc: 0xcafef00d, DesiredMinTx: 50000, RequiredMinRx: 50000}
	if p != want {
		t.Fatalf("decoded %+v\nwant %+v", p, want)
	}
	if got := Append(nil, &p); !bytes.Equal(got, b) {
		t.Fatalf("re-encoded %x\nwant %x", got, b)
	}
}

func TestDecodeVerdicts(t *testing.T) {
	ok, _ := hex.DecodeString(keepalivedUp)
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(ok)) }
	for _, c := range []struct {
		name string
		b    []byte
		want events.BFDVerdict
	}{
		{"ok", ok, events.BFDVerdictOK},
		{"trailing bytes", append(bytes.Clone(ok), 0, 0), events.BFDVerdictOK},
		{"short", ok[:23], events.BFDVerdictTooShort},
		{"version 2", mod(func(b []byte) []byte { b[0] = 2 << 5; return b }), events.BFDVerdictBadVersion},
		{"length 23", mod(func(b []byte) []byte { b[3] = 23; return b }), events.BFDVerdictBadLength},
		{"length beyond payload", mod(func(b []byte) []byte { b[3] = 30; return b }), events.BFDVerdictBadLength},
		{"auth, length 24", mod(func(b []byte) []byte { b[1] |= 0x04; return b }), events.BFDVerdictBadLength},
	} {
		var p events.BFDPacket
		if v := Decode(c.b, &p); v != c.want {
			t.Errorf("%s: verdict %v, want %v", c.name, v, c.want)
		}
	}
}

func TestRoundTripFlags(t *testing.T) {
	for bit := range 6 {
		p := events.BFDPacket{Version: 1, Diag: 7, State: events.BFDInit, DetectMult: 1, Length: 24, MyDisc: 1,
			DesiredMinTx: 1, RequiredMinRx: 2, RequiredMinEchoRx: 3}
		flags := []*bool{&p.Poll, &p.Final, &p.CPI, &p.Auth, &p.Demand, &p.Multipoint}
		*flags[bit] = true
		if p.Auth {
			p.Length = 26
		}
		b := Append(nil, &p)
		if p.Auth {
			b = append(b, 0, 0)
		}
		var q events.BFDPacket
		if v := Decode(b, &q); v != events.BFDVerdictOK || q != p {
			t.Errorf("bit %d: %v %+v, want %+v", bit, v, q, p)
		}
	}
}

func TestCodecAllocatesNothing(t *testing.T) {
	b, _ := hex.DecodeString(keepalivedUp)
	buf := make([]byte, 0, 64)
	var p events.BFDPacket
	if n := testing.AllocsPerRun(100, func() {
		Decode(b, &p)
		buf = Append(buf[:0], &p)
	}); n != 0 {
		t.Errorf("%v allocations per packet", n)
	}
}

// FuzzDecode: Decode never panics, and what it accepts re-encodes to the
// same 24 bytes.
func FuzzDecode(f *testing.F) {
	b, _ := hex.DecodeString(keepalivedUp)
	f.Add(b)
	f.Add(b[:10])
	f.Add(append(bytes.Clone(b), 1, 2, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p events.BFDPacket
		if Decode(b, &p) != events.BFDVerdictOK {
			return
		}
		if got := Append(nil, &p); !bytes.Equal(got, b[:headerLen]) {
			t.Fatalf("re-encoded %x from %x", got, b)
		}
	})
}
