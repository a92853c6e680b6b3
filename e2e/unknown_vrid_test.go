package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// TestLogUnknownVRIDs: with log_unknown_vrids, vigil logs the adverts of a
// VRID it does not run (here keepalived's, VRID 77) as keepalived does,
// which means its socket's kernel filter lets them through; without the
// keyword the filter drops them and nothing is logged.
func TestLogUnknownVRIDs(t *testing.T) {
	lab.Require(t, "keepalived")
	l := lab.New(t, 3)
	a, b, c := l.Nodes[0], l.Nodes[1], l.Nodes[2]
	a.StartKeepalived(t, conf("sender", instance{Priority: 150, Version: 3, VIPs: []string{vip4}}))
	other := instance{VRID: 78, Priority: 100, Version: 3, VIPs: []string{"10.77.0.101/24"}}
	logging := strings.Replace(conf("logging", other), "router_id logging\n", "router_id logging\n  log_unknown_vrids\n", 1)
	if !strings.Contains(logging, "log_unknown_vrids") {
		t.Fatal("the configuration lacks log_unknown_vrids")
	}
	bp := b.StartVigil(t, logging)
	cp := c.StartVigil(t, conf("quiet", other))
	const line = "Unknown VRID(77) received on interface(eth0) from 10.77.0.11. ignoring..."
	lab.MustWait(t, electTimeout, bp.Name+" logging keepalived's VRID", func() bool { return bp.LogContains(line) })
	time.Sleep(2 * time.Second) // two more adverts reach c
	if cp.LogContains("Unknown VRID") {
		t.Errorf("%s logged unknown VRIDs without log_unknown_vrids:\n%s", cp.Name, cp.LogTail(20))
	}
}
