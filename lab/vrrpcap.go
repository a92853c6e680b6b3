package lab

import (
	"net/netip"
	"regexp"
	"strconv"
	"time"
)

// Advert is one VRRP advertisement read from a capture.
type Advert struct {
	// Time is the packet's kernel timestamp on the bridge.
	Time           time.Time
	SrcMAC, DstMAC string
	Src, Dst       netip.Addr
	Version        int
	VRID, Prio     int
	// AH is set when the advert came inside an IPsec AH header.
	AH   bool
	Text string
}

// tcpdump -e -nn prints, for an advert (AH-wrapped or not, IPv4 or IPv6):
//
//	02:77:00:00:00:0b > 01:00:5e:00:00:12, ethertype IPv4 (0x0800), length 60: 10.77.0.11 > 224.0.0.18: VRRPv2, Advertisement, vrid 77, prio 150, authtype none, intvl 1s, length 20, addrs: 10.77.0.100
//	... length 82: 10.77.0.11 > 224.0.0.18: AH(spi=0x0a4d000b,seq=0x1): VRRPv2, Advertisement, vrid 77, prio 150, ...
//	... length 78: fd77::11 > fd77::12: VRRPv3, Advertisement, (ttl 64), vrid 77, prio 150, ...
var advertRE = regexp.MustCompile(`^([0-9a-f:]{17}) > ([0-9a-f:]{17}), ethertype [^,]*, length \d+: (\S+) > (\S+): (AH\([^)]*\): )?VRRPv(\d), Advertisement, (?:\(ttl \d+\), )?vrid (\d+), prio (\d+),`)

// ParseAdvert reads a captured packet as a VRRP advert.
func ParseAdvert(p Packet) (Advert, bool) {
	m := advertRE.FindStringSubmatch(p.Text)
	if m == nil {
		return Advert{}, false
	}
	src, err1 := netip.ParseAddr(m[3])
	dst, err2 := netip.ParseAddr(m[4])
	if err1 != nil || err2 != nil {
		return Advert{}, false
	}
	ver, _ := strconv.Atoi(m[6])
	vrid, _ := strconv.Atoi(m[7])
	prio, _ := strconv.Atoi(m[8])
	return Advert{Time: PacketTime(p), SrcMAC: m[1], DstMAC: m[2], Src: src, Dst: dst,
		Version: ver, VRID: vrid, Prio: prio, AH: m[5] != "", Text: p.Text}, true
}

// Adverts returns the VRRP adverts captured so far.
func (c *Capture) Adverts() []Advert {
	var out []Advert
	for _, p := range c.Packets() {
		if a, ok := ParseAdvert(p); ok {
			out = append(out, a)
		}
	}
	return out
}

// PacketTime converts a packet's timestamp (seconds since the epoch, µs
// precision) to a time.Time.
func PacketTime(p Packet) time.Time {
	us := int64(p.Time*1e6 + 0.5)
	return time.UnixMicro(us)
}

// LinkLocal is the node's eth0 IPv6 link-local address (EUI-64 from its
// MAC, as the kernel forms it): the source of its VRRPv3 IPv6 adverts.
func (n *Node) LinkLocal() netip.Addr {
	var mac [6]byte
	for i := 0; i < 6; i++ {
		v, _ := strconv.ParseUint(n.MAC[3*i:3*i+2], 16, 8)
		mac[i] = byte(v)
	}
	var a [16]byte
	a[0], a[1] = 0xfe, 0x80
	a[8], a[9], a[10], a[11] = mac[0]^0x02, mac[1], mac[2], 0xff
	a[12], a[13], a[14], a[15] = 0xfe, mac[3], mac[4], mac[5]
	return netip.AddrFrom16(a)
}
