package scenario

import (
	"bytes"
	"testing"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
)

// CheckDeterminism re-runs a scenario's events (Harness.Log): two fresh
// engines give the same effects byte for byte in the journal's encoding,
// and an engine restored from a snapshot (MarshalState) taken a third,
// half and two thirds of the way continues identically, byte for byte in
// the journal's encoding (what replay verify compares when it resumes
// from a snapshot).
func CheckDeterminism(t testing.TB, evs []events.Event) {
	t.Helper()
	a := runAll(t, engine.New(), evs)
	b := runAll(t, engine.New(), evs)
	for k := range a {
		if !bytes.Equal(a[k], b[k]) {
			t.Fatalf("event %d (%s): runs differ:\n%x\n%x", k, describe(evs[k]), a[k], b[k])
		}
	}
	for _, cut := range []int{len(evs) / 3, len(evs) / 2, 2 * len(evs) / 3} {
		eng := engine.New()
		runAll(t, eng, evs[:cut])
		st, err := eng.MarshalState()
		if err != nil {
			t.Fatalf("MarshalState: %v", err)
		}
		r, err := engine.RestoreState(st)
		if err != nil {
			t.Fatalf("RestoreState at %d: %v", cut, err)
		}
		st2, err := r.MarshalState()
		if err != nil {
			t.Fatalf("MarshalState after restore: %v", err)
		}
		if !bytes.Equal(st, st2) {
			t.Fatalf("state at %d does not round-trip:\n%s\n%s", cut, st, st2)
		}
		c := runAll(t, r, evs[cut:])
		for k := range c {
			if !bytes.Equal(c[k], a[cut+k]) {
				t.Fatalf("restored at %d: event %d (%s) differs:\n%x\n%x", cut, cut+k, describe(evs[cut+k]), c[k], a[cut+k])
			}
		}
	}
}

func runAll(t testing.TB, eng *engine.Engine, evs []events.Event) [][]byte {
	out := make([][]byte, len(evs))
	for k, ev := range evs {
		b, err := effects.EncodeAll(eng.Step(ev))
		if err != nil {
			t.Fatalf("event %d (%s): encode effects: %v", k, describe(ev), err)
		}
		out[k] = b
	}
	return out
}
