package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/journal"
)

// Origin says where a re-run started.
type Origin struct {
	// Snapshot is set when it started from the snapshot taken after event
	// Seq; otherwise from an empty engine before event Seq (a run's
	// ConfigLoaded).
	Snapshot bool
	Seq      uint64
	// Steps is the number of events re-run from there.
	Steps int
}

func (o Origin) String() string {
	if o.Snapshot {
		return fmt.Sprintf("snapshot after seq %d, then %d events re-run", o.Seq, o.Steps)
	}
	return fmt.Sprintf("run start at seq %d, %d events re-run", o.Seq, o.Steps)
}

// EngineAt returns an engine in the state it had just after event seq:
// restored from the newest usable snapshot at or before seq in the same
// run (or the run's start), with the events up to seq re-run. A snapshot
// is usable when no events are missing between it and seq.
func (j *Journal) EngineAt(seq uint64) (*engine.Engine, Origin, error) {
	run, ok := j.RunOf(seq)
	if !ok {
		return nil, Origin{}, fmt.Errorf("seq %d is not in the journal", seq)
	}
	var origin Origin
	found := false
	for k := len(j.Snaps) - 1; k >= 0 && !found; k-- {
		s := j.Snaps[k]
		if s.Seq <= seq && s.File >= run.FirstFile && s.File <= run.LastFile && s.Seq+1 >= run.First &&
			j.gapBetween(s.Seq+1, seq) == nil {
			origin, found = Origin{Snapshot: true, Seq: s.Seq}, true
		}
	}
	if !found {
		if !run.Fresh {
			return nil, Origin{}, fmt.Errorf("seq %d: the journal begins in the middle of run %d and holds no snapshot of it before seq %d", seq, run.N, seq)
		}
		if g := j.gapBetween(run.First, seq); g != nil {
			return nil, Origin{}, fmt.Errorf("seq %d: events were lost before it (%s) and no snapshot follows the loss", seq, g)
		}
		origin = Origin{Seq: run.First}
	}
	var eng *engine.Engine
	next := origin.Seq
	if origin.Snapshot {
		state, err := j.SnapshotState(j.snapFile(origin.Seq, run), origin.Seq)
		if err != nil {
			return nil, Origin{}, err
		}
		if eng, err = engine.RestoreState(state); err != nil {
			return nil, Origin{}, fmt.Errorf("snapshot after seq %d: %w", origin.Seq, err)
		}
		next++
	} else {
		eng = engine.New()
	}
	for rec, err := range j.RawRecords(next) {
		if err != nil {
			return nil, Origin{}, err
		}
		if rec.Seq > seq {
			break
		}
		if rec.Seq != next {
			return nil, Origin{}, fmt.Errorf("events %d..%d are missing from the journal", next, rec.Seq-1)
		}
		rerun(eng, rec.Event)
		origin.Steps++
		next++
	}
	if next != seq+1 {
		return nil, Origin{}, fmt.Errorf("event %d is missing from the journal", next)
	}
	return eng, origin, nil
}

// snapFile returns the index of the file of run holding the snapshot at seq.
func (j *Journal) snapFile(seq uint64, run Run) int {
	for _, s := range j.Snaps {
		if s.Seq == seq && s.File >= run.FirstFile && s.File <= run.LastFile {
			return s.File
		}
	}
	return run.FirstFile
}

// gapBetween returns a recorded gap overlapping first..last, or nil.
func (j *Journal) gapBetween(first, last uint64) *journal.Gap {
	for k := range j.Gaps {
		if g := &j.Gaps[k]; g.First <= last && g.Last >= first {
			return g
		}
	}
	return nil
}

// At writes the engine state at t as indented JSON (engine.MarshalState),
// preceded by nothing: the output is the state document. It returns the
// sequence the state follows and where the re-run started.
func (j *Journal) At(t TimeSpec, w io.Writer) (uint64, Origin, error) {
	seq, err := j.Locate(t)
	if err != nil {
		return 0, Origin{}, err
	}
	eng, origin, err := j.EngineAt(seq)
	if err != nil {
		return 0, Origin{}, err
	}
	b, err := eng.MarshalState()
	if err != nil {
		return 0, Origin{}, fmt.Errorf("marshal state: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return 0, Origin{}, fmt.Errorf("indent state: %w", err)
	}
	buf.WriteByte('\n')
	if _, err := w.Write(buf.Bytes()); err != nil {
		return 0, Origin{}, err
	}
	return seq, origin, nil
}
