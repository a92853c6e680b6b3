package driver

import (
	"testing"

	"github.com/vigil-ha/vigil/effects"
)

// The start reconciliation reads as its table: each service's virtual
// server with its real servers and weights.
func TestDescribeReconcileIPVS(t *testing.T) {
	e := &effects.ReconcileIPVS{Flush: true, Services: []effects.IPVSTableService{
		{VirtualServer: "tcp/10.0.0.1:80", Dests: []effects.IPVSTableDest{
			{RealServer: "10.0.1.1:80", Weight: 2}, {RealServer: "10.0.1.2:80"}}},
		{VirtualServer: "fwmark/1"},
	}}
	want := "ReconcileIPVS flush 2 services; tcp/10.0.0.1:80: 10.0.1.1:80 weight 2, 10.0.1.2:80 weight 0; fwmark/1"
	if got := DescribeEffect(e); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if got := DescribeEffect(&effects.ReconcileIPVS{}); got != "ReconcileIPVS 0 services" {
		t.Fatalf("empty: %q", got)
	}
}
