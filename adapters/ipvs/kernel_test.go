package ipvs

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/effects"
)

// These tests need a kernel with IPVS. Debian's has it; the kernels vigil
// is developed and tested on usually do not, so test/qemu/run.sh boots
// Debian's kernel under qemu and runs them there. Each test works in a
// network namespace of its own (IPVS tables are per namespace), so running
// them on a real director never touches its table.

var nsSeq atomic.Int32

// requireIPVS skips unless running as root on a kernel with IPVS, and
// returns the path of a fresh network namespace, removed at cleanup.
func requireIPVS(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	if err := ensureModule("", true); err != nil {
		if errors.Is(err, ErrNoIPVS) {
			t.Skip("this kernel has no IPVS; run test/qemu/run.sh to run this test in a VM with Debian's kernel")
		}
		t.Fatal(err)
	}
	name := fmt.Sprintf("vigil-ipvs-%d-%d", os.Getpid(), nsSeq.Add(1))
	func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			t.Fatalf("current netns: %v", err)
		}
		defer orig.Close()
		h, err := netns.NewNamed(name)
		if err != nil {
			runtime.UnlockOSThread()
			t.Fatalf("new netns: %v", err)
		}
		h.Close()
		if err := netns.Set(orig); err != nil {
			// Leave the thread locked: Go retires it with the goroutine
			// rather than reuse a thread in the wrong namespace.
			t.Fatalf("back to the original netns: %v", err)
		}
		runtime.UnlockOSThread()
	}()
	t.Cleanup(func() { netns.DeleteNamed(name) })
	path := filepath.Join("/run/netns", name)
	// Bring loopback up: the kernel refuses IPv4 destinations that its
	// local routing table cannot classify, and a fresh namespace has none
	// until lo is up.
	ns, err := netns.GetFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		t.Fatalf("lo up in %s: %v", path, err)
	}
	return path
}

// TestOpenWithoutIPVS runs where the kernel lacks IPVS (the host side of
// the qemu lane): Open must refuse clearly rather than let moby/ipvs
// pretend every request succeeds.
func TestOpenWithoutIPVS(t *testing.T) {
	if err := Available(""); !errors.Is(err, ErrNoIPVS) {
		t.Skipf("this kernel has IPVS (or the lookup failed: %v)", err)
	}
	_, err := Open(Options{NoModprobe: true})
	if !errors.Is(err, ErrNoIPVS) {
		t.Fatalf("Open on a kernel without IPVS: %v, want ErrNoIPVS", err)
	}
	t.Logf("Open refused as expected: %v", err)
}

var (
	svcWeb     = ServiceKey{Family: 4, Protocol: "TCP", Addr: netip.MustParseAddr("192.0.2.1"), Port: 80}
	svcMark    = ServiceKey{Family: 4, FwMark: 7}
	svcDNS6    = ServiceKey{Family: 6, Protocol: "UDP", Addr: netip.MustParseAddr("2001:db8::1"), Port: 53}
	svcForeign = ServiceKey{Family: 4, Protocol: "TCP", Addr: netip.MustParseAddr("192.0.2.200"), Port: 443}
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func dest(s string, m Method, w int) Dest {
	a := ap(s)
	return Dest{Addr: a.Addr(), Port: a.Port(), Method: m, Weight: w}
}

func desiredTable() Table {
	t := Table{
		{Family: 4, Protocol: "TCP", Addr: svcWeb.Addr, Port: 80, Scheduler: "rr",
			Dests: []Dest{
				dest("198.51.100.1:8080", NAT, 1),
				{Addr: netip.MustParseAddr("198.51.100.2"), Port: 80, Method: DR, Weight: 2, UpperThreshold: 100, LowerThreshold: 10},
			}},
		{Family: 4, FwMark: 7, Scheduler: "wlc", PersistenceTimeout: 300 * time.Second, GranularityBits: 24,
			Dests: []Dest{dest("198.51.100.3:0", TUN, 1)}},
		{Family: 6, Protocol: "UDP", Addr: svcDNS6.Addr, Port: 53, Scheduler: "sh", Flags: FlagSched1 | FlagSched2 | FlagOnePacket,
			Dests: []Dest{dest("[2001:db8::10]:53", NAT, 5), dest("[2001:db8::11]:53", DR, 0)}},
	}
	t.Sort()
	return t
}

func changeStrings(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}

func mustRead(t *testing.T, m *Manager) Table {
	t.Helper()
	got, err := m.Read()
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func equalTables(t *testing.T, got, want Table) {
	t.Helper()
	want = slices.Clone(want)
	want.Sort()
	norm := func(tb Table) Table {
		for i := range tb {
			if len(tb[i].Dests) == 0 {
				tb[i].Dests = nil
			}
		}
		return tb
	}
	if !reflect.DeepEqual(norm(got), norm(want)) {
		t.Fatalf("kernel table:\n got %+v\nwant %+v", got, want)
	}
}

func findService(tb Table, k ServiceKey) *Service {
	for i := range tb {
		if tb[i].Key() == k {
			return &tb[i]
		}
	}
	return nil
}

// TestKernelTable creates services and destinations, edits weights and
// settings, deletes, and reconciles a restart, against the real kernel.
func TestKernelTable(t *testing.T) {
	ns := requireIPVS(t)
	state := filepath.Join(t.TempDir(), "ipvs-owned.json")
	m, err := Open(Options{Netns: ns, StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := desiredTable()

	t.Run("create", func(t *testing.T) {
		cs, err := m.Sync(want, false)
		if err != nil {
			t.Fatalf("Sync: %v (after %v)", err, changeStrings(cs))
		}
		if len(cs) != 3+5 {
			t.Errorf("changes = %v, want 3 services and 5 destinations", changeStrings(cs))
		}
		equalTables(t, mustRead(t, m), want)
		if got := m.Owned(); len(got) != 3 {
			t.Errorf("owned = %v", got)
		}
	})

	t.Run("stats", func(t *testing.T) {
		st, err := m.Stats()
		if err != nil {
			t.Fatal(err)
		}
		dests := 0
		for _, s := range st {
			if findService(want, s.Service.Key()) == nil {
				t.Errorf("stats of a service not in the table: %s", s.Service.Key())
			}
			dests += len(s.Dests)
		}
		if len(st) != 3 || dests != 5 {
			t.Errorf("stats of %d services and %d destinations, want 3 and 5", len(st), dests)
		}
	})

	t.Run("idempotent", func(t *testing.T) {
		cs, err := m.Sync(want, false)
		if err != nil || len(cs) != 0 {
			t.Fatalf("second Sync: %v, %v", changeStrings(cs), err)
		}
	})

	t.Run("edit weight", func(t *testing.T) {
		want[findIndex(want, svcWeb)].Dests[0].Weight = 7
		cs, err := m.Sync(want, false)
		if err != nil || !slices.Equal(changeStrings(cs), []string{"set-dest TCP 192.0.2.1:80 198.51.100.1:8080"}) {
			t.Fatalf("Sync: %v, %v", changeStrings(cs), err)
		}
		equalTables(t, mustRead(t, m), want)
		// The incremental form: weight 0 (inhibit_on_failure) via SetDest.
		cs, err = m.SetDest(svcWeb, dest("198.51.100.1:8080", NAT, 0))
		if err != nil || len(cs) != 1 || cs[0].Op != OpSetDest {
			t.Fatalf("SetDest: %v, %v", changeStrings(cs), err)
		}
		if d := findService(mustRead(t, m), svcWeb).Dests[0]; d.Weight != 0 {
			t.Fatalf("weight after SetDest = %d", d.Weight)
		}
		want[findIndex(want, svcWeb)].Dests[0].Weight = 0
	})

	t.Run("edit service", func(t *testing.T) {
		i := findIndex(want, svcWeb)
		want[i].Scheduler = "wrr"
		want[i].PersistenceTimeout = 60 * time.Second
		j := findIndex(want, svcMark)
		want[j].GranularityBits = 16
		cs, err := m.Sync(want, false)
		if err != nil || len(cs) != 2 || cs[0].Op != OpSetService || cs[1].Op != OpSetService {
			t.Fatalf("Sync: %v, %v", changeStrings(cs), err)
		}
		equalTables(t, mustRead(t, m), want)
	})

	t.Run("delete destination", func(t *testing.T) {
		i := findIndex(want, svcDNS6)
		want[i].Dests = want[i].Dests[:1]
		cs, err := m.Sync(want, false)
		if err != nil || !slices.Equal(changeStrings(cs), []string{"del-dest UDP [2001:db8::1]:53 [2001:db8::11]:53"}) {
			t.Fatalf("Sync: %v, %v", changeStrings(cs), err)
		}
		equalTables(t, mustRead(t, m), want)
		cs, err = m.RemoveDest(svcDNS6, ap("[2001:db8::10]:53"))
		if err != nil || len(cs) != 1 {
			t.Fatalf("RemoveDest: %v, %v", changeStrings(cs), err)
		}
		if s := findService(mustRead(t, m), svcDNS6); len(s.Dests) != 0 {
			t.Fatalf("dests left: %+v", s.Dests)
		}
		want[i].Dests = nil
	})

	t.Run("reconcile after restart", func(t *testing.T) {
		m.Close()
		// While vigil is down: an operator adds a service of their own,
		// and a stray destination appears in one of vigil's services.
		other, err := Open(Options{Netns: ns})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.SyncService(Service{Family: 4, Protocol: "TCP", Addr: svcForeign.Addr, Port: 443, Scheduler: "lc",
			Dests: []Dest{dest("198.51.100.50:443", NAT, 1)}}); err != nil {
			t.Fatal(err)
		}
		if _, err := other.SetDest(svcWeb, dest("198.51.100.66:8080", NAT, 9)); err != nil {
			t.Fatal(err)
		}
		other.Close()

		// The new configuration drops the fwmark service.
		want = slices.DeleteFunc(want, func(s Service) bool { return s.Key() == svcMark })
		m, err = Open(Options{Netns: ns, StateFile: state})
		if err != nil {
			t.Fatal(err)
		}
		cs, err := m.Sync(want, false)
		if err != nil {
			t.Fatal(err)
		}
		wantChanges := []string{"del-service FWM 7 IPv4", "del-dest TCP 192.0.2.1:80 198.51.100.66:8080"}
		if !slices.Equal(changeStrings(cs), wantChanges) {
			t.Fatalf("changes = %v, want %v", changeStrings(cs), wantChanges)
		}
		got := mustRead(t, m)
		if findService(got, svcForeign) == nil {
			t.Fatal("the operator's service was removed")
		}
		got = slices.DeleteFunc(got, func(s Service) bool { return s.Key() == svcForeign })
		equalTables(t, got, want)
		if owned := m.Owned(); slices.Contains(owned, svcForeign) || slices.Contains(owned, svcMark) || len(owned) != 2 {
			t.Fatalf("owned = %v", owned)
		}
	})

	t.Run("effects", func(t *testing.T) {
		a := netip.MustParseAddr
		x := NewExecutor(m)
		tun := effects.IPVSDest{Addr: a("198.51.100.3"), Method: "TUN"}
		sorry := effects.IPVSDest{Addr: a("198.51.100.99"), Method: "DR"}
		steps := []effects.SetIPVS{
			{Op: effects.IPVSAddService, Service: effMark},
			{Op: effects.IPVSAddService, Service: effMark}, // idempotent
			{Op: effects.IPVSAddDest, Service: effMark, Dest: tun, Weight: 1},
			{Op: effects.IPVSAddDest, Service: effMark, Dest: sorry, Weight: 0},
			{Op: effects.IPVSEditDest, Service: effMark, Dest: tun, Weight: 4},
			{Op: effects.IPVSDelDest, Service: effMark, Dest: sorry},
			{Op: effects.IPVSDelDest, Service: effMark, Dest: sorry}, // idempotent
		}
		for _, e := range steps {
			if err := x.Apply(&e); err != nil {
				t.Fatalf("Apply(%v): %v", e.Op, err)
			}
		}
		s := findService(mustRead(t, m), svcMark)
		if s == nil || s.Scheduler != "sh" || s.Flags != FlagOnePacket|FlagSched1|FlagSched2 {
			t.Fatalf("fwmark 7 = %+v", s)
		}
		if len(s.Dests) != 1 || s.Dests[0].Weight != 4 || s.Dests[0].Method != TUN {
			t.Fatalf("fwmark 7 dests = %+v", s.Dests)
		}
		edited := effMark
		edited.Scheduler, edited.SchedFlags, edited.OnePacket = "rr", nil, false
		if err := x.Apply(&effects.SetIPVS{Op: effects.IPVSEditService, Service: edited}); err != nil {
			t.Fatal(err)
		}
		if s := findService(mustRead(t, m), svcMark); s.Scheduler != "rr" || s.Flags != 0 || len(s.Dests) != 1 {
			t.Fatalf("after edit-service: %+v", s)
		}
		for i := 0; i < 2; i++ {
			if err := x.Apply(&effects.SetIPVS{Op: effects.IPVSDelService, Service: effMark}); err != nil {
				t.Fatal(err)
			}
		}
		if findService(mustRead(t, m), svcMark) != nil {
			t.Fatal("fwmark 7 still present")
		}
		bad := effects.SetIPVS{Op: effects.IPVSAddDest, Service: effMark, Dest: tun, Weight: 1}
		if err := x.Apply(&bad); err == nil {
			t.Fatal("a destination of a missing service was accepted")
		}
	})

	t.Run("remove owned and flush", func(t *testing.T) {
		cs, err := m.RemoveOwned()
		if err != nil || len(cs) != 2 {
			t.Fatalf("RemoveOwned: %v, %v", changeStrings(cs), err)
		}
		got := mustRead(t, m)
		if len(got) != 1 || got[0].Key() != svcForeign {
			t.Fatalf("after RemoveOwned: %+v", got)
		}
		if _, err := m.Sync(nil, true); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, m); len(got) != 0 {
			t.Fatalf("after flush: %+v", got)
		}
	})

	t.Run("reconcile effect", func(t *testing.T) {
		a := netip.MustParseAddr
		// An operator's service, which a reconciliation without flush
		// leaves alone.
		other, err := Open(Options{Netns: ns})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.SyncService(Service{Family: 4, Protocol: "TCP", Addr: svcForeign.Addr, Port: 443, Scheduler: "lc"}); err != nil {
			t.Fatal(err)
		}
		other.Close()
		x := NewExecutor(m)
		var changes []string
		x.OnChange = func(c Change) { changes = append(changes, c.String()) }
		r := &effects.ReconcileIPVS{Services: []effects.IPVSTableService{
			{VirtualServer: "tcp/192.0.2.1:80", Service: effWeb, Dests: []effects.IPVSTableDest{
				{RealServer: "198.51.100.1:8080", Weight: 2, Dest: effects.IPVSDest{Addr: a("198.51.100.1"), Port: 8080, Method: "NAT"}},
				{RealServer: "198.51.100.2:8080", Weight: 1, Dest: effects.IPVSDest{Addr: a("198.51.100.2"), Port: 8080, Method: "bogus"}},
			}},
		}}
		if err := x.Apply(r); err == nil || !strings.Contains(err.Error(), "198.51.100.2:8080") {
			t.Fatalf("Apply(ReconcileIPVS) with a bad destination: %v", err)
		}
		wantChanges := []string{"add-service TCP 192.0.2.1:80", "add-dest TCP 192.0.2.1:80 198.51.100.1:8080"}
		if !slices.Equal(changes, wantChanges) {
			t.Fatalf("changes = %v, want %v", changes, wantChanges)
		}
		got := mustRead(t, m)
		if s := findService(got, svcWeb); s == nil || len(s.Dests) != 1 || s.Dests[0].Weight != 2 {
			t.Fatalf("after the reconciliation: %+v", got)
		}
		if findService(got, svcForeign) == nil {
			t.Fatal("the operator's service was removed without flush")
		}

		// Flush: the whole table goes first, then the desired one.
		changes = nil
		r = &effects.ReconcileIPVS{Flush: true, Services: []effects.IPVSTableService{
			{VirtualServer: "fwmark/7", Service: effMark, Dests: []effects.IPVSTableDest{
				{RealServer: "198.51.100.3:0", Weight: 1, Dest: effects.IPVSDest{Addr: a("198.51.100.3"), Method: "TUN"}},
			}},
		}}
		if err := x.Apply(r); err != nil {
			t.Fatal(err)
		}
		if len(changes) != 3 || changes[0] != "flush" {
			t.Fatalf("changes = %v, want a flush then the fwmark service and its destination", changes)
		}
		got = mustRead(t, m)
		if len(got) != 1 || got[0].Key() != svcMark || len(got[0].Dests) != 1 {
			t.Fatalf("after the flushing reconciliation: %+v", got)
		}
		if owned := m.Owned(); !slices.Equal(owned, []ServiceKey{svcMark}) {
			t.Fatalf("owned = %v", owned)
		}
		if _, err := m.Sync(nil, true); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("kernel refusal is an error", func(t *testing.T) {
		bad := Table{{Family: 4, Protocol: "TCP", Addr: svcWeb.Addr, Port: 80, Scheduler: "no-such-scheduler"}}
		if _, err := m.Sync(bad, false); err == nil {
			t.Fatal("the kernel accepted an unknown scheduler?")
		} else {
			t.Logf("refused as expected: %v", err)
		}
	})
}

func findIndex(tb Table, k ServiceKey) int {
	for i := range tb {
		if tb[i].Key() == k {
			return i
		}
	}
	panic("no service " + k.String())
}

// TestKernelTimeouts sets IPVS's connection timeouts in a fresh namespace
// and restores them: a zero field keeps the kernel's original value, and
// an all-zero set restores every original.
func TestKernelTimeouts(t *testing.T) {
	ns := requireIPVS(t)
	m, err := Open(Options{Netns: ns})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	orig, err := m.Timeouts()
	if err != nil {
		t.Fatal(err)
	}
	if orig.TCP == 0 || orig.TCPFin == 0 || orig.UDP == 0 {
		t.Fatalf("kernel timeouts %+v: want the kernel's defaults, all set", orig)
	}
	if err := m.SetTimeouts(Timeouts{}); err != nil {
		t.Fatalf("restore before any change: %v", err)
	}
	check := func(want Timeouts) {
		t.Helper()
		got, err := m.Timeouts()
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("timeouts = %+v, want %+v", got, want)
		}
	}
	check(orig)
	if err := m.SetTimeouts(Timeouts{TCP: 7200 * time.Second, UDP: 45 * time.Second}); err != nil {
		t.Fatal(err)
	}
	check(Timeouts{TCP: 7200 * time.Second, TCPFin: orig.TCPFin, UDP: 45 * time.Second})
	// A later set with only tcpfin gives tcp and udp back their originals.
	if err := m.SetTimeouts(Timeouts{TCPFin: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	check(Timeouts{TCP: orig.TCP, TCPFin: 30 * time.Second, UDP: orig.UDP})
	if err := m.SetTimeouts(Timeouts{}); err != nil {
		t.Fatal(err)
	}
	check(orig)
}
