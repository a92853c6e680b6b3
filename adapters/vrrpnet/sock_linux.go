//go:build linux

package vrrpnet

import (
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// rawSock is one non-blocking raw socket registered with the Go runtime's
// poller, so a blocked receive ends when the socket is closed.
type rawSock struct {
	f  *os.File
	rc syscall.RawConn
	// buf and oob are the packet recv returned last: one of the slots.
	buf []byte
	oob []byte
	// The receive call's arguments, reused (one reader per socket): recv
	// makes no allocation, and one recvmmsg(2) takes up to rxBatch
	// queued packets, so a flood costs a system call and a poller
	// wake-up per batch rather than per packet.
	slots       [rxBatch]rxSlot
	hdrs        [rxBatch]unix.Mmsghdr
	next, count int // slots[next:count] are received and not yet returned
	// readFn is s.readOnce as a func value made once, and r* its results:
	// a closure capturing recv's results would be allocated per packet.
	readFn func(fd uintptr) bool
	rcount int
	rerr   error
	// junk: the reader rejected a packet of the current batch (Conn
	// sets it); busy: the batch held more than one packet or came within
	// junkPause of the one before (lastRead). sleep is time.Sleep (tests
	// replace it).
	junk, busy bool
	lastRead   time.Time
	sleep      func(time.Duration)
}

// rxSlot is the buffers of one packet of a batch.
type rxSlot struct {
	buf, oob []byte
	from     unix.RawSockaddrAny
	iov      unix.Iovec
}

// rxBufLen holds the largest VRRP packet (about 4.1 kB for IPv6 with 255
// addresses); anything longer is flagged truncated and judged bad.
const rxBufLen = 8192

// rxBatch is how many packets one receive system call may take: what
// arrives at 64,000 packets a second during junkPause. The kernel writes
// only what arrives, so a slot costs resident memory only once a batch
// that deep was queued.
const rxBatch = 64

// junkPause is how long the reader waits before its next receive when
// the batch it has just used up did not fill (it had drained the queue)
// and looked like a flood: it held junk (a packet the reader rejected),
// or more than one packet, or came within junkPause of the batch before.
// The packets then queue up and come in one system call and one wake-up
// per pause instead of one per packet (a wake-up costs more than the
// packet: the poller, the scheduler, a futex, and for an advert the
// engine loop's own wake-up). A valid advert arriving meanwhile waits at
// most that long; a full batch never pauses, so the queue never grows
// behind the reader; adverts at the usual rates (a few a second per
// peer) come one per batch, far apart, and never wait.
const junkPause = time.Millisecond

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
	s := &rawSock{f: f, rc: rc}
	for k := range s.slots {
		s.slots[k].buf, s.slots[k].oob = make([]byte, rxBufLen), make([]byte, 128)
	}
	s.buf, s.oob = s.slots[0].buf, s.slots[0].oob
	s.readFn = s.readOnce
	s.sleep = time.Sleep
	return s
}

// readOnce is one recvmmsg attempt for rc.Read: false asks the poller to
// wait for the socket to become readable.
func (s *rawSock) readOnce(fd uintptr) bool {
	s.rcount, s.rerr = s.recvmmsg(int(fd))
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

// recv returns the next packet: its bytes in s.buf[:n], its control
// messages in s.oob[:oobn] (both valid until the next recv); src is the
// sender's address for IPv6 (an IPv4 raw socket delivers the IP header,
// which names it). It reads a new batch when the last is used up.
//
// Why not unix.Recvmsg: for an AF_INET source it asks the kernel for the
// socket's protocol (a getsockopt, to tell L2TP apart) and allocates the
// Sockaddr, for every packet: at 10,000 adverts a second that was about a
// third of the receive path's CPU (bench: BenchmarkRecv).
func (s *rawSock) recv() (n, oobn, flags int, src netip.Addr, err error) {
	if s.readFn == nil {
		s.readFn = s.readOnce
	}
	if s.next >= s.count {
		if s.count < rxBatch && (s.junk || s.busy) {
			s.sleep(junkPause)
		}
		s.next, s.count, s.junk = 0, 0, false
		for {
			err = s.rc.Read(s.readFn)
			if err == nil {
				err = s.rerr
			}
			if err != unix.EINTR {
				break
			}
		}
		if err != nil {
			return 0, 0, 0, src, err
		}
		s.count = s.rcount
		now := time.Now()
		s.busy = s.count > 1 || now.Sub(s.lastRead) < junkPause
		s.lastRead = now
	}
	k := s.next
	s.next++
	sl, h := &s.slots[k], &s.hdrs[k]
	s.buf, s.oob = sl.buf, sl.oob
	n, oobn, flags = int(h.Len), int(h.Hdr.Controllen), int(h.Hdr.Flags)
	if sl.from.Addr.Family == unix.AF_INET6 {
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&sl.from))
		src = netip.AddrFrom16(sa.Addr)
	}
	return n, oobn, flags, src, nil
}

// recvmmsg is one recvmmsg(2) into the slots: how many packets it took.
func (s *rawSock) recvmmsg(fd int) (int, error) {
	for k := range s.slots {
		sl := &s.slots[k]
		sl.from = unix.RawSockaddrAny{}
		sl.iov.Base = &sl.buf[0]
		sl.iov.SetLen(len(sl.buf))
		s.hdrs[k] = unix.Mmsghdr{Hdr: unix.Msghdr{Name: (*byte)(unsafe.Pointer(&sl.from)), Namelen: unix.SizeofSockaddrAny,
			Iov: &sl.iov, Iovlen: 1, Control: &sl.oob[0]}}
		s.hdrs[k].Hdr.SetControllen(len(sl.oob))
	}
	r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&s.hdrs[0])), uintptr(len(s.hdrs)),
		unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
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
