package replay

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
	"github.com/vigil-ha/vigil/sim"
	"github.com/vigil-ha/vigil/sim/harness"
	"github.com/vigil-ha/vigil/sim/simjournal"
)

// simJournal runs the scenario file path (relative to the repository
// root) with seed 1, recording a journal per node, and returns the
// directory holding them.
func simJournal(t testing.TB, path string) string {
	t.Helper()
	s, err := sim.ParseFile(filepath.Join("..", path))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "journal")
	rec, err := simjournal.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.RunScenarioRecorded(s, harness.Backend(), 1, io.Discard, rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if res.Failed > 0 {
		t.Fatalf("%s: %d expectations failed: %v", path, res.Failed, res.Failures)
	}
	return dir
}

// openSet opens a journal set and closes it with the test.
func openSet(t testing.TB, path string) []*Journal {
	t.Helper()
	set, err := OpenSet(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { CloseSet(set) })
	return set
}

// node returns the journal of name in set.
func node(t testing.TB, set []*Journal, name string) *Journal {
	t.Helper()
	j, err := PickNode(set, name)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// firstConfig returns the configuration of j's first ConfigLoaded.
func firstConfig(t testing.TB, j *Journal) *conf.Config {
	t.Helper()
	for rec, err := range j.RawRecords(0) {
		if err != nil {
			t.Fatal(err)
		}
		if cl, ok := rec.Event.(*events.ConfigLoaded); ok {
			return cl.Config
		}
	}
	t.Fatal("no ConfigLoaded in the journal")
	return nil
}
