package daemon

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events"
)

// notifySocket is a unixgram socket standing in for systemd's
// NOTIFY_SOCKET.
type notifySocket struct {
	t    *testing.T
	path string
	c    *net.UnixConn
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "vigil-notify")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: p, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &notifySocket{t: t, path: p, c: c}
}

// read returns the next datagram, or "" when none comes within d.
func (s *notifySocket) read(d time.Duration) string {
	s.t.Helper()
	buf := make([]byte, 4096)
	s.c.SetReadDeadline(time.Now().Add(d))
	n, err := s.c.Read(buf)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ""
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return string(buf[:n])
}

// drain reads what is queued and returns it.
func (s *notifySocket) drain() []string {
	var got []string
	for {
		m := s.read(20 * time.Millisecond)
		if m == "" {
			return got
		}
		got = append(got, m)
	}
}

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for k := 0; k+1 < len(kv); k += 2 {
		m[kv[k]] = kv[k+1]
	}
	return func(k string) string { return m[k] }
}

func TestNotifierWatchdogInterval(t *testing.T) {
	s := newNotifySocket(t)
	pid := strconv.Itoa(os.Getpid())
	for _, c := range []struct {
		env  func(string) string
		want time.Duration
	}{
		{env("NOTIFY_SOCKET", s.path), 0},
		{env("NOTIFY_SOCKET", s.path, "WATCHDOG_USEC", "10000000"), 5 * time.Second},
		{env("NOTIFY_SOCKET", s.path, "WATCHDOG_USEC", "10000000", "WATCHDOG_PID", pid), 5 * time.Second},
		// Meant for another process (a parent that re-executed itself).
		{env("NOTIFY_SOCKET", s.path, "WATCHDOG_USEC", "10000000", "WATCHDOG_PID", "1"), 0},
		{env("NOTIFY_SOCKET", s.path, "WATCHDOG_USEC", "0"), 0},
		{env("NOTIFY_SOCKET", s.path, "WATCHDOG_USEC", "soon"), 0},
	} {
		n, err := NewNotifier(c.env)
		if err != nil {
			t.Fatal(err)
		}
		if got := n.WatchdogEvery(); got != c.want {
			t.Errorf("WATCHDOG_USEC=%q WATCHDOG_PID=%q: every %v, want %v", c.env("WATCHDOG_USEC"), c.env("WATCHDOG_PID"), got, c.want)
		}
		n.Close()
	}
	n, err := NewNotifier(env())
	if n != nil || err != nil {
		t.Fatalf("without NOTIFY_SOCKET: %v, %v; want nil, nil", n, err)
	}
	// The nil Notifier does nothing.
	if n.Notify("READY=1") != nil || n.Reloading() != nil || n.WatchdogEvery() != 0 || n.Close() != nil {
		t.Fatal("the nil Notifier did something")
	}
	n.Watchdog()
}

// TestNotifierReloadingCarriesMonotonicTime: RELOADING=1 carries
// MONOTONIC_USEC, the CLOCK_MONOTONIC time of the reload in µs, as
// systemd ≥ 253 requires; READY=1 follows as its own line.
func TestNotifierReloadingCarriesMonotonicTime(t *testing.T) {
	s := newNotifySocket(t)
	n, err := NewNotifier(env("NOTIFY_SOCKET", s.path))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	before := monotonicUsec()
	if err := n.Reloading(); err != nil {
		t.Fatal(err)
	}
	after := monotonicUsec()
	msg := s.read(time.Second)
	lines := strings.Split(msg, "\n")
	if len(lines) != 2 || lines[0] != "RELOADING=1" || !strings.HasPrefix(lines[1], "MONOTONIC_USEC=") {
		t.Fatalf("reloading sent %q, want RELOADING=1 and MONOTONIC_USEC=", msg)
	}
	us, err := strconv.ParseUint(strings.TrimPrefix(lines[1], "MONOTONIC_USEC="), 10, 64)
	if err != nil || us < before || us > after {
		t.Fatalf("MONOTONIC_USEC %q, want a CLOCK_MONOTONIC time in [%d, %d]", lines[1], before, after)
	}
	// Against the kernel's own clock, not ours: /proc/uptime is close to
	// CLOCK_BOOTTIME, which is never behind CLOCK_MONOTONIC.
	if b, err := os.ReadFile("/proc/uptime"); err == nil {
		up, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
		if float64(us)/1e6 > up+1 {
			t.Errorf("MONOTONIC_USEC %d s is after the uptime %v s", us/1e6, up)
		}
	}
	if err := n.Notify("READY=1"); err != nil {
		t.Fatal(err)
	}
	if got := s.read(time.Second); got != "READY=1" {
		t.Fatalf("got %q, want READY=1", got)
	}
}

// TestNotifierAbstractSocket: NOTIFY_SOCKET=@name is an abstract socket.
func TestNotifierAbstractSocket(t *testing.T) {
	name := "vigil-test-" + strconv.Itoa(os.Getpid())
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "@" + name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n, err := NewNotifier(env("NOTIFY_SOCKET", "@"+name))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.Notify("STOPPING=1"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	c.SetReadDeadline(time.Now().Add(time.Second))
	k, err := c.Read(buf)
	if err != nil || string(buf[:k]) != "STOPPING=1" {
		t.Fatalf("read %q, %v", buf[:k], err)
	}
}

// TestLoopWatchdog: with WATCHDOG_USEC set, the loop itself pings
// WATCHDOG=1 at half the interval while it turns; blocked (here in
// OnConfig, the hook a reloaded configuration goes through on the loop's
// goroutine), it stops pinging, and it resumes once unblocked. A stuck
// loop therefore gets restarted by systemd.
func TestLoopWatchdog(t *testing.T) {
	s := newNotifySocket(t)
	const usec = 100_000 // 100 ms: a ping every 50 ms
	n, err := NewNotifier(env("NOTIFY_SOCKET", s.path, "WATCHDOG_USEC", strconv.Itoa(usec)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	every := n.WatchdogEvery()
	if every != 50*time.Millisecond {
		t.Fatalf("every %v, want 50ms", every)
	}
	tl := newTestLoop(t, loadTestConf(t, "10.77.0.100/24"))
	tl.l.Watchdog, tl.l.WatchdogEvery = n.Watchdog, every
	entered, release := make(chan struct{}), make(chan struct{})
	tl.l.OnConfig = func(*events.ConfigLoaded) {
		close(entered)
		<-release
	}
	tl.run()
	defer func() {
		tl.sigs <- syscall.SIGTERM
		<-tl.done
	}()

	// Healthy: pings, one at once and then every 50 ms.
	start := time.Now()
	for k := 0; k < 5; k++ {
		if m := s.read(time.Second); m != "WATCHDOG=1" {
			t.Fatalf("ping %d: got %q, want WATCHDOG=1", k, m)
		}
	}
	if el := time.Since(start); el < 3*every {
		t.Errorf("5 pings in %v: faster than every %v", el, every)
	}

	// Blocked: the loop is inside a step; nothing comes for many intervals.
	tl.l.Events <- loadTestConf(t, "10.77.0.101/24")
	<-entered
	s.drain() // a ping sent just before the block
	if m := s.read(8 * every); m != "" {
		t.Fatalf("the blocked loop sent %q", m)
	}

	// Unblocked: the pings come back.
	close(release)
	if m := s.read(time.Second); m != "WATCHDOG=1" {
		t.Fatalf("after the block: got %q, want WATCHDOG=1", m)
	}
}
