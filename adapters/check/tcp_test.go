package check

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events/conf"
)

func TestTCPCheck(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	c := &Checker{}
	wantOK(t, run(t, c, targetOf(t, l.Addr()), &conf.Checker{Type: conf.CheckTCP}))
	wantFail(t, run(t, c, closedPort(t), &conf.Checker{Type: conf.CheckTCP}), "connection refused")

	// bindto and bind_port choose the source address.
	src := closedPort(t)
	accepted := make(chan net.Addr, 1)
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l2.Close()
	go func() {
		if c, err := l2.Accept(); err == nil {
			accepted <- c.RemoteAddr()
			c.Close()
		}
	}()
	cfg := &conf.Checker{Type: conf.CheckTCP, BindTo: netip.MustParseAddr("127.0.0.2"), BindPort: src.Port}
	wantOK(t, run(t, c, targetOf(t, l2.Addr()), cfg))
	if got := (<-accepted).String(); got != netip.AddrPortFrom(cfg.BindTo, uint16(src.Port)).String() {
		t.Errorf("connection came from %s, want 127.0.0.2:%d", got, src.Port)
	}
}

func TestTCPCheckTimeout(t *testing.T) {
	// A listener whose backlog is full never completes a handshake...
	// which is hard to arrange portably; a non-routable address in
	// TEST-NET would leave loopback. Instead: a deadline already passed.
	c := &Checker{}
	ctx, cancel := contextExpired()
	defer cancel()
	r := c.Check(ctx, Target{Addr: netip.MustParseAddr("127.0.0.1"), Port: 9}, &conf.Checker{Type: conf.CheckTCP})
	wantFail(t, r, "timeout")
}

// TestTCPCheckFwMark: a checker's fwmark marks its socket (SO_MARK), so
// that policy routing can steer the checks.
func TestTCPCheckFwMark(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	cfg := &conf.Checker{Type: conf.CheckTCP, FwMark: 0x7a}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := dial(ctx, "tcp", targetOf(t, l.Addr()), cfg)
	if errors.Is(err, syscall.EPERM) {
		t.Skip("setting SO_MARK needs CAP_NET_ADMIN")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	raw, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var mark int
	var gerr error
	raw.Control(func(fd uintptr) { mark, gerr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK) })
	if gerr != nil || mark != 0x7a {
		t.Errorf("SO_MARK = %#x (%v), want 0x7a", mark, gerr)
	}
	// And the check itself succeeds with the mark.
	wantOK(t, run(t, &Checker{}, targetOf(t, l.Addr()), cfg))
}
