package e2e

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/vigil-ha/vigil/lab"
)

// interopCase is one VRRP flavour both daemons are configured with.
type interopCase struct {
	name    string
	version int
	unicast bool
	auth    string
}

var interopCases = []interopCase{
	{name: "v2-multicast-pass", version: 2, auth: "s3cret"},
	{name: "v3-multicast", version: 3},
	{name: "v2-unicast", version: 2, unicast: true},
	{name: "v3-unicast", version: 3, unicast: true},
}

// instanceFor is the case's instance for node self, whose peer is other.
func (c interopCase) instanceFor(self, other *lab.Node, prio int) instance {
	i := instance{Priority: prio, Version: c.version, AuthPass: c.auth, VIPs: []string{vip4}}
	if c.unicast {
		i.UnicastSrc = self.Addr4.Addr()
		i.UnicastPeers = []netip.Addr{other.Addr4.Addr()}
	}
	return i
}

// TestInteropKeepalived runs vigil and Debian's keepalived in one VRRP
// group, each flavour both ways round: the master (priority 150) is
// stopped gracefully, comes back and preempts, then crashes; the backup
// (priority 100) must take over each time and a third node's neighbour
// entry must follow.
func TestInteropKeepalived(t *testing.T) {
	lab.Require(t, "tcpdump", "keepalived")
	for _, c := range interopCases {
		for _, vigilMaster := range []bool{true, false} {
			role := "vigil-master"
			if !vigilMaster {
				role = "keepalived-master"
			}
			t.Run(fmt.Sprintf("%s/%s", c.name, role), func(t *testing.T) {
				interop(t, c, vigilMaster)
			})
		}
	}
}

func interop(t *testing.T, c interopCase, vigilMaster bool) {
	l := lab.New(t, 3)
	cap := l.Capture(t, "arp or ip proto 112")
	m, b, client := l.Nodes[0], l.Nodes[1], l.Nodes[2]
	mconf := conf("master", c.instanceFor(m, b, 150))
	bconf := conf("backup", c.instanceFor(b, m, 100))
	start := func(n *lab.Node, conf string, vigil bool) *lab.Proc {
		if vigil {
			return n.StartVigil(t, conf)
		}
		return n.StartKeepalived(t, conf)
	}
	mp := start(m, mconf, vigilMaster)
	start(b, bconf, !vigilMaster)

	holds(t, electTimeout, lab.VIP4, m, m, b)
	learn(t, client, lab.VIP4)
	neighbourIs(t, electTimeout, client, lab.VIP4, m.MAC)

	// Graceful stop of the master.
	if err := mp.Stop(takeoverTimeout); err != nil {
		t.Fatalf("%s stop: %v", mp.Name, err)
	}
	holds(t, takeoverTimeout, lab.VIP4, b, m, b)
	neighbourIs(t, takeoverTimeout, client, lab.VIP4, b.MAC)
	if len(advertsFrom(cap, m.Addr4.Addr(), "prio 0")) == 0 {
		t.Errorf("no priority-0 advert from the stopping %s", mp.Name)
	}

	// The master returns and preempts.
	mp = start(m, mconf, vigilMaster)
	holds(t, electTimeout, lab.VIP4, m, m, b)
	neighbourIs(t, takeoverTimeout, client, lab.VIP4, m.MAC)

	// The master crashes: the backup takes over on its master-down timer.
	mp.Crash()
	lab.MustWait(t, takeoverTimeout, "VIP on the backup after the crash", func() bool { return b.HasAddress(lab.VIP4) })
	neighbourIs(t, takeoverTimeout, client, lab.VIP4, b.MAC)
	if t.Failed() {
		t.Logf("capture:\n%s", cap)
	}
}
