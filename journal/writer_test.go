package journal

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	w, err := Open(dir, Options{Now: clock.Now, Host: "lb1", Version: "v0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if w.NextSeq() != 1 {
		t.Fatalf("NextSeq of a new journal = %d", w.NextSeq())
	}
	appendRange(t, w, 1, 3000)
	if err := w.Snapshot(3000, []byte("state@3000")); err != nil {
		t.Fatal(err)
	}
	appendRange(t, w, 3001, 5000)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st.Appended != 5000 || st.Committed != 5000 || st.Lost != 0 || st.Snapshots != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Bytes counts what was written: at least the snapshot and a few
	// bytes per record, and no more than the files hold.
	var onDisk int64
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range names {
		if fi, err := os.Stat(f); err == nil {
			onDisk += fi.Size()
		}
	}
	if st.Bytes < 5000*4+uint64(len("state@3000")) || int64(st.Bytes) > onDisk {
		t.Fatalf("stats: %d bytes written, %d bytes on disk", st.Bytes, onDisk)
	}
	seqs := readAll(t, dir)
	if len(seqs) != 5000 || seqs[0] != 1 || seqs[4999] != 5000 {
		t.Fatalf("read %d records", len(seqs))
	}

	r, err := OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	files, err := r.Files()
	if err != nil {
		t.Fatal(err)
	}
	m := files[0].Meta
	if len(files) != 1 || m.Host != "lb1" || m.Version != "v0.1.0" || m.Format != FormatVersion ||
		!m.Created.Equal(clock.Now()) || files[0].First != 1 || files[0].Last != 5000 {
		t.Fatalf("files %+v", files)
	}
	s, err := r.SnapshotAt(4000)
	if err != nil || s.Seq != 3000 || string(s.State) != "state@3000" {
		t.Fatalf("SnapshotAt(4000) = %+v, %v", s, err)
	}
	if _, err := r.SnapshotAt(2999); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("SnapshotAt(2999) err = %v", err)
	}
	if s, err := r.SnapshotAtTime(clock.Now()); err != nil || s.Seq != 3000 {
		t.Fatalf("SnapshotAtTime = %+v, %v", s, err)
	}
	// Iterating from a sequence starts there.
	for rec, err := range r.Records(4990) {
		if err != nil || rec.Seq < 4990 {
			t.Fatalf("Records(4990) gave %d, %v", rec.Seq, err)
		}
	}

	// A restarted writer continues the sequence in a new file.
	clock.Advance(time.Minute)
	w2, err := Open(dir, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if w2.NextSeq() != 5001 {
		t.Fatalf("NextSeq after restart = %d", w2.NextSeq())
	}
	appendRange(t, w2, 5001, 5010)
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if seqs := readAll(t, dir); len(seqs) != 5010 {
		t.Fatalf("read %d records after restart", len(seqs))
	}
}

func TestGroupCommitByCount(t *testing.T) {
	w, err := Open(t.TempDir(), Options{MaxBatch: 100, MaxBatchAge: time.Hour, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	appendRange(t, w, 1, 100)
	// No Sync, and the age bound is an hour away: only the count commits.
	deadline := time.Now().Add(10 * time.Second)
	for w.Stats().Committed != 100 {
		if time.Now().After(deadline) {
			t.Fatalf("count-triggered commit never happened: %+v", w.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	appendRange(t, w, 101, 150)
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Committed != 150 || st.Commits != 2 {
		t.Fatalf("stats %+v, want 2 commits", st)
	}
}

func TestGroupCommitByAge(t *testing.T) {
	w, err := Open(t.TempDir(), Options{MaxBatch: 1 << 20, MaxBatchAge: 5 * time.Millisecond, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	appendRange(t, w, 1, 10)
	// No Sync, no full batch: only the age bound can commit these.
	deadline := time.Now().Add(10 * time.Second)
	for w.Stats().Committed != 10 {
		if time.Now().After(deadline) {
			t.Fatalf("age-triggered commit never happened: %+v", w.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGapOnStalledDisk stalls the writer goroutine's disk and checks that
// Append neither blocks nor loses events silently: every sequence is either
// committed or inside exactly one recorded gap.
func TestGapOnStalledDisk(t *testing.T) {
	dir := t.TempDir()
	stall := make(chan struct{})
	first := true
	opts := Options{QueueSize: 16, MaxBatch: 4, NoSync: true, beforeCommit: func() error {
		if first {
			first = false
			<-stall
		}
		return nil
	}}
	w, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	appendRange(t, w, 1, 500) // would deadlock here if Append blocked
	close(stall)
	appendRange(t, w, 501, 600)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st.Lost == 0 || st.Lost+st.Committed != 600 {
		t.Fatalf("stats %+v: want losses, and lost+committed = 600", st)
	}
	r, err := OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	gaps, err := r.Gaps()
	if err != nil {
		t.Fatal(err)
	}
	covered := map[uint64]int{}
	var lost uint64
	for _, g := range gaps {
		if g.Reason != "queue full" || g.Count != g.Last-g.First+1 {
			t.Fatalf("unexpected %v", g)
		}
		lost += g.Count
		for s := g.First; s <= g.Last; s++ {
			covered[s]++
		}
	}
	if lost != st.Lost {
		t.Fatalf("gaps count %d lost, stats say %d", lost, st.Lost)
	}
	for rec, err := range r.Records(0) {
		if err != nil {
			t.Fatal(err)
		}
		checkRecord(t, rec)
		covered[rec.Seq]++
	}
	for s := uint64(1); s <= 600; s++ {
		if covered[s] != 1 {
			t.Fatalf("seq %d covered %d times by records and gaps", s, covered[s])
		}
	}
}

func TestRotationAtSnapshot(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	w, err := Open(dir, Options{Now: clock.Now, RotateAge: time.Hour, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	appendRange(t, w, 1, 100)
	clock.Advance(61 * time.Minute)
	appendRange(t, w, 101, 110)
	w.Sync()
	if !w.SnapshotDue() {
		t.Fatal("no snapshot requested after RotateAge")
	}
	w.Snapshot(110, []byte("s110"))
	appendRange(t, w, 111, 120)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	files, _ := r.Files()
	if len(files) != 2 || files[0].Last != 110 || files[1].First != 111 {
		t.Fatalf("files %+v", files)
	}
	if s, err := r.SnapshotAt(120); err != nil || s.File != files[1].Path || s.Seq != 110 {
		t.Fatalf("the new file must start with the snapshot: %+v, %v", s, err)
	}
}

// TestRetentionOverAYear runs a daemon for a simulated year on a fake
// clock and checks that the directory stays within its bounds throughout.
func TestRetentionOverAYear(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	opts := Options{Now: clock.Now, NoSync: true, RotateSize: 128 << 10, RotateAge: 6 * time.Hour,
		MaxTotalSize: 2 << 20, MaxAge: 30 * 24 * time.Hour}
	w, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	// The current file may reach twice RotateSize, rounded up by bbolt's
	// power-of-two growth, before a rotation without snapshot.
	bound := opts.MaxTotalSize + 4*opts.RotateSize
	seq := uint64(1)
	var maxTotal int64
	for step := 0; step < 365*12; step++ { // two-hour steps
		clock.Advance(2 * time.Hour)
		n := uint64(10 + step%7*40)
		if step%97 == 0 {
			n = 3000 // a burst: rotation by size
		}
		appendRange(t, w, seq, seq+n-1)
		seq += n
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		if w.SnapshotDue() && step%5 != 0 { // sometimes the caller is late
			w.Snapshot(seq-1, []byte("state"))
		}
		if step%50 == 0 {
			total, oldest := dirUsage(t, dir)
			maxTotal = max(maxTotal, total)
			if total > bound {
				t.Fatalf("step %d: %d bytes on disk, bound %d", step, total, bound)
			}
			if age := clock.Now().Sub(oldest); age > opts.MaxAge+2*opts.RotateAge {
				t.Fatalf("step %d: oldest file %v old", step, age)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	// Rotation by age alone (every four or five steps) makes ~900; size
	// adds more, fewer since format 2's denser chunks.
	if st.Rotations < 850 || st.Deleted < 800 || st.Lost != 0 {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("a year: %d rotations, %d files deleted, at most %d KiB on disk (bound %d KiB)",
		st.Rotations, st.Deleted, maxTotal>>10, bound>>10)
	// What remains reads back, in increasing sequence order.
	seqs := readAll(t, dir)
	if !slices.IsSorted(seqs) || seqs[len(seqs)-1] != seq-1 {
		t.Fatalf("records out of order or missing the last (%d)", seq-1)
	}
}

func dirUsage(t *testing.T, dir string) (total int64, oldest time.Time) {
	files, err := listFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		total += f.size
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(files) {
		t.Fatalf("stray files in %s: %d entries, %d journal files", dir, len(ents), len(files))
	}
	return total, files[0].at
}

func TestFileNames(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for n := range 12 {
		name := fileName(at, n)
		got, gotN, ok := parseName(name)
		if !ok || !got.Equal(at) || gotN != n {
			t.Fatalf("%s parsed as %v %d %v", name, got, gotN, ok)
		}
	}
	for _, bad := range []string{"vigil-2025.journal", "vigil-20250102-030405-0.journal",
		"vigil-20250102-030405-x.journal", "other", "vigil-20250102-030405.journal.tmp"} {
		if _, _, ok := parseName(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	// Same-second files order by their counter, not by string order.
	dir := t.TempDir()
	for _, n := range []int{0, 10, 2, 1} {
		os.WriteFile(filepath.Join(dir, fileName(at, n)), nil, 0o600)
	}
	files, _ := listFiles(dir)
	var ns []int
	for _, f := range files {
		ns = append(ns, f.n)
	}
	if !slices.Equal(ns, []int{0, 1, 2, 10}) {
		t.Fatalf("order %v", ns)
	}
}

// TestSlabReuse appends enough records, across enough commits, for the
// encoding slabs to be recycled many times while the writer goroutine
// commits concurrently, and checks every record read back: a slab reused
// before its records were committed would show as corrupt or wrong ones.
func TestSlabReuse(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{MaxBatch: 300, QueueSize: 1 << 20, NoSync: true, RotateSize: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	const n = 60_000 // ~7 MB of records: hundreds of slabs through maxFreeSlabs
	for first := uint64(1); first <= n; first += 5000 {
		appendRange(t, w, first, first+4999)
		// A sync after each range: at least one commit each, however the
		// writer goroutine is scheduled (left to itself it may take a
		// whole range in one commit on a loaded machine).
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Lost != 0 || st.Committed != n || st.Commits < 10 {
		t.Fatalf("stats %+v: want %d committed in many commits, none lost", st, n)
	}
	if got := readAll(t, dir); len(got) != n {
		t.Fatalf("read %d records, want %d", len(got), n)
	}
}
