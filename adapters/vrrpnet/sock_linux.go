//go:build linux

package vrrpnet

import (
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// rawSock is one non-blocking raw socket registered with the Go runtime's
// poller, so a blocked receive ends when the socket is closed.
type rawSock struct {
	f   *os.File
	rc  syscall.RawConn
	buf []byte // receive buffers: one reader per socket
	oob []byte
	// The receive call's arguments, reused (one reader per socket): recv
	// makes no allocation and one system call per packet.
	from unix.RawSockaddrAny
	iov  unix.Iovec
	msg  unix.Msghdr
	// readFn is s.readOnce as a func value made once, and r* its results:
	// a closure capturing recv's results would be allocated per packet.
	readFn            func(fd uintptr) bool
	rn, roobn, rflags int
	rerr              error
}

// rxBufLen holds the largest VRRP packet (about 4.1 kB for IPv6 with 255
// addresses); anything longer is flagged truncated and judged bad.
const rxBufLen = 8192

// openRaw opens a raw socket for protocol proto bound to the interface, with
// the multicast and ancillary-data options VRRP needs.
func openRaw(family, proto int, ifname string, ifindex int) (*rawSock, error) {
	domain := unix.AF_INET
	if family == IPv6 {
		domain = unix.AF_INET6
	}
	fd, err := unix.Socket(domain, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, fmt.Errorf("raw socket for protocol %d: %w", proto, err)
	}
	if err := setupRaw(fd, family, proto, ifname, ifindex); err != nil {
		unix.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), fmt.Sprintf("vrrp%d-%d:%s", family, proto, ifname))
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("raw socket on %s: %w", ifname, err)
	}
	return newRawSock(f, rc), nil
}

// newRawSock wraps an open socket.
func newRawSock(f *os.File, rc syscall.RawConn) *rawSock {
	s := &rawSock{f: f, rc: rc, buf: make([]byte, rxBufLen), oob: make([]byte, 128)}
	s.readFn = s.readOnce
	return s
}

// readOnce is one recvmsg attempt for rc.Read: false asks the poller to
// wait for the socket to become readable.
func (s *rawSock) readOnce(fd uintptr) bool {
	s.rn, s.roobn, s.rflags, s.rerr = s.recvmsg(int(fd))
	return s.rerr != unix.EAGAIN
}

type sockopt struct {
	name         string
	level, opt   int
	value        int
	onlyIfProto  int // 0: always
	ignoreErrors bool
}

func setupRaw(fd, family, proto int, ifname string, ifindex int) error {
	if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname); err != nil {
		return fmt.Errorf("SO_BINDTODEVICE %s: %w", ifname, err)
	}
	var opts []sockopt
	if family == IPv4 {
		opts = []sockopt{
			{"IP_HDRINCL", unix.IPPROTO_IP, unix.IP_HDRINCL, 1, ProtoVRRP, false},
			{"IP_MULTICAST_LOOP", unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 0, 0, false},
			{"IP_MULTICAST_ALL", unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0, 0, false},
			{"IP_MULTICAST_TTL", unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, DefaultTTL, 0, false},
			// The destination comes from the IP header a raw IPv4 socket
			// delivers (the one the checksum and AH cover), so no IP_PKTINFO.
			{"IP_RECVTTL", unix.IPPROTO_IP, unix.IP_RECVTTL, 1, 0, false},
		}
		mreq := &unix.IPMreqn{Ifindex: int32(ifindex)}
		if err := unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq); err != nil {
			return fmt.Errorf("IP_MULTICAST_IF %s: %w", ifname, err)
		}
	} else {
		// No IPV6_CHECKSUM: the kernel would then drop bad checksums unseen;
		// we compute and verify them ourselves, and count the bad ones.
		opts = []sockopt{
			{"IPV6_MULTICAST_IF", unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, ifindex, 0, false},
			{"IPV6_MULTICAST_LOOP", unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, 0, 0, false},
			{"IPV6_MULTICAST_ALL", unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_ALL, 0, 0, true}, // Linux ≥ 4.20
			{"IPV6_MULTICAST_HOPS", unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, DefaultTTL, 0, false},
			{"IPV6_UNICAST_HOPS", unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, DefaultTTL, 0, false},
			{"IPV6_RECVHOPLIMIT", unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, 1, 0, false},
			{"IPV6_RECVPKTINFO", unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1, 0, false},
		}
	}
	// TC_PRIO_CONTROL, as keepalived: adverts go ahead of bulk traffic.
	opts = append(opts, sockopt{"SO_PRIORITY", unix.SOL_SOCKET, unix.SO_PRIORITY, 7, 0, true})
	for _, o := range opts {
		if o.onlyIfProto != 0 && o.onlyIfProto != proto {
			continue
		}
		if err := unix.SetsockoptInt(fd, o.level, o.opt, o.value); err != nil && !o.ignoreErrors {
			return fmt.Errorf("%s on %s: %w", o.name, ifname, err)
		}
	}
	return nil
}

// membership joins (or leaves) group on the interface.
func (s *rawSock) membership(family int, group netip.Addr, ifindex int, join bool) error {
	var serr error
	err := s.rc.Control(func(fd uintptr) {
		if family == IPv4 {
			opt := unix.IP_ADD_MEMBERSHIP
			if !join {
				opt = unix.IP_DROP_MEMBERSHIP
			}
			serr = unix.SetsockoptIPMreqn(int(fd), unix.IPPROTO_IP, opt,
				&unix.IPMreqn{Multiaddr: group.As4(), Ifindex: int32(ifindex)})
			return
		}
		opt := unix.IPV6_JOIN_GROUP
		if !join {
			opt = unix.IPV6_LEAVE_GROUP
		}
		serr = unix.SetsockoptIPv6Mreq(int(fd), unix.IPPROTO_IPV6, opt,
			&unix.IPv6Mreq{Multiaddr: group.As16(), Interface: uint32(ifindex)})
	})
	if err == nil {
		err = serr
	}
	return err
}

// recv reads one packet into s.buf, its control messages into s.oob; src
// is the sender's address for IPv6 (an IPv4 raw socket delivers the IP
// header, which names it).
//
// Why not unix.Recvmsg: for an AF_INET source it asks the kernel for the
// socket's protocol (a getsockopt, to tell L2TP apart) and allocates the
// Sockaddr, for every packet: at 10,000 adverts a second that was about a
// third of the receive path's CPU (bench: BenchmarkRecv).
func (s *rawSock) recv() (n, oobn, flags int, src netip.Addr, err error) {
	if s.readFn == nil {
		s.readFn = s.readOnce
	}
	for {
		err = s.rc.Read(s.readFn)
		n, oobn, flags = s.rn, s.roobn, s.rflags
		if err == nil {
			err = s.rerr
		}
		if err != unix.EINTR {
			break
		}
	}
	if err == nil && s.from.Addr.Family == unix.AF_INET6 {
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&s.from))
		src = netip.AddrFrom16(sa.Addr)
	}
	return n, oobn, flags, src, err
}

// recvmsg is one recvmsg(2) into s.buf, s.oob and s.from.
func (s *rawSock) recvmsg(fd int) (n, oobn, flags int, err error) {
	s.from = unix.RawSockaddrAny{}
	s.iov.Base = &s.buf[0]
	s.iov.SetLen(len(s.buf))
	s.msg = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&s.from)), Namelen: unix.SizeofSockaddrAny,
		Iov: &s.iov, Iovlen: 1, Control: &s.oob[0]}
	s.msg.SetControllen(len(s.oob))
	r, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&s.msg)), 0)
	if e != 0 {
		return 0, 0, 0, e
	}
	return int(r), int(s.msg.Controllen), int(s.msg.Flags), nil
}

// send writes one packet.
func (s *rawSock) send(p, oob []byte, to unix.Sockaddr, flags int) error {
	var serr error
	err := s.rc.Write(func(fd uintptr) bool {
		serr = unix.Sendmsg(int(fd), p, oob, to, flags)
		return serr != unix.EAGAIN
	})
	if err == nil {
		err = serr
	}
	return err
}

// attachFilter attaches (or replaces) the socket's classic BPF filter.
func (s *rawSock) attachFilter(prog []bpf.RawInstruction) error {
	if len(prog) == 0 {
		return nil
	}
	fp := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
	var serr error
	err := s.rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptSockFprog(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("SO_ATTACH_FILTER: %w", err)
	}
	return nil
}

// setRcvBuf sets the socket's receive buffer (SO_RCVBUF: the kernel
// doubles it for its bookkeeping and caps it at net.core.rmem_max, as for
// keepalived's sockets).
func (s *rawSock) setRcvBuf(n int) error {
	var serr error
	err := s.rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("SO_RCVBUF %d: %w", n, err)
	}
	return nil
}
