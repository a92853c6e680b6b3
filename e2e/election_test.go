package e2e

import (
	"testing"

	"github.com/vigil-ha/vigil/lab"
)

// twoVigils starts vigil on n1 (priority 150) and n2 (priority 100) of a
// three-node lab, waits for n1 to win, and makes n3 learn the VIP.
func twoVigils(t *testing.T) (l *lab.Lab, p1, p2 *lab.Proc, c *lab.Capture) {
	lab.Require(t, "tcpdump")
	l = lab.New(t, 3)
	c = l.Capture(t, "arp or ip proto 112")
	n1, n2, n3 := l.Nodes[0], l.Nodes[1], l.Nodes[2]
	p1 = n1.StartVigil(t, conf("n1", instance{Priority: 150, VIPs: []string{vip4}}))
	p2 = n2.StartVigil(t, conf("n2", instance{Priority: 100, VIPs: []string{vip4}}))
	holds(t, electTimeout, lab.VIP4, n1, n1, n2)
	learn(t, n3, lab.VIP4)
	neighbourIs(t, electTimeout, n3, lab.VIP4, n1.MAC)
	if len(garpsFrom(c, n1.MAC, lab.VIP4)) == 0 {
		t.Errorf("no gratuitous ARP from the new master %s:\n%s", n1.MAC, c)
	}
	return l, p1, p2, c
}

// Graceful stop of the master: a priority-0 advert, the VIP released, the
// backup takes over after its skew time and announces itself; the master
// comes back and preempts.
func TestVigilPairGracefulStop(t *testing.T) {
	l, p1, _, c := twoVigils(t)
	n1, n2, n3 := l.Nodes[0], l.Nodes[1], l.Nodes[2]
	if err := p1.Stop(takeoverTimeout); err != nil {
		t.Fatalf("vigil stop: %v", err)
	}
	holds(t, takeoverTimeout, lab.VIP4, n2, n1, n2)
	if len(advertsFrom(c, n1.Addr4.Addr(), "prio 0")) == 0 {
		t.Errorf("no priority-0 advert from the stopping master:\n%s", c)
	}
	neighbourIs(t, takeoverTimeout, n3, lab.VIP4, n2.MAC)
	if len(garpsFrom(c, n2.MAC, lab.VIP4)) == 0 {
		t.Errorf("no gratuitous ARP from the new master:\n%s", c)
	}

	// The higher priority node returns and preempts.
	n1.StartVigil(t, conf("n1", instance{Priority: 150, VIPs: []string{vip4}}))
	holds(t, electTimeout, lab.VIP4, n1, n1, n2)
	neighbourIs(t, takeoverTimeout, n3, lab.VIP4, n1.MAC)
}

// SIGKILL of the master: no priority-0 advert; the backup takes over when
// its master-down timer expires. The dead master's address stays on its
// interface (nobody removed it), as with keepalived.
func TestVigilPairCrash(t *testing.T) {
	l, p1, _, c := twoVigils(t)
	n1, n2, n3 := l.Nodes[0], l.Nodes[1], l.Nodes[2]
	p1.Crash()
	lab.MustWait(t, takeoverTimeout, "VIP on n2", func() bool { return n2.HasAddress(lab.VIP4) })
	neighbourIs(t, takeoverTimeout, n3, lab.VIP4, n2.MAC)
	if n := len(advertsFrom(c, n1.Addr4.Addr(), "prio 0")); n != 0 {
		t.Errorf("a crashed master sent %d priority-0 adverts", n)
	}
	if !n1.HasAddress(lab.VIP4) {
		t.Errorf("the crashed master's VIP disappeared; nothing should have removed it")
	}
}
