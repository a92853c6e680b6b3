package daemon

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Notifier sends state lines to systemd's notification socket
// ($NOTIFY_SOCKET): READY=1, RELOADING=1 (with MONOTONIC_USEC), STOPPING=1
// and the watchdog's WATCHDOG=1. Debian's keepalived.service and
// dist/vigil.service are Type=notify with --dont-fork; vigil run under
// them needs this.
//
// It keeps one datagram socket and never blocks: each line is one
// sendto(2) with MSG_DONTWAIT, so it is safe to call from the event loop.
// When systemd's receive queue is full (PID 1 far behind) the line is not
// sent and the error says so; the callers log it, and the watchdog simply
// pings again half an interval later.
//
// A nil *Notifier (no $NOTIFY_SOCKET) does nothing.
type Notifier struct {
	fd   int
	addr *unix.SockaddrUnix
	// watchdog is half of WATCHDOG_USEC when the watchdog is meant for
	// this process, else 0.
	watchdog time.Duration
}

// NewNotifier opens the socket $NOTIFY_SOCKET names, as getenv reports it
// (os.Getenv in the daemon); it returns nil, nil without one. The watchdog
// is armed when WATCHDOG_USEC is set (and positive) and WATCHDOG_PID is
// absent or names this process, as sd_watchdog_enabled(3) decides.
func NewNotifier(getenv func(string) string) (*Notifier, error) {
	sock := getenv("NOTIFY_SOCKET")
	if sock == "" {
		return nil, nil
	}
	// "@name" is an abstract socket: x/sys/unix turns the @ into the
	// leading NUL byte.
	if sock[0] != '/' && sock[0] != '@' {
		return nil, fmt.Errorf("sd_notify: NOTIFY_SOCKET %q: not a path nor an abstract socket", sock)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("sd_notify: socket: %w", err)
	}
	n := &Notifier{fd: fd, addr: &unix.SockaddrUnix{Name: sock}}
	n.watchdog = watchdogInterval(getenv)
	return n, nil
}

// watchdogInterval is half the WATCHDOG_USEC systemd asks for, or 0 when
// there is no watchdog for this process.
func watchdogInterval(getenv func(string) string) time.Duration {
	usec, err := strconv.ParseUint(getenv("WATCHDOG_USEC"), 10, 63)
	if err != nil || usec == 0 {
		return 0
	}
	if p := getenv("WATCHDOG_PID"); p != "" {
		pid, err := strconv.Atoi(p)
		if err != nil || pid != os.Getpid() {
			return 0
		}
	}
	return time.Duration(usec) * time.Microsecond / 2
}

// Notify sends one state line (several may be joined with "\n").
func (n *Notifier) Notify(state string) error {
	if n == nil {
		return nil
	}
	err := unix.Sendto(n.fd, []byte(state), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, n.addr)
	if errors.Is(err, unix.EAGAIN) {
		return fmt.Errorf("sd_notify %q: systemd's queue is full, not sent: %w", state, err)
	}
	if err != nil {
		return fmt.Errorf("sd_notify %q: %w", state, err)
	}
	return nil
}

// Reloading is RELOADING=1 with the CLOCK_MONOTONIC time in µs, as
// systemd ≥ 253 requires of Type=notify-reload services (older ones read
// RELOADING=1 alone). READY=1 ends the reload.
func (n *Notifier) Reloading() error {
	if n == nil {
		return nil
	}
	return n.Notify("RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatUint(monotonicUsec(), 10))
}

// monotonicUsec reads CLOCK_MONOTONIC in microseconds.
func monotonicUsec() uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return uint64(ts.Sec)*1e6 + uint64(ts.Nsec)/1e3
}

// WatchdogEvery is how often the loop must ping (half of WATCHDOG_USEC),
// 0 when systemd set no watchdog for this process.
func (n *Notifier) WatchdogEvery() time.Duration {
	if n == nil {
		return 0
	}
	return n.watchdog
}

// Watchdog sends WATCHDOG=1. The loop calls it (Loop.Watchdog), so a loop
// that stops turning stops pinging and systemd restarts the service after
// WatchdogSec. A ping that cannot be sent is not reported: the next one
// comes half an interval later.
func (n *Notifier) Watchdog() {
	_ = n.Notify("WATCHDOG=1")
}

// Close closes the socket.
func (n *Notifier) Close() error {
	if n == nil {
		return nil
	}
	if err := unix.Close(n.fd); err != nil {
		return fmt.Errorf("sd_notify: close: %w", err)
	}
	return nil
}

// SdNotify sends one state line to $NOTIFY_SOCKET through a Notifier of
// its own; without NOTIFY_SOCKET it does nothing. The daemon keeps one
// Notifier instead.
func SdNotify(state string) error {
	n, err := NewNotifier(os.Getenv)
	if err != nil || n == nil {
		return err
	}
	defer n.Close()
	return n.Notify(state)
}
