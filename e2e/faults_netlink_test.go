package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// The netlink faults: the kernel refuses or loses what the daemon asks
// for or listens to. Each runs the real daemon on two nodes; where
// keepalived can run the same steps its outcome is measured beside
// vigil's (and asserted where vigil must match it).

// unicast makes inst advertise by unicast from self to other. The fault
// tests use unicast VRRP: their faults are the kernel's, not the advert
// transport's, and unicast does not depend on the host letting
// namespaces' multicast through (on the shared test host it once did
// not, for every daemon).
func unicast(inst instance, self, other *lab.Node) instance {
	inst.UnicastSrc, inst.UnicastPeers = self.Addr4.Addr(), []netip.Addr{other.Addr4.Addr()}
	return inst
}

// daemons are the subtests of a fault run on both daemons.
var daemons = []string{"keepalived", "vigil"}

// startDaemon starts daemon ("vigil" or "keepalived") in n.
func startDaemon(t *testing.T, daemon string, n *lab.Node, conf string, wrapper ...string) *lab.Proc {
	t.Helper()
	if daemon == "keepalived" {
		return n.StartKeepalivedVia(t, wrapper, conf)
	}
	return n.StartVigilVia(t, wrapper, conf)
}

// vipCount is how many times addr is configured on n (all interfaces).
func vipCount(n *lab.Node, addr string) int {
	out, err := n.Exec("ip", "-o", "addr", "show")
	if err != nil {
		return -1
	}
	c := 0
	for _, l := range nonEmptyLines(out) {
		if strings.Contains(l, " "+addr+"/") {
			c++
		}
	}
	return c
}

// waitLog waits until p's log holds s.
func waitLog(t *testing.T, p *lab.Proc, timeout time.Duration, s string) {
	t.Helper()
	lab.MustWait(t, timeout, fmt.Sprintf("%s logging %q", p.Name, s), func() bool { return p.LogContains(s) })
}

// noPanic fails the test if p has exited or logged a Go panic.
func noPanic(t *testing.T, p *lab.Proc) {
	t.Helper()
	if p.Exited() {
		t.Errorf("%s exited", p.Name)
	}
	if p.LogContains("panic:") || p.LogContains("goroutine ") {
		t.Errorf("%s panicked", p.Name)
	}
}

// TestFaultAddressExists: the VIP is already on the interface, added by
// another owner (by hand, while the node is BACKUP) when the node becomes
// MASTER: the kernel answers the add with EEXIST. Both daemons take it as
// done: the VIP is held once, by the MASTER only, stays while it is
// MASTER, and goes with the MASTER's graceful stop (the address is the
// instance's: keepalived deletes it too) to the other node.
func TestFaultAddressExists(t *testing.T) {
	for _, d := range daemons {
		t.Run(d, func(t *testing.T) {
			l := lab.New(t, 2)
			l.LogTail = 40
			n1, n2 := l.Nodes[0], l.Nodes[1]
			startDaemon(t, d, n2, conf("n2", unicast(instance{Priority: 100, VIPs: []string{vip4}}, n2, n1)))
			holds(t, electTimeout, lab.VIP4, n2, n1, n2)
			p1 := startDaemon(t, d, n1, conf("n1", unicast(instance{Priority: 150, VIPs: []string{vip4}}, n1, n2)))
			waitLog(t, p1, electTimeout, "Entering BACKUP STATE")
			// Another owner adds the VIP while n1 waits as BACKUP (its
			// master-down timer is 3 s and more).
			n1.MustExec("ip", "addr", "add", vip4, "dev", "eth0")
			// The add meets EEXIST only if the VIP is still there when
			// n1 becomes MASTER: neither daemon removes it as BACKUP.
			lab.MustWait(t, electTimeout, "n1 MASTER", func() bool {
				if !n1.HasAddress(lab.VIP4) {
					t.Fatalf("%s removed the other owner's VIP while BACKUP", d)
				}
				return p1.LogContains("Entering MASTER STATE")
			})
			holds(t, takeoverTimeout, lab.VIP4, n1, n1, n2)
			// Stable: held once, by n1 only, for 3 adverts.
			deadline := time.Now().Add(3 * time.Second)
			for time.Now().Before(deadline) {
				if c := vipCount(n1, lab.VIP4.String()); c != 1 {
					t.Fatalf("n1 holds the VIP %d times", c)
				}
				if n2.HasAddress(lab.VIP4) {
					t.Fatal("n2 holds the VIP beside n1")
				}
				time.Sleep(50 * time.Millisecond)
			}
			noPanic(t, p1)
			if err := p1.Stop(takeoverTimeout); err != nil {
				t.Fatal(err)
			}
			holds(t, takeoverTimeout, lab.VIP4, n2, n1, n2)
		})
	}
}

// TestFaultAddressEPERM: the daemon runs without CAP_NET_ADMIN (setpriv
// drops it from the bounding set, so it is not regained by exec as root):
// every address add fails with EPERM. keepalived 2.2.7 logs "Netlink:
// error: Operation not permitted", stays MASTER without the VIP and keeps
// advertising, so the backup stays BACKUP and no node holds the VIP. vigil
// does the same (asserted), and its error names the effect and the
// address; it must not die.
func TestFaultAddressEPERM(t *testing.T) {
	lab.Require(t, "setpriv")
	wrapper := []string{"setpriv", "--bounding-set", "-net_admin", "--inh-caps", "-net_admin"}
	for _, d := range daemons {
		t.Run(d, func(t *testing.T) {
			l := lab.New(t, 2)
			l.LogTail = 40
			n1, n2 := l.Nodes[0], l.Nodes[1]
			p2 := startDaemon(t, d, n2, conf("n2", unicast(instance{Priority: 100, VIPs: []string{vip4}}, n2, n1)))
			holds(t, electTimeout, lab.VIP4, n2, n1, n2)
			p1 := startDaemon(t, d, n1, conf("n1", unicast(instance{Priority: 150, VIPs: []string{vip4}}, n1, n2)), wrapper...)
			// Give it the time to take over (or not): 3 × 1 s + skew.
			_, ok := lab.WaitFor(electTimeout, func() bool { return p1.LogContains("Entering MASTER STATE") || p1.Exited() })
			time.Sleep(2 * time.Second)
			t.Logf("%s without CAP_NET_ADMIN: became MASTER %v, exited %v; n1 has the VIP %v, n2 %v; n2's last state %s",
				d, ok, p1.Exited(), n1.HasAddress(lab.VIP4), n2.HasAddress(lab.VIP4), lastState(p2))
			t.Logf("%s log:\n%s", d, p1.LogTail(15))
			if !ok || !strings.Contains(lastState(p1), "MASTER") || !strings.Contains(lastState(p2), "BACKUP") {
				t.Errorf("%s: n1 ended %s, n2 %s; want MASTER and BACKUP", d, lastState(p1), lastState(p2))
			}
			if n1.HasAddress(lab.VIP4) || n2.HasAddress(lab.VIP4) {
				t.Errorf("%s: a node holds the VIP", d)
			}
			if d != "vigil" {
				return
			}
			noPanic(t, p1)
			if !p1.LogContains("operation not permitted") || !p1.LogContains("effect=AddAddress") {
				t.Error("vigil did not log the EPERM")
			}
			if !p1.LogContains(lab.VIP4.String()) {
				t.Error("vigil's error does not name the address")
			}
		})
	}
}

// TestFaultInterfaceVanishes: the instance runs on a macvlan (mv0 on eth0)
// with many VIPs; the macvlan is deleted as soon as the first VIP reaches
// it, so the adds that follow fail (ENODEV, or the interface not found).
// The daemon must log, not die, go to FAULT (its interface is gone) while
// the other node takes over, and come back when the interface returns,
// holding each VIP once.
func TestFaultInterfaceVanishes(t *testing.T) {
	const nvips = 200
	vips := make([]string, nvips)
	for k := range vips {
		vips[k] = fmt.Sprintf("10.77.1.%d/24", k+1)
	}
	first := netip.MustParseAddr("10.77.1.1")
	mvAddr := netip.MustParseAddr("10.77.0.51") // n1's mv0, its unicast source
	for _, d := range daemons {
		t.Run(d, func(t *testing.T) {
			l := lab.New(t, 2)
			l.LogTail = 40
			n1, n2 := l.Nodes[0], l.Nodes[1]
			mkMV := func() {
				n1.MustExec("ip", "link", "add", "mv0", "link", "eth0", "address", "02:77:00:00:01:11", "type", "macvlan", "mode", "bridge")
				n1.MustExec("ip", "addr", "add", "10.77.0.51/24", "dev", "mv0")
				n1.MustExec("ip", "link", "set", "mv0", "up")
			}
			mkMV()
			p2 := startDaemon(t, d, n2, conf("n2", instance{Priority: 100, VIPs: vips, UnicastSrc: n2.Addr4.Addr(), UnicastPeers: []netip.Addr{mvAddr}}))
			lab.MustWait(t, electTimeout, "n2 MASTER", func() bool { return n2.HasAddress(first) })
			// Watch for the first VIP on mv0 and delete mv0 at once.
			watch := exec.Command("ip", "netns", "exec", n1.NS, "sh", "-c",
				"ip -o monitor address | grep -m1 -F ' 10.77.1.' >/dev/null; ip link del mv0")
			if err := watch.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { watch.Process.Kill(); watch.Wait() })
			p1 := startDaemon(t, d, n1, conf("n1", instance{Priority: 150, Interface: "mv0", VIPs: vips, UnicastSrc: mvAddr, UnicastPeers: []netip.Addr{n2.Addr4.Addr()}}))
			done := make(chan error, 1)
			go func() { done <- watch.Wait() }()
			select {
			case <-done:
			case <-time.After(2 * electTimeout):
				t.Fatal("n1 never added a VIP to mv0")
			}
			// n2 ends MASTER with every VIP; n1 has none (mv0 is gone).
			lab.MustWait(t, 2*takeoverTimeout, "n2 holding every VIP", func() bool {
				return vipCount(n2, "10.77.1.1") == 1 && vipCount(n2, fmt.Sprintf("10.77.1.%d", nvips)) == 1 &&
					vipCount(n1, "10.77.1.1") == 0
			})
			t.Logf("%s: after mv0 vanished: n1's last state %s, n2's %s; n1 log:\n%s", d, lastState(p1), lastState(p2), p1.LogTail(12))
			if d == "vigil" {
				noPanic(t, p1)
				waitLog(t, p1, 5*time.Second, "Entering FAULT STATE")
			}
			// mv0 returns: n1 takes over again, every VIP once on n1.
			// keepalived 2.2.7 (without dynamic_interfaces) stays in
			// FAULT: its socket is bound to the deleted interface; that
			// is measured, not asserted.
			mkMV()
			wait := 2 * electTimeout
			if d != "vigil" {
				wait = takeoverTimeout // measured only
			}
			_, back := lab.WaitFor(wait, func() bool {
				for k := 1; k <= nvips; k += 37 {
					a := fmt.Sprintf("10.77.1.%d", k)
					if vipCount(n1, a) != 1 || vipCount(n2, a) != 0 {
						return false
					}
				}
				return vipCount(n1, fmt.Sprintf("10.77.1.%d", nvips)) == 1
			})
			t.Logf("%s: mv0 back: n1 MASTER again with every VIP once: %v (n1 %s)", d, back, lastState(p1))
			if d == "vigil" {
				noPanic(t, p1)
				if !back {
					t.Error("vigil did not take the VIPs back when mv0 returned")
				}
				if !p1.LogContains("dev mv0: no such device") && !p1.LogContains("dev mv0: Link not found") {
					t.Log("no address add met the vanished interface this time (the race was lost)")
				}
			}
		})
	}
}

// TestFaultRouteUnreachableGateway: one of the virtual routes has a
// gateway no interface reaches; the kernel refuses it (ENETUNREACH). The
// daemon logs the refusal with the route, and the rest of the transition
// completes: the VIP and the other route are installed, the node is
// MASTER and stays so.
func TestFaultRouteUnreachableGateway(t *testing.T) {
	routes := []string{"virtual_routes {", "  10.77.8.0/24 via 10.99.0.1 dev eth0", "  10.77.9.0/24 via 10.77.0.1 dev eth0", "}"}
	for _, d := range daemons {
		t.Run(d, func(t *testing.T) {
			l := lab.New(t, 2)
			l.LogTail = 40
			n1, n2 := l.Nodes[0], l.Nodes[1]
			startDaemon(t, d, n2, conf("n2", unicast(instance{Priority: 100, VIPs: []string{vip4}, Extra: routes}, n2, n1)))
			p1 := startDaemon(t, d, n1, conf("n1", unicast(instance{Priority: 150, VIPs: []string{vip4}, Extra: routes}, n1, n2)))
			holds(t, electTimeout, lab.VIP4, n1, n1, n2)
			lab.MustWait(t, 5*time.Second, "the reachable route on n1", func() bool {
				out, _ := n1.Exec("ip", "route", "show", "10.77.9.0/24")
				return strings.Contains(out, "via 10.77.0.1")
			})
			time.Sleep(2 * time.Second)
			holds(t, time.Second, lab.VIP4, n1, n1, n2)
			out, _ := n1.Exec("ip", "route", "show", "10.77.8.0/24")
			t.Logf("%s: unreachable route installed: %q; log:\n%s", d, strings.TrimSpace(out), p1.LogTail(8))
			if d != "vigil" {
				return
			}
			noPanic(t, p1)
			found := false
			for _, line := range strings.Split(p1.Log(), "\n") {
				if strings.Contains(line, "10.77.8.0/24") && strings.Contains(line, "AddRoute") && strings.Contains(line, "unreachable") {
					found = true
				}
			}
			if !found {
				t.Error("no error naming the route, the effect and the kernel's reason")
			}
			if !strings.Contains(lastState(p1), "MASTER") {
				t.Errorf("n1 ended %s", lastState(p1))
			}
		})
	}
}

// TestFaultMonitorOverflow: 10,000 address changes on eth0 (ip -batch)
// while the daemon is stopped (SIGSTOP, so nobody reads its netlink
// monitor socket; running, it keeps up with the burst): the kernel drops notifications and reports ENOBUFS.
// The daemon must say so, resynchronise from a dump, and end with the
// kernel's true view of eth0 (read from its journal's state after a
// graceful stop), still MASTER with the VIP once; the journal still
// replays identically.
func TestFaultMonitorOverflow(t *testing.T) {
	l := lab.New(t, 2)
	l.LogTail = 40
	n1, n2 := l.Nodes[0], l.Nodes[1]
	// advert_int 3: n2 does not take over while n1 is stopped for the
	// burst (master-down 9 s and more).
	// The virtual route makes the monitor watch routes too: each address
	// change also brings a route notification (its local route), 20,000
	// notifications in all, more than the 4 MiB socket buffer holds.
	routes := []string{"virtual_routes {", "  10.77.9.0/24 via 10.77.0.1 dev eth0", "}"}
	p1 := n1.StartVigil(t, conf("n1", unicast(instance{Priority: 150, Interval: "3", VIPs: []string{vip4}, Extra: routes}, n1, n2)))
	n2.StartVigil(t, conf("n2", unicast(instance{Priority: 100, Interval: "3", VIPs: []string{vip4}, Extra: routes}, n2, n1)))
	holds(t, 3*electTimeout, lab.VIP4, n1, n1, n2)

	var b strings.Builder
	const n = 5000
	addr := func(k int) string { return fmt.Sprintf("10.77.%d.%d/32", 128+k/250, k%250+1) }
	// Each added address is deleted at once: few addresses at a time
	// keep the kernel's work per change small (a burst, not a crawl).
	for k := range n {
		fmt.Fprintf(&b, "address add %s dev eth0\naddress del %s dev eth0\n", addr(k), addr(k))
	}
	// What stays: five more.
	for k := n; k < n+5; k++ {
		fmt.Fprintf(&b, "address add %s dev eth0\n", addr(k))
	}
	batch := filepath.Join(t.TempDir(), "burst")
	if err := os.WriteFile(batch, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p1.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := n1.Exec("ip", "-batch", batch)
	p1.Signal(syscall.SIGCONT)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d address changes in %v", 2*n+5, time.Since(start).Round(time.Millisecond))
	waitLog(t, p1, 10*time.Second, "netlink monitor overflowed (ENOBUFS)")
	// n1 ends MASTER with the VIP once (on a loaded machine the burst can
	// outlast n2's master-down timer: n2 then takes over meanwhile, and
	// n1 preempts it when it resumes).
	holds(t, 2*takeoverTimeout, lab.VIP4, n1, n1, n2)
	if c := vipCount(n1, lab.VIP4.String()); c != 1 {
		t.Fatalf("the VIP is configured %d times", c)
	}
	noPanic(t, p1)
	// The kernel's eth0 now, against the engine's view at this moment.
	want, err := n1.Addresses("eth0")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	time.Sleep(200 * time.Millisecond)
	if err := p1.Stop(takeoverTimeout); err != nil {
		t.Fatal(err)
	}
	got := engineAddrs(t, p1, "eth0", at)
	wantS := prefixStrings(want)
	if !slices.Equal(got, wantS) {
		t.Fatalf("the engine's eth0 after the resync:\n%v\nthe kernel's:\n%v", got, wantS)
	}
	for _, line := range strings.Split(p1.Log(), "\n") {
		if strings.Contains(line, "ENOBUFS") {
			t.Logf("%s", line)
		}
	}
	t.Logf("the engine's eth0 after the resync, as the kernel's: %v", got)
	out, err := exec.Command(lab.VigilBinary(t), "replay", "verify", filepath.Join(p1.Dir, "journal")).CombinedOutput()
	if err != nil {
		t.Fatalf("replay verify: %v\n%s", err, out)
	}
}

func prefixStrings(ps []netip.Prefix) []string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	slices.Sort(s)
	return s
}

// engineAddrs reads the addresses the engine knew on ifname at wall time
// at, from the stopped daemon's journal (vigil replay at).
func engineAddrs(t *testing.T, p *lab.Proc, ifname string, at time.Time) []string {
	t.Helper()
	out, err := exec.Command(lab.VigilBinary(t), "replay", "at", filepath.Join(p.Dir, "journal"), at.UTC().Format(time.RFC3339Nano)).Output()
	if err != nil {
		t.Fatalf("replay at: %v\n%s", err, out)
	}
	var st struct {
		VRRP struct {
			Ifaces []struct {
				Name  string   `json:"name"`
				Addrs []string `json:"addrs"`
			} `json:"ifaces"`
		} `json:"vrrp"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("replay at: %v\n%.2000s", err, out)
	}
	for _, f := range st.VRRP.Ifaces {
		if f.Name == ifname {
			s := slices.Clone(f.Addrs)
			slices.Sort(s)
			return s
		}
	}
	t.Fatalf("replay at: no interface %s in\n%.2000s", ifname, out)
	return nil
}
