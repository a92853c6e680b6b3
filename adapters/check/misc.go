package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/vigil-ha/vigil/adapters/script"
	"github.com/vigil-ha/vigil/events/conf"
)

// miscKillGrace is how long a timed-out MISC_CHECK script has between
// SIGTERM and SIGKILL (keepalived: 2 s).
const miscKillGrace = 2 * time.Second

// checkMisc is MISC_CHECK: run misc_path; exit status 0 is up, anything
// else down, except that with misc_dynamic a status of 2..255 is up and
// sets the weight to status-2. A script still running at the deadline
// (misc_timeout) gets SIGTERM, then SIGKILL, in its whole process group,
// and counts as down.
//
// The command is resolved and vetted as notify scripts are (PATH search,
// enable_script_security, user), and run directly, not through a shell,
// unless it is a file the kernel cannot execute.
func (c *Checker) checkMisc(ctx context.Context, cfg *conf.Checker) Result {
	if cfg.Misc == nil || len(cfg.Misc.Path.Argv) == 0 {
		return fail("MISC_CHECK has no misc_path")
	}
	s := &cfg.Misc.Path
	id, err := c.identity(s)
	if err != nil {
		return fail("MISC_CHECK %s: %v", s.Raw, err)
	}
	res, err := script.Inspect(s.Argv, id)
	if err != nil {
		return fail("MISC_CHECK %s: %v", s.Raw, err)
	}
	if res.Insecure != nil && c.ScriptSecurity {
		return fail("MISC_CHECK %s: %v", s.Raw, res.Insecure)
	}
	argv := res.Argv
	if res.Shell {
		argv = shellArgv(argv)
	}
	status, err := runScript(ctx, argv, id)
	if errors.Is(err, syscall.ENOEXEC) {
		status, err = runScript(ctx, shellArgv(argv), id)
	}
	if err != nil {
		return fail("MISC_CHECK %s: %v", s.Raw, err)
	}
	switch {
	case status == 0:
		return success("MISC_CHECK " + s.Raw + ": exit status 0")
	case cfg.Misc.Dynamic && status >= 2 && status <= 255:
		return Result{OK: true, Dynamic: true, Weight: status - 2,
			Message: fmt.Sprintf("MISC_CHECK %s: exit status %d, weight %d", s.Raw, status, status-2)}
	}
	return fail("MISC_CHECK %s: exit status %d", s.Raw, status)
}

// shellArgv wraps a command for /bin/sh -c with every word single-quoted,
// as keepalived's system() fallback does.
func shellArgv(argv []string) []string {
	cmd := ""
	for i, a := range argv {
		if i > 0 {
			cmd += " "
		}
		q := "'"
		for _, r := range a {
			if r == '\'' {
				q += `'\''`
			} else {
				q += string(r)
			}
		}
		cmd += q + "'"
	}
	return []string{"/bin/sh", "-c", cmd}
}

// runScript runs argv as id in a process group of its own, with
// stdin/stdout/stderr on /dev/null, and returns its exit status. At the
// context's deadline the group gets SIGTERM, then SIGKILL after
// miscKillGrace, and the run is an error.
func runScript(ctx context.Context, argv []string, id script.Identity) (int, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = scriptEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if os.Geteuid() == 0 && !id.IsSelf() {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: id.UID, Gid: id.GID, Groups: id.Groups}
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-done:
	case <-ctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(miscKillGrace):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		return 0, errors.New("timed out")
	}
	// Whatever the script left running in its group goes too.
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 0, fmt.Errorf("killed by signal %v", ws.Signal())
		}
		return ee.ExitCode(), nil
	}
	if werr != nil {
		return 0, werr
	}
	return 0, nil
}

// scriptEnv is vigil's environment without what could subvert a script
// run as another user (keepalived removes the same variables).
func scriptEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch {
		case hasPrefix(kv, "IFS="), hasPrefix(kv, "LD_PRELOAD="), hasPrefix(kv, "LD_LIBRARY_PATH="):
			continue
		}
		env = append(env, kv)
	}
	return env
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
