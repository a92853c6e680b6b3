package vrrpnet

import (
	"cmp"
	"encoding/hex"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

var (
	fuzzOpts = &DecodeOptions{AHKey: func(vrid uint8) ([8]byte, bool) { return fuzzKey(vrid), true }}
	src6     = netip.MustParseAddr("fe80::1")
)

// fuzzKey is the AH key for vrid in fuzzing and round trips; VRIDs 77 and
// 51 have the keepalived captures' keys.
func fuzzKey(vrid uint8) [8]byte {
	switch vrid {
	case 77:
		return [8]byte{'s', 'e', 'c', 'r', 'e', 't'}
	case 51:
		return ahKey
	}
	return [8]byte{'f', 'u', 'z', 'z'}
}

// FuzzDecode feeds arbitrary bytes to both decoders (v6 selects the IPv6
// path, where the bytes are the VRRP message). Decoding must never panic;
// whatever decodes OK must re-encode to an advert that decodes equal.
func FuzzDecode(f *testing.F) {
	f.Add(ipPart(f, goldenV2Frame), false)
	f.Add(ipPart(f, goldenV3Frame), false)
	text, err := os.ReadFile("testdata/keepalived-2.2.7-adverts.txt")
	if err != nil {
		f.Fatal(err)
	}
	for line := range strings.Lines(string(text)) {
		if _, hx, ok := strings.Cut(strings.TrimSpace(line), " "); ok && !strings.HasPrefix(line, "#") {
			if pkt, err := hex.DecodeString(hx); err == nil {
				f.Add(pkt, false)
			}
		}
	}
	for _, c := range ahCaptures(f) {
		f.Add(c.pkt, false)
	}
	for _, s := range seedPackets(f) {
		f.Add(s.pkt, s.v6)
	}
	f.Fuzz(func(t *testing.T, pkt []byte, v6 bool) {
		var ev events.AdvertReceived
		if v6 {
			DecodeIPv6(pkt, src6, Group6, 255, &ev)
		} else {
			DecodeIPv4(pkt, &ev, fuzzOpts)
		}
		if ev.Verdict != events.VerdictOK {
			return
		}
		if ev.Length > len(pkt) || int(ev.Advert.CountAddrs) != len(ev.Advert.Addrs) {
			t.Fatalf("inconsistent event %+v for %d bytes", ev, len(pkt))
		}
		checkRoundTrip(t, &ev, v6)
	})
}

// checkRoundTrip re-encodes a decoded advert with the same wire facts and
// checks that it decodes to the same advert.
func checkRoundTrip(t *testing.T, ev *events.AdvertReceived, v6 bool) {
	t.Helper()
	in := ev.Advert
	a := &effects.SendAdvert{
		Version: in.Version, VRID: in.VRID, Priority: in.Priority, Interval: in.Interval,
		Addrs: in.Addrs, AuthType: in.AuthType, AuthData: in.AuthData, Checksum: in.Checksum,
	}
	w := &Wire{Src: ev.Src, Dst: ev.Dst, TTL: ev.TTL, ID: 1, AHSeq: in.AHSeq}
	if in.AH {
		w.AHKey = fuzzKey(in.VRID)
	}
	var out events.AdvertReceived
	if v6 {
		b, err := AppendVRRP6(nil, a, w)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", a, err)
		}
		DecodeIPv6(b, ev.Src, ev.Dst, ev.TTL, &out)
	} else {
		if in.AuthType == AuthAH && !in.AH {
			return // auth type AH outside an AH header: the encoder never makes one
		}
		b, err := AppendIPv4(nil, a, w)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", a, err)
		}
		DecodeIPv4(b, &out, fuzzOpts)
	}
	if out.Verdict != events.VerdictOK || !advertEqual(out.Advert, normalise(in)) {
		t.Fatalf("round trip:\n in %+v\nout %+v (%v)", in, out.Advert, out.Verdict)
	}
}

// normalise is what re-encoding keeps of a decoded advert: VRRPv2 auth
// data travels only with PASS.
func normalise(a events.Advert) events.Advert {
	if a.Version == 2 && a.AuthType != AuthPass {
		a.AuthData = [8]byte{}
	}
	return a
}

type seed struct {
	pkt []byte
	v6  bool
}

// seedPackets encodes a spread of adverts: both versions and families,
// PASS and AH, checksum variants, unicast and multicast, 0 to 255 VIPs.
func seedPackets(t testing.TB) []seed {
	var out []seed
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 24 {
		a, w, v6 := randomAdvert(r, i)
		var b []byte
		var err error
		if v6 {
			b, err = AppendVRRP6(nil, a, w)
		} else {
			b, err = AppendIPv4(nil, a, w)
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, seed{b, v6})
	}
	return out
}

// randomAdvert returns a valid advert; i selects the shape so that every
// shape appears in a short sequence.
func randomAdvert(r *rand.Rand, i int) (*effects.SendAdvert, *Wire, bool) {
	v6 := i%4 == 3
	a := &effects.SendAdvert{
		Version: uint8(2 + i%2), VRID: uint8(r.IntN(256)), Priority: uint8(r.IntN(256)),
		Interval: uint16(r.IntN(4096)),
	}
	n := r.IntN(5)
	if i%8 == 7 {
		n = 255
	}
	w := &Wire{ID: uint16(r.IntN(65535) + 1), TTL: uint8(r.IntN(256)), AHSeq: r.Uint32()}
	if v6 {
		w.Src, w.Dst = src6, Group6
		if i%3 == 0 {
			w.Dst = netip.MustParseAddr("fd77::2")
		}
		for range n {
			var b [16]byte
			b[0], b[1], b[15] = 0xfd, 0x77, byte(r.IntN(256))
			a.Addrs = append(a.Addrs, netip.AddrFrom16(b))
		}
		return a, w, true
	}
	w.Src, w.Dst = src4, Group4
	if i%3 == 0 {
		w.Dst = netip.MustParseAddr("10.77.0.2")
	}
	for range n {
		a.Addrs = append(a.Addrs, netip.AddrFrom4([4]byte{10, 77, byte(r.IntN(256)), byte(r.IntN(256))}))
	}
	if a.Version == 2 {
		a.Interval = uint16(r.IntN(256)) * 100
		a.AuthType = uint8(i / 2 % 3)
		switch a.AuthType {
		case AuthPass:
			a.AuthData = fuzzKey(a.VRID)
		case AuthAH:
			w.AHKey = fuzzKey(a.VRID) // AuthData stays zero, as the engine leaves it
		}
	} else {
		a.Checksum = events.ChecksumKind(i / 2 % 3)
		if w.Dst.IsMulticast() && a.Checksum == events.ChecksumOldUnicast {
			a.Checksum = events.ChecksumStandard // identical computations; decoded as standard
		}
	}
	return a, w, false
}

// TestRoundTrip: encode → decode gives back every field of the advert.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 2000 {
		a, w, v6 := randomAdvert(r, i)
		var b []byte
		var err error
		var ev events.AdvertReceived
		if v6 {
			b, err = AppendVRRP6(nil, a, w)
			DecodeIPv6(b, w.Src, w.Dst, w.TTL, &ev)
		} else {
			b, err = AppendIPv4(nil, a, w)
			DecodeIPv4(b, &ev, fuzzOpts)
		}
		if err != nil {
			t.Fatal(err)
		}
		want := events.Advert{
			Version: a.Version, Type: 1, VRID: a.VRID, Priority: a.Priority, CountAddrs: uint8(len(a.Addrs)),
			Interval: a.Interval, Addrs: a.Addrs, Checksum: a.Checksum,
		}
		if !v6 && a.Version == 2 {
			want.AuthType = a.AuthType
			if a.AuthType == AuthPass {
				want.AuthData = a.AuthData
			}
			if a.AuthType == AuthAH {
				want.AH, want.AHSeq = true, w.AHSeq
			}
		}
		if ev.Verdict != events.VerdictOK || !advertEqual(ev.Advert, want) || ev.Src != w.Src || ev.Dst != w.Dst {
			t.Fatalf("case %d:\nsent %+v %+v\ngot  %+v", i, a, w, ev)
		}
		if wantTTL := cmp.Or(w.TTL, DefaultTTL); !v6 && ev.TTL != wantTTL {
			t.Fatalf("case %d: ttl %d, sent %d", i, ev.TTL, w.TTL)
		}
	}
}
