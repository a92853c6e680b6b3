package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

func miscScript(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	p := filepath.Join(dir, "check.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func miscCheck(dynamic bool, argv ...string) *conf.Checker {
	return &conf.Checker{Type: conf.CheckMisc, Misc: &conf.MiscCheck{
		Path: conf.Script{Raw: strings.Join(argv, " "), Argv: argv}, Dynamic: dynamic}}
}

func TestMiscCheck(t *testing.T) {
	c := &Checker{}
	exit := miscScript(t, `exit "$1"`)
	wantOK(t, run(t, c, Target{}, miscCheck(false, exit, "0")))
	wantFail(t, run(t, c, Target{}, miscCheck(false, exit, "1")), "exit status 1")
	wantFail(t, run(t, c, Target{}, miscCheck(false, exit, "7")), "exit status 7")

	// misc_dynamic: 0 up, 1 down, 2..255 up with weight status-2.
	r := run(t, c, Target{}, miscCheck(true, exit, "0"))
	if !r.OK || r.Dynamic {
		t.Errorf("dynamic exit 0: %+v", r)
	}
	wantFail(t, run(t, c, Target{}, miscCheck(true, exit, "1")), "exit status 1")
	for status, weight := range map[string]int{"2": 0, "12": 10, "255": 253} {
		r := run(t, c, Target{}, miscCheck(true, exit, status))
		if !r.OK || !r.Dynamic || r.Weight != weight {
			t.Errorf("dynamic exit %s: %+v, want weight %d", status, r, weight)
		}
	}

	// The arguments reach the script unchanged (no shell).
	out := filepath.Join(t.TempDir(), "args")
	args := miscScript(t, `printf '%s|' "$@" > "$1"`)
	wantOK(t, run(t, c, Target{}, miscCheck(false, args, out, "two words", "$HOME")))
	if b, _ := os.ReadFile(out); string(b) != out+"|two words|$HOME|" {
		t.Errorf("script saw %q", b)
	}

	// A script without "#!" is run by /bin/sh.
	noShebang := filepath.Join(t.TempDir(), "plain")
	os.WriteFile(noShebang, []byte("exit 3\n"), 0o755)
	wantFail(t, run(t, c, Target{}, miscCheck(false, noShebang)), "exit status 3")

	wantFail(t, run(t, c, Target{}, miscCheck(false, "/nonexistent/vigil-check")), "not found")
}

func TestMiscCheckTimeout(t *testing.T) {
	// The script and the child it starts are both killed at the deadline.
	pidFile := filepath.Join(t.TempDir(), "pid")
	hang := miscScript(t, `sleep 30 & echo $! > "$1"; wait`)
	start := time.Now()
	r := runShort(t, &Checker{}, Target{}, miscCheck(false, hang, pidFile))
	wantFail(t, r, "timed out")
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("timeout took %v", d)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(b))
	deadline := time.Now().Add(2 * time.Second)
	for {
		st, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || strings.Contains(string(st), ") Z ") {
			break // gone, or a zombie awaiting its reaper
		}
		if time.Now().After(deadline) {
			t.Fatalf("the script's child %s survived the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMiscCheckSecurity(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("script security applies to scripts run as root")
	}
	// A root script in a world-writable directory is refused with
	// enable_script_security.
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	p := filepath.Join(dir, "insecure.sh")
	os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	c := &Checker{ScriptSecurity: true, ScriptUser: "root"}
	wantFail(t, run(t, c, Target{}, miscCheck(false, p)), "unsafe permissions")
	wantOK(t, run(t, &Checker{ScriptUser: "root"}, Target{}, miscCheck(false, p)))
}

// TestMiscCheckUser: MISC_CHECK's user (and group) run the script; without
// them it runs as script_user.
func TestMiscCheckUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running a script as another user needs root")
	}
	// Exits 0 only when run as nobody:nogroup (in a directory nobody can
	// reach: t.TempDir's parent is private).
	dir, err := os.MkdirTemp("", "vigil-misc-user")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	who := filepath.Join(dir, "who.sh")
	if err := os.WriteFile(who, []byte("#!/bin/sh\n[ \"$(id -u):$(id -g)\" = 65534:65534 ]\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	asNobody := miscCheck(false, who)
	asNobody.Misc.Path.User, asNobody.Misc.Path.Group = "nobody", "nogroup"
	wantOK(t, run(t, &Checker{ScriptUser: "root"}, Target{}, asNobody))
	wantFail(t, run(t, &Checker{ScriptUser: "root"}, Target{}, miscCheck(false, who)), "exit status 1")
	wantOK(t, run(t, &Checker{ScriptUser: "nobody", ScriptGroup: "nogroup"}, Target{}, miscCheck(false, who)))
}
