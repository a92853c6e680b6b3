package replay

import (
	"bytes"
	"fmt"
	"github.com/vigil-ha/vigil/driver"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/journal"
)

// verifiedScenarios are re-run and must verify byte for byte.
var verifiedScenarios = []string{
	"testdata/replay/flap.scn", "testdata/sim/election.scn", "testdata/sim/graceful_failover.scn",
	"testdata/sim/track_script.scn", "testdata/sim/sync_group.scn", "testdata/sim/partition_heal.scn",
	"testdata/sim/reload_priority.scn", "testdata/sim/vrrp_v3.scn", "testdata/sim/unicast.scn",
}

func TestVerifySimJournals(t *testing.T) {
	for _, scn := range verifiedScenarios {
		t.Run(strings.TrimSuffix(filepath.Base(scn), ".scn"), func(t *testing.T) {
			for _, j := range openSet(t, simJournal(t, scn)) {
				rep, err := Verify(j)
				if err != nil {
					t.Fatal(err)
				}
				if rep.Divergence != nil || rep.Verified != rep.Records || rep.Skipped != 0 || rep.Records == 0 {
					var b bytes.Buffer
					rep.Print(&b)
					t.Fatalf("node %s:\n%s", j.Name, b.String())
				}
				if rep.States == 0 || len(rep.StateDiffs) > 0 {
					t.Errorf("node %s: %d snapshots matched, %d differ: %v", j.Name, rep.States, len(rep.StateDiffs), rep.StateDiffs)
				}
				if rep.Runs != len(j.Runs) || len(rep.Notes) != len(j.Runs) {
					t.Errorf("node %s: notes %q for %d runs", j.Name, rep.Notes, len(j.Runs))
				}
			}
		})
	}
}

// copyJournal rewrites src's records into a new journal directory,
// letting edit change each record's effects or drop the event (as a
// gap) and snapshot ask for a snapshot of the true engine state after an
// event. The true state comes from re-running every original event.
func copyJournal(t *testing.T, src *Journal, edit func(seq uint64, effs []effects.Effect) ([]effects.Effect, bool), snapshot func(seq uint64) bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "copy")
	created := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	w, err := journal.Open(dir, journal.Options{NoSync: true, Now: func() time.Time { return created }, Host: src.Name})
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New()
	for rec, err := range src.Records(0) {
		if err != nil {
			t.Fatal(err)
		}
		eng.Step(rec.Event)
		effs, keep := edit(rec.Seq, rec.Effects)
		if !keep {
			if err := w.Lose(rec.Seq, "test: dropped"); err != nil {
				t.Fatal(err)
			}
		} else if err := w.Append(rec.Seq, rec.Event, effs); err != nil {
			t.Fatal(err)
		}
		if snapshot(rec.Seq) {
			b, err := eng.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Snapshot(rec.Seq, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestVerifyReportsDivergence tampers with one record's effects: Verify
// must stop there and show both sides.
func TestVerifyReportsDivergence(t *testing.T) {
	src := node(t, openSet(t, simJournal(t, "testdata/sim/track_script.scn")), "a")
	// The first record from seq 20 on with effects loses its last one.
	var bad uint64
	var dropped string
	dir := copyJournal(t, src, func(seq uint64, effs []effects.Effect) ([]effects.Effect, bool) {
		if bad == 0 && seq >= 20 && len(effs) > 0 {
			bad = seq
			dropped = driver.DescribeEffect(effs[len(effs)-1])
			return effs[:len(effs)-1], true
		}
		return effs, true
	}, func(uint64) bool { return false })
	j := node(t, openSet(t, dir), "a")
	rep, err := Verify(j)
	if err != nil {
		t.Fatal(err)
	}
	d := rep.Divergence
	if d == nil || d.Seq != bad || rep.Verified != int(bad)-1 {
		t.Fatalf("divergence %+v after %d verified, want at seq %d", d, rep.Verified, bad)
	}
	if len(d.ReplayedEffects) != len(d.RecordedEffects)+1 || d.Index != len(d.RecordedEffects) {
		t.Errorf("recorded %d effects, re-run %d, first difference %d", len(d.RecordedEffects), len(d.ReplayedEffects), d.Index)
	}
	var b bytes.Buffer
	rep.Print(&b)
	for _, want := range []string{fmt.Sprintf("DIVERGENCE at seq %d", bad), "recorded (", "re-run (", fmt.Sprintf("> %2d %s", d.Index, dropped)} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

// TestVerifyResumesAfterGap loses events 30..34: the re-run cannot go on
// through them, resumes at the snapshot taken after 40, and says so.
func TestVerifyResumesAfterGap(t *testing.T) {
	src := node(t, openSet(t, simJournal(t, "testdata/sim/track_script.scn")), "a")
	dir := copyJournal(t, src, func(seq uint64, effs []effects.Effect) ([]effects.Effect, bool) {
		return effs, seq < 30 || seq > 34
	}, func(seq uint64) bool { return seq == 40 })
	j := node(t, openSet(t, dir), "a")
	if len(j.Gaps) != 1 || j.Gaps[0].First != 30 || j.Gaps[0].Last != 34 {
		t.Fatalf("gaps %v", j.Gaps)
	}
	rep, err := Verify(j)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Divergence != nil {
		t.Fatalf("divergence at %d", rep.Divergence.Seq)
	}
	if rep.Skipped != 6 || rep.Verified != rep.Records-6 || rep.States != 0 {
		t.Errorf("%d verified, %d skipped of %d, %d states; want 6 skipped (35..40) and the snapshot used, not compared", rep.Verified, rep.Skipped, rep.Records, rep.States)
	}
	notes := strings.Join(rep.Notes, "\n")
	if !strings.Contains(notes, "gap 30..34") || !strings.Contains(notes, "re-run from the snapshot after seq 40") {
		t.Errorf("notes do not explain the resumption:\n%s", notes)
	}
	// EngineAt cannot cross the gap without the snapshot either.
	if _, _, err := j.EngineAt(36); err == nil || !strings.Contains(err.Error(), "lost") {
		t.Errorf("EngineAt(36) across the gap: %v", err)
	}
	if _, o, err := j.EngineAt(45); err != nil || !o.Snapshot || o.Seq != 40 || o.Steps != 5 {
		t.Errorf("EngineAt(45): %+v, %v; want from the snapshot after 40", o, err)
	}
}
