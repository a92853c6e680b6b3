package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vigilRun runs vigil with args and returns the exit code and both outputs.
func vigilRun(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := realMain(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestReplaySession is the README's example session: record the flap
// scenario, then every replay command on it.
func TestReplaySession(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "flap")
	if code, out, errs := vigilRun("sim", "--journal", dir, "../../testdata/replay/flap.scn"); code != 0 {
		t.Fatalf("sim: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := vigilRun("sim", "--journal", dir, "../../testdata/replay/flap.scn"); code != 2 || !strings.Contains(errs, "not empty") {
		t.Errorf("sim into a used journal directory: exit %d, %s", code, errs)
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"timeline", dir}, []string{"a #11     VI_1 BACKUP -> MASTER prio 150 (master-down-timer)  <- TimerFired vrrp/VI_1/down", "== run 4 starts"}},
		{[]string{"timeline", dir + "/b", "--instance", "VI_1"}, []string{"VI_1 MASTER -> BACKUP prio 100 (higher-priority-advert)"}},
		{[]string{"verify", dir}, []string{"a: OK", "b: OK", "run 4: re-run from its start"}},
		{[]string{"explain", dir, "VI_1", "--node", "a", "--at", "20s"}, []string{"rule:    master-down-timer", "why:     preemption"}},
		{[]string{"what-if", dir, "--node", "a", "--config", "../../testdata/replay/a-nopreempt.conf"}, []string{"transitions: recorded 8, what-if 5"}},
	}
	for _, c := range cases {
		code, out, errs := vigilRun(append([]string{"replay"}, c.args...)...)
		if code != 0 {
			t.Errorf("replay %v: exit %d\n%s%s", c.args, code, out, errs)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("replay %v lacks %q:\n%s", c.args, w, out)
			}
		}
	}

	code, out, errs := vigilRun("replay", "at", dir+"/a", "9s")
	var state map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &state) != nil || state["vrrp"] == nil {
		t.Errorf("replay at: exit %d, not a state document:\n%.300s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "snapshot after seq") {
		t.Errorf("replay at does not say where it started: %s", errs)
	}

	svg := filepath.Join(t.TempDir(), "flap.svg")
	if code, out, errs := vigilRun("replay", "svg", dir, "-o", svg); code != 0 {
		t.Fatalf("replay svg: exit %d\n%s%s", code, out, errs)
	}
	b, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, new(struct{})); err != nil || strings.Count(string(b), `<g class="lane"`) != 2 {
		t.Errorf("svg: %v, %d lanes", err, strings.Count(string(b), `<g class="lane"`))
	}
}

func TestReplayUsage(t *testing.T) {
	for _, args := range [][]string{
		{"replay"}, {"replay", "nope"}, {"replay", "verify"}, {"replay", "explain", "x"},
		{"replay", "what-if", "x"}, {"replay", "svg", "x"}, {"replay", "at", "x", "soon"},
	} {
		if code, _, _ := vigilRun(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, out, _ := vigilRun("replay", "help"); code != 0 || !strings.Contains(out, "what-if") {
		t.Errorf("replay help: exit %d\n%s", code, out)
	}
	if code, _, errs := vigilRun("replay", "timeline", "/nonexistent"); code != 2 || !strings.Contains(errs, "nonexistent") {
		t.Errorf("missing journal: exit %d, %s", code, errs)
	}
}
