package script

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

func TestTrackScriptExitStatus(t *testing.T) {
	dir := openDir(t)
	ok := writeScript(t, dir, "ok.sh", "#!/bin/sh\nexit 0\n", 0o755)
	bad := writeScript(t, dir, "bad.sh", "#!/bin/sh\nexit 1\n", 0o755)
	// No "#!": the kernel refuses it and keepalived's shell fallback runs it.
	noShebang := writeScript(t, dir, "plain", "exit 3\n", 0o755)
	var now events.Time = 42
	x, results := newExecutor(t, Options{Now: func() events.Time { return now }})
	for _, c := range []struct {
		cmd    []string
		status int
	}{
		{[]string{ok}, 0},
		{[]string{bad}, 1},
		{[]string{noShebang}, 3},
		{[]string{"sh", "-c", "exit 7"}, 7}, // bare name: PATH search
		{[]string{"</dev/null"}, 0},         // bash-style file test, via the shell
		{[]string{"</nonexistent/file"}, 2},
	} {
		x.Run(&effects.RunScript{Script: "chk", Command: c.cmd, Timeout: hangBound})
		r := nextResult(t, results)
		if r.Script != "chk" || r.Status != c.status || r.TimedOut || r.Failed || r.At != 42 {
			t.Errorf("%q: result %+v, want status %d at 42", c.cmd, r, c.status)
		}
	}
}

func TestTrackScriptTimeoutKillsProcessGroup(t *testing.T) {
	dir := openDir(t)
	pidFile := filepath.Join(dir, "child.pid")
	// The background child ignores SIGTERM: only the SIGKILL to the whole
	// process group ends it.
	hang := writeScript(t, dir, "hang.sh", `#!/bin/sh
(trap '' TERM; exec sleep 300) &
echo $! > `+pidFile+`.tmp && mv `+pidFile+`.tmp `+pidFile+`
wait
`, 0o755)
	x, results := newExecutor(t, Options{})
	x.Run(&effects.RunScript{Script: "hang", Command: []string{hang}, Timeout: 1500 * time.Millisecond})
	child := strings.TrimSpace(string(waitFile(t, pidFile)))
	r := nextResult(t, results)
	if !r.TimedOut || r.Failed {
		t.Errorf("result %+v, want TimedOut", r)
	}
	waitDead(t, child)
	if x.Running("hang") {
		t.Error("script still marked running after its result")
	}
}

func TestTrackScriptCannotRun(t *testing.T) {
	dir := openDir(t)
	notExec := writeScript(t, dir, "notexec.sh", "#!/bin/sh\nexit 0\n", 0o644)
	x, results := newExecutor(t, Options{})
	for _, c := range []struct {
		cmd  string
		want error
	}{
		{notExec, ErrNotExecutable},
		{filepath.Join(dir, "missing.sh"), ErrNotFound},
		{"vigil-no-such-command", ErrNotFound},
	} {
		x.Run(&effects.RunScript{Script: "chk", Command: []string{c.cmd}, Timeout: hangBound})
		r := nextResult(t, results)
		if !r.Failed || !strings.Contains(r.Error, c.want.Error()) || !strings.Contains(r.Error, c.cmd) {
			t.Errorf("%s: result %+v, want Failed naming %q and the path", c.cmd, r, c.want)
		}
	}
	if s := x.Stats(); s.Refused != 3 {
		t.Errorf("Refused = %d, want 3", s.Refused)
	}
}

func TestTrackScriptOverlappingRunSkipped(t *testing.T) {
	dir := openDir(t)
	release, runs := filepath.Join(dir, "release"), filepath.Join(dir, "runs")
	slow := writeScript(t, dir, "slow.sh", `#!/bin/sh
echo run >> `+runs+`
while [ ! -e `+release+` ]; do sleep 0.02; done
`, 0o755)
	x, results := newExecutor(t, Options{})
	rs := &effects.RunScript{Script: "slow", Command: []string{slow}, Timeout: hangBound}
	x.Run(rs)
	waitFile(t, runs)
	x.Run(rs) // still running: skipped
	x.Run(rs)
	if s := x.Stats(); s.Skipped != 2 {
		t.Errorf("Skipped = %d, want 2", s.Skipped)
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := nextResult(t, results); r.Status != 0 || r.Failed || r.TimedOut {
		t.Errorf("result %+v, want success", r)
	}
	x.Run(rs) // idle again: runs
	if r := nextResult(t, results); r.Status != 0 {
		t.Errorf("result %+v, want success", r)
	}
	if got := waitLines(t, runs, 2); len(got) != 2 {
		t.Errorf("script ran %d times, want 2", len(got))
	}
}

func TestTrackScriptRunsAsUser(t *testing.T) {
	requireRoot(t)
	dir := openDir(t)
	// Exits with status 0 only when running as nobody:nogroup.
	who := writeScript(t, dir, "who.sh", "#!/bin/sh\n[ \"$(id -u):$(id -g)\" = 65534:65534 ]\n", 0o755)
	x, results := newExecutor(t, Options{ScriptUser: "nobody"})
	x.Run(&effects.RunScript{Script: "who", Command: []string{who}, Timeout: hangBound})
	if r := nextResult(t, results); r.Status != 0 || r.Failed {
		t.Errorf("default script_user: result %+v, want status 0", r)
	}
	x.Run(&effects.RunScript{Script: "who", Command: []string{who}, User: "root", Timeout: hangBound})
	if r := nextResult(t, results); r.Status != 1 || r.Failed {
		t.Errorf("as root: result %+v, want status 1", r)
	}
	x.Run(&effects.RunScript{Script: "who", Command: []string{who}, User: "vigil-no-such-user", Timeout: hangBound})
	if r := nextResult(t, results); !r.Failed || !strings.Contains(r.Error, "vigil-no-such-user") {
		t.Errorf("unknown user: result %+v, want Failed naming the user", r)
	}
}

func TestCloseTerminatesRunningScripts(t *testing.T) {
	dir := openDir(t)
	pidFile := filepath.Join(dir, "pid")
	long := writeScript(t, dir, "long.sh", "#!/bin/sh\necho $$ > "+pidFile+".tmp && mv "+pidFile+".tmp "+pidFile+"\nexec sleep 300\n", 0o755)
	x, err := New(Options{Results: make(chan events.Event, 1)})
	if err != nil {
		t.Fatal(err)
	}
	x.Run(&effects.RunScript{Script: "long", Command: []string{long}})
	pid := strings.TrimSpace(string(waitFile(t, pidFile)))
	closed := make(chan error)
	go func() { closed <- x.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(hangBound):
		t.Fatal("Close hung")
	}
	waitDead(t, pid)
	// After Close effects are ignored.
	x.Run(&effects.RunScript{Script: "long", Command: []string{long}})
	if x.Running("long") {
		t.Error("Run after Close started a script")
	}
}

// TestStartupShutdownScripts: the startup script's result carries its
// phase (and a track script of the same name runs beside it); RunWait
// runs the shutdown script to its end, killed at its timeout.
func TestStartupShutdownScripts(t *testing.T) {
	dir := openDir(t)
	slow := writeScript(t, dir, "slow.sh", "#!/bin/sh\nsleep 0.3\nexit 4\n", 0o755)
	x, results := newExecutor(t, Options{})
	x.Run(&effects.RunScript{Script: "startup_script", Command: []string{slow}, Timeout: hangBound, Phase: effects.PhaseStartup})
	x.Run(&effects.RunScript{Script: "startup_script", Command: []string{"sh", "-c", "exit 0"}, Timeout: hangBound})
	got := map[string]*events.ScriptResult{}
	for range 2 {
		r := nextResult(t, results)
		got[r.Phase] = r
	}
	if r := got[effects.PhaseStartup]; r == nil || r.Status != 4 || r.Script != "startup_script" {
		t.Errorf("startup script result %+v, want status 4", r)
	}
	if r := got[""]; r == nil || r.Status != 0 {
		t.Errorf("track script result %+v, want status 0", r)
	}
	start := time.Now()
	r := x.RunWait(&effects.RunScript{Script: "shutdown_script", Command: []string{"sleep", "30"}, Timeout: 500 * time.Millisecond, Phase: effects.PhaseShutdown})
	if r == nil || !r.TimedOut || r.Phase != effects.PhaseShutdown {
		t.Errorf("shutdown script result %+v, want timed out", r)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("RunWait took %s", d)
	}
}

// TestTrackScriptForkFailureHasNoResult: a run the system refuses to fork
// (EAGAIN: a full pids cgroup under a fork bomb) yields no result, as
// keepalived skips the run, so the script's last result stands; the next
// run that forks reports normally. RunWait, whose caller waits for an
// outcome, reports the failure.
func TestTrackScriptForkFailureHasNoResult(t *testing.T) {
	dir := openDir(t)
	five := writeScript(t, dir, "five.sh", "#!/bin/sh\nexit 5\n", 0o755)
	x, results := newExecutor(t, Options{})
	spawn = func(cmd *exec.Cmd) error {
		return &os.PathError{Op: "fork/exec", Path: cmd.Path, Err: syscall.EAGAIN}
	}
	t.Cleanup(func() { spawn = startCmd })
	rs := &effects.RunScript{Script: "chk", Command: []string{five}, Timeout: hangBound}
	x.Run(rs)
	if w := x.RunWait(rs); w == nil || !w.Failed || w.Script != "chk" {
		t.Errorf("RunWait of an unforkable script: %+v, want Failed", w)
	}
	deadline := time.Now().Add(hangBound)
	for x.Running("chk") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	spawn = startCmd
	x.Run(rs)
	// The first result on the channel is the second run's: the failed
	// fork sent none.
	if r := nextResult(t, results); r.Status != 5 || r.Failed || r.TimedOut {
		t.Errorf("result %+v, want the second run's exit status 5", r)
	}
	if s := x.Stats(); s.StartFailed != 2 {
		t.Errorf("StartFailed = %d, want 2", s.StartFailed)
	}
}
