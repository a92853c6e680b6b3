//go:build linux

package vrrpnet

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/vigil-ha/vigil/events"
)

// lab is two network namespaces joined by a veth pair, both ends named
// veth0: A has 10.77.0.1/24 and fd77::1/64, B 10.77.0.2/24 and fd77::2/64.
type lab struct {
	t        *testing.T
	nsA, nsB string
	hA, hB   netns.NsHandle
	ll       map[string]netip.Addr // namespace → veth0's link-local address
}

var labSeq atomic.Int32

var (
	addrA4 = netip.MustParseAddr("10.77.0.1")
	addrB4 = netip.MustParseAddr("10.77.0.2")
	addrA6 = netip.MustParseAddr("fd77::1")
	addrB6 = netip.MustParseAddr("fd77::2")
)

// newLab builds the namespaces, or skips the test when it cannot.
func newLab(t *testing.T) *lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("namespace test needs root (creates network namespaces and raw sockets)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("namespace test needs iproute2's ip command")
	}
	n := labSeq.Add(1)
	l := &lab{
		t:   t,
		nsA: fmt.Sprintf("vgvn-%d-%d-a", os.Getpid(), n),
		nsB: fmt.Sprintf("vgvn-%d-%d-b", os.Getpid(), n),
		ll:  map[string]netip.Addr{},
	}
	for _, ns := range []string{l.nsA, l.nsB} {
		l.ip("netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		// No duplicate address detection: tentative addresses cannot send.
		l.ip("netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
			"net.ipv6.conf.default.accept_dad=0")
		l.ip("-n", ns, "link", "set", "lo", "up")
	}
	l.ip("-n", l.nsA, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", l.nsB)
	for _, s := range []struct {
		ns     string
		a4, a6 netip.Addr
	}{{l.nsA, addrA4, addrA6}, {l.nsB, addrB4, addrB6}} {
		l.ip("-n", s.ns, "addr", "add", s.a4.String()+"/24", "dev", "veth0")
		l.ip("-n", s.ns, "addr", "add", s.a6.String()+"/64", "dev", "veth0", "nodad")
		l.ip("-n", s.ns, "link", "set", "veth0", "up")
	}
	var err error
	if l.hA, err = netns.GetFromName(l.nsA); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.hA.Close() })
	if l.hB, err = netns.GetFromName(l.nsB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.hB.Close() })
	for _, ns := range []string{l.nsA, l.nsB} {
		l.ll[ns] = l.linkLocal(ns)
	}
	return l
}

func (l *lab) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// in runs f on a thread inside namespace ns.
func (l *lab) in(ns string, f func()) {
	l.t.Helper()
	h := l.hA
	if ns == l.nsB {
		h = l.hB
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		l.t.Fatal(err)
	}
	defer orig.Close()
	if err := netns.Set(h); err != nil {
		l.t.Fatal(err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			panic("cannot return to the original namespace: " + err.Error())
		}
	}()
	f()
}

// linkLocal waits for veth0's IPv6 link-local address in ns.
func (l *lab) linkLocal(ns string) netip.Addr {
	l.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var found netip.Addr
		l.in(ns, func() {
			ifi, err := net.InterfaceByName("veth0")
			if err != nil {
				return
			}
			addrs, _ := ifi.Addrs()
			for _, a := range addrs {
				if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().IsLinkLocalUnicast() {
					found = p.Addr()
				}
			}
		})
		if found.IsValid() {
			return found
		}
		time.Sleep(50 * time.Millisecond)
	}
	l.t.Fatalf("no link-local address on veth0 in %s", ns)
	return netip.Addr{}
}

// hasAddr reports whether veth0 in ns carries addr.
func (l *lab) hasAddr(ns string, addr netip.Addr) bool {
	out, err := exec.Command("ip", "-n", ns, "-o", "addr", "show", "dev", "veth0").CombinedOutput()
	if err != nil {
		l.t.Fatalf("ip addr show in %s: %v\n%s", ns, err, out)
	}
	return strings.Contains(string(out), " "+addr.String()+"/")
}

// mux opens a Mux whose sockets live in ns.
func (l *lab) mux(ns string, o MuxOptions) *nsMux {
	l.t.Helper()
	start := time.Now()
	if o.Clock == nil {
		o.Clock = func() events.Time { return events.Time(time.Since(start)) }
	}
	m, err := NewMux(o)
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { m.Close() })
	return &nsMux{Mux: m, l: l, ns: ns}
}

// nsMux runs a Mux's socket-opening calls inside its namespace.
type nsMux struct {
	*Mux
	l  *lab
	ns string
}

func (m *nsMux) do(f func() error) {
	m.l.t.Helper()
	var err error
	m.l.in(m.ns, func() { err = f() })
	if err != nil {
		m.l.t.Fatal(err)
	}
}

// next waits for the next event matching keep, failing after timeout.
func (m *nsMux) next(timeout time.Duration, keep func(*events.AdvertReceived) bool) *events.AdvertReceived {
	m.l.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-m.Events():
			if keep == nil || keep(ev) {
				return ev
			}
		case <-deadline:
			m.l.t.Fatalf("no matching advert in %s within %v", m.ns, timeout)
			return nil
		}
	}
}

// quiet checks that no event arrives for d.
func (m *nsMux) quiet(d time.Duration) {
	m.l.t.Helper()
	select {
	case ev := <-m.Events():
		m.l.t.Fatalf("unexpected advert in %s: %+v", m.ns, ev)
	case <-time.After(d):
	}
}
