package replay

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/journal"
)

// Journal is one node's journal opened for analysis: its Reader and an
// index of its runs, snapshots and gaps.
type Journal struct {
	// Name is the node: the subdirectory of a node set, else the host
	// recorded in the meta.
	Name string
	Path string
	*journal.Reader
	Files []journal.FileInfo
	Snaps []journal.SnapshotInfo
	Gaps  []journal.Gap
	Runs  []Run
}

// Run is the part of a journal one engine lineage produced: a daemon run
// from its start (or from where the journal begins) to its stop or crash.
// A daemon restart starts a new run: a fresh engine, and event times that
// start again from zero.
type Run struct {
	// N numbers the runs from 1.
	N int
	// First and Last are its first and last event sequences; FirstFile
	// and LastFile the indexes of the files holding them.
	First, Last         uint64
	FirstFile, LastFile int
	// FirstAt and LastAt are the times of those events.
	FirstAt, LastAt events.Time
	// Created is the wall time its first file was started.
	Created time.Time
	// Fresh is set when the run's first event is its ConfigLoaded, so it
	// replays from an empty engine; otherwise replay needs a snapshot.
	Fresh bool
	// Stopped is set when its last event is a Stop (a graceful exit).
	Stopped bool
}

// Wall converts an event time of the run to wall time.
func (r Run) Wall(t events.Time) time.Time { return r.Created.Add(t.Sub(r.FirstAt)) }

// Contains reports whether seq is one of the run's sequences.
func (r Run) Contains(seq uint64) bool { return seq >= r.First && seq <= r.Last }

// OpenJournal opens one node's journal (a file or a directory of files)
// and indexes it. Close releases it.
func OpenJournal(path string) (*Journal, error) {
	r, err := journal.OpenReader(path)
	if err != nil {
		return nil, err
	}
	j := &Journal{Path: path, Reader: r}
	if err := j.index(); err != nil {
		r.Close()
		return nil, err
	}
	if len(j.Files) > 0 {
		j.Name = j.Files[0].Meta.Host
	}
	if j.Name == "" {
		j.Name = filepath.Base(path)
	}
	return j, nil
}

// index reads the files, snapshots and gaps and splits the journal into
// runs. A file starts a new run when its first event is a ConfigLoaded
// and it holds no snapshot of the event just before it: the daemon opens
// a new file at each start and steps the configuration first, while a
// file started by rotation begins with the snapshot of the state so far.
func (j *Journal) index() error {
	var err error
	if j.Files, err = j.Reader.Files(); err != nil {
		return err
	}
	if j.Snaps, err = j.Reader.Snapshots(); err != nil {
		return err
	}
	if j.Gaps, err = j.Reader.Gaps(); err != nil {
		return err
	}
	for i, f := range j.Files {
		if f.First == 0 {
			continue // a run that stopped before its first event
		}
		first, last, err := j.Reader.EdgeEvents(i)
		if err != nil {
			return err
		}
		_, isConfig := first.(*events.ConfigLoaded)
		continues := j.snapshotIn(i, f.First-1)
		if len(j.Runs) == 0 || (isConfig && !continues) {
			j.Runs = append(j.Runs, Run{N: len(j.Runs) + 1, First: f.First, FirstFile: i,
				FirstAt: first.EventTime(), Created: f.Meta.Created, Fresh: isConfig && !continues})
		}
		r := &j.Runs[len(j.Runs)-1]
		r.Last, r.LastFile, r.LastAt = f.Last, i, last.EventTime()
		_, r.Stopped = last.(*events.Stop)
	}
	if len(j.Runs) == 0 {
		return fmt.Errorf("journal %s: no events", j.Path)
	}
	return nil
}

// snapshotIn reports whether file idx holds a snapshot at seq.
func (j *Journal) snapshotIn(idx int, seq uint64) bool {
	for _, s := range j.Snaps {
		if s.File == idx && s.Seq == seq {
			return true
		}
	}
	return false
}

// RunOf returns the run holding seq.
func (j *Journal) RunOf(seq uint64) (Run, bool) {
	for _, r := range j.Runs {
		if r.Contains(seq) {
			return r, true
		}
	}
	return Run{}, false
}

// Last is the last event sequence of the journal.
func (j *Journal) Last() uint64 { return j.Runs[len(j.Runs)-1].Last }

// OpenSet opens PATH as a set of node journals: a journal file or
// directory is one node; a directory whose subdirectories are journals
// (what `vigil sim --journal` writes) is one node per subdirectory, named
// after it.
func OpenSet(path string) ([]*Journal, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if !info.IsDir() {
		j, err := OpenJournal(path)
		if err != nil {
			return nil, err
		}
		return []*Journal{j}, nil
	}
	files, err := journal.ListFiles(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if len(files) > 0 {
		j, err := OpenJournal(path)
		if err != nil {
			return nil, err
		}
		return []*Journal{j}, nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var set []*Journal
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		sub := filepath.Join(path, e.Name())
		if fs, err := journal.ListFiles(sub); err != nil || len(fs) == 0 {
			continue
		}
		j, err := OpenJournal(sub)
		if err != nil {
			CloseSet(set)
			return nil, err
		}
		j.Name = e.Name()
		set = append(set, j)
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("journal: no journal files in %s or its subdirectories", path)
	}
	return set, nil
}

// CloseSet closes every journal of a set.
func CloseSet(set []*Journal) error {
	var errs []error
	for _, j := range set {
		errs = append(errs, j.Close())
	}
	return errors.Join(errs...)
}

// PickNode returns the journal of node name from set; name may be empty
// when the set has one node.
func PickNode(set []*Journal, name string) (*Journal, error) {
	if name == "" {
		if len(set) == 1 {
			return set[0], nil
		}
		return nil, fmt.Errorf("the journal holds several nodes (%s): choose one with --node", nodeNames(set))
	}
	for _, j := range set {
		if j.Name == name {
			return j, nil
		}
	}
	return nil, fmt.Errorf("no node %q in the journal (nodes: %s)", name, nodeNames(set))
}

func nodeNames(set []*Journal) string {
	s := ""
	for k, j := range set {
		if k > 0 {
			s += ", "
		}
		s += j.Name
	}
	return s
}
