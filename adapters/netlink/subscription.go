package netlink

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// errTruncated reports a notification larger than the receive buffer: it
// is lost, as if the kernel had dropped it.
var errTruncated = errors.New("netlink notification truncated")

// subscription is a netlink socket joined to rtnetlink multicast groups.
// It is read through the runtime's poller, so that Close unblocks a pending
// read, and it can also be read without waiting, which emptying its queue
// before a resync needs (see Monitor.resync).
type subscription struct {
	f   *os.File
	raw syscall.RawConn
	buf []byte
}

// subscribe opens a NETLINK_ROUTE socket in ns joined to groups.
func subscribe(ns netns.NsHandle, groups []uint) (*subscription, error) {
	fd := -1
	if err := InNamespace(ns, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
		return err
	}); err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind: %w", err)
	}
	for _, g := range groups {
		if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, int(g)); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("join group %d: %w", g, err)
		}
	}
	f := os.NewFile(uintptr(fd), "netlink")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	// Far more than any rtnetlink notification; MSG_TRUNC catches the rest.
	return &subscription{f: f, raw: raw, buf: make([]byte, 64<<10)}, nil
}

// setReceiveBuffer sets the socket's receive buffer, past rmem_max when
// force is set (which needs CAP_NET_ADMIN).
func (s *subscription) setReceiveBuffer(size int, force bool) error {
	opt := unix.SO_RCVBUF
	if force {
		opt = unix.SO_RCVBUFFORCE
	}
	var serr error
	if err := s.raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, size)
	}); err != nil {
		return err
	}
	return serr
}

// recv reads one datagram into s.buf and returns its length. Unless wait
// is set it returns EAGAIN at once when nothing is queued. ENOBUFS means
// the kernel dropped notifications since the last read.
func (s *subscription) recv(wait bool) (int, *unix.SockaddrNetlink, error) {
	var (
		n    int
		from unix.Sockaddr
		rerr error
	)
	err := s.raw.Read(func(fd uintptr) bool {
		n, from, rerr = unix.Recvfrom(int(fd), s.buf, unix.MSG_TRUNC)
		return !wait || rerr != unix.EAGAIN
	})
	switch {
	case err != nil: // closed
		return 0, nil, err
	case rerr != nil:
		return 0, nil, rerr
	case n > len(s.buf):
		return 0, nil, errTruncated
	}
	sa, _ := from.(*unix.SockaddrNetlink)
	return n, sa, nil
}

// receive waits for the next datagram and returns its messages.
func (s *subscription) receive() ([]syscall.NetlinkMessage, *unix.SockaddrNetlink, error) {
	n, from, err := s.recv(true)
	if err != nil {
		return nil, nil, err
	}
	msgs, err := syscall.ParseNetlinkMessage(append([]byte(nil), s.buf[:n]...))
	if err != nil {
		return nil, nil, fmt.Errorf("parse netlink notification: %w", err)
	}
	return msgs, from, nil
}

// drain discards every queued datagram without waiting for more, and
// swallows a pending ENOBUFS: the caller is about to take a fresh dump.
// Once a read has found the queue empty, the kernel reports the next drop
// with a new ENOBUFS (it signals an overflow only when the socket starts
// overflowing, and the socket stops counting as overflowing only when a
// read empties its queue).
func (s *subscription) drain(done <-chan struct{}) error {
	for {
		select {
		case <-done:
			return errClosed
		default:
		}
		_, _, err := s.recv(false)
		switch {
		case err == nil, errors.Is(err, unix.ENOBUFS), errors.Is(err, errTruncated), errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EAGAIN):
			return nil
		default:
			return fmt.Errorf("netlink receive: %w", err)
		}
	}
}

// Close closes the socket, unblocking a pending receive.
func (s *subscription) Close() error { return s.f.Close() }
