package e2e

import (
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// TestGARPExtraIfParity: garp_extra_if 2 on a MASTER whose second VIP has
// its own VMAC (use_vmac on the address): besides the bursts of becoming
// MASTER (garp_master_repeat 1, then garp_master_delay 1 s later), that
// VIP is announced again every 2 s; the VIP on the instance's own
// interface is not. keepalived runs the same configuration first, and
// both must show it.
func TestGARPExtraIfParity(t *testing.T) {
	lab.Require(t, "keepalived", "tcpdump")
	l := lab.New(t, 1)
	n := l.Nodes[0]
	cfg := conf("extra", instance{Priority: 100, VIPs: []string{vip4, "10.77.0.101/24 use_vmac"},
		Extra: []string{"garp_master_delay 1", "garp_master_repeat 1", "garp_extra_if 2"}})
	for _, who := range []string{"keepalived", "vigil"} {
		c := l.Capture(t, "arp")
		var p *lab.Proc
		if who == "vigil" {
			p = n.StartVigil(t, cfg)
		} else {
			p = n.StartKeepalived(t, cfg)
		}
		holds(t, electTimeout, lab.VIP4, n, n)
		time.Sleep(8 * time.Second)
		if err := p.Stop(takeoverTimeout); err != nil {
			t.Fatalf("%s stop: %v", who, err)
		}
		c.Stop()
		own := c.Find("who-has 10.77.0.100 ", "tell 10.77.0.100,")
		extra := c.Find("who-has 10.77.0.101 ", "tell 10.77.0.101,")
		t.Logf("%s: %d GARPs for the VIP on eth0, %d for the VIP on its VMAC", who, len(own), len(extra))
		// Two bursts of one each, then every 2 s for ~7 s: 3 more.
		if len(extra) < len(own)+2 {
			t.Errorf("%s: %d GARPs for the VMAC's VIP against %d for eth0's: garp_extra_if's periodic ones are missing\n%s", who, len(extra), len(own), c)
		}
		if len(own) > 3 {
			t.Errorf("%s: %d GARPs for eth0's VIP: garp_extra_if must leave the instance's own interface alone\n%s", who, len(own), c)
		}
	}
}
