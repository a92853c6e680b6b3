package journal

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// healthLog collects Options.Health calls.
type healthLog struct {
	mu    sync.Mutex
	calls []string
}

func (h *healthLog) report(err error, lost uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.calls = append(h.calls, "fail: "+err.Error())
	} else {
		h.calls = append(h.calls, "ok: lost "+strconv.FormatUint(lost, 10))
	}
}

func (h *healthLog) get() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...)
}

// A full disk for many commits is one episode: reported once when it
// starts and once when writing resumes, its events one gap (not one per
// failed commit), counted; the journal reads back with every sequence
// either a record or inside that gap, and a snapshot is asked for after.
func TestFullDiskEpisode(t *testing.T) {
	dir := t.TempDir()
	var full atomic.Bool
	var h healthLog
	w, err := Open(dir, Options{MaxBatch: 10, NoSync: true, Health: h.report, quiet: time.Nanosecond, beforeCommit: func() error {
		if full.Load() {
			return syscall.ENOSPC
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	appendRange(t, w, 1, 100)
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	full.Store(true)
	for s := uint64(101); s <= 400; s += 10 {
		appendRange(t, w, s, s+9)
		w.Sync() // a failed commit each time
	}
	if st := w.Stats(); !st.Failing || st.Episodes != 1 || st.Lost != 300 {
		t.Fatalf("during the episode: %+v", st)
	}
	if w.SnapshotDue() {
		t.Fatal("a snapshot is due while writing fails")
	}
	if got := h.get(); len(got) != 1 || !strings.Contains(got[0], "no space left") {
		t.Fatalf("health calls %q, want one failure", got)
	}
	full.Store(false)
	appendRange(t, w, 401, 450)
	if err := w.Sync(); err != nil {
		t.Fatalf("after space returned: %v", err)
	}
	if st := w.Stats(); st.Failing || st.Episodes != 1 || st.Committed != 150 {
		t.Fatalf("after the episode: %+v", st)
	}
	if got := h.get(); len(got) != 2 || got[1] != "ok: lost 300" {
		t.Fatalf("health calls %q", got)
	}
	if !w.SnapshotDue() {
		t.Fatal("no snapshot asked for after lost events")
	}
	if err := w.Snapshot(450, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if w.SnapshotDue() {
		t.Fatal("snapshot still due after one was queued")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
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
	if len(gaps) != 1 || gaps[0].First != 101 || gaps[0].Last != 400 || gaps[0].Count != 300 {
		t.Fatalf("gaps %v, want one 101..400", gaps)
	}
	var n int
	for rec, err := range r.Records(0) {
		if err != nil {
			t.Fatal(err)
		}
		checkRecord(t, rec)
		if rec.Seq > 100 && rec.Seq <= 400 {
			t.Fatalf("seq %d recorded and in the gap", rec.Seq)
		}
		n++
	}
	if n != 150 {
		t.Fatalf("%d records read, want 150", n)
	}
}

// A Resilient Writer opens on a directory it cannot create files in:
// events become a gap, one failure is reported, and once the directory is
// writable again a file is created (within the retry period) and writing
// resumes.
func TestResilientOpenUnwritableDir(t *testing.T) {
	base := t.TempDir()
	blocker := filepath.Join(base, "blocker")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Under a file: cannot be created, even by root (who ignores modes).
	dir := filepath.Join(blocker, "journal")
	if _, err := Open(dir, Options{NoSync: true}); err == nil {
		t.Fatal("Open without Resilient succeeded on an unwritable directory")
	}
	var h healthLog
	w, err := Open(dir, Options{NoSync: true, Resilient: true, Health: h.report, quiet: time.Nanosecond})
	if err != nil {
		t.Fatalf("resilient Open: %v", err)
	}
	if w.NextSeq() != 1 {
		t.Fatalf("NextSeq %d", w.NextSeq())
	}
	appendRange(t, w, 1, 20)
	if err := w.Sync(); err == nil {
		t.Fatal("Sync reported no error with no file")
	}
	if st := w.Stats(); !st.Failing || st.Lost != 20 || st.Episodes != 1 {
		t.Fatalf("stats %+v", st)
	}
	// The directory becomes possible.
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(blocker, 0o700); err != nil {
		t.Fatal(err)
	}
	seq := uint64(21)
	ok := false
	for range 300 { // the retry is paced at one a second; commits every ~20 ms
		appendRange(t, w, seq, seq)
		seq++
		w.Sync()
		if !w.Stats().Failing {
			ok = true
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !ok {
		t.Fatalf("writing did not resume: %+v, %v", w.Stats(), w.Err())
	}
	appendRange(t, w, seq, seq+9)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := h.get()
	if len(got) != 2 || !strings.HasPrefix(got[0], "fail: ") || !strings.HasPrefix(got[1], "ok: lost ") {
		t.Fatalf("health calls %q", got)
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
	var lost uint64
	for _, g := range gaps {
		lost += g.Count
	}
	if lost != w.Stats().Lost || len(gaps) == 0 || gaps[0].First != 1 {
		t.Fatalf("gaps %v, stats %+v", gaps, w.Stats())
	}
	for _, err := range r.Records(0) {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A last file damaged while no Writer had it open (truncated or
// overwritten while the daemon was stopped) is set aside by the next
// Open: renamed *.damaged, reported, its sequences not reused; the
// journal directory then reads back without error.
func TestDamagedLastFileSetAside(t *testing.T) {
	for _, damage := range []string{"truncate", "corrupt"} {
		t.Run(damage, func(t *testing.T) {
			dir := t.TempDir()
			w, err := Open(dir, Options{MaxBatch: 20, NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			appendRange(t, w, 1, 2000)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			files, _ := ListFiles(dir)
			if len(files) != 1 {
				t.Fatalf("files %v", files)
			}
			data, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			used := len(data)
			for used > 0 && data[used-1] == 0 {
				used--
			}
			switch damage {
			case "truncate":
				data = data[:used/2]
			case "corrupt":
				for i := 4096 * 4; i < used; i += 4096 { // every data page after the metas and root
					data[i+100] ^= 0x5a
				}
			}
			if err := os.WriteFile(files[0], data, 0o600); err != nil {
				t.Fatal(err)
			}
			if readThrough(files[0], nil) == nil {
				t.Fatal("the damage was not detected")
			}
			// Reported from Open (a structural fault) or from the
			// background read-through (a damaged chunk).
			reported := make(chan string, 1)
			w, err = Open(dir, Options{NoSync: true, Damaged: func(what string) { reported <- what }})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case got := <-reported:
				if !strings.Contains(got, ".damaged") {
					t.Fatalf("reported %q", got)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the damaged file was not reported")
			}
			if w.Stats().SetAside != 1 {
				t.Fatalf("stats %+v", w.Stats())
			}
			next := w.NextSeq()
			appendRange(t, w, next, next+9)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(files[0] + damagedSuffix); err != nil {
				t.Fatal(err)
			}
			r, err := OpenReader(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			n := 0
			for rec, err := range r.Records(0) {
				if err != nil {
					t.Fatal(err)
				}
				if rec.Seq < next {
					t.Fatalf("seq %d below NextSeq %d", rec.Seq, next)
				}
				n++
			}
			if n != 10 {
				t.Fatalf("%d records", n)
			}
			t.Logf("next seq after the damaged file: %d", next)
		})
	}
}

// A nearly full disk fails large commits and takes small ones: that is
// one episode, reported once, still failing, not one episode per failure.
func TestFlappingDiskIsOneEpisode(t *testing.T) {
	var fail atomic.Bool
	var h healthLog
	w, err := Open(t.TempDir(), Options{MaxBatch: 10, NoSync: true, Health: h.report, quiet: time.Hour, beforeCommit: func() error {
		if fail.Load() {
			return syscall.ENOSPC
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint64(20) {
		fail.Store(i%2 == 0)
		appendRange(t, w, 1+10*i, 10+10*i)
		w.Sync()
	}
	st := w.Stats()
	if st.Episodes != 1 || !st.Failing || st.Lost != 100 || st.Committed != 100 {
		t.Fatalf("stats %+v", st)
	}
	if got := h.get(); len(got) != 1 {
		t.Fatalf("health calls %q, want one", got)
	}
	w.Close()
}

// AnchoredClock follows the wall clock it read at its start with the
// monotonic clock: close to time.Now (no step here), never going back,
// and without a monotonic reading (so that it encodes as plain wall time).
func TestAnchoredClock(t *testing.T) {
	now := AnchoredClock()
	prev := now()
	for range 1000 {
		c := now()
		if c.Before(prev) {
			t.Fatalf("went back: %v after %v", c, prev)
		}
		if c != c.Round(0) {
			t.Fatal("carries a monotonic reading")
		}
		prev = c
	}
	if d := time.Since(prev); d < -time.Second || d > time.Second {
		t.Fatalf("%v from time.Now", d)
	}
}
