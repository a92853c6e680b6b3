package driver

import (
	"net/netip"
	"testing"

	"github.com/vigil-ha/vigil/effects"
)

// The start reconciliation reads as its table: each service with its
// attributes and virtual server, its destinations with their weights.
func TestDescribeReconcileIPVS(t *testing.T) {
	a := netip.MustParseAddr
	e := &effects.ReconcileIPVS{Flush: true, Services: []effects.IPVSTableService{
		{VirtualServer: "tcp/10.0.0.1:80", Service: effects.IPVSService{Protocol: "tcp", Addr: a("10.0.0.1"), Port: 80, Scheduler: "wlc"},
			Dests: []effects.IPVSTableDest{
				{RealServer: "10.0.1.1:80", Weight: 2, Dest: effects.IPVSDest{Addr: a("10.0.1.1"), Port: 80, Method: "NAT"}},
				{RealServer: "10.0.1.2:80", Dest: effects.IPVSDest{Addr: a("10.0.1.2"), Port: 80, Method: "DR"}}}},
		{VirtualServer: "fwmark/1", Service: effects.IPVSService{FwMark: 1, Scheduler: "rr"}},
	}}
	want := "ReconcileIPVS flush=true services=2; tcp 10.0.0.1:80 wlc (tcp/10.0.0.1:80) -> 10.0.1.1:80 NAT w=2 -> 10.0.1.2:80 DR w=0; fwmark 1 rr (fwmark/1)"
	if got := DescribeEffect(e); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if got := DescribeEffect(&effects.ReconcileIPVS{}); got != "ReconcileIPVS flush=false services=0" {
		t.Fatalf("empty: %q", got)
	}
}
