package journal

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// writeSample writes a small but complete journal file and returns its path.
func writeSample(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	stall := make(chan struct{})
	first := true
	w, err := Open(dir, Options{QueueSize: 64, MaxBatch: 50, beforeCommit: func() {
		if first {
			first = false
			<-stall
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	appendRange(t, w, 1, 300) // stalled: makes a gap
	close(stall)
	appendRange(t, w, 301, 2000)
	w.Snapshot(2000, make([]byte, 5000)) // overflow pages
	appendRange(t, w, 2001, 2100)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := listFiles(dir)
	return files[0].path
}

// readEverything exercises every read path; it must return an error or
// nil, never panic.
func readEverything(path string) error {
	r, err := OpenReader(path)
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := r.Files(); err != nil {
		return err
	}
	if _, err := r.Gaps(); err != nil {
		return err
	}
	if _, err := r.SnapshotAt(1 << 62); err != nil && err != ErrNoSnapshot {
		return err
	}
	for _, err := range r.Records(0) {
		if err != nil {
			return err
		}
	}
	return nil
}

func TestTruncatedFile(t *testing.T) {
	src := writeSample(t)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := readEverything(src); err != nil {
		t.Fatalf("intact file: %v", err)
	}
	// Cut inside the part of the file in use: how much of its
	// preallocated tail bbolt leaves zero depends on how the writer's
	// group commits fell, and a cut there loses nothing.
	used := len(data)
	for used > 0 && data[used-1] == 0 {
		used--
	}
	rng := rand.New(rand.NewPCG(1, 2))
	dst := filepath.Join(t.TempDir(), "cut.journal")
	errs := 0
	for i := range 200 {
		n := rng.IntN(used)
		if i < 5 {
			n = []int{0, 1, 4095, 4096, 8192}[i]
		}
		if err := os.WriteFile(dst, data[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		err := readEverything(dst)
		if err == nil {
			continue // cut in bbolt's unused tail
		}
		errs++
		if !strings.HasPrefix(err.Error(), "journal") {
			t.Fatalf("cut at %d: unclear error %q", n, err)
		}
	}
	if errs < 100 {
		t.Fatalf("only %d of 200 truncations were detected", errs)
	}
}

func TestCorruptFile(t *testing.T) {
	src := writeSample(t)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	dst := filepath.Join(t.TempDir(), "bad.journal")
	buf := make([]byte, len(data))
	detected := 0
	for i := range 400 {
		copy(buf, data)
		for range 1 + rng.IntN(8) {
			pos := rng.IntN(len(buf))
			if i%2 == 0 {
				pos = rng.IntN(3 * 4096) // meta, freelist and root pages
			}
			buf[pos] ^= byte(1 + rng.IntN(255))
		}
		if err := os.WriteFile(dst, buf, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := readEverything(dst); err != nil {
			detected++
			if !strings.HasPrefix(err.Error(), "journal") {
				t.Fatalf("unclear error %q", err)
			}
		}
	}
	t.Logf("%d of 400 corruptions detected (the rest hit unused bytes)", detected)
}

func TestForeignFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string][]byte{
		"empty.journal": nil,
		"text.journal":  []byte("hello, I am not a journal"),
		"zeros.journal": make([]byte, 16384),
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, content, 0o600)
		if _, err := OpenReader(p); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := OpenReader(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing path opened")
	}
}

func FuzzDecodeRecord(f *testing.F) {
	for seq := uint64(1); seq <= 16; seq++ {
		ev, effs := synth(seq)
		evb, err := events.Encode(ev)
		if err != nil {
			f.Fatal(err)
		}
		efb, err := effects.EncodeAll(effs)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seqKey(seq), evb, efb)
	}
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1}, encodeGap(Gap{First: 1, Last: 9, Count: 9, At: time.Unix(1, 0), Reason: "queue full"}),
		encodeSnapshot(time.Unix(2, 0), []byte("state")))
	// Chunks (format 2) of those records, whole and cut.
	var ch chunkBuilder
	for seq := uint64(1); seq <= 16; seq += 1 + seq%3 {
		ev, effs := synth(seq)
		evb, _ := events.Encode(ev)
		efb, _ := effects.EncodeAll(effs)
		ch.add(&item{kind: itemRecord, seq: seq, data: append(evb, efb...), split: len(evb)})
		c := make([]byte, ch.size())
		first := ch.first
		recs := slices.Clone(ch.recs)
		body := ch.body
		ch.encode(c)
		ch.recs, ch.body = append(ch.recs, recs...), body
		f.Add(seqKey(first), c, c[:len(c)/2])
	}
	var dec recordDecoder // shared, as in an iteration: interned names carry over
	f.Fuzz(func(t *testing.T, k, v, fv []byte) {
		dec.decode(k, v, k, fv)
		fuzzChunk(t, &dec, k, v)
		fuzzChunk(t, &dec, k, fv)
		if g, err := decodeGap(v); err == nil && g.Last < g.First {
			t.Fatalf("accepted inverted gap %v", g)
		}
		decodeSnapshot(fv, true)
		decodeSnapshot(v, false)
	})
}

// fuzzChunk reads v as a chunk stored under key k, as the reader does:
// every record it yields lies inside v and is in sequence order.
func fuzzChunk(t *testing.T, dec *recordDecoder, k, v []byte) {
	var c chunkReader
	if c.reset(k, v) != nil {
		// A chunk whose checksum fails is never read further; fuzz the
		// rest of the decoder with the checksum ignored.
		first, err := keySeq(k)
		if err != nil || len(v) < chunkCRCSize+2 || c.header(first, v[chunkCRCSize:]) != nil {
			return
		}
	}
	chunkLast(k, v)
	prev, n := uint64(0), 0
	for {
		seq, ev, eff, err := c.next()
		if err != nil {
			return
		}
		if n > 0 && seq <= prev || seq < c.first || seq > c.last {
			t.Fatalf("record %d: seq %d after %d in chunk %d..%d", n, seq, prev, c.first, c.last)
		}
		if cap(ev) > len(v) || cap(eff) > len(v) {
			t.Fatalf("record %d: slices beyond the chunk", n)
		}
		prev, n = seq, n+1
		dec.body(seq, ev, eff)
	}
}
