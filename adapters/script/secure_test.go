package script

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/effects"
)

func TestCheckSecure(t *testing.T) {
	requireRoot(t)
	base := openDir(t)
	mkdir := func(name string, mode os.FileMode) string {
		d := filepath.Join(base, name)
		if err := os.Mkdir(d, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, mode)
		return d
	}
	good := writeScript(t, mkdir("good", 0o755), "s.sh", "#!/bin/sh\n", 0o755)
	worldDir := mkdir("world", 0o777)
	inWorld := writeScript(t, worldDir, "s.sh", "#!/bin/sh\n", 0o755)
	sticky := writeScript(t, mkdir("sticky", os.ModeSticky|0o777), "s.sh", "#!/bin/sh\n", 0o755)
	groupFile := writeScript(t, mkdir("grp", 0o755), "s.sh", "#!/bin/sh\n", 0o775)
	if err := os.Chown(groupFile, 0, 65534); err != nil {
		t.Fatal(err)
	}
	userFile := writeScript(t, mkdir("usr", 0o755), "s.sh", "#!/bin/sh\n", 0o755)
	if err := os.Chown(userFile, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link.sh")
	if err := os.Symlink(inWorld, link); err != nil {
		t.Fatal(err)
	}
	noExec := writeScript(t, filepath.Join(base, "good"), "noexec.sh", "#!/bin/sh\n", 0o644)

	for _, c := range []struct {
		path     string
		uid, gid int
		want     error  // nil: secure
		names    string // path the message must name
	}{
		{good, 0, 0, nil, ""},
		{sticky, 0, 0, nil, ""}, // root-owned sticky directory is fine, like /tmp
		{inWorld, 0, 0, ErrInsecure, worldDir},
		{groupFile, 0, 0, ErrInsecure, groupFile},
		{userFile, 0, 0, ErrInsecure, userFile},
		{link, 0, 0, ErrInsecure, worldDir}, // the symlink's target is checked
		{inWorld, 65534, 65534, nil, ""},    // not run as root: not protected
		{filepath.Join(base, "nope"), 0, 0, ErrNotFound, ""},
		{noExec, 0, 0, ErrNotExecutable, noExec},
		{noExec, 65534, 65534, ErrNotExecutable, noExec},
	} {
		err := CheckSecure(c.path, c.uid, c.gid)
		if c.want == nil {
			if err != nil {
				t.Errorf("CheckSecure(%s, %d): %v, want nil", c.path, c.uid, err)
			}
			continue
		}
		var se *Error
		if !errors.Is(err, c.want) || !errors.As(err, &se) || !strings.Contains(err.Error(), c.names) {
			t.Errorf("CheckSecure(%s, %d) = %v, want %v naming %q", c.path, c.uid, err, c.want, c.names)
		}
	}
}

func TestScriptSecurityRefusesWorldWritableDir(t *testing.T) {
	requireRoot(t)
	base := openDir(t)
	worldDir := filepath.Join(base, "world")
	if err := os.Mkdir(worldDir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(worldDir, 0o777)
	marker := filepath.Join(base, "ran")
	s := writeScript(t, worldDir, "chk.sh", "#!/bin/sh\ntouch "+marker+"\n", 0o755)

	x, results := newExecutor(t, Options{Security: true, ScriptUser: "root"})
	x.Run(&effects.RunScript{Script: "chk", Command: []string{s}, Timeout: hangBound})
	r := nextResult(t, results)
	if !r.Failed || !strings.Contains(r.Error, "enable_script_security") || !strings.Contains(r.Error, worldDir) {
		t.Errorf("result %+v, want Failed naming enable_script_security and %s", r, worldDir)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("insecure script ran")
	}

	// Without enable_script_security keepalived warns and runs it.
	y, results := newExecutor(t, Options{ScriptUser: "root"})
	y.Run(&effects.RunScript{Script: "chk", Command: []string{s}, Timeout: hangBound})
	if r := nextResult(t, results); r.Failed || r.Status != 0 {
		t.Errorf("result %+v, want a run", r)
	}
	waitFile(t, marker)
}

func TestShellLineQuoting(t *testing.T) {
	for _, c := range []struct {
		argv []string
		want string
	}{
		{[]string{"/bin/x", "a b", "it's"}, `'/bin/x' 'a b' 'it'\''s'`},
		{[]string{"</dev/tcp/1.2.3.4/80"}, `</dev/tcp/1.2.3.4/80`},
	} {
		if got := shellLine(c.argv); got != c.want {
			t.Errorf("shellLine(%q) = %s, want %s", c.argv, got, c.want)
		}
	}
}
