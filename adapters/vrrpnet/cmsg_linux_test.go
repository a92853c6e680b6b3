//go:build linux

package vrrpnet

import (
	"net/netip"
	"testing"
)

// TestCmsgRoundTrip: the control messages built for sending IPv6 parse back
// (the receive path reads the same two types).
func TestCmsgRoundTrip(t *testing.T) {
	src := netip.MustParseAddr("fe80::1234")
	b := appendTx6(nil, src, 3, 64)
	ri := parseCmsgs(b)
	if ri.dst != src || !ri.hasTTL || ri.ttl != 64 {
		t.Fatalf("%+v", ri)
	}
	for n := range len(b) { // truncated input never panics or over-reads
		parseCmsgs(b[:n])
	}
	if ri := parseCmsgs(make([]byte, 64)); ri.hasTTL || ri.dst.IsValid() {
		t.Fatalf("zeros: %+v", ri)
	}
}
