package script

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events/conf"
)

// fifo is an open notify FIFO.
type fifo struct {
	kind    string // "notify_fifo", "vrrp_notify_fifo", "lvs_notify_fifo"
	path    string
	fd      int
	created bool // vigil made it, so vigil removes it on close
}

// openFIFO creates (if missing) and opens a notify FIFO as keepalived does:
// mkfifo with mode 0644 and ownership given to the FIFO's user, then open
// read-write and non-blocking so that opening never waits for a reader and
// writing never blocks (a full FIFO drops the line). An existing path is
// used only if it is a FIFO owned by vigil or by the FIFO's user, so a
// planted file cannot capture the notifications.
//
// startReader, when not nil, is called between creating and opening the
// FIFO, where keepalived starts the FIFO's reader script.
func openFIFO(kind string, spec *conf.NotifyFIFO, owner Identity, startReader func() error) (*fifo, error) {
	f := &fifo{kind: kind, path: spec.Path, fd: -1}
	err := unix.Mkfifo(spec.Path, 0o644)
	switch {
	case err == nil:
		f.created = true
		self := Self()
		if owner.UID != self.UID || owner.GID != self.GID {
			if err := os.Chown(spec.Path, int(owner.UID), int(owner.GID)); err != nil {
				_ = os.Remove(spec.Path)
				return nil, fmt.Errorf("%s %s: set owner %s: %w", kind, spec.Path, owner, err)
			}
		}
	case errors.Is(err, unix.EEXIST):
	default:
		return nil, fmt.Errorf("%s %s: create: %w", kind, spec.Path, err)
	}
	var readerErr error
	if startReader != nil {
		readerErr = startReader()
	}
	fd, err := unix.Open(spec.Path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		f.removeCreated()
		return nil, errors.Join(fmt.Errorf("%s %s: open: %w", kind, spec.Path, err), readerErr)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO ||
		(st.Uid != uint32(os.Geteuid()) && st.Uid != owner.UID) {
		unix.Close(fd)
		return nil, errors.Join(fmt.Errorf("%s %s: not a FIFO owned by vigil or %s", kind, spec.Path, owner), readerErr)
	}
	f.fd = fd
	return f, readerErr
}

// write writes one line without blocking; it reports false when the line
// was dropped (the FIFO is full because its reader is slow or absent).
func (f *fifo) write(line []byte) bool {
	n, err := unix.Write(f.fd, line)
	for errors.Is(err, unix.EINTR) {
		n, err = unix.Write(f.fd, line)
	}
	return err == nil && n == len(line)
}

// close removes a FIFO vigil created — first, so a reader that loops
// reopening the path cannot reopen it — and closes the descriptor.
func (f *fifo) close() {
	f.removeCreated()
	if f.fd >= 0 {
		unix.Close(f.fd)
		f.fd = -1
	}
}

func (f *fifo) removeCreated() {
	if f.created {
		_ = os.Remove(f.path)
		f.created = false
	}
}
