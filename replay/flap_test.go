package replay

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/events/conf"
)

func loadConf(t *testing.T, path string) *conf.Config {
	t.Helper()
	cfg, _, err := config.Load(filepath.Join("..", path), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestWhatIfAvoidsFlap is the documented what-if case: in
// testdata/replay/flap.scn node a crashes five seconds after each start,
// having preempted b each time, so the VIP moves twice per cycle. Fed the
// same inputs, a with nopreempt (or preempt_delay 30) stays BACKUP in
// every short-lived run; only in the last run, where b's recorded adverts
// stop (b yielded to the real a), does it take over — the limit of a
// what-if, which the output states.
func TestWhatIfAvoidsFlap(t *testing.T) {
	j := node(t, openSet(t, simJournal(t, "testdata/replay/flap.scn")), "a")
	for _, alt := range []string{"testdata/replay/a-nopreempt.conf", "testdata/replay/a-preempt-delay.conf"} {
		t.Run(filepath.Base(alt), func(t *testing.T) {
			res, err := WhatIf(j, loadConf(t, alt), alt)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := masters(res.Recorded), 4; got != want {
				t.Fatalf("recorded %d takeovers, want %d", got, want)
			}
			if got := masters(res.WhatIf); got != 1 {
				t.Errorf("what-if: %d takeovers, want 1 (the last run only)", got)
			}
			if len(res.WhatIf) >= len(res.Recorded) {
				t.Errorf("what-if: %d transitions, recorded %d: no fewer", len(res.WhatIf), len(res.Recorded))
			}
			last := res.WhatIf[len(res.WhatIf)-1]
			if last.Run != 4 || last.Reason != "master-down-timer" {
				t.Errorf("the what-if's takeover: %+v", last)
			}
			var out bytes.Buffer
			res.Print(&out)
			for _, want := range []string{"replayed as they were recorded", "transitions: recorded 8, what-if 5",
				"entering MASTER: recorded 4, what-if 1", "* 1       8.414062s  VI_1 BACKUP -> MASTER"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// TestWhatIfSameConfig is the what-if machinery's own check: fed its own
// configuration, each node must re-derive exactly the recorded
// transitions, at the same times — the timers, the address echoes and the
// split between external and internal events are right.
func TestWhatIfSameConfig(t *testing.T) {
	for _, scn := range []string{"testdata/replay/flap.scn", "testdata/sim/election.scn", "testdata/sim/graceful_failover.scn",
		"testdata/sim/track_script.scn", "testdata/sim/sync_group.scn", "testdata/sim/partition_heal.scn",
		"testdata/sim/vrrp_v3.scn", "testdata/sim/unicast.scn", "testdata/sim/preempt_delay.scn"} {
		t.Run(strings.TrimSuffix(filepath.Base(scn), ".scn"), func(t *testing.T) {
			for _, j := range openSet(t, simJournal(t, scn)) {
				res, err := WhatIf(j, firstConfig(t, j), "same")
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				res.Print(&out)
				if len(res.Recorded) == 0 || strings.Contains(out.String(), "\n* ") {
					t.Errorf("node %s: the what-if with its own configuration differs:\n%s", j.Name, out.String())
				}
			}
		})
	}
}
