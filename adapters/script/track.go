package script

import (
	"errors"
	"os/exec"
	"syscall"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// Run executes a RunScript effect (one run of a track script, or the
// startup script) without blocking. The outcome arrives on Options.Results as *events.ScriptResult.
// If the previous run of the same script has not finished, this run is
// skipped and counted, as keepalived skips it.
//
// A script that cannot be run at all (not found, not executable for its
// user, its user unknown, or insecure under enable_script_security) yields a
// result with Failed set and Error naming the cause; keepalived disables
// such a script when it loads the configuration. The failure is logged when
// it first happens or changes, not at every run.
//
// A Timeout of zero or less means no timeout.
func (x *Executor) Run(rs *effects.RunScript) {
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return
	}
	key := runKey(rs)
	if x.running[key] {
		x.mu.Unlock()
		x.skipped.Add(1)
		return
	}
	x.running[key] = true
	x.wg.Add(1)
	x.mu.Unlock()

	rs = effects.Clone(rs).(*effects.RunScript)
	go func() {
		defer x.wg.Done()
		res := x.runTrack(rs)
		x.mu.Lock()
		delete(x.running, key)
		x.mu.Unlock()
		if x.opts.Results == nil || res == nil {
			return
		}
		select {
		case x.opts.Results <- res:
		case <-x.done:
		}
	}()
}

// RunWait runs a RunScript to its end and returns its outcome (the
// shutdown script, which the daemon runs once everything else has
// stopped, and waits for). It returns nil if the executor is closed.
func (x *Executor) RunWait(rs *effects.RunScript) *events.ScriptResult {
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return nil
	}
	x.wg.Add(1)
	x.mu.Unlock()
	defer x.wg.Done()
	rs = effects.Clone(rs).(*effects.RunScript)
	res := x.runTrack(rs)
	if res == nil {
		// Not forked: the caller waits for an outcome, so say why.
		res = &events.ScriptResult{Header: events.Header{At: x.opts.Now()}, Script: rs.Script, Phase: rs.Phase,
			Failed: true, Error: "could not fork: system out of processes or memory"}
	}
	return res
}

// runKey is the key of a script in Executor.running: a track script's
// name, or the phase and name of the startup or shutdown script.
func runKey(rs *effects.RunScript) string {
	if rs.Phase != "" {
		return rs.Phase + ":" + rs.Script
	}
	return rs.Script
}

// Running reports whether a run of the named track script is in progress.
func (x *Executor) Running(script string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.running[script]
}

// forkFailed reports whether a start error is the system refusing a new
// process (fork's EAGAIN: a pids cgroup, RLIMIT_NPROC or threads-max
// full, as under a fork bomb; ENOMEM), not anything about the script.
func forkFailed(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.ENOMEM)
}

// runTrack runs one track script to completion and describes the outcome.
// It returns nil when the script could not be forked: keepalived then
// skips the run ("Failed fork process") and its last result stands, so a
// fork bomb elsewhere does not fail every track script and cause a
// failover.
// On timeout the script's process group gets SIGTERM, then SIGKILL after
// termGrace; a run ended by either is reported as TimedOut. Whatever way a
// timed-out run ends, its process group is then killed, so nothing it
// started outlives it.
func (x *Executor) runTrack(rs *effects.RunScript) *events.ScriptResult {
	res := &events.ScriptResult{Script: rs.Script, Phase: rs.Phase}
	what := "track script"
	if rs.Phase != "" {
		what = rs.Phase + " script"
	}
	key := runKey(rs)
	cmd, err := x.startScript(what+" "+rs.Script, rs.Command, rs.User, rs.Group)
	x.mu.Lock()
	last, hadLast := x.lastFail[key]
	if err != nil {
		x.lastFail[key] = err.Error()
	} else {
		delete(x.lastFail, key)
	}
	x.mu.Unlock()
	if err != nil {
		if !hadLast || last != err.Error() {
			x.log.Error(what+" not run", "script", rs.Script, "err", err)
		}
		if forkFailed(err) {
			return nil
		}
		res.Header.At = x.opts.Now()
		res.Failed, res.Error = true, err.Error()
		return res
	}
	pgid := cmd.Process.Pid
	waited := make(chan error, 1)
	go func() { waited <- x.procs.wait(cmd) }()

	var deadline <-chan time.Time
	if rs.Timeout > 0 {
		t := time.NewTimer(rs.Timeout)
		defer t.Stop()
		deadline = t.C
	}
	var sent syscall.Signal // the last signal sent for a timeout, 0 if none
	for {
		select {
		case err := <-waited:
			res.Header.At = x.opts.Now()
			if sent != 0 {
				_ = syscall.Kill(-pgid, syscall.SIGKILL) // leftovers in the group
			}
			describeExit(res, cmd, err, sent)
			if res.TimedOut {
				x.log.Warn(what+" timed out", "script", rs.Script, "timeout", rs.Timeout)
			}
			return res
		case <-deadline:
			switch sent {
			case 0:
				sent = syscall.SIGTERM
			default:
				sent = syscall.SIGKILL
			}
			_ = syscall.Kill(-pgid, sent)
			t := time.NewTimer(termGrace)
			defer t.Stop()
			deadline = t.C
		}
	}
}

// describeExit fills the result from the child's wait status.
func describeExit(res *events.ScriptResult, cmd *exec.Cmd, err error, sent syscall.Signal) {
	var ws syscall.WaitStatus
	if cmd.ProcessState != nil {
		ws, _ = cmd.ProcessState.Sys().(syscall.WaitStatus)
	} else {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			res.Failed, res.Error = true, err.Error()
			return
		}
		ws, _ = ee.Sys().(syscall.WaitStatus)
	}
	switch {
	case ws.Exited():
		res.Status = ws.ExitStatus()
	case ws.Signaled():
		sig := ws.Signal()
		if sent != 0 && (sig == syscall.SIGTERM || sig == syscall.SIGKILL) {
			res.TimedOut = true
			return
		}
		// keepalived counts death by another signal as a failure.
		res.Status = 128 + int(sig)
		res.Error = "killed by signal " + sig.String()
	}
}
