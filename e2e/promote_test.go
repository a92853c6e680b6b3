package e2e

import (
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/lab"
)

// TestPromoteSecondariesParity: an instance's promote_secondaries turns
// the interface's sysctl on while the daemon runs and back off when it
// stops, and leaves a sysctl that was on before alone — the same for
// keepalived and vigil, checked side by side.
func TestPromoteSecondariesParity(t *testing.T) {
	lab.Require(t, "keepalived")
	l := lab.New(t, 1)
	n := l.Nodes[0]
	const path = "/proc/sys/net/ipv4/conf/eth0/promote_secondaries"
	read := func() string {
		out, err := n.Exec("cat", path)
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		return strings.TrimSpace(out)
	}
	set := func(v string) {
		if out, err := n.Exec("sysctl", "-qw", "net.ipv4.conf.eth0.promote_secondaries="+v); err != nil {
			t.Fatalf("sysctl: %v %s", err, out)
		}
	}
	cfg := conf("promote", instance{Priority: 100, VIPs: []string{vip4}, Extra: []string{"promote_secondaries"}})
	for _, who := range []string{"keepalived", "vigil"} {
		for _, before := range []string{"0", "1"} {
			set(before)
			var p *lab.Proc
			if who == "vigil" {
				p = n.StartVigil(t, cfg)
			} else {
				p = n.StartKeepalived(t, cfg)
			}
			holds(t, electTimeout, lab.VIP4, n, n)
			if got := read(); got != "1" {
				t.Errorf("%s (sysctl %s before): promote_secondaries %s while running, want 1", who, before, got)
			}
			if err := p.Stop(takeoverTimeout); err != nil {
				t.Fatalf("%s stop: %v", who, err)
			}
			if got := read(); got != before {
				t.Errorf("%s (sysctl %s before): promote_secondaries %s after stop, want %s", who, before, got, before)
			}
		}
	}
}
