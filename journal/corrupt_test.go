package journal

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
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
	w, err := Open(dir, Options{QueueSize: 64, MaxBatch: 50, beforeCommit: func() error {
		if first {
			first = false
			<-stall
		}
		return nil
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

// FuzzChunk3 checks format 3's chunks both ways. Any records (event and
// effects bytes, CBOR or not) written through the chunk builder read back
// byte for byte; and any bytes read as a chunk, alone or after that
// one in its epoch, yield records inside bounds or an error naming the
// chunk's sequence, never a panic.
func FuzzChunk3(f *testing.F) {
	for seq := uint64(1); seq <= 16; seq += 5 {
		var recs []byte
		for s := seq; s < seq+6; s++ {
			ev, effs := synth(s)
			evb, _ := events.Encode(ev)
			efb, _ := effects.EncodeAll(effs)
			recs = binary.AppendUvarint(recs, uint64(len(evb)))
			recs = binary.AppendUvarint(recs, uint64(len(efb)))
			recs = append(append(recs, evb...), efb...)
		}
		f.Add(recs, []byte{1, 2, 0x12, 0x1a})
	}
	f.Fuzz(func(t *testing.T, recs, garbage []byte) {
		// Split recs into records: lengths then bytes, as far as it goes.
		type rec struct{ ev, eff []byte }
		var in []rec
		for b := recs; len(b) > 0 && len(in) < 64; {
			el, n := binary.Uvarint(b)
			if n <= 0 {
				break
			}
			b = b[n:]
			fl, n := binary.Uvarint(b)
			if n <= 0 || el > uint64(len(b)-n) || fl > uint64(len(b)-n)-el {
				break
			}
			b = b[n:]
			in = append(in, rec{b[:el], b[el : el+fl]})
			b = b[el+fl:]
		}
		if len(in) == 0 {
			return
		}
		var arena chunkArena
		c := chunk3Writer{arena: &arena}
		c.reset(600)
		type stored struct {
			k uint64
			v []byte
		}
		var chunks []stored
		put := func(first uint64, v []byte, _ int) error {
			if n := len(chunks); n > 0 && chunks[n-1].k == first {
				chunks[n-1].v = bytes.Clone(v)
			} else {
				chunks = append(chunks, stored{first, bytes.Clone(v)})
			}
			return nil
		}
		seqs := make([]uint64, len(in))
		seq := uint64(1)
		for i, r := range in {
			seq += uint64(len(r.ev) % 3) // some gaps
			seqs[i] = seq
			it := item{kind: itemRecord, seq: seq, data: append(bytes.Clone(r.ev), r.eff...), split: len(r.ev)}
			if err := c.add(&it, put); err != nil {
				t.Fatal(err)
			}
			seq++
		}
		if err := c.flush(put); err != nil {
			t.Fatal(err)
		}
		var dec shapeDecoder
		var cr chunk3Reader
		i := 0
		for _, ch := range chunks {
			if err := cr.reset(seqKey(ch.k), ch.v); err != nil {
				t.Fatal(err)
			}
			if cr.base == 0 {
				dec.reset()
			}
			for {
				s, ev, eff, err := cr.next(&dec)
				if err == errChunkEnd {
					break
				}
				if err != nil {
					t.Fatalf("chunk %d: %v", ch.k, err)
				}
				if s != seqs[i] || !bytes.Equal(ev, in[i].ev) || !bytes.Equal(eff, in[i].eff) {
					t.Fatalf("record %d: seq %d %x %x, want seq %d %x %x", i, s, ev, eff, seqs[i], in[i].ev, in[i].eff)
				}
				i++
			}
		}
		if i != len(in) {
			t.Fatalf("%d records read back, %d written", i, len(in))
		}
		// Garbage as a chunk: alone, and after the last chunk in its epoch.
		first := chunks[len(chunks)-1].k
		for _, v := range [][]byte{garbage, resumChunk(garbage)} {
			for _, fresh := range []bool{true, false} {
				if fresh {
					dec.reset()
				}
				if cr.reset(seqKey(first+1000), v) != nil {
					continue
				}
				for {
					s, ev, eff, err := cr.next(&dec)
					if err != nil {
						if err != errChunkEnd && !strings.Contains(err.Error(), "seq ") {
							t.Fatalf("error %q names no sequence", err)
						}
						break
					}
					if s < cr.first || s > cr.last || len(ev)+len(eff) > len(v)+maxShapeBytes {
						t.Fatalf("record seq %d outside %d..%d", s, cr.first, cr.last)
					}
				}
			}
		}
	})
}

// resumChunk returns b with a valid checksum in front.
func resumChunk(b []byte) []byte {
	out := make([]byte, chunkCRCSize, chunkCRCSize+len(b))
	out = append(out, b...)
	binary.LittleEndian.PutUint32(out, crc32.Checksum(out[chunkCRCSize:], castagnoli))
	return out
}
