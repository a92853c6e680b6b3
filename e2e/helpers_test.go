package e2e

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// Deadlines. Generous: these tests check that a state appears, not how
// fast (bench/failover.sh measures that).
const (
	electTimeout    = 15 * time.Second // first election: 3 adverts + skew, plus start-up
	takeoverTimeout = 10 * time.Second // 3 × 1 s + skew, with margin
)

// vip4 is the lab's IPv4 VIP as written in configurations.
var vip4 = lab.VIP4.String() + "/24"

// holds waits until exactly the node want holds addr among nodes.
func holds(t *testing.T, timeout time.Duration, addr netip.Addr, want *lab.Node, nodes ...*lab.Node) {
	t.Helper()
	lab.MustWait(t, timeout, addr.String()+" on "+want.NS+" only", func() bool {
		for _, n := range nodes {
			if n.HasAddress(addr) != (n == want) {
				return false
			}
		}
		return true
	})
}

// neighbourIs waits until client's neighbour entry for addr has mac.
func neighbourIs(t *testing.T, timeout time.Duration, client *lab.Node, addr netip.Addr, mac string) {
	t.Helper()
	var last lab.Neighbour
	if _, ok := lab.WaitFor(timeout, func() bool {
		n, ok := client.Neighbour(addr)
		last = n
		return ok && strings.EqualFold(n.LLAddr, mac)
	}); !ok {
		t.Fatalf("%s: neighbour %s is %+v, want lladdr %s", client.NS, addr, last, mac)
	}
}

// learn makes client resolve addr (it sends a UDP datagram to the discard
// port: there is no ping here), so that its neighbour table has an entry
// for later gratuitous ARPs to update (Linux updates existing entries from
// them but, with arp_accept 0, creates none).
func learn(t *testing.T, client *lab.Node, addr netip.Addr) {
	t.Helper()
	lab.MustWait(t, 10*time.Second, client.NS+" resolving "+addr.String(), func() bool {
		client.Exec("bash", "-c", "echo > /dev/udp/"+addr.String()+"/9")
		n, ok := client.Neighbour(addr)
		return ok && n.LLAddr != ""
	})
}

// garpsFrom returns the captured gratuitous ARPs for addr sent by mac.
func garpsFrom(c *lab.Capture, mac string, addr netip.Addr) []lab.Packet {
	a := addr.String()
	// tcpdump shows the target hardware address when it is not zero:
	// "who-has A (ff:ff:ff:ff:ff:ff) tell A".
	return c.Find(mac+" > ff:ff:ff:ff:ff:ff", "who-has "+a+" ", "tell "+a+",")
}

// advertsFrom returns the captured VRRP adverts sent from src with the
// given text (e.g. "prio 0").
func advertsFrom(c *lab.Capture, src netip.Addr, subs ...string) []lab.Packet {
	return c.Find(append([]string{src.String() + " > ", "VRRP"}, subs...)...)
}
