//go:build linux

package bfdnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/internal/cmsg"
)

// Options configure a Mux.
type Options struct {
	// Now stamps received packets (the daemon's monotonic clock).
	Now func() events.Time
	// OnError reports a receive error (the reader goes on).
	OnError func(error)
	// Port and MultihopPort override 3784 and 4784 (tests).
	Port, MultihopPort int
}

// Mux holds BFD's sockets: listeners per family and port, one sender per
// family. Send is called from one goroutine (the daemon's loop); the
// readers are goroutines of their own, which Events delivers from.
type Mux struct {
	o   Options
	out chan *events.BFDReceived

	mu        sync.Mutex
	listeners []*sock
	multihop  bool
	closed    bool
	wg        sync.WaitGroup

	// The senders, and their state (used by Send only).
	tx4, tx6 *sock
	ttl4     int
	buf, oob []byte
}

// sock is one non-blocking UDP socket registered with the runtime poller.
type sock struct {
	f        *os.File
	rc       syscall.RawConn
	family   int
	multihop bool
	port     int
	buf, oob []byte
	from     unix.RawSockaddrAny
	iov      unix.Iovec
	msg      unix.Msghdr
}

// New opens the single-hop listeners (IPv4 and IPv6) and the senders.
func New(o Options) (*Mux, error) {
	if o.Now == nil {
		return nil, errors.New("bfdnet: no clock")
	}
	if o.Port == 0 {
		o.Port = PortSingleHop
	}
	if o.MultihopPort == 0 {
		o.MultihopPort = PortMultihop
	}
	m := &Mux{o: o, out: make(chan *events.BFDReceived, 1024), ttl4: -1, buf: make([]byte, 0, 64), oob: make([]byte, 0, 64)}
	if err := m.listen(false); err != nil {
		m.Close()
		return nil, err
	}
	var err error
	if m.tx4, err = openSender(unix.AF_INET); err != nil {
		m.Close()
		return nil, err
	}
	if m.tx6, err = openSender(unix.AF_INET6); err != nil {
		// A host without IPv6 still runs IPv4 sessions.
		m.tx6 = nil
	}
	return m, nil
}

// Events delivers the received packets.
func (m *Mux) Events() <-chan *events.BFDReceived { return m.out }

// EnableMultihop opens the multihop listeners (port 4784), once.
func (m *Mux) EnableMultihop() error {
	m.mu.Lock()
	done := m.multihop
	m.mu.Unlock()
	if done {
		return nil
	}
	return m.listen(true)
}

// listen opens and starts the listeners of one port, IPv4 and IPv6 (IPv6
// may be missing on the host).
func (m *Mux) listen(multihop bool) error {
	port := m.o.Port
	if multihop {
		port = m.o.MultihopPort
	}
	s4, err := openListener(unix.AF_INET, port)
	if err != nil {
		return err
	}
	socks := []*sock{s4}
	if s6, err := openListener(unix.AF_INET6, port); err == nil {
		socks = append(socks, s6)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		for _, s := range socks {
			s.f.Close()
		}
		return errors.New("bfdnet: closed")
	}
	if multihop {
		m.multihop = true
	}
	for _, s := range socks {
		s.multihop = multihop
		m.listeners = append(m.listeners, s)
		m.wg.Add(1)
		go m.read(s)
	}
	return nil
}

// Close closes every socket and waits for the readers.
func (m *Mux) Close() error {
	m.mu.Lock()
	m.closed = true
	ls := m.listeners
	m.listeners = nil
	m.mu.Unlock()
	for _, s := range ls {
		s.f.Close()
	}
	m.wg.Wait()
	for _, s := range []*sock{m.tx4, m.tx6} {
		if s != nil {
			s.f.Close()
		}
	}
	return nil
}

// Send transmits one control packet.
func (m *Mux) Send(e *effects.SendBFD) error {
	dst := e.Dst.Unmap()
	port := m.o.Port
	if e.Multihop {
		port = m.o.MultihopPort
	}
	m.buf = Append(m.buf[:0], &e.Packet)
	m.oob = m.oob[:0]
	var to unix.Sockaddr
	var s *sock
	if dst.Is4() {
		s = m.tx4
		if int(e.TTL) != m.ttl4 {
			if err := s.setInt(unix.IPPROTO_IP, unix.IP_TTL, int(e.TTL)); err != nil {
				return fmt.Errorf("bfd %s: set TTL: %w", e.Session, err)
			}
			m.ttl4 = int(e.TTL)
		}
		if src := e.Src.Unmap(); src.Is4() {
			var pi [unix.SizeofInet4Pktinfo]byte
			a := src.As4()
			copy(pi[4:8], a[:]) // ipi_spec_dst: the source address
			m.oob = cmsg.Append(m.oob, unix.IPPROTO_IP, unix.IP_PKTINFO, pi[:])
		}
		to = &unix.SockaddrInet4{Port: port, Addr: dst.As4()}
	} else {
		s = m.tx6
		if s == nil {
			return fmt.Errorf("bfd %s: no IPv6 socket", e.Session)
		}
		var hl [4]byte
		binary.NativeEndian.PutUint32(hl[:], uint32(e.TTL))
		m.oob = cmsg.Append(m.oob, unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT, hl[:])
		if src := e.Src; src.Is6() {
			var pi [unix.SizeofInet6Pktinfo]byte
			a := src.As16()
			copy(pi[:16], a[:])
			m.oob = cmsg.Append(m.oob, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, pi[:])
		}
		to = &unix.SockaddrInet6{Port: port, Addr: dst.As16()}
	}
	var serr error
	err := s.rc.Write(func(fd uintptr) bool {
		serr = unix.Sendmsg(int(fd), m.buf, m.oob, to, 0)
		return serr != unix.EAGAIN
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("bfd %s: send to %s: %w", e.Session, dst, err)
	}
	return nil
}

// read receives packets on s until it is closed.
func (m *Mux) read(s *sock) {
	defer m.wg.Done()
	for {
		n, oobn, err := s.recv()
		if err != nil {
			m.mu.Lock()
			closed := m.closed
			m.mu.Unlock()
			if closed || errors.Is(err, os.ErrClosed) {
				return
			}
			if m.o.OnError != nil {
				m.o.OnError(fmt.Errorf("bfd receive: %w", err))
			}
			continue
		}
		ev := &events.BFDReceived{Header: events.Header{At: m.o.Now()}, Multihop: s.multihop}
		ev.Src, ev.SrcPort = s.source()
		rx := cmsg.Parse(s.oob[:oobn])
		ev.TTL, ev.Dst, ev.Ifindex = rx.TTL, rx.Dst, rx.Ifindex
		ev.Verdict = Decode(s.buf[:n], &ev.Packet)
		m.out <- ev
	}
}

// openListener opens a UDP socket bound to port on every address of the
// family, receiving the TTL or hop limit, the destination and the
// interface of each packet.
func openListener(family, port int) (*sock, error) {
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("bfd socket: %w", err)
	}
	var sa unix.Sockaddr = &unix.SockaddrInet4{Port: port}
	opts := [][3]int{{unix.SOL_SOCKET, unix.SO_REUSEADDR, 1}, {unix.IPPROTO_IP, unix.IP_RECVTTL, 1}, {unix.IPPROTO_IP, unix.IP_PKTINFO, 1}}
	if family == unix.AF_INET6 {
		sa = &unix.SockaddrInet6{Port: port}
		opts = [][3]int{{unix.SOL_SOCKET, unix.SO_REUSEADDR, 1}, {unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1},
			{unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, 1}, {unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1}}
	}
	for _, o := range opts {
		if err := unix.SetsockoptInt(fd, o[0], o[1], o[2]); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("bfd socket option %d/%d: %w", o[0], o[1], err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bfd: bind port %d: %w", port, err)
	}
	return newSock(fd, family, port)
}

// openSender opens the family's sending socket, bound to a random port
// in 49152-65535 (RFC 5881 §4).
func openSender(family int) (*sock, error) {
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("bfd socket: %w", err)
	}
	if family == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("bfd socket: %w", err)
		}
	}
	const lo, hi = 49152, 65535
	first := lo + rand.IntN(hi-lo+1)
	for i := range hi - lo + 1 {
		port := lo + (first-lo+i)%(hi-lo+1)
		var sa unix.Sockaddr = &unix.SockaddrInet4{Port: port}
		if family == unix.AF_INET6 {
			sa = &unix.SockaddrInet6{Port: port}
		}
		err = unix.Bind(fd, sa)
		if err == nil {
			return newSock(fd, family, port)
		}
		if err != unix.EADDRINUSE {
			break
		}
	}
	unix.Close(fd)
	return nil, fmt.Errorf("bfd: bind a source port in %d-%d: %w", lo, hi, err)
}

func newSock(fd, family, port int) (*sock, error) {
	f := os.NewFile(uintptr(fd), fmt.Sprintf("bfd%d:%d", family, port))
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("bfd socket: %w", err)
	}
	return &sock{f: f, rc: rc, family: family, port: port, buf: make([]byte, 512), oob: make([]byte, 128)}, nil
}

// Port reports the local port of the family's sending socket (tests).
func (m *Mux) Port(family int) int {
	if family == 6 {
		if m.tx6 == nil {
			return 0
		}
		return m.tx6.port
	}
	return m.tx4.port
}

func (s *sock) setInt(level, opt, v int) error {
	var serr error
	err := s.rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), level, opt, v) })
	if err != nil {
		return err
	}
	return serr
}

// recv receives one packet into s.buf and s.oob.
func (s *sock) recv() (n, oobn int, err error) {
	var rerr error
	for {
		err = s.rc.Read(func(fd uintptr) bool {
			s.from = unix.RawSockaddrAny{}
			s.iov.Base = &s.buf[0]
			s.iov.SetLen(len(s.buf))
			s.msg = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&s.from)), Namelen: unix.SizeofSockaddrAny,
				Iov: &s.iov, Iovlen: 1, Control: &s.oob[0]}
			s.msg.SetControllen(len(s.oob))
			r, _, e := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&s.msg)), 0)
			if e != 0 {
				rerr = e
				return e != unix.EAGAIN
			}
			rerr, n, oobn = nil, int(r), int(s.msg.Controllen)
			return true
		})
		if err == nil {
			err = rerr
		}
		if err != unix.EINTR {
			return n, oobn, err
		}
	}
}

// source is the address and port the last packet came from.
func (s *sock) source() (netip.Addr, uint16) {
	switch s.from.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&s.from))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrFrom4(sa.Addr), binary.BigEndian.Uint16(p[:])
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&s.from))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrFrom16(sa.Addr).Unmap(), binary.BigEndian.Uint16(p[:])
	}
	return netip.Addr{}, 0
}
