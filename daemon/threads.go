package daemon

import (
	"sync"

	"golang.org/x/sys/unix"
)

// spareThreads is how many OS threads the daemon has the Go runtime make
// at start.
const spareThreads = 32

// warmThreads makes the Go runtime create n OS threads now, while it can.
// A goroutine blocked in a system call (waiting for a script's process,
// a netlink answer) holds a thread, and the runtime starts another to run
// the rest; a Go program that cannot create one when it needs it dies
// ("failed to create new OS thread"). A notify script's fork bomb that
// fills the daemon's cgroup (systemd's TasksMax) leaves no room for one,
// and killed vigil in TestFaultScriptForkBomb where keepalived, one
// thread, lives on. The runtime keeps idle threads and reuses them, so n
// threads made here serve up to n blocking calls at once later without
// asking the kernel for a task.
func warmThreads(n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A blocking system call: its thread stays with it, and the
			// scheduler starts another for the next goroutine.
			ts := unix.Timespec{Nsec: 50_000_000}
			_ = unix.Nanosleep(&ts, nil)
		}()
	}
	wg.Wait()
}
