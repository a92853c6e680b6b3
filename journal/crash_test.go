package journal

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"
	"time"
)

const crashChildEnv = "VIGIL_JOURNAL_CRASH_CHILD"

// TestCrashChild is the child of TestCrashSafety: it journals synthetic
// events as fast as it can, rotating often, until it is killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("run by TestCrashSafety")
	}
	w, err := Open(dir, Options{MaxBatch: 64, MaxBatchAge: time.Millisecond, QueueSize: 256,
		RotateSize: 48 << 10, MaxTotalSize: 1 << 20, NoSync: os.Getenv("VIGIL_JOURNAL_NOSYNC") == "1"})
	if err != nil {
		t.Fatal(err)
	}
	state := bytes.Repeat([]byte("engine state "), 100)
	deadline := time.Now().Add(10 * time.Second) // never reached: killed first
	for seq := w.NextSeq(); time.Now().Before(deadline); seq++ {
		ev, effs := synth(seq)
		if err := w.Append(seq, ev, effs); err != nil {
			t.Fatal(err)
		}
		if w.SnapshotDue() {
			w.Snapshot(seq, state)
		}
		if seq%200 == 0 {
			time.Sleep(100 * time.Microsecond) // let batches form at various sizes
		}
	}
	w.Close()
}

// TestCrashSafety SIGKILLs a journaling child process at random points and
// checks after every kill that the journal opens and every committed
// record decodes, with sequences increasing and contiguous except where a
// gap is recorded — across restarts, rotations and retention.
func TestCrashSafety(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("in the child")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 7))
	kills := 120
	if testing.Short() {
		kills = 20
	}
	start := time.Now()
	var maxRecords int
	for i := range kills {
		cmd := exec.Command(exe, "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, "VIGIL_JOURNAL_NOSYNC="+[]string{"0", "1"}[i%2])
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(5+rng.IntN(60)) * time.Millisecond)
		cmd.Process.Kill() // SIGKILL
		if err := cmd.Wait(); err == nil {
			t.Fatalf("child %d exited before the kill:\n%s", i, out.String())
		}
		if bytes.Contains(out.Bytes(), []byte("FAIL")) {
			t.Fatalf("child %d failed:\n%s", i, out.String())
		}
		n := verifyCrashed(t, dir, i)
		maxRecords = max(maxRecords, n)
	}
	t.Logf("%d kills in %v; up to %d records in the journal", kills, time.Since(start).Round(time.Millisecond), maxRecords)
}

// verifyCrashed checks the journal directory after a kill and returns the
// number of records in it.
func verifyCrashed(t *testing.T, dir string, kill int) int {
	t.Helper()
	r, err := OpenReader(dir)
	if err != nil {
		t.Fatalf("after kill %d: %v", kill, err)
	}
	defer r.Close()
	gaps, err := r.Gaps()
	if err != nil {
		t.Fatalf("after kill %d: %v", kill, err)
	}
	inGap := func(s uint64) bool {
		for _, g := range gaps {
			if g.First <= s && s <= g.Last {
				return true
			}
		}
		return false
	}
	var prev uint64
	n := 0
	for rec, err := range r.Records(0) {
		if err != nil {
			t.Fatalf("after kill %d: %v", kill, err)
		}
		checkRecord(t, rec) // event and effects as produced for this sequence
		if n > 0 {
			if rec.Seq <= prev {
				t.Fatalf("after kill %d: seq %d after %d", kill, rec.Seq, prev)
			}
			for s := prev + 1; s < rec.Seq; s++ {
				if !inGap(s) {
					t.Fatalf("after kill %d: seq %d missing between %d and %d, no gap recorded", kill, s, prev, rec.Seq)
				}
			}
		}
		prev = rec.Seq
		n++
	}
	return n
}
