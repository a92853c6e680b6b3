//go:build linux

package cmsg

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRoundTrip: the IPv4 packet info and TTL built with Append parse back
// (destination, interface, TTL); truncated input never panics or
// over-reads; zeros say nothing.
func TestRoundTrip(t *testing.T) {
	var pi [unix.SizeofInet4Pktinfo]byte
	binary.NativeEndian.PutUint32(pi[:], 7)
	copy(pi[8:12], []byte{224, 0, 0, 18})
	var ttl [4]byte
	binary.NativeEndian.PutUint32(ttl[:], 255)
	b := Append(nil, unix.IPPROTO_IP, unix.IP_PKTINFO, pi[:])
	b = Append(b, unix.IPPROTO_IP, unix.IP_TTL, ttl[:])
	r := Parse(b)
	if r.Dst != netip.MustParseAddr("224.0.0.18") || r.Ifindex != 7 || !r.HasTTL || r.TTL != 255 {
		t.Fatalf("%+v", r)
	}
	for n := range len(b) {
		Parse(b[:n])
	}
	if r := Parse(make([]byte, 64)); r.HasTTL || r.Dst.IsValid() || r.Ifindex != 0 {
		t.Fatalf("zeros: %+v", r)
	}
	if n := testing.AllocsPerRun(100, func() { Parse(b) }); n != 0 {
		t.Errorf("Parse allocates %v times", n)
	}
}
