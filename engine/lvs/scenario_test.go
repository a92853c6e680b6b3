package lvs

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// TestScenarios runs every testdata scenario, then checks determinism on
// the events it produced: two fresh machines agree byte for byte (in the
// journal encoding), and a machine restored from a snapshot taken midway
// continues identically.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		h := newHarness(t)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string { h.t = t; return h.run(d) })
		checkDeterminism(t, h.log)
	})
}

func runAll(t testing.TB, m *Machine, evs []events.Event) [][]byte {
	out := make([][]byte, len(evs))
	for k, ev := range evs {
		b, err := effects.EncodeAll(m.Step(ev))
		if err != nil {
			t.Fatalf("event %d: encode effects: %v", k, err)
		}
		out[k] = b
	}
	return out
}

// snapshotRoundTrip encodes a machine's snapshot as the engine does
// (JSON), restores it and checks the restored snapshot is identical.
func snapshotRoundTrip(t testing.TB, m *Machine) *Machine {
	b, err := json.Marshal(m.Snapshot())
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("snapshot decode: %v", err)
	}
	r, err := Restore(m.Config(), &s)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	b2, _ := json.Marshal(r.Snapshot())
	if !bytes.Equal(b, b2) {
		t.Fatalf("snapshot does not round-trip:\n%s\n%s", b, b2)
	}
	return r
}

func checkDeterminism(t *testing.T, evs []events.Event) {
	t.Helper()
	a := runAll(t, New(), evs)
	b := runAll(t, New(), evs)
	for k := range a {
		if !bytes.Equal(a[k], b[k]) {
			t.Fatalf("event %d (%T): runs differ:\n%x\n%x", k, evs[k], a[k], b[k])
		}
	}
	for _, cut := range []int{len(evs) / 3, len(evs) / 2, 2 * len(evs) / 3} {
		m := New()
		runAll(t, m, evs[:cut])
		r := snapshotRoundTrip(t, m)
		c := runAll(t, r, evs[cut:])
		for k := range c {
			if !bytes.Equal(c[k], a[cut+k]) {
				t.Fatalf("restored at %d: event %d (%T) differs", cut, cut+k, evs[cut+k])
			}
		}
	}
}
