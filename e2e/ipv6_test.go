package e2e

import (
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/lab"
)

// IPv6: two vigil nodes run VRRPv3 over ff02::12; the master announces the
// VIP with unsolicited neighbour advertisements, which move a third node's
// neighbour entry on graceful stop and on crash.
func TestIPv6Pair(t *testing.T) {
	lab.Require(t, "tcpdump")
	l := lab.New(t, 3)
	cap := l.Capture(t, "icmp6 or ip6 proto 112")
	n1, n2, client := l.Nodes[0], l.Nodes[1], l.Nodes[2]
	vip := lab.VIP6.String() + "/64"
	c1 := conf("n1", instance{Priority: 150, Version: 3, VIPs: []string{vip}})
	c2 := conf("n2", instance{Priority: 100, Version: 3, VIPs: []string{vip}})
	p1 := n1.StartVigil(t, c1)
	n2.StartVigil(t, c2)
	holds(t, electTimeout, lab.VIP6, n1, n1, n2)
	if len(cap.Find(n1.MAC+" > 33:33:00:00:00:12", "> ff02::12: VRRPv3, Advertisement, vrid 77, prio 150")) == 0 {
		t.Errorf("no VRRPv3 advert to ff02::12 from n1:\n%s", cap)
	}
	if len(unsolicitedNAs(cap, n1.MAC)) == 0 {
		t.Errorf("no unsolicited NA for the VIP from n1:\n%s", cap)
	}
	learn(t, client, lab.VIP6)
	neighbourIs(t, electTimeout, client, lab.VIP6, n1.MAC)

	if err := p1.Stop(takeoverTimeout); err != nil {
		t.Fatalf("stop: %v", err)
	}
	holds(t, takeoverTimeout, lab.VIP6, n2, n1, n2)
	neighbourIs(t, takeoverTimeout, client, lab.VIP6, n2.MAC)
	if len(unsolicitedNAs(cap, n2.MAC)) == 0 {
		t.Errorf("no unsolicited NA for the VIP from n2:\n%s", cap)
	}

	// Back, preempting; then a crash.
	p1 = n1.StartVigil(t, c1)
	holds(t, electTimeout, lab.VIP6, n1, n1, n2)
	neighbourIs(t, takeoverTimeout, client, lab.VIP6, n1.MAC)
	p1.Crash()
	lab.MustWait(t, takeoverTimeout, "VIP on n2 after the crash", func() bool { return n2.HasAddress(lab.VIP6) })
	neighbourIs(t, takeoverTimeout, client, lab.VIP6, n2.MAC)
}

// unsolicitedNAs returns the captured neighbour advertisements for the VIP
// sent by mac to all nodes.
func unsolicitedNAs(c *lab.Capture, mac string) []lab.Packet {
	var out []lab.Packet
	for _, p := range c.Find(mac+" > 33:33:00:00:00:01", "neighbor advertisement") {
		if strings.Contains(p.Text, "tgt is "+lab.VIP6.String()) {
			out = append(out, p)
		}
	}
	return out
}
