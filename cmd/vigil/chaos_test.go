package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func chaosCmdArgs(dir string, extra ...string) []string {
	args := []string{"sim", "chaos"}
	fs, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "chaos", dir, "*.conf"))
	for _, f := range fs {
		args = append(args, "-f", f)
	}
	return append(args, extra...)
}

// TestSimChaosClean: the clean cluster's failure matrix and random
// schedules find nothing (exit 0), the table shows the master's crash
// handing VI_1 to b, and the temporary work directory is gone.
func TestSimChaosClean(t *testing.T) {
	var out, errb bytes.Buffer
	if code := realMain(chaosCmdArgs("clean", "--seeds", "2", "--duration", "10m"), &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	s := out.String()
	for _, want := range []string{
		"cluster: 3 node(s) (a, b, c), 10 virtual router(s), segments eth0 (a b c)\n",
		"FAULT ", "failure matrix: 12 fault(s), 0 with violations\n",
		"random schedules: 2 seed(s) from 1 x 10m0s,", ", 0 failed, ",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if !regexp.MustCompile(`(?m)^kill a +VI_1 VRID 51 on eth0 +a +b +2\.924s +3\.611s +restart a +a +0s +ok$`).MatchString(s) {
		t.Errorf("no kill a row for VI_1:\n%s", s)
	}
	if strings.Contains(s, "scenarios are in") {
		t.Errorf("a clean run names a work directory:\n%s", s)
	}
}

// TestSimChaosFlaw: the flawed cluster exits 1, writes its scenarios to
// --out, and `vigil sim FILE` on one of them fails (exit 1) with the same
// violation.
func TestSimChaosFlaw(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := realMain(chaosCmdArgs("sync-one-node", "--seeds", "2", "--seed", "4", "--duration", "20m", "--out", dir), &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out.String(), errb.String())
	}
	m := regexp.MustCompile(`(?m)^FAIL seed 4: [0-9.]+s: (no-master): .*\n  shrunk to 1 of \d+ faults: vigil sim (\S+) reproduces it$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no failure for seed 4:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "the configuration copies and scenarios are in "+dir+"\n") {
		t.Errorf("the directory is not named:\n%s", out.String())
	}
	for _, f := range []string{"a.conf", "b.conf", "chaos-seed-4.scn", "matrix-5.scn"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	var sout, serr bytes.Buffer
	if code := realMain([]string{"sim", m[2]}, &sout, &serr); code != 1 {
		t.Fatalf("vigil sim %s: exit %d, want 1\n%s%s", m[2], code, sout.String(), serr.String())
	}
	if !strings.Contains(sout.String(), "VIOLATION "+m[1]+": ") || !strings.Contains(sout.String(), "0 expectations held, 1 failed") {
		t.Errorf("vigil sim %s:\n%s", m[2], sout.String())
	}
}

// TestSimChaosJSON: --json prints one document with the matrix and the
// random schedules.
func TestSimChaosJSON(t *testing.T) {
	var out, errb bytes.Buffer
	if code := realMain(chaosCmdArgs("clean", "--seeds", "1", "--duration", "5m", "--json"), &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	var doc struct {
		Nodes  []struct{ Name string }
		Matrix struct {
			Rows []struct {
				Fault   string
				Routers []struct {
					Router, Before, After string
					GapMS                 float64 `json:"gap_ms"`
				}
				Violations []string
			}
		}
		Random struct {
			Seeds    int
			Failures []any
		}
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(doc.Nodes) != 3 || len(doc.Matrix.Rows) != 12 || doc.Random.Seeds != 1 || len(doc.Random.Failures) != 0 {
		t.Fatalf("%+v", doc)
	}
	r := doc.Matrix.Rows[0]
	if r.Fault != "kill a" || len(r.Routers) != 10 || r.Routers[0].Before != "a" || r.Routers[0].After != "b" || r.Routers[0].GapMS <= 0 {
		t.Errorf("first row %+v", r)
	}
}

// TestSimChaosUsage: bad usage and configurations that do not load exit 2,
// as vigil sim does.
func TestSimChaosUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("vrrp_instance {\n"), 0o644)
	topo := filepath.Join(dir, "topo")
	os.WriteFile(topo, []byte("segment lan\n"), 0o644)
	good := filepath.Join("..", "..", "testdata", "chaos", "clean", "a.conf")
	for _, args := range [][]string{
		{"sim", "chaos"},
		{"sim", "chaos", "-f", good, "extra"},
		{"sim", "chaos", "-f", bad},
		{"sim", "chaos", "-f", filepath.Join(dir, "missing.conf")},
		{"sim", "chaos", "-f", good + "@a"},
		{"sim", "chaos", "-f", good, "--topology", topo},
		{"sim", "chaos", "-f", good, "--topology", filepath.Join(dir, "none")},
		{"sim", "chaos", "-f", good, "--seeds", "-1"},
		{"sim", "chaos", "-f", good, "--bogus"},
	} {
		var out, errb bytes.Buffer
		if code := realMain(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s%s", args[2:], code, out.String(), errb.String())
		}
	}
}
