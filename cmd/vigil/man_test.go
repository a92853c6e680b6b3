package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var updateMan = flag.Bool("update", false, "rewrite dist/vigil.8 from the command tables")

const manFile = "../../dist/vigil.8"

// TestManPageUpToDate: dist/vigil.8, the page the Debian package ships,
// is what `vigil --man` generates from the command tables today (-update
// rewrites it), so the page and --help cannot drift apart.
func TestManPageUpToDate(t *testing.T) {
	var b bytes.Buffer
	if err := writeMan(&b); err != nil {
		t.Fatal(err)
	}
	if *updateMan {
		if err := os.WriteFile(manFile, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile(manFile)
	if err != nil {
		t.Fatalf("%v (go test ./cmd/vigil -run ManPage -update writes it)", err)
	}
	if !bytes.Equal(old, b.Bytes()) {
		t.Fatalf("%s is stale: go test ./cmd/vigil -run ManPage -update", manFile)
	}
	// vigil --man prints the same.
	var out, errb bytes.Buffer
	if code := realMain([]string{"--man"}, &out, &errb); code != 0 || !bytes.Equal(out.Bytes(), b.Bytes()) {
		t.Fatalf("vigil --man: exit %d, %d bytes, %s", code, out.Len(), errb.String())
	}
}

// TestHelpAndManShowEveryOption: each command's --help and the man page
// list every option its parser accepts, under the same label.
func TestHelpAndManShowEveryOption(t *testing.T) {
	var man bytes.Buffer
	if err := writeMan(&man); err != nil {
		t.Fatal(err)
	}
	for _, n := range commandNames() {
		var out, errb bytes.Buffer
		if code := realMain([]string{n, "--help"}, &out, &errb); code != 0 {
			t.Errorf("vigil %s --help: exit %d: %s", n, code, errb.String())
			continue
		}
		d := commands[n].doc()
		opts := d.options
		for _, s := range d.subs {
			opts = append(opts, s.options...)
		}
		for _, o := range opts {
			if !strings.Contains(out.String(), o.label()+" ") {
				t.Errorf("vigil %s --help lacks %q", n, o.label())
			}
			if !strings.Contains(man.String(), roffEscape(o.label())+`\fR`) {
				t.Errorf("vigil(8) lacks %s's %q", n, o.label())
			}
		}
		for _, s := range d.synopsis {
			if !strings.Contains(out.String(), "vigil "+s) || !strings.Contains(man.String(), roffEscape("vigil "+s)) {
				t.Errorf("synopsis %q missing from vigil %s --help or vigil(8)", s, n)
			}
		}
	}
	// The getopt tables, option by option: nothing parsed is left out.
	for _, o := range runOptions {
		if !strings.Contains(man.String(), roffEscape("--"+o.long)) {
			t.Errorf("vigil(8) lacks vigil run --%s", o.long)
		}
	}
	// And the flag sets: every name a parser knows.
	for name, fs := range map[string]*flag.FlagSet{"check": new(checkArgs).flags(), "genhash": new(genhashArgs).flags(),
		"sim": new(simArgs).flags(), "swarm": new(swarmArgs).flags()} {
		fs.VisitAll(func(f *flag.Flag) {
			dash := "--"
			if len(f.Name) == 1 {
				dash = "-"
			}
			if !strings.Contains(man.String(), roffEscape(dash+f.Name)) {
				t.Errorf("vigil(8) lacks %s's %s%s", name, dash, f.Name)
			}
		})
	}
}

// TestManPageLint formats vigil(8) with man-db and groff, warnings on,
// and requires no warning.
func TestManPageLint(t *testing.T) {
	if _, err := exec.LookPath("man"); err != nil {
		if _, gerr := exec.LookPath("groff"); gerr != nil {
			t.Skip("neither man (man-db) nor groff installed: scripts/install-deps.sh installs man-db as root")
		}
	}
	page, err := filepath.Abs(manFile)
	if err != nil {
		t.Fatal(err)
	}
	runs := [][]string{
		{"man", "--warnings", "-l", "-Tutf8", "-Z", page},
		{"groff", "-man", "-ww", "-z", page},
	}
	ran := 0
	for _, r := range runs {
		if _, err := exec.LookPath(r[0]); err != nil {
			t.Logf("%s not installed: skipped", r[0])
			continue
		}
		cmd := exec.Command(r[0], r[1:]...)
		cmd.Env = append(os.Environ(), "MANROFFSEQ=", "MANWIDTH=80", "LC_ALL=C.UTF-8")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: %v\n%s", strings.Join(r, " "), err, stderr.String())
		}
		if stderr.Len() > 0 {
			t.Errorf("%s warns:\n%s", strings.Join(r, " "), stderr.String())
		}
		ran++
	}
	if ran == 0 {
		t.Skip("no formatter ran")
	}
}
