package e2e

import (
	"testing"

	"github.com/vigil-ha/vigil/lab"
)

// Link down on the master's interface: the master enters FAULT and drops
// the VIP, the backup takes over on its master-down timer; link up: the
// higher-priority node comes back as BACKUP and, preempting, takes the VIP
// back. Both an administrative down (ip link set eth0 down) and a carrier
// loss (the bridge port goes down) are tested.
func TestLinkDownFault(t *testing.T) {
	lab.Require(t, "tcpdump")
	cases := []struct {
		name string
		set  func(n *lab.Node, up bool) error
	}{
		{"admin-down", (*lab.Node).SetLinkUp},
		{"carrier-loss", (*lab.Node).SetPortUp},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := lab.New(t, 3)
			n1, n2, client := l.Nodes[0], l.Nodes[1], l.Nodes[2]
			p1 := n1.StartVigil(t, conf("n1", instance{Priority: 150, VIPs: []string{vip4}}))
			n2.StartVigil(t, conf("n2", instance{Priority: 100, VIPs: []string{vip4}}))
			holds(t, electTimeout, lab.VIP4, n1, n1, n2)
			learn(t, client, lab.VIP4)

			if err := c.set(n1, false); err != nil {
				t.Fatal(err)
			}
			holds(t, takeoverTimeout, lab.VIP4, n2, n1, n2)
			neighbourIs(t, takeoverTimeout, client, lab.VIP4, n2.MAC)
			lab.MustWait(t, takeoverTimeout, "n1 in FAULT", func() bool { return p1.LogContains("Entering FAULT STATE") })

			if err := c.set(n1, true); err != nil {
				t.Fatal(err)
			}
			holds(t, electTimeout, lab.VIP4, n1, n1, n2)
			neighbourIs(t, takeoverTimeout, client, lab.VIP4, n1.MAC)
		})
	}
}

// With nopreempt the recovered node stays BACKUP: the VIP stays on the
// node that took over.
func TestLinkUpNoPreempt(t *testing.T) {
	l := lab.New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	n1.StartVigil(t, conf("n1", instance{Priority: 150, NoPreempt: true, VIPs: []string{vip4}}))
	n2.StartVigil(t, conf("n2", instance{Priority: 100, NoPreempt: true, VIPs: []string{vip4}}))
	holds(t, electTimeout, lab.VIP4, n1, n1, n2)
	if err := n1.SetLinkUp(false); err != nil {
		t.Fatal(err)
	}
	holds(t, takeoverTimeout, lab.VIP4, n2, n1, n2)
	if err := n1.SetLinkUp(true); err != nil {
		t.Fatal(err)
	}
	// Give n1 more than a master-down interval to (wrongly) preempt.
	if _, ok := lab.WaitFor(electTimeout/2, func() bool { return n1.HasAddress(lab.VIP4) }); ok {
		t.Fatalf("n1 took the VIP back despite nopreempt")
	}
	holds(t, 0, lab.VIP4, n2, n1, n2)
}
