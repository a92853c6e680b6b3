package vrrpnet

import (
	"net/netip"
	"testing"

	"github.com/vigil-ha/vigil/events"
)

func benchWire() (*Wire, []byte) {
	w := &Wire{Src: src4, Dst: Group4, ID: 1, AHSeq: 1}
	return w, make([]byte, 0, MaxIPv4Len)
}

func BenchmarkEncode(b *testing.B) {
	for _, bc := range []struct {
		name          string
		version, auth uint8
	}{{"v2", 2, AuthNone}, {"v2-ah", 2, AuthAH}, {"v3", 3, 0}} {
		b.Run(bc.name, func(b *testing.B) {
			a := goldenAdvert(bc.version)
			a.AuthType = bc.auth
			w, buf := benchWire()
			b.ReportAllocs()
			for b.Loop() {
				w.ID++
				var err error
				if buf, err = AppendIPv4(buf[:0], a, w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("v3-ipv6", func(b *testing.B) {
		a := goldenAdvert(3)
		a.Addrs = []netip.Addr{netip.MustParseAddr("fd77::100")}
		w := &Wire{Src: src6, Dst: Group6}
		buf := make([]byte, 0, MaxIPv6Len)
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if buf, err = AppendVRRP6(buf[:0], a, w); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct {
		name          string
		version, auth uint8
	}{{"v2", 2, AuthNone}, {"v2-ah", 2, AuthAH}, {"v3", 3, 0}} {
		b.Run(bc.name, func(b *testing.B) {
			a := goldenAdvert(bc.version)
			a.AuthType = bc.auth
			w, buf := benchWire()
			w.AHKey = fuzzKey(a.VRID)
			pkt, err := AppendIPv4(buf, a, w)
			if err != nil {
				b.Fatal(err)
			}
			var ev events.AdvertReceived
			b.ReportAllocs()
			for b.Loop() {
				DecodeIPv4(pkt, &ev, fuzzOpts)
				if ev.Verdict != events.VerdictOK {
					b.Fatal(ev.Verdict)
				}
			}
		})
	}
	b.Run("v3-ipv6", func(b *testing.B) {
		a := goldenAdvert(3)
		a.Addrs = []netip.Addr{netip.MustParseAddr("fd77::100")}
		pkt, err := AppendVRRP6(nil, a, &Wire{Src: src6, Dst: Group6})
		if err != nil {
			b.Fatal(err)
		}
		var ev events.AdvertReceived
		b.ReportAllocs()
		for b.Loop() {
			DecodeIPv6(pkt, src6, Group6, 255, &ev)
			if ev.Verdict != events.VerdictOK {
				b.Fatal(ev.Verdict)
			}
		}
	})
}
