package netlink

import (
	"fmt"
	"path/filepath"
	"runtime"

	"github.com/vishvananda/netns"
)

// OpenNamespace opens a network namespace by name (as in /run/netns, as `ip
// netns` names them) or by path. An empty name returns netns.None(), which
// every function of this package takes to mean the caller's namespace.
func OpenNamespace(name string) (netns.NsHandle, error) {
	if name == "" {
		return netns.None(), nil
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join("/run/netns", name)
	}
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return netns.None(), fmt.Errorf("open network namespace %s: %w", path, err)
	}
	return ns, nil
}

// InNamespace runs fn with the calling goroutine's OS thread switched into
// ns, then switches back. With a closed handle (netns.None()) it simply runs
// fn. It is for the few operations that no netlink handle can target:
// /proc/sys writes and opening packet sockets.
func InNamespace(ns netns.NsHandle, fn func() error) error {
	if !ns.IsOpen() {
		return fn()
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("get current network namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter network namespace: %w", err)
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		// Leave the thread locked: the runtime destroys a thread whose
		// goroutine exits locked, so the wrong namespace cannot leak.
		return fmt.Errorf("return to original network namespace: %w", err)
	}
	runtime.UnlockOSThread()
	return ferr
}
