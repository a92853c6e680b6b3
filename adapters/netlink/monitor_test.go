package netlink

import (
	"fmt"
	"maps"
	"net/netip"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events"
)

// testClock is a strictly increasing fake clock.
func testClock() func() events.Time {
	var n atomic.Int64
	return func() events.Time { return events.Time(n.Add(1)) }
}

func newMonitor(t *testing.T, opts MonitorOptions) *Monitor {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = testClock()
	}
	m, err := NewMonitor(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// collect reads events until done reports true for the events so far, or
// fails after a generous timeout.
func collect(t *testing.T, m *Monitor, done func([]events.Event) bool) []events.Event {
	t.Helper()
	var got []events.Event
	timeout := time.After(10 * time.Second)
	for !done(got) {
		select {
		case e, ok := <-m.Events():
			if !ok {
				t.Fatalf("monitor stopped: %v", m.Err())
			}
			got = append(got, e)
		case <-timeout:
			t.Fatalf("timed out; events so far:\n%s", dump(got))
		}
	}
	return got
}

func dump(evs []events.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "  %T %+v\n", e, e)
	}
	return b.String()
}

// index returns the position of the first event matching f, or -1.
func index(evs []events.Event, f func(events.Event) bool) int {
	for i, e := range evs {
		if f(e) {
			return i
		}
	}
	return -1
}

func isAddr(ifname, prefix string, added bool) func(events.Event) bool {
	p := netip.MustParsePrefix(prefix)
	return func(e events.Event) bool {
		a, ok := e.(*events.AddressChanged)
		return ok && a.Interface == ifname && a.Prefix == p && a.Added == added
	}
}

func TestMonitorSnapshot(t *testing.T) {
	requireRoot(t)
	ns := vethNS(t, "snap")
	ipn(t, ns, "link", "set", "lo", "up")
	ipn(t, ns, "addr", "add", "10.77.1.20/24", "dev", "vb")
	ipn(t, ns, "addr", "add", "10.77.1.10/24", "dev", "va")
	ipn(t, ns, "addr", "add", "10.77.1.11/24", "dev", "va")
	m := newMonitor(t, MonitorOptions{Namespace: ns})
	snap := m.Snapshot()

	var links []string
	var lastIdx int
	var addrs []string
	for _, e := range snap {
		switch v := e.(type) {
		case *events.LinkChanged:
			if v.Index <= lastIdx || !v.Present {
				t.Errorf("link %+v out of order or absent", v)
			}
			lastIdx = v.Index
			links = append(links, v.Interface)
		case *events.AddressChanged:
			if !v.Added {
				t.Errorf("snapshot removal %+v", v)
			}
			if v.Prefix.Addr().Is4() {
				addrs = append(addrs, v.Interface+" "+v.Prefix.String())
			}
		}
	}
	if got := strings.Join(links, ","); got != "lo,vb,va" && got != "lo,va,vb" {
		t.Errorf("links %s", got)
	}
	// Addresses follow the interfaces' index order, then address order.
	want := []string{"lo 127.0.0.1/8", "va 10.77.1.10/24", "va 10.77.1.11/24", "vb 10.77.1.20/24"}
	if links[1] == "vb" {
		want = []string{"lo 127.0.0.1/8", "vb 10.77.1.20/24", "va 10.77.1.10/24", "va 10.77.1.11/24"}
	}
	if strings.Join(addrs, ",") != strings.Join(want, ",") {
		t.Errorf("addresses %v, want %v", addrs, want)
	}
	first := index(snap, func(e events.Event) bool { _, ok := e.(*events.AddressChanged); return ok })
	lastLink := -1
	for i, e := range snap {
		if _, ok := e.(*events.LinkChanged); ok {
			lastLink = i
		}
	}
	if first < lastLink {
		t.Errorf("addresses before links:\n%s", dump(snap))
	}
}

func TestMonitorLinkDownThenAddressDeleted(t *testing.T) {
	requireRoot(t)
	ns := vethNS(t, "order")
	ipn(t, ns, "addr", "add", "10.77.1.10/24", "dev", "va")
	m := newMonitor(t, MonitorOptions{Namespace: ns})

	ipn(t, ns, "link", "set", "va", "down")
	ipn(t, ns, "addr", "del", "10.77.1.10/24", "dev", "va")
	isDown := func(e events.Event) bool {
		l, ok := e.(*events.LinkChanged)
		return ok && l.Interface == "va" && l.Present && !l.Up
	}
	isDel := isAddr("va", "10.77.1.10/24", false)
	got := collect(t, m, func(evs []events.Event) bool { return index(evs, isDel) >= 0 })
	d, a := index(got, isDown), index(got, isDel)
	if d < 0 || d > a {
		t.Fatalf("want va down before the address removal:\n%s", dump(got))
	}
	// Times come from the caller's clock and increase.
	for i := 1; i < len(got); i++ {
		if got[i].EventTime() <= got[i-1].EventTime() {
			t.Errorf("event times not increasing:\n%s", dump(got))
		}
	}
	// Deleting the interface reports it gone, with its addresses.
	ipn(t, ns, "link", "set", "va", "up")
	ipn(t, ns, "addr", "add", "10.77.1.12/24", "dev", "va")
	ipn(t, ns, "link", "del", "va")
	isGone := func(e events.Event) bool {
		l, ok := e.(*events.LinkChanged)
		return ok && l.Interface == "va" && !l.Present
	}
	isGoneAddr := isAddr("va", "10.77.1.12/24", false)
	collect(t, m, func(evs []events.Event) bool { return index(evs, isGone) >= 0 && index(evs, isGoneAddr) >= 0 })
}

func TestMonitorRoutesAndRules(t *testing.T) {
	requireRoot(t)
	ns := vethNS(t, "rtmon")
	ipn(t, ns, "addr", "add", "10.77.1.10/24", "dev", "va")
	m := newMonitor(t, MonitorOptions{Namespace: ns, Routes: true, Rules: true})
	hasRoute := false
	for _, e := range m.Snapshot() {
		if r, ok := e.(*events.RouteChanged); ok && r.Dst == netip.MustParsePrefix("10.77.1.0/24") && r.Interface == "va" {
			hasRoute = true
		}
	}
	if !hasRoute {
		t.Errorf("snapshot lacks the connected route:\n%s", dump(m.Snapshot()))
	}

	ipn(t, ns, "route", "add", "10.77.60.0/24", "via", "10.77.1.1", "table", "100")
	ipn(t, ns, "rule", "add", "from", "10.77.9.0/24", "table", "100", "priority", "1000")
	ipn(t, ns, "rule", "del", "priority", "1000")
	isRoute := func(e events.Event) bool {
		r, ok := e.(*events.RouteChanged)
		return ok && r.Added && r.Dst == netip.MustParsePrefix("10.77.60.0/24") && r.Table == 100 &&
			r.Gateway == netip.MustParseAddr("10.77.1.1") && r.Interface == "va"
	}
	isRule := func(added bool) func(events.Event) bool {
		return func(e events.Event) bool {
			r, ok := e.(*events.RuleChanged)
			return ok && r.Added == added && r.Family == 4 && r.Priority == 1000 && r.Table == 100 &&
				r.From == netip.MustParsePrefix("10.77.9.0/24")
		}
	}
	got := collect(t, m, func(evs []events.Event) bool { return index(evs, isRule(false)) >= 0 })
	if r, a, d := index(got, isRoute), index(got, isRule(true)), index(got, isRule(false)); r < 0 || a < r || d < a {
		t.Errorf("want route, rule added, rule removed in order:\n%s", dump(got))
	}

	// The kernel flushes IPv4 routes through a downed interface silently;
	// the monitor still reports them gone.
	ipn(t, ns, "link", "set", "va", "down")
	collect(t, m, func(evs []events.Event) bool {
		return index(evs, func(e events.Event) bool {
			r, ok := e.(*events.RouteChanged)
			return ok && !r.Added && r.Dst == netip.MustParsePrefix("10.77.60.0/24")
		}) >= 0
	})
}

func TestMonitorOverflowResync(t *testing.T) {
	requireRoot(t)
	ns := vethNS(t, "ovf")
	// A tiny socket buffer and channel, and nobody reading: the kernel
	// must drop notifications.
	m := newMonitor(t, MonitorOptions{Namespace: ns, Buffer: 1, ReceiveBuffer: 1024})
	have := map[netip.Prefix]bool{}
	for _, e := range m.Snapshot() {
		if a, ok := e.(*events.AddressChanged); ok && a.Interface == "va" {
			have[a.Prefix] = true
		}
	}
	var batch strings.Builder
	for i := range 300 {
		fmt.Fprintf(&batch, "addr add 10.77.%d.%d/32 dev va\n", 10+i/200, 1+i%200)
	}
	for i := range 50 { // some come and go again
		fmt.Fprintf(&batch, "addr del 10.77.10.%d/32 dev va\n", 1+i)
	}
	cmd := exec.Command("ip", "-n", ns, "-batch", "-")
	cmd.Stdin = strings.NewReader(batch.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ip -batch: %v: %s", err, out)
	}
	kernel := func() map[netip.Prefix]bool {
		k := map[netip.Prefix]bool{}
		for _, a := range addrsOf(t, ns, "va") {
			k[netip.PrefixFrom(netip.MustParseAddr(a.Local), a.PrefixLen)] = true
		}
		return k
	}()
	if len(kernel) < 250 {
		t.Fatalf("kernel has %d addresses on va", len(kernel))
	}
	same := func() bool {
		if len(have) != len(kernel) {
			return false
		}
		for p := range kernel {
			if !have[p] {
				return false
			}
		}
		return true
	}
	deadline := time.After(20 * time.Second)
	for !same() {
		select {
		case e, ok := <-m.Events():
			if !ok {
				t.Fatalf("monitor stopped: %v", m.Err())
			}
			if a, ok := e.(*events.AddressChanged); ok && a.Interface == "va" {
				if a.Added {
					have[a.Prefix] = true
				} else {
					delete(have, a.Prefix)
				}
			}
		case <-deadline:
			t.Fatalf("view of va never converged: %d addresses reported, kernel has %d (resyncs %d)", len(have), len(kernel), m.Resyncs())
		}
	}
	if m.Resyncs() == 0 {
		t.Error("no overflow happened; the test did not exercise the resync")
	}
}

// vaView folds the monitor's address events for va into a set.
type vaView map[netip.Prefix]bool

func (v vaView) fold(e events.Event) {
	if a, ok := e.(*events.AddressChanged); ok && a.Interface == "va" {
		if a.Added {
			v[a.Prefix] = true
		} else {
			delete(v, a.Prefix)
		}
	}
}

// kernelAddrs returns va's addresses as the kernel has them.
func kernelAddrs(t *testing.T, ns string) vaView {
	t.Helper()
	k := vaView{}
	for _, a := range addrsOf(t, ns, "va") {
		k[netip.PrefixFrom(netip.MustParseAddr(a.Local), a.PrefixLen)] = true
	}
	return k
}

// ipBatch runs `ip -n ns -batch -` on the given commands.
func ipBatch(t *testing.T, ns string, cmds string) {
	t.Helper()
	cmd := exec.Command("ip", "-n", ns, "-batch", "-")
	cmd.Stdin = strings.NewReader(cmds)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ip -batch: %v: %s", err, out)
	}
}

// TestMonitorOverflowDuringResync overflows the socket again while the
// monitor is still busy with the resync of a first overflow (blocked
// delivering its differences to a reader that has stopped). The kernel
// raises ENOBUFS only when a socket starts overflowing, and a socket
// keeps counting as overflowing until a read finds its queue empty: a
// monitor that resyncs without first emptying the queue of the stale
// notifications loses the second overflow's drops silently.
func TestMonitorOverflowDuringResync(t *testing.T) {
	requireRoot(t)
	ns := vethNS(t, "ovf2")
	m := newMonitor(t, MonitorOptions{Namespace: ns, Buffer: 1, ReceiveBuffer: 1024})
	have := vaView{}
	for _, e := range m.Snapshot() {
		have.fold(e)
	}
	next := func(timeout time.Duration) (events.Event, bool) {
		select {
		case e, ok := <-m.Events():
			if !ok {
				t.Fatalf("monitor stopped: %v", m.Err())
			}
			return e, true
		case <-time.After(timeout):
			return nil, false
		}
	}

	var batch strings.Builder
	for i := range 200 {
		fmt.Fprintf(&batch, "addr add 10.78.10.%d/32 dev va\n", 1+i)
	}
	ipBatch(t, ns, batch.String())
	// Read until the monitor has seen the overflow, then stop reading: it
	// is left blocked delivering the resync's differences.
	deadline := time.Now().Add(10 * time.Second)
	for m.Resyncs() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no overflow happened; the test did not exercise the resync")
		}
		if e, ok := next(10 * time.Millisecond); ok {
			have.fold(e)
		}
	}
	first := m.Resyncs()

	batch.Reset()
	for i := range 200 {
		fmt.Fprintf(&batch, "addr add 10.78.11.%d/32 dev va\n", 1+i)
	}
	for i := range 50 {
		fmt.Fprintf(&batch, "addr del 10.78.10.%d/32 dev va\n", 1+i)
	}
	ipBatch(t, ns, batch.String())
	kernel := kernelAddrs(t, ns)
	if len(kernel) < 350 {
		t.Fatalf("kernel has %d addresses on va", len(kernel))
	}
	timeout := time.After(20 * time.Second)
	for !maps.Equal(have, kernel) {
		select {
		case e, ok := <-m.Events():
			if !ok {
				t.Fatalf("monitor stopped: %v", m.Err())
			}
			have.fold(e)
		case <-timeout:
			t.Fatalf("view of va never converged: %d addresses reported, kernel has %d (resyncs %d)", len(have), len(kernel), m.Resyncs())
		}
	}
	if m.Resyncs() == first {
		t.Error("the second overflow caused no resync")
	}
	// Nothing more to say once converged: no stale event undoes the view.
	for {
		e, ok := next(200 * time.Millisecond)
		if !ok {
			break
		}
		have.fold(e)
	}
	if !maps.Equal(have, kernel) {
		t.Errorf("view of va diverged after converging: %d addresses reported, kernel has %d", len(have), len(kernel))
	}
}

func TestMonitorClose(t *testing.T) {
	requireRoot(t)
	ns := newNS(t, "close")
	m := newMonitor(t, MonitorOptions{Namespace: ns})
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-m.Events(); ok {
		// Drain anything delivered before Close.
		for range m.Events() {
		}
	}
	if err := m.Err(); err != nil {
		t.Errorf("Err after Close = %v", err)
	}
}
