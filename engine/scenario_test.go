package engine

import (
	"encoding/json"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// TestScenarios runs every testdata scenario, then checks determinism on
// the events it produced: two fresh engines agree byte for byte, and an
// engine restored from a snapshot taken midway continues identically.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		h := newHarness(t)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string { h.t = t; return h.run(d) })
		checkDeterminism(t, h.log)
	})
}

type taggedEffect struct {
	Kind   string         `json:"kind"`
	Effect effects.Effect `json:"effect"`
}

func encodeEffects(t testing.TB, effs []effects.Effect) string {
	tagged := make([]taggedEffect, len(effs))
	for k, e := range effs {
		tagged[k] = taggedEffect{e.EffectKind().String(), e}
	}
	b, err := json.Marshal(tagged)
	if err != nil {
		t.Fatalf("encode effects: %v", err)
	}
	return string(b)
}

func runAll(t testing.TB, eng *Engine, evs []events.Event) []string {
	out := make([]string, len(evs))
	for k, ev := range evs {
		out[k] = encodeEffects(t, eng.Step(ev))
	}
	return out
}

func checkDeterminism(t *testing.T, evs []events.Event) {
	t.Helper()
	a := runAll(t, New(), evs)
	b := runAll(t, New(), evs)
	for k := range a {
		if a[k] != b[k] {
			t.Fatalf("event %d (%T): runs differ:\n%s\n%s", k, evs[k], a[k], b[k])
		}
	}
	for _, cut := range []int{len(evs) / 3, len(evs) / 2, 2 * len(evs) / 3} {
		eng := New()
		runAll(t, eng, evs[:cut])
		st, err := eng.MarshalState()
		if err != nil {
			t.Fatalf("MarshalState: %v", err)
		}
		r, err := RestoreState(st)
		if err != nil {
			t.Fatalf("RestoreState at %d: %v", cut, err)
		}
		st2, _ := r.MarshalState()
		if string(st) != string(st2) {
			t.Fatalf("state at %d does not round-trip:\n%s\n%s", cut, st, st2)
		}
		c := runAll(t, r, evs[cut:])
		for k := range c {
			if c[k] != a[cut+k] {
				t.Fatalf("restored at %d: event %d (%T) differs:\n%s\n%s", cut, cut+k, evs[cut+k], c[k], a[cut+k])
			}
		}
	}
}
