package script

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// termGrace is how long a script gets between SIGTERM and SIGKILL, as in
// keepalived (2 s for a timed-out track script).
const termGrace = 2 * time.Second

// scrubbedEnv lists variables keepalived removes before exec'ing a script.
var scrubbedEnv = []string{"IFS", "LD_PRELOAD", "LD_LIBRARY_PATH"}

// scriptEnv is keepalived's environment for scripts: the daemon's own,
// minus the loader and field-splitting overrides.
func scriptEnv() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, s := range scrubbedEnv {
			if name == s {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// shellLine is the command line keepalived hands to /bin/sh -c: every word
// single-quoted (embedded quotes escaped), except a leading redirection.
func shellLine(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if i == 0 && (strings.HasPrefix(a, "<") || strings.HasPrefix(a, ">")) {
			b.WriteString(a)
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(a, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String()
}

// command builds the exec.Cmd for r run as id: its own process group,
// SIGTERM when vigil dies, stdio on /dev/null (exec's default for nil).
func command(r Resolved, id Identity, shell bool) *exec.Cmd {
	cmd := &exec.Cmd{Path: r.Argv[0], Args: r.Argv}
	if shell {
		cmd = &exec.Cmd{Path: "/bin/sh", Args: []string{"sh", "-c", shellLine(r.Argv)}}
	}
	cmd.Env = scriptEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:    true,
		Pdeathsig:  syscall.SIGTERM,
		Credential: id.credential(),
	}
	return cmd
}

// spawner forks every script from one OS thread that never exits. Linux
// sends the parent-death signal when the forking thread exits, not the
// process, and the Go runtime ends a thread whose goroutine exits while
// locked to it (as network-namespace code does): a script forked from such
// a thread would get SIGTERM long before vigil exits.
var spawner struct {
	once sync.Once
	reqs chan func()
}

// startCmd starts cmd on the spawner thread.
func startCmd(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as vigil
			for f := range spawner.reqs {
				f()
			}
		}()
	})
	errc := make(chan error, 1)
	spawner.reqs <- func() { errc <- cmd.Start() }
	return <-errc
}

// spawn starts a command; tests replace it to make the fork fail.
var spawn = startCmd

// procTable tracks the process groups of every running child so that Close
// can signal them all.
type procTable struct {
	mu     sync.Mutex
	pgids  map[int]struct{}
	closed bool // no more starts: Close is signalling everything
}

// errClosed is returned by start once the executor is shutting down.
var errClosed = errors.New("executor closed")

// start runs r as id and registers its process group. A file the kernel
// refuses with ENOEXEC (no "#!" line) is retried through /bin/sh, as
// keepalived's system() fallback runs it.
func (t *procTable) start(r Resolved, id Identity) (*exec.Cmd, error) {
	cmd := command(r, id, r.Shell)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errClosed
	}
	err := spawn(cmd)
	if err != nil && !r.Shell && errors.Is(err, syscall.ENOEXEC) {
		cmd = command(r, id, true)
		err = spawn(cmd)
	}
	if err != nil {
		return nil, err
	}
	if t.pgids == nil {
		t.pgids = make(map[int]struct{})
	}
	t.pgids[cmd.Process.Pid] = struct{}{}
	return cmd, nil
}

// wait reaps cmd and unregisters its process group.
func (t *procTable) wait(cmd *exec.Cmd) error {
	err := cmd.Wait()
	t.mu.Lock()
	delete(t.pgids, cmd.Process.Pid)
	t.mu.Unlock()
	return err
}

// shut refuses further starts.
func (t *procTable) shut() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}

// signalAll sends sig to every registered process group and reports how
// many there were.
func (t *procTable) signalAll(sig syscall.Signal) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	for pgid := range t.pgids {
		_ = syscall.Kill(-pgid, sig) // ESRCH: already gone
	}
	return len(t.pgids)
}

// exitText describes how a child ended, for log lines.
func exitText(err error) string {
	if err == nil {
		return "exit 0"
	}
	return err.Error()
}
