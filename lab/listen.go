package lab

import (
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Listen opens a listening socket inside the node's namespace, for test
// servers (real servers of a virtual server, say) that run in the test's
// own process: a socket stays in the namespace it was created in, so the
// thread switches there only for the socket call.
func (n *Node) Listen(network, addr string) (net.Listener, error) {
	runtime.LockOSThread()
	// The thread is left locked on failure to switch back: the runtime
	// then ends it with the goroutine rather than reuse it in the wrong
	// namespace.
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("lab: %w", err)
	}
	defer self.Close()
	target, err := os.Open("/run/netns/" + n.NS)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("lab: %w", err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("lab: enter %s: %w", n.NS, err)
	}
	ln, lerr := net.Listen(network, addr)
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		if ln != nil {
			ln.Close()
		}
		return nil, fmt.Errorf("lab: back from %s: %w", n.NS, err)
	}
	runtime.UnlockOSThread()
	if lerr != nil {
		return nil, fmt.Errorf("lab: listen in %s: %w", n.NS, lerr)
	}
	return ln, nil
}
