package daemon

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/journal"
)

// CLOCK_REALTIME stepped under a running pair, in the qemu lane only
// (stepping the clock anywhere else would step the host's): two daemons
// in namespaces joined by a veth, the master journaling. The wall clock
// jumps forward and back by an hour and by a day; timers run on the
// monotonic clock, so the master's advert schedule is undisturbed and the
// backup never takes over; the journal's recorded times stay ordered.

const clockNodeConf = `vrrp_instance VI_1 {
  state BACKUP
  interface %[1]s
  virtual_router_id 78
  priority %[2]d
  advert_int 1
  virtual_ipaddress {
    10.88.0.100/24
  }
}
`

// inQemuGuest reports whether this process runs in the qemu lane's guest:
// its kernel command line is the one test/qemu/run.sh boots with, and
// PID 1 is the lane's /init. A belt to VIGIL_QEMU_DAEMON's braces: this
// test steps the clock.
func inQemuGuest() bool {
	cmdline, err := os.ReadFile("/proc/cmdline")
	if err != nil || !strings.Contains(string(cmdline), "console=ttyS0 panic=-1") {
		return false
	}
	init, err := os.ReadFile("/proc/1/cmdline")
	return err == nil && bytes.Contains(init, []byte("/init"))
}

// lockedBuffer is a child's output, read while the child writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startClockNode(t *testing.T, ns, iface string, prio int) (*director, *lockedBuffer, string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(file, fmt.Appendf(nil, clockNodeConf, iface, prio), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startChildDaemon(t, ns, ns, file)
	return d, d.out, filepath.Join(dir, "journal")
}

func TestDaemonClockStepInVM(t *testing.T) {
	if os.Getenv(vmEnv) == "" || !inQemuGuest() {
		t.Skip(vmEnv + " is not set or this is not the qemu lane's guest: this test steps CLOCK_REALTIME and runs in the qemu lane only (test/qemu/run.sh)")
	}
	const nsA, nsB = "vigil-clk-a", "vigil-clk-b"
	for _, n := range []string{nsA, nsB} {
		vmNamedNetns(t, n)
	}
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "vca"}, PeerName: "vcb"}); err != nil {
		t.Fatalf("veth: %v", err)
	}
	handles := map[string]*netlink.Handle{}
	setup := func(ns, link, addr string) {
		h, err := netns.GetFromName(ns)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		l, err := netlink.LinkByName(link)
		if err == nil {
			err = netlink.LinkSetNsFd(l, int(h))
		}
		if err != nil {
			t.Fatalf("%s to %s: %v", link, ns, err)
		}
		nh, err := netlink.NewHandleAt(h, unix.NETLINK_ROUTE)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nh.Close)
		handles[ns] = nh
		for _, name := range []string{link, "lo"} {
			l, err := nh.LinkByName(name)
			if err != nil {
				t.Fatal(err)
			}
			if name == link {
				pa, _ := netlink.ParseAddr(addr)
				if err := nh.AddrAdd(l, pa); err != nil {
					t.Fatalf("%s %s in %s: %v", name, addr, ns, err)
				}
			}
			if err := nh.LinkSetUp(l); err != nil {
				t.Fatal(err)
			}
		}
	}
	setup(nsA, "vca", "10.88.0.1/24")
	setup(nsB, "vcb", "10.88.0.2/24")
	hasVIP := func(ns string) bool {
		addrs, err := handles[ns].AddrList(nil, netlink.FAMILY_V4)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			if a.IP.String() == "10.88.0.100" {
				return true
			}
		}
		return false
	}

	a, logA, journalA := startClockNode(t, nsA, "vca", 150)
	b, logB, _ := startClockNode(t, nsB, "vcb", 100)
	// Up to a minute: two daemons starting under software emulation on
	// a shared host took 13 s to elect.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		ha, hb := hasVIP(nsA), hasVIP(nsB)
		if ha && !hb {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for A master, B backup: A has the VIP: %v, B: %v", ha, hb)
		}
	}
	time.Sleep(2 * time.Second)
	// The start-up election may pass through MASTER on both (a slow
	// guest): count the transitions from here on.
	masters := func() (int, int) {
		return strings.Count(logA.String(), "Entering MASTER STATE"), strings.Count(logB.String(), "Entering MASTER STATE")
	}
	ma0, mb0 := masters()

	// The steps, each held for 5 s (more than the backup's master-down
	// interval, 3 × 1 s + skew): a timer on the wall clock would fire
	// early, late or never.
	clock := journal.AnchoredClock()
	restore := time.Now()
	defer func() {
		tv := unix.NsecToTimeval(restore.Add(time.Since(restore)).UnixNano())
		unix.Settimeofday(&tv)
	}()
	for _, step := range []time.Duration{time.Hour, -time.Hour, -time.Hour, time.Hour, 24 * time.Hour, -24 * time.Hour, -24 * time.Hour, 24 * time.Hour} {
		before, anchoredBefore := time.Now().Round(0), clock()
		tv := unix.NsecToTimeval(before.Add(step).UnixNano())
		if err := unix.Settimeofday(&tv); err != nil {
			t.Fatalf("settimeofday: %v", err)
		}
		if d := time.Now().Round(0).Sub(before) - step; d < -time.Second || d > time.Second {
			t.Fatalf("the clock did not step by %v (off by %v)", step, d)
		}
		deadline := time.Now().Add(5 * time.Second) // monotonic
		for time.Now().Before(deadline) {
			if hasVIP(nsB) {
				t.Fatalf("B took the VIP after a %v clock step", step)
			}
			if !hasVIP(nsA) {
				t.Fatalf("A lost the VIP after a %v clock step", step)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if d := clock().Sub(anchoredBefore); d < 4*time.Second || d > 7*time.Second {
			t.Errorf("the anchored clock moved %v over 5 s across a %v step", d, step)
		}
		t.Logf("stepped CLOCK_REALTIME by %v: A kept the VIP, B stayed backup for 5 s", step)
	}
	if ma, mb := masters(); ma != ma0 || mb != mb0 {
		t.Errorf("transitions to MASTER during the steps: A %d, B %d", ma-ma0, mb-mb0)
	}
	b.stop(t)
	a.stop(t)

	// A's journal: readable, its event times (monotonic) never going
	// back, the master's timers firing about once a second throughout
	// (an advert timer on the wall clock would show a gap of hours, or
	// none), its snapshot times ordered.
	r, err := journal.OpenReader(journalA)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var prev, firstTimer, lastTimer events.Time
	var maxTimerGap time.Duration
	timers := 0
	for rec, err := range r.Records(0) {
		if err != nil {
			t.Fatal(err)
		}
		at := rec.Event.EventTime()
		if at < prev {
			t.Fatalf("seq %d: event time %d before the previous %d", rec.Seq, at, prev)
		}
		prev = at
		if _, ok := rec.Event.(*events.TimerFired); ok {
			if lastTimer != 0 && timers > 3 {
				maxTimerGap = max(maxTimerGap, time.Duration(at-lastTimer))
			}
			if timers == 3 {
				firstTimer = at
			}
			lastTimer = at
			timers++
		}
	}
	// A timer on the wall clock would leave a gap of an hour or a day
	// (a step back) or fire in a burst (a step forward). The bounds leave
	// room for software emulation on a shared host (1.48 s measured).
	span := time.Duration(lastTimer - firstTimer)
	rate := float64(timers-4) / span.Seconds()
	if timers < 30 || maxTimerGap > 2500*time.Millisecond || rate > 1.3 {
		t.Errorf("A's journal: %d timer events, %.2f a second, the longest gap between two %v", timers, rate, maxTimerGap)
	}
	snaps, err := r.Snapshots()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(snaps); i++ {
		if snaps[i].At.Before(snaps[i-1].At) {
			t.Errorf("snapshot %d at %v before snapshot %d at %v", i, snaps[i].At, i-1, snaps[i-1].At)
		}
	}
	t.Logf("A's journal: %d timer events, %.2f a second, the longest gap between two %v; %d snapshots in order", timers, rate, maxTimerGap, len(snaps))
}
