package sim

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var chaosIn = ChaosInputs{
	Nodes:    []string{"a", "b", "c"},
	Configs:  []string{"a.conf", "b.conf", "c.conf"},
	Links:    []string{"a:eth0", "b:eth0", "c:eth0", "a:eth1"},
	Segments: []ChaosSegment{{Name: "lan", Nodes: []string{"a", "b", "c"}}},
	Scripts:  []ChaosInput{{Node: "b", Name: "chk"}},
	Files:    []ChaosInput{{Node: "c", Name: "tf"}},
	Procs:    []ChaosInput{{Node: "a", Name: "tp", Quorum: 2}},
	VIPs:     []ChaosInput{{Node: "a", Name: "10.0.0.100"}},
}

// TestChaosSchedule: a seed always draws the same schedule; faults use
// only the cluster's own inputs, on the right nodes, in time order.
func TestChaosSchedule(t *testing.T) {
	one := ChaosSchedule(7, chaosIn, time.Hour)
	two := ChaosSchedule(7, chaosIn, time.Hour)
	if !reflect.DeepEqual(one, two) || len(one) < 50 {
		t.Fatalf("%d and %d faults", len(one), len(two))
	}
	if reflect.DeepEqual(one, ChaosSchedule(8, chaosIn, time.Hour)) {
		t.Error("seeds 7 and 8 draw the same schedule")
	}
	kinds := map[string]bool{}
	for i, f := range one {
		if i > 0 && f.At < one[i-1].At || f.End < f.At || f.At >= time.Hour {
			t.Fatalf("fault %d out of order: %+v", i, f)
		}
		w := strings.Fields(f.Cmd)
		kinds[w[0]] = true
		switch w[0] {
		case "script":
			if w[1] != "b" || w[2] != "chk" {
				t.Errorf("script on the wrong node: %s", f.Cmd)
			}
		case "track-file":
			if w[1] != "c" {
				t.Errorf("%s", f.Cmd)
			}
		case "process", "del-addr":
			if w[1] != "a" {
				t.Errorf("%s", f.Cmd)
			}
		case "reload":
			if w[2] != "config="+w[1]+".conf" {
				t.Errorf("%s", f.Cmd)
			}
		}
	}
	for _, k := range []string{"kill", "stop", "restart", "stall", "link-down", "partition", "script", "track-file", "process", "del-addr", "reload", "loss"} {
		if !kinds[k] {
			t.Errorf("an hour of seed 7 has no %s", k)
		}
	}
}

// TestChaosScenario: the rendered scenario parses, runs the faults at
// their times and ends with expect no-violations.
func TestChaosScenario(t *testing.T) {
	fs := []Fault{{At: 20 * time.Second, End: 25 * time.Second, Cmd: "kill a", Undo: "restart a"}, {At: 22 * time.Second, Cmd: "stall b 1s"}}
	text := ChaosScenario("a note\nreproduce: x", "node a config=a.conf\n", []string{"a", "b"}, 3, fs, time.Minute)
	want := "# a note\n# reproduce: x\nseed 3\nnode a config=a.conf\ninvariants on\nstart a b\nrun 20s\nkill a\nrun 2s\nstall b 1s\nrun 3s\nrestart a\nrun 35s\nexpect no-violations\n"
	if text != want {
		t.Errorf("got:\n%s\nwant:\n%s", text, want)
	}
	if _, err := Parse("x.scn", ".", text); err != nil {
		t.Error(err)
	}
}

// TestShrink: chunked removal finds the minimal failing subset.
func TestShrink(t *testing.T) {
	var fs []int
	for i := range 100 {
		fs = append(fs, i)
	}
	runs := 0
	got := Shrink(fs, func(try []int) bool {
		runs++
		return slices.Contains(try, 17) && slices.Contains(try, 64)
	})
	if !reflect.DeepEqual(got, []int{17, 64}) {
		t.Errorf("shrunk to %v", got)
	}
	if runs > 150 {
		t.Errorf("%d runs", runs)
	}
	if len(fs) != 100 || fs[99] != 99 {
		t.Error("Shrink changed its input")
	}
}
