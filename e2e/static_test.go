package e2e

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// A static_ipaddress without dev goes on default_interface (keepalived's
// default eth0), and one with dev on that device; both go away at stop.
// The engine resolves the device: before, the daemon handed the netlink
// adapter an empty device and the address was never added.
func TestStaticAddressDefaultInterface(t *testing.T) {
	l := lab.New(t, 1)
	n := l.Nodes[0]
	noDev := netip.MustParseAddr("10.77.0.201")
	withDev := netip.MustParseAddr("10.77.0.202")
	p := n.StartVigil(t, "global_defs {\n  router_id n1\n}\nstatic_ipaddress {\n  10.77.0.201/24\n  10.77.0.202/24 dev eth0\n}\n")
	lab.MustWait(t, 10*time.Second, "both static addresses on eth0", func() bool {
		a, err := n.Addresses("eth0")
		if err != nil {
			return false
		}
		var got int
		for _, x := range a {
			if x.Addr() == noDev || x.Addr() == withDev {
				got++
			}
		}
		return got == 2
	})
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if n.HasAddress(noDev) || n.HasAddress(withDev) {
		t.Errorf("static addresses left behind after stop:\n%s", p.Log())
	}
	if p.LogContains("effect failed") {
		t.Errorf("an effect failed:\n%s", p.Log())
	}
}
