//go:build linux

package vrrpnet

import (
	"net/netip"
	"testing"

	"github.com/vigil-ha/vigil/internal/cmsg"
)

// TestCmsgRoundTrip: the control messages built for sending IPv6 parse back
// (the receive path reads the same two types).
func TestCmsgRoundTrip(t *testing.T) {
	src := netip.MustParseAddr("fe80::1234")
	b := appendTx6(nil, src, 3, 64)
	ri := cmsg.Parse(b)
	if ri.Dst != src || !ri.HasTTL || ri.TTL != 64 {
		t.Fatalf("%+v", ri)
	}
	for n := range len(b) { // truncated input never panics or over-reads
		cmsg.Parse(b[:n])
	}
	if ri := cmsg.Parse(make([]byte, 64)); ri.HasTTL || ri.Dst.IsValid() {
		t.Fatalf("zeros: %+v", ri)
	}
}
