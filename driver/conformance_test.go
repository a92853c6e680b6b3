package driver_test

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/vigil-ha/vigil/daemon"
	"github.com/vigil-ha/vigil/driver"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/replay"
	"github.com/vigil-ha/vigil/sim"
	"github.com/vigil-ha/vigil/sim/harness"
	"github.com/vigil-ha/vigil/sim/simjournal"
)

// effectLog is a daemon journal that keeps each step's encoded effects.
type effectLog struct{ effs [][]byte }

func (l *effectLog) Append(_ uint64, _ events.Event, effs []effects.Effect) error {
	b, err := effects.EncodeAll(effs)
	l.effs = append(l.effs, b)
	return err
}

// TestOneEngineFourDrivers feeds the same recorded event sequence — a
// simulated cluster's journals, with failovers, a crash, tracking and a
// sync group — through the daemon's loop (with no executors, so nothing
// answers on its own), a simulated node following the recording, and
// replay verify, and asserts that every one produced exactly the
// recorded effects, byte for byte.
func TestOneEngineFourDrivers(t *testing.T) {
	for _, scn := range []string{"testdata/replay/flap.scn", "testdata/sim/track_script.scn",
		"testdata/sim/sync_group.scn", "testdata/sim/unicast.scn", "testdata/sim/static_address.scn"} {
		t.Run(filepath.Base(scn), func(t *testing.T) {
			dir := record(t, scn)
			set, err := replay.OpenSet(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer replay.CloseSet(set)
			for _, j := range set {
				t.Run(j.Name, func(t *testing.T) { conform(t, j) })
			}
		})
	}
}

func record(t *testing.T, scn string) string {
	t.Helper()
	s, err := sim.ParseFile(filepath.Join("..", scn))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "journal")
	rec, err := simjournal.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.RunScenarioRecorded(s, harness.Backend(), 1, io.Discard, rec); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func conform(t *testing.T, j *replay.Journal) {
	rep, err := replay.Verify(j)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Divergence != nil || rep.Verified == 0 {
		var b bytes.Buffer
		rep.Print(&b)
		t.Fatalf("replay verify:\n%s", b.String())
	}

	var now events.Time
	dl := &effectLog{}
	loop := &daemon.Loop{Engine: engine.New(), Log: zerolog.Nop(), Journal: dl,
		Now: func() events.Time { return now }}
	var world *sim.World
	var node *sim.Node
	steps := 0
	for rec, err := range j.RawRecords(0) {
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := rec.Event.(*events.ConfigLoaded); ok && node == nil {
			world = sim.NewWorld(harness.Backend(), 1)
			if err := world.AddNode(j.Name, c.Config, c.Digest, nil); err != nil {
				t.Fatal(err)
			}
			node = world.Node(j.Name)
		}
		if isRestart(j, rec.Seq) {
			// A later run (the node was restarted): replay verify
			// re-runs it from its start; one run is enough here.
			break
		}
		now = rec.Event.EventTime()
		loop.Step(rec.Event)
		got := dl.effs[len(dl.effs)-1]
		if !bytes.Equal(got, rec.RawEffects) {
			t.Fatalf("daemon loop, seq %d (%s): effects differ\n got %s\nwant %s", rec.Seq, driver.DescribeEvent(rec.Event),
				describeAll(t, got), describeAll(t, rec.RawEffects))
		}
		if node != nil {
			b, err := effects.EncodeAll(world.Follow(node, rec.Event))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, rec.RawEffects) {
				t.Fatalf("sim node, seq %d (%s): effects differ\n got %s\nwant %s", rec.Seq, driver.DescribeEvent(rec.Event),
					describeAll(t, b), describeAll(t, rec.RawEffects))
			}
		}
		steps++
	}
	t.Logf("%d events compared, %d verified", steps, rep.Verified)
	if steps < 10 {
		t.Fatalf("only %d events compared", steps)
	}
}

// isRestart reports whether seq starts a run after the first.
func isRestart(j *replay.Journal, seq uint64) bool {
	for k, r := range j.Runs {
		if k > 0 && seq >= r.First {
			return true
		}
	}
	return false
}

func describeAll(t *testing.T, b []byte) string {
	effs, err := effects.DecodeAll(b)
	if err != nil {
		t.Fatal(err)
	}
	var s string
	for _, e := range effs {
		s += "\n  " + driver.DescribeEffect(e)
	}
	return s
}
