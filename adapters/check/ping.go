package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events/conf"
)

// pingSeq numbers echo requests process-wide, so that concurrent checks
// of one address never take each other's replies.
var pingSeq atomic.Uint32

// checkPing is PING_CHECK: one ICMP (or ICMPv6) echo request; the server
// is up when the matching echo reply arrives before the deadline.
//
// It uses an unprivileged ICMP socket (SOCK_DGRAM, allowed by
// net.ipv4.ping_group_range) when it can and a raw socket otherwise
// (root). keepalived instead widens ping_group_range to include root;
// vigil changes no sysctl.
func checkPing(ctx context.Context, target Target, cfg *conf.Checker) Result {
	if !target.Addr.IsValid() {
		return fail("PING_CHECK: no address")
	}
	dst := target.Addr.Unmap()
	v6 := dst.Is6()
	pc, raw, err := openICMP(v6, cfg)
	if err != nil {
		return fail("PING_CHECK %s: %v", dst, err)
	}
	defer pc.Close()
	if dl, ok := ctx.Deadline(); ok {
		pc.SetDeadline(dl)
	}
	id := os.Getpid() & 0xffff
	seq := int(pingSeq.Add(1) & 0xffff)
	var typ, replyType icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	proto := 1
	if v6 {
		typ, replyType, proto = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply, 58
	}
	msg := icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("vigil-ping-check")}}
	b, err := msg.Marshal(nil) // the kernel fills in the ICMPv6 checksum
	if err != nil {
		return fail("PING_CHECK %s: %v", dst, err)
	}
	var to net.Addr = &net.UDPAddr{IP: dst.AsSlice()}
	if raw {
		to = &net.IPAddr{IP: dst.AsSlice()}
	}
	if _, err := pc.WriteTo(b, to); err != nil {
		return fail("PING_CHECK %s: send: %v", dst, describe(err))
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return fail("PING_CHECK %s: %v", dst, describe(err))
		}
		if addrOf(from) != dst.String() {
			continue
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil || m.Type != replyType {
			continue
		}
		echo, ok := m.Body.(*icmp.Echo)
		// A datagram socket's ID is the kernel's (its local port), and
		// the kernel delivers only replies to it: match the sequence.
		if !ok || echo.Seq != seq || (raw && echo.ID != id) {
			continue
		}
		return success(fmt.Sprintf("PING_CHECK %s: echo reply", dst))
	}
}

func addrOf(a net.Addr) string {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap().String()
	case *net.IPAddr:
		if ip := a.IP.To4(); ip != nil {
			return ip.String()
		}
		return a.IP.String()
	}
	return ""
}

// openICMP opens an ICMP socket with the checker's bind options: a
// datagram ping socket if permitted, else a raw one.
func openICMP(v6 bool, cfg *conf.Checker) (net.PacketConn, bool, error) {
	family, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if v6 {
		family, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	raw := false
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EPROTONOSUPPORT) {
		raw = true
		fd, err = unix.Socket(family, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	}
	if err != nil {
		return nil, false, fmt.Errorf("ICMP socket (needs root or net.ipv4.ping_group_range): %w", err)
	}
	f := os.NewFile(uintptr(fd), "icmp")
	defer f.Close() // FilePacketConn dups the descriptor
	if err := setICMPOptions(fd, v6, cfg); err != nil {
		return nil, false, err
	}
	pc, err := net.FilePacketConn(f)
	if err != nil {
		return nil, false, fmt.Errorf("ICMP socket: %w", err)
	}
	return pc, raw, nil
}

func setICMPOptions(fd int, v6 bool, cfg *conf.Checker) error {
	if cfg.BindIf != "" {
		if err := unix.BindToDevice(fd, cfg.BindIf); err != nil {
			return fmt.Errorf("bind_if %s: %w", cfg.BindIf, err)
		}
	}
	if cfg.FwMark != 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, int(cfg.FwMark)); err != nil {
			return fmt.Errorf("fwmark %d: %w", cfg.FwMark, err)
		}
	}
	if cfg.BindTo.IsValid() {
		var sa unix.Sockaddr
		if v6 {
			sa = &unix.SockaddrInet6{Addr: cfg.BindTo.As16()}
		} else {
			sa = &unix.SockaddrInet4{Addr: cfg.BindTo.Unmap().As4()}
		}
		if err := unix.Bind(fd, sa); err != nil {
			return fmt.Errorf("bindto %s: %w", cfg.BindTo, err)
		}
	}
	return nil
}
