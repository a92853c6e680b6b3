package replay

import (
	"bytes"
	"fmt"
	"github.com/vigil-ha/vigil/driver"
	"io"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/journal"
)

// VerifyReport is the outcome of re-running a journal through the current
// engine.
type VerifyReport struct {
	Node string
	// Records is the number of events read; Verified the number whose
	// effects were compared; Skipped those that could not be (before the
	// first usable snapshot, or after a gap until the next one).
	Records, Verified, Skipped int
	// States is the number of recorded snapshots the re-run engine's
	// state matched; StateDiffs describes those it did not. A state
	// difference alone is a warning, not a divergence: an engine that
	// gained a field since the journal was written differs there while
	// behaving identically, and a difference that matters shows up in
	// the effects.
	States     int
	StateDiffs []string
	Runs       int
	// Notes say where the re-run started and resumed, in order.
	Notes []string
	// Divergence is the first difference, nil if none.
	Divergence *Divergence
}

// Divergence is a re-run producing something other than what the journal
// recorded: a determinism bug, or an engine that changed since.
type Divergence struct {
	Seq   uint64
	Event events.Event
	// State is set for a state comparison (see VerifyReport.StateDiffs).
	State bool
	// Recorded and Replayed are the two sides' encoded effects (or states).
	Recorded, Replayed []byte
	// RecordedEffects and ReplayedEffects are the decoded effects.
	RecordedEffects, ReplayedEffects []effects.Effect
	// Index is the first effect that differs (len of the shorter list if
	// one is a prefix of the other).
	Index int
}

// Verify re-runs j's events through the current engine and compares the
// effects, byte for byte in their encoded form, with the recorded ones,
// and each recorded snapshot with the re-run engine's state. It stops at
// the first divergence.
//
// Each run is re-run from its start (its ConfigLoaded) when the journal
// holds it, else from its first snapshot. Events the journal lost (a
// recorded gap, or missing sequences) break the chain: the re-run resumes
// from the next snapshot after them, and the report says so.
func Verify(j *Journal) (*VerifyReport, error) {
	rep := &VerifyReport{Node: j.Name, Runs: len(j.Runs)}
	snapAt := map[uint64]journal.SnapshotInfo{}
	for _, s := range j.Snaps {
		snapAt[s.Seq] = s // a rotation snapshot and its duplicate agree
	}
	var (
		eng    *engine.Engine
		buf    []byte
		next   uint64 // the sequence expected next
		runIdx = -1
		// lost says why eng is nil: the re-run waits for a snapshot.
		lost string
	)
	for rec, err := range j.RawRecords(0) {
		if err != nil {
			return rep, err
		}
		rep.Records++
		if runIdx+1 < len(j.Runs) && rec.Seq == j.Runs[runIdx+1].First {
			runIdx++
			run := j.Runs[runIdx]
			if run.Fresh {
				eng, lost = engine.New(), ""
				rep.Notes = append(rep.Notes, fmt.Sprintf("run %d: re-run from its start (seq %d)", run.N, rec.Seq))
			} else {
				eng, lost = nil, fmt.Sprintf("run %d begins mid-run in the journal", run.N)
			}
		} else if next != 0 && rec.Seq != next && eng != nil {
			eng, lost = nil, fmt.Sprintf("events %d..%d missing", next, rec.Seq-1)
			if g := j.gapBetween(next, rec.Seq-1); g != nil {
				lost = g.String()
			}
		}
		next = rec.Seq + 1
		if eng == nil {
			// A snapshot of the state after the previous event lets the
			// re-run (re)start here.
			s, ok := snapAt[rec.Seq-1]
			if ok && j.gapBetween(rec.Seq, rec.Seq) == nil {
				state, err := j.SnapshotState(s.File, s.Seq)
				if err != nil {
					return rep, err
				}
				if eng, err = engine.RestoreState(state); err != nil {
					return rep, fmt.Errorf("snapshot after seq %d: %w", s.Seq, err)
				}
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s: re-run from the snapshot after seq %d", lost, s.Seq))
				lost = ""
			}
		}
		if eng == nil {
			rep.Skipped++
			continue
		}
		buf, err = effects.AppendEncodeAll(buf[:0], rerun(eng, rec.Event))
		if err != nil {
			return rep, fmt.Errorf("seq %d: encode re-run effects: %w", rec.Seq, err)
		}
		if !bytes.Equal(buf, rec.RawEffects) {
			rep.Divergence, err = newDivergence(rec, buf)
			return rep, err
		}
		rep.Verified++
		if s, ok := snapAt[rec.Seq]; ok {
			d, err := compareState(j, eng, rec, s)
			if err != nil {
				return rep, err
			}
			if d == nil {
				rep.States++
			} else {
				rep.StateDiffs = append(rep.StateDiffs, fmt.Sprintf("the state after seq %d differs from its snapshot from byte %d:\n      recorded: %s\n      re-run:   %s",
					d.Seq, d.Index, excerpt(d.Recorded, d.Index), excerpt(d.Replayed, d.Index)))
			}
		}
	}
	if lost != "" {
		rep.Notes = append(rep.Notes, lost+": no snapshot follows; the rest was not re-run")
	}
	return rep, nil
}

func newDivergence(rec journal.RawRecord, replayed []byte) (*Divergence, error) {
	d := &Divergence{Seq: rec.Seq, Event: rec.Event, Recorded: bytes.Clone(rec.RawEffects), Replayed: bytes.Clone(replayed)}
	var err error
	if d.RecordedEffects, err = effects.DecodeAll(d.Recorded); err != nil {
		return nil, fmt.Errorf("seq %d: recorded effects: %w", rec.Seq, err)
	}
	if d.ReplayedEffects, err = effects.DecodeAll(d.Replayed); err != nil {
		return nil, fmt.Errorf("seq %d: re-run effects: %w", rec.Seq, err)
	}
	d.Index = firstDifference(d.RecordedEffects, d.ReplayedEffects)
	return d, nil
}

// firstDifference returns the index of the first effect whose encoding
// differs.
func firstDifference(a, b []effects.Effect) int {
	for k := range min(len(a), len(b)) {
		x, errx := effects.EncodeAll(a[k : k+1])
		y, erry := effects.EncodeAll(b[k : k+1])
		if errx != nil || erry != nil || !bytes.Equal(x, y) {
			return k
		}
	}
	return min(len(a), len(b))
}

// compareState compares the re-run engine's state with the snapshot
// recorded after the same event.
func compareState(j *Journal, eng *engine.Engine, rec journal.RawRecord, s journal.SnapshotInfo) (*Divergence, error) {
	recorded, err := j.SnapshotState(s.File, s.Seq)
	if err != nil {
		return nil, err
	}
	got, err := eng.MarshalState()
	if err != nil {
		return nil, fmt.Errorf("seq %d: marshal state: %w", rec.Seq, err)
	}
	if bytes.Equal(recorded, got) {
		return nil, nil
	}
	k := 0
	for k < min(len(recorded), len(got)) && recorded[k] == got[k] {
		k++
	}
	return &Divergence{Seq: rec.Seq, Event: rec.Event, State: true, Recorded: recorded, Replayed: got, Index: k}, nil
}

// Print writes the report: a summary line, the notes, and the divergence
// with both sides.
func (r *VerifyReport) Print(w io.Writer) {
	fmt.Fprintf(w, "%s: %d events in %d runs, %d re-run with identical effects, %d not re-run, %d of %d snapshots identical\n",
		r.Node, r.Records, r.Runs, r.Verified, r.Skipped, r.States, r.States+len(r.StateDiffs))
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
	for k, n := range r.StateDiffs {
		if k == 3 {
			fmt.Fprintf(w, "  warning: %d more snapshots differ\n", len(r.StateDiffs)-k)
			break
		}
		fmt.Fprintf(w, "  warning: %s\n", n)
	}
	d := r.Divergence
	if d == nil {
		fmt.Fprintf(w, "%s: OK\n", r.Node)
		return
	}
	fmt.Fprintf(w, "%s: DIVERGENCE at seq %d (%s at %s)\n", r.Node, d.Seq, driver.DescribeEvent(d.Event), fmtTime(d.Event.EventTime()))
	fmt.Fprintf(w, "  first difference at effect %d\n", d.Index)
	side := func(name string, effs []effects.Effect) {
		fmt.Fprintf(w, "  %s (%d effects):\n", name, len(effs))
		for k, e := range effs {
			mark := " "
			if k == d.Index {
				mark = ">"
			}
			fmt.Fprintf(w, "   %s %2d %s\n", mark, k, driver.DescribeEffect(e))
		}
	}
	side("recorded", d.RecordedEffects)
	side("re-run", d.ReplayedEffects)
}

// excerpt shows b around offset k.
func excerpt(b []byte, k int) string {
	lo, hi := max(k-40, 0), min(k+80, len(b))
	s := string(b[lo:hi])
	if lo > 0 {
		s = "…" + s
	}
	if hi < len(b) {
		s += "…"
	}
	return s
}
