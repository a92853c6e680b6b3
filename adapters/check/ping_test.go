package check

import (
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events/conf"
)

// canPing reports whether this process may open an ICMP socket (root, or
// a ping_group_range that includes its group).
func canPing(t *testing.T, v6 bool) {
	t.Helper()
	pc, _, err := openICMP(v6, &conf.Checker{})
	if err != nil {
		if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
			t.Skipf("no ICMP socket allowed: %v (run as root)", err)
		}
		if errors.Is(err, unix.EAFNOSUPPORT) {
			t.Skip("no IPv6")
		}
		t.Fatal(err)
	}
	pc.Close()
}

func TestPingCheck(t *testing.T) {
	canPing(t, false)
	c := &Checker{}
	wantOK(t, run(t, c, Target{Addr: netip.MustParseAddr("127.0.0.1")}, &conf.Checker{Type: conf.CheckPing}))
	// bindto: the request leaves from 127.0.0.2, still on loopback.
	wantOK(t, run(t, c, Target{Addr: netip.MustParseAddr("127.0.0.3")},
		&conf.Checker{Type: conf.CheckPing, BindTo: netip.MustParseAddr("127.0.0.2")}))
	// Concurrent pings of one address each get their own reply.
	done := make(chan Result, 8)
	for range 8 {
		go func() {
			done <- c.Check(t.Context(), Target{Addr: netip.MustParseAddr("127.0.0.1")}, &conf.Checker{Type: conf.CheckPing})
		}()
	}
	for range 8 {
		wantOK(t, <-done)
	}
	// bind_if to loopback works; to a missing device it fails clearly.
	wantOK(t, run(t, c, Target{Addr: netip.MustParseAddr("127.0.0.1")}, &conf.Checker{Type: conf.CheckPing, BindIf: "lo"}))
	wantFail(t, run(t, c, Target{Addr: netip.MustParseAddr("127.0.0.1")}, &conf.Checker{Type: conf.CheckPing, BindIf: "vigil-none0"}), "bind_if")
}

func TestPingCheckIPv6(t *testing.T) {
	canPing(t, true)
	r := run(t, &Checker{}, Target{Addr: netip.MustParseAddr("::1")}, &conf.Checker{Type: conf.CheckPing})
	if !r.OK && (containsAny(r.Message, "cannot assign", "network unreachable")) {
		t.Skipf("no IPv6 loopback here: %s", r.Message)
	}
	wantOK(t, r)
}
