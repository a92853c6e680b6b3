package track

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Proc connector constants (linux/connector.h, linux/cn_proc.h).
const (
	cnIdxProc         = 1
	cnValProc         = 1
	procCnMcastListen = 1
	procCnMcastIgnore = 2

	procEventNone = 0x00000000
	procEventFork = 0x00000001
	procEventExec = 0x00000002
	procEventComm = 0x00000200
	procEventExit = 0x80000000

	nlmsgHdrLen = 16 // struct nlmsghdr
	cnMsgLen    = 20 // struct cn_msg, before its data
	procEvHdr   = 16 // what, cpu, timestamp_ns: event_data follows
)

// procEvent is one decoded proc connector notification. Only whole
// processes matter: thread events (pid != tgid) are dropped when decoding.
type procEvent struct {
	what uint32
	// pid is the process concerned (the child for a fork).
	pid int
	// parent is the forking process.
	parent int
	// comm is the new name for a comm event.
	comm string
	// ack marks the kernel's reply to the listen request; errno its result.
	ack   bool
	errno uint32
}

// connector is a NETLINK_CONNECTOR socket subscribed to process events.
type connector struct {
	f *os.File
}

// openConnector opens the socket, joins the CN_IDX_PROC group and asks the
// kernel to send process events. The kernel acknowledges with a
// PROC_EVENT_NONE event (ack set) whose errno says whether it agreed: it
// refuses outside the initial PID namespace, for instance.
func openConnector() (*connector, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, fmt.Errorf("proc connector socket: %w", err)
	}
	// A larger buffer makes ENOBUFS (lost events) rarer on a busy host.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 1<<20)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("proc connector bind: %w", err)
	}
	c := &connector{f: os.NewFile(uintptr(fd), "proc-connector")}
	if err := c.listen(procCnMcastListen); err != nil {
		c.f.Close()
		return nil, err
	}
	return c, nil
}

// listen sends PROC_CN_MCAST_LISTEN or PROC_CN_MCAST_IGNORE.
func (c *connector) listen(op uint32) error {
	msg := make([]byte, nlmsgHdrLen+cnMsgLen+4)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], unix.NLMSG_DONE)
	ne.PutUint32(msg[16:], cnIdxProc)
	ne.PutUint32(msg[20:], cnValProc)
	ne.PutUint16(msg[32:], 4) // cn_msg.len
	ne.PutUint32(msg[36:], op)
	raw, err := c.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("proc connector: %w", err)
	}
	var serr error
	err = raw.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		return !errors.Is(serr, unix.EAGAIN)
	})
	if err = errors.Join(err, serr); err != nil {
		return fmt.Errorf("proc connector listen request: %w", err)
	}
	return nil
}

// read waits for the next datagram and decodes its events into evs (reusing
// its storage). It returns unix.ENOBUFS when the kernel dropped events, and
// os.ErrClosed once the connector is closed.
func (c *connector) read(buf []byte, evs []procEvent) ([]procEvent, error) {
	raw, err := c.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var (
		n    int
		from unix.Sockaddr
		rerr error
	)
	err = raw.Read(func(fd uintptr) bool {
		n, from, rerr = unix.Recvfrom(int(fd), buf, 0)
		return !errors.Is(rerr, unix.EAGAIN)
	})
	if err != nil {
		return nil, err
	}
	if rerr != nil {
		return nil, rerr
	}
	// Only the kernel may speak here; anything else could forge events.
	if sa, ok := from.(*unix.SockaddrNetlink); !ok || sa.Pid != 0 {
		return evs[:0], nil
	}
	return decodeProcEvents(buf[:n], evs[:0]), nil
}

// decodeProcEvents decodes the netlink messages in b.
func decodeProcEvents(b []byte, evs []procEvent) []procEvent {
	ne := binary.NativeEndian
	for len(b) >= nlmsgHdrLen {
		l := int(ne.Uint32(b[0:]))
		typ := ne.Uint16(b[4:])
		if l < nlmsgHdrLen || l > len(b) {
			break
		}
		msg := b[nlmsgHdrLen:l]
		b = b[min(len(b), (l+3)&^3):]
		if typ == unix.NLMSG_ERROR || typ == unix.NLMSG_NOOP || len(msg) < cnMsgLen+procEvHdr {
			continue
		}
		if ne.Uint32(msg[0:]) != cnIdxProc || ne.Uint32(msg[4:]) != cnValProc {
			continue
		}
		ack := ne.Uint32(msg[12:]) != 0
		ev := msg[cnMsgLen:]
		what := ne.Uint32(ev[0:])
		data := ev[procEvHdr:]
		word := func(i int) uint32 {
			if 4*i+4 > len(data) {
				return 0
			}
			return ne.Uint32(data[4*i:])
		}
		switch {
		case what == procEventNone && ack:
			evs = append(evs, procEvent{what: what, ack: true, errno: word(0)})
		case what == procEventFork && word(2) == word(3): // child pid == tgid: a process
			evs = append(evs, procEvent{what: what, parent: int(word(1)), pid: int(word(3))})
		case (what == procEventExec || what == procEventExit) && word(0) == word(1):
			evs = append(evs, procEvent{what: what, pid: int(word(1))})
		case what == procEventComm && word(0) == word(1) && len(data) >= 8+16:
			comm := data[8:24]
			if i := bytes.IndexByte(comm, 0); i >= 0 {
				comm = comm[:i]
			}
			evs = append(evs, procEvent{what: what, pid: int(word(1)), comm: string(comm)})
		}
	}
	return evs
}

// close unsubscribes and closes the socket, waking a pending read.
func (c *connector) close() error {
	_ = c.listen(procCnMcastIgnore)
	return c.f.Close()
}
