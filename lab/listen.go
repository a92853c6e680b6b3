package lab

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Dial connects from inside the node's namespace (as Listen, the
// thread switches there for the socket call only). The connection stays
// in the namespace it was made in.
func (n *Node) Dial(network, addr string) (net.Conn, error) {
	var c net.Conn
	err := n.inNS(func() error {
		var err error
		c, err = net.DialTimeout(network, addr, 5*time.Second)
		return err
	})
	return c, err
}

// HTTPClient is an HTTP client whose connections start in the node's
// namespace: a scrape from this node.
func (n *Node) HTTPClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(_ context.Context, network, addr string) (net.Conn, error) {
			return n.Dial(network, addr)
		}}}
}

// inNS runs f on this thread switched into the node's namespace.
func (n *Node) inNS(f func() error) error {
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("lab: %w", err)
	}
	defer self.Close()
	target, err := os.Open("/run/netns/" + n.NS)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("lab: %w", err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("lab: enter %s: %w", n.NS, err)
	}
	ferr := f()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked: the runtime ends it with the
		// goroutine rather than reuse it in the wrong namespace.
		return fmt.Errorf("lab: back from %s: %w", n.NS, err)
	}
	runtime.UnlockOSThread()
	return ferr
}

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
