package lab

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A lab's nodes reach each other over the bridge, have the planned
// addresses and MACs, and everything is gone after cleanup.
func TestLabTopology(t *testing.T) {
	var prefix string
	t.Run("build", func(t *testing.T) {
		l := New(t, 2)
		prefix = l.Prefix
		a, b := l.Nodes[0], l.Nodes[1]
		if !a.HasAddress(a.Addr4.Addr()) || !b.HasAddress(b.Addr6.Addr()) {
			t.Fatal("planned addresses missing")
		}
		MustWait(t, 10*time.Second, "n1 resolving n2", func() bool {
			a.Exec("bash", "-c", "echo > /dev/udp/"+b.Addr4.Addr().String()+"/9")
			n, ok := a.Neighbour(b.Addr4.Addr())
			return ok && strings.EqualFold(n.LLAddr, b.MAC)
		})
		if err := b.SetPortUp(false); err != nil {
			t.Fatal(err)
		}
		MustWait(t, 5*time.Second, "carrier loss on n2", func() bool {
			return strings.Contains(b.MustExec("ip", "link", "show", "eth0"), "NO-CARRIER")
		})
	})
	out, _ := exec.Command("ip", "netns", "list").Output()
	if strings.Contains(string(out), prefix) {
		t.Fatalf("namespaces %s* left behind:\n%s", prefix, out)
	}
}
