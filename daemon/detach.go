package daemon

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// DetachEnv names the environment variable that tells a re-executed vigil
// it is the detached child and which file descriptor reports readiness.
const DetachEnv = "VIGIL_DETACHED_FD"

// Detach emulates keepalived's fork into the background (no -n): it starts
// the same program again with args (which must make it run in the
// foreground), in a new session, with its standard streams on /dev/null,
// and waits until the child reports that it has started (pid files
// written, engine running) or has failed. It returns the child's pid.
//
// Why a re-exec: a Go program cannot fork safely. Waiting for readiness is
// what systemd's Type=forking expects: when the parent exits, the pid file
// is in place and the service is up.
func Detach(args []string) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("detach: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("detach: %w", err)
	}
	defer r.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		w.Close()
		return 0, fmt.Errorf("detach: %w", err)
	}
	defer null.Close()
	cmd := exec.Command(exe, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.ExtraFiles = []*os.File{w} // fd 3
	cmd.Env = append(os.Environ(), DetachEnv+"=3")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return 0, fmt.Errorf("detach: %w", err)
	}
	pid := cmd.Process.Pid
	cmd.Process.Release()
	line, _ := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSpace(line)
	switch {
	case line == "READY":
		return pid, nil
	case line == "":
		return pid, fmt.Errorf("detach: vigil (pid %d) exited before it was ready", pid)
	default:
		return pid, fmt.Errorf("detach: %s", line)
	}
}

// Readiness is the detached child's side of Detach: Ready or Fail once.
type Readiness struct{ f *os.File }

// DetachedReadiness returns the readiness pipe when this process is a
// detached child, else nil. It unsets DetachEnv so scripts do not inherit
// it.
func DetachedReadiness() *Readiness {
	if os.Getenv(DetachEnv) != "3" {
		return nil
	}
	os.Unsetenv(DetachEnv)
	// Scripts must not inherit the pipe (the parent would wait for them).
	syscall.CloseOnExec(3)
	return &Readiness{f: os.NewFile(3, "readiness")}
}

// Ready tells the parent the daemon is running.
func (r *Readiness) Ready() { r.send("READY") }

// Fail tells the parent why the daemon could not start.
func (r *Readiness) Fail(err error) {
	r.send(strings.ReplaceAll(err.Error(), "\n", " "))
}

func (r *Readiness) send(s string) {
	if r == nil || r.f == nil {
		return
	}
	fmt.Fprintln(r.f, s)
	r.f.Close()
	r.f = nil
}
