package lab

import (
	"net/netip"
	"testing"
)

// tcpdump's lines for the adverts the interop matrix sees.
func TestParseAdvert(t *testing.T) {
	for _, c := range []struct {
		text      string
		src       string
		ver, prio int
		ah        bool
	}{
		{"02:77:00:00:00:0b > 01:00:5e:00:00:12, ethertype IPv4 (0x0800), length 60: 10.77.0.11 > 224.0.0.18: VRRPv2, Advertisement, vrid 77, prio 150, authtype none, intvl 1s, length 20, addrs: 10.77.0.100",
			"10.77.0.11", 2, 150, false},
		{"02:77:00:00:00:0b > 01:00:5e:00:00:12, ethertype IPv4 (0x0800), length 78: 10.77.0.11 > 224.0.0.18: AH(spi=0x0a4d000b,seq=0x1,icv=0x81e1b41b84c10010f5319f2f): VRRPv2, Advertisement, vrid 77, prio 0, authtype ah, intvl 1s, length 20",
			"10.77.0.11", 2, 0, true},
		{"02:77:00:00:00:0b > 02:77:00:00:00:0c, ethertype IPv6 (0x86dd), length 78: fd77::11 > fd77::12: VRRPv3, Advertisement, (ttl 64), vrid 77, prio 150, intvl 100cs, length 24",
			"fd77::11", 3, 150, false},
		{"00:00:5e:00:01:4d > 01:00:5e:00:00:12, ethertype IPv4 (0x0800), length 60: 10.77.0.12 > 224.0.0.18: VRRPv2, Advertisement, vrid 77, prio 100, authtype none, intvl 1s, length 20",
			"10.77.0.12", 2, 100, false},
	} {
		a, ok := ParseAdvert(Packet{Time: 1796195552.341444, Text: c.text})
		if !ok {
			t.Errorf("not parsed: %s", c.text)
			continue
		}
		if a.Src != netip.MustParseAddr(c.src) || a.Version != c.ver || a.VRID != 77 || a.Prio != c.prio || a.AH != c.ah {
			t.Errorf("%s: got %+v", c.text, a)
		}
		if got := a.Time.UnixMicro(); got != 1796195552341444 {
			t.Errorf("time %d", got)
		}
	}
	for _, text := range []string{
		"02:77:00:00:00:0b > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.77.0.100 (ff:ff:ff:ff:ff:ff) tell 10.77.0.100, length 28",
		// A line tcpdump has not finished writing.
		"02:77:00:00:00:0b > 01:00:5e:00:00:12, ethertype IPv4 (0x0800), length 60: 10.77.0.11 > 224.0.0.18: VRRPv2, Advertisement, vrid 77, prio 15",
	} {
		if a, ok := ParseAdvert(Packet{Text: text}); ok {
			t.Errorf("parsed %q as %+v", text, a)
		}
	}
}

func TestLinkLocal(t *testing.T) {
	n := &Node{MAC: "02:77:00:00:00:0b"}
	if got, want := n.LinkLocal(), netip.MustParseAddr("fe80::77:ff:fe00:b"); got != want {
		t.Fatalf("LinkLocal = %s, want %s", got, want)
	}
}
