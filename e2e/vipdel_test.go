package e2e

import (
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// `ip addr del` of the VIP under a MASTER: like keepalived, vigil goes to
// BACKUP and sends a priority-0 advert, then — still the highest priority
// — becomes MASTER again after its own skew time and re-adds the VIP. The
// lower-priority backup, whose skew is longer, never takes it.
func TestVIPDeletedUnderMaster(t *testing.T) {
	lab.Require(t, "tcpdump")
	l := lab.New(t, 2)
	cap := l.Capture(t, "arp or ip proto 112")
	n1, n2 := l.Nodes[0], l.Nodes[1]
	p1 := n1.StartVigil(t, conf("n1", instance{Priority: 150, VIPs: []string{vip4}}))
	n2.StartVigil(t, conf("n2", instance{Priority: 100, VIPs: []string{vip4}}))
	holds(t, electTimeout, lab.VIP4, n1, n1, n2)
	before := len(advertsFrom(cap, n1.Addr4.Addr(), "prio 0"))

	n1.MustExec("ip", "addr", "del", vip4, "dev", "eth0")
	lab.MustWait(t, takeoverTimeout, "the VIP back on n1", func() bool {
		if n2.HasAddress(lab.VIP4) {
			t.Fatalf("the backup took the VIP")
		}
		return n1.HasAddress(lab.VIP4)
	})
	lab.MustWait(t, 5*time.Second, "a priority-0 advert from n1", func() bool {
		return len(advertsFrom(cap, n1.Addr4.Addr(), "prio 0")) > before
	})
	// Stay stable: n1 remains the only holder.
	time.Sleep(2 * time.Second)
	holds(t, time.Second, lab.VIP4, n1, n1, n2)
	for _, want := range []string{"Entering BACKUP STATE", "Entering MASTER STATE"} {
		if !p1.LogContains(want) {
			t.Errorf("vigil log lacks %q", want)
		}
	}
}
