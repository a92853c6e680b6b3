package simjournal

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/vigil-ha/vigil/replay"
	"github.com/vigil-ha/vigil/sim"
	"github.com/vigil-ha/vigil/sim/harness"
)

// record runs the scenario file path with seed 1, recording a journal per
// node, and returns the directory holding them.
func record(t testing.TB, path string) string {
	t.Helper()
	s, err := sim.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "journal")
	rec, err := New(dir)
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

// TestRecorderLayout checks what `vigil sim --journal` writes: a
// directory per node, a file per engine start with the node as host, a
// snapshot after each Start, sequences continuing across restarts, and
// the same file names on every run.
func TestRecorderLayout(t *testing.T) {
	dir := record(t, "../../testdata/replay/flap.scn")
	set, err := replay.OpenSet(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { replay.CloseSet(set) })
	if len(set) != 2 || set[0].Name != "a" || set[1].Name != "b" {
		var names []string
		for _, j := range set {
			names = append(names, j.Name)
		}
		t.Fatalf("nodes %v, want a and b", names)
	}
	a := set[0]
	if len(a.Runs) != 4 || len(a.Files) != 4 {
		t.Fatalf("a: %d runs in %d files, want 4 (one per start)", len(a.Runs), len(a.Files))
	}
	var names []string
	for k, r := range a.Runs {
		f := a.Files[r.FirstFile]
		names = append(names, filepath.Base(f.Path))
		if f.Meta.Host != "a" || f.Meta.Version != "sim" {
			t.Errorf("run %d meta host %q version %q", r.N, f.Meta.Host, f.Meta.Version)
		}
		if !r.Fresh || r.Stopped { // a is killed, never stopped
			t.Errorf("run %d: fresh %t stopped %t", r.N, r.Fresh, r.Stopped)
		}
		if k > 0 && r.First != a.Runs[k-1].Last+1 {
			t.Errorf("run %d starts at seq %d, after %d", r.N, r.First, a.Runs[k-1].Last)
		}
	}
	want := []string{"vigil-20250101-000005.journal", "vigil-20250101-000015.journal",
		"vigil-20250101-000025.journal", "vigil-20250101-000035.journal"}
	for k := range want {
		if names[k] != want[k] {
			t.Errorf("file %d is %s, want %s (Origin plus virtual time)", k, names[k], want[k])
		}
	}
	if len(a.Snaps) < 4 {
		t.Errorf("a: %d snapshots, want one after each Start", len(a.Snaps))
	}
	for _, s := range a.Snaps {
		if s.At.Before(Origin) {
			t.Errorf("snapshot %d at %s, before the origin", s.Seq, s.At)
		}
	}
}
