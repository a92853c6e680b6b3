// Package simjournal records a simulation as journals: one per simulated
// node, written exactly as the daemon writes its own, so that `vigil
// replay` reads them back. It is what `vigil sim --journal DIR` uses. It
// lives apart from package sim and package journal so that neither the
// daemon (which imports journal) links the simulator nor the simulator
// links bbolt.
package simjournal

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/journal"
	"github.com/vigil-ha/vigil/sim"
)

// Origin is the wall time a simulation's virtual time 0 maps to in the
// journals `vigil sim --journal` writes: a fixed origin, so the same
// scenario and seed give the same file names and record times.
var Origin = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultSnapshotEvery is how much virtual time passes between the
// periodic snapshots of a simulated node's journal.
const DefaultSnapshotEvery = time.Minute

// Recorder writes one journal per simulated node, DIR/NODE/, exactly as
// the daemon writes its own: each engine start opens a journal.Writer (a
// new file whose first event is the ConfigLoaded), every event is appended
// with its effects, a snapshot follows the Start event, and more are taken
// when the Writer asks (SnapshotDue) and every SnapshotEvery of virtual
// time. The writers' wall clock is Origin plus virtual time.
//
// It implements sim.Recorder. Errors are kept and returned by Close.
type Recorder struct {
	dir string
	// SnapshotEvery is the virtual time between periodic snapshots
	// (default DefaultSnapshotEvery).
	SnapshotEvery time.Duration

	// now is the virtual time, read by the writers' goroutines.
	now   atomic.Int64
	nodes map[string]*nodeJournal
	err   error
}

var _ sim.Recorder = (*Recorder)(nil)

// nodeJournal is a running node's journal.
type nodeJournal struct {
	w        *journal.Writer
	eng      interface{ MarshalState() ([]byte, error) }
	seq      uint64
	lastSnap events.Time
}

// New returns a recorder writing under dir, which must not hold journals
// already (a second run would continue the first one's).
func New(dir string) (*Recorder, error) {
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if len(ents) > 0 {
		return nil, fmt.Errorf("journal: %s is not empty", dir)
	}
	return &Recorder{dir: dir, SnapshotEvery: DefaultSnapshotEvery, nodes: map[string]*nodeJournal{}}, nil
}

// clock is the writers' wall clock.
func (r *Recorder) clock() time.Time {
	return Origin.Add(time.Duration(r.now.Load()))
}

// Started opens a new journal file for node.
func (r *Recorder) Started(node string, at events.Time, eng sim.Engine) error {
	r.now.Store(int64(at))
	if n := r.nodes[node]; n != nil {
		r.close(node, n) // defensive: Halted always comes first
	}
	w, err := journal.Open(filepath.Join(r.dir, node), journal.Options{
		Now: r.clock, Host: node, Version: "sim", NoSync: true,
		QueueSize: journal.DefaultQueueSize,
		// Age-based rotation is checked by the writer goroutine at real
		// times: keep it out of simulations so their files are the same
		// from run to run.
		RotateAge: 24 * 365 * time.Hour,
	})
	if err != nil {
		return err
	}
	n := &nodeJournal{w: w, seq: w.NextSeq() - 1, lastSnap: at}
	n.eng, _ = eng.(interface{ MarshalState() ([]byte, error) })
	r.nodes[node] = n
	return nil
}

// Stepped appends one event and its effects.
func (r *Recorder) Stepped(node string, ev events.Event, effs []effects.Effect) {
	n := r.nodes[node]
	if n == nil {
		return
	}
	at := ev.EventTime()
	r.now.Store(int64(at))
	n.seq++
	if n.w.Backlog() >= journal.DefaultQueueSize/2 {
		// A simulation outruns any disk: wait for the writer rather than
		// let Append record a gap.
		if err := n.w.Sync(); err != nil {
			r.fail(fmt.Errorf("journal %s: %w", node, err))
		}
	}
	if err := n.w.Append(n.seq, ev, effs); err != nil {
		r.fail(fmt.Errorf("journal %s: %w", node, err))
	}
	_, start := ev.(*events.Start)
	if start || n.w.SnapshotDue() || (r.SnapshotEvery > 0 && at.Sub(n.lastSnap) >= r.SnapshotEvery) {
		r.snapshot(node, n, at)
	}
}

func (r *Recorder) snapshot(node string, n *nodeJournal, at events.Time) {
	if n.eng == nil {
		return
	}
	n.lastSnap = at
	b, err := n.eng.MarshalState()
	if err == nil {
		err = n.w.Snapshot(n.seq, b)
	}
	if errors.Is(err, journal.ErrQueueFull) {
		// Not an error: the Writer asks again (SnapshotDue) and the
		// periodic snapshot comes round.
		return
	}
	if err != nil {
		r.fail(fmt.Errorf("journal %s: snapshot: %w", node, err))
	}
}

// Halted closes node's journal file.
func (r *Recorder) Halted(node string, at events.Time) {
	r.now.Store(int64(at))
	if n := r.nodes[node]; n != nil {
		r.close(node, n)
	}
}

func (r *Recorder) close(node string, n *nodeJournal) {
	delete(r.nodes, node)
	if st := n.w.Stats(); st.Lost > 0 {
		r.fail(fmt.Errorf("journal %s: %d events lost", node, st.Lost))
	}
	if err := n.w.Close(); err != nil {
		r.fail(fmt.Errorf("journal %s: %w", node, err))
	}
}

func (r *Recorder) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Close closes the journals of the nodes still running and returns the
// first error met while recording.
func (r *Recorder) Close() error {
	for _, name := range slices.Sorted(maps.Keys(r.nodes)) {
		r.close(name, r.nodes[name])
	}
	return r.err
}
