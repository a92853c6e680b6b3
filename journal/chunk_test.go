package journal

import (
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestChunkedRecords checks the chunks of formats 2 and 3: a commit of
// many records is a few chunks, and iteration can start anywhere, inside a
// chunk or not (in format 3 also inside an epoch, or at its start).
func TestChunkedRecords(t *testing.T) {
	t.Run("format2", func(t *testing.T) { testChunkedRecords(t, 2) })
	t.Run("format3", func(t *testing.T) { testChunkedRecords(t, 3) })
	t.Run("format3-epochs", func(t *testing.T) {
		defer func(n int) { epochRecords = n }(epochRecords)
		defer func(n int) { chunk3Records = n }(chunk3Records)
		epochRecords, chunk3Records = 100, 37
		testChunkedRecords(t, 3)
	})
}

func testChunkedRecords(t *testing.T, format int) {
	dir := t.TempDir()
	w, err := Open(dir, Options{NoSync: true, QueueSize: 10000, MaxBatch: 5000, format: format})
	if err != nil {
		t.Fatal(err)
	}
	appendRange(t, w, 1, 1000)
	appendRange(t, w, 1003, 3000) // a hole inside a chunk
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := listFiles(dir)
	path := files[0].path
	db, err := bolt.Open(path, 0, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var chunks int
	var keys []uint64
	db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
			chunks++
			s, _ := keySeq(k)
			keys = append(keys, s)
			return nil
		})
	})
	db.Close()
	t.Logf("%d chunks", chunks)
	if (chunks < 10 || chunks > 300) && format == 2 { // about 4 KiB each
		t.Fatalf("%d chunks for 2998 records", chunks)
	}

	r, err := OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fi, err := r.Files()
	if err != nil || fi[0].First != 1 || fi[0].Last != 3000 || fi[0].Meta.Format != format {
		t.Fatalf("files %+v, %v", fi, err)
	}
	want := func(from uint64) (first uint64, n int) {
		for s := uint64(1); s <= 3000; s++ {
			if s == 1001 || s == 1002 || s < from {
				continue
			}
			if n == 0 {
				first = s
			}
			n++
		}
		return first, n
	}
	froms := []uint64{0, 1, 2, 999, 1000, 1001, 1002, 1003, 2999, 3000, 3001, 1 << 62}
	for _, k := range keys {
		froms = append(froms, k-1, k, k+1)
	}
	for _, from := range froms {
		wantFirst, wantN := want(from)
		n, prev := 0, uint64(0)
		for rec, err := range r.Records(from) {
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 && rec.Seq != wantFirst || n > 0 && rec.Seq <= prev {
				t.Fatalf("Records(%d): record %d is seq %d (after %d)", from, n, rec.Seq, prev)
			}
			checkRecord(t, rec)
			prev = rec.Seq
			n++
		}
		if n != wantN {
			t.Fatalf("Records(%d): %d records, want %d", from, n, wantN)
		}
		n = 0
		for rec, err := range r.RawRecords(from) {
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 && rec.Seq != wantFirst {
				t.Fatalf("RawRecords(%d) starts at %d", from, rec.Seq)
			}
			n++
		}
		if n != wantN {
			t.Fatalf("RawRecords(%d): %d records, want %d", from, n, wantN)
		}
	}
}

// TestCorruptChunk flips a byte in each part of a chunk: the reader
// reports the file and the chunk's sequence.
func TestCorruptChunk(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	appendRange(t, w, 1, 500)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := listFiles(dir)
	path := files[0].path
	for _, pos := range []int{0, 4, 5, 6, 7, 20, 100, -1} {
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		var key uint64
		err = db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketRecords)
			c := b.Cursor()
			c.First()
			k, v := c.Next() // the second chunk
			key, _ = keySeq(k)
			nv := append([]byte(nil), v...)
			p := pos
			if p < 0 {
				p = len(nv) - 1
			}
			nv[p] ^= 0x5a
			return b.Put(append([]byte(nil), k...), nv)
		})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		r, err := OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		var got error
		for _, err := range r.Records(0) {
			got = err
		}
		r.Close()
		if got == nil || !strings.HasPrefix(got.Error(), "journal "+path+": ") ||
			!strings.Contains(got.Error(), "seq ") || !strings.Contains(got.Error(), "checksum") {
			t.Fatalf("byte %d of chunk %d: err %v", pos, key, got)
		}
		// Restore it for the next round.
		db, _ = bolt.Open(path, 0o600, nil)
		db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketRecords)
			v := b.Get(seqKey(key))
			nv := append([]byte(nil), v...)
			p := pos
			if p < 0 {
				p = len(nv) - 1
			}
			nv[p] ^= 0x5a
			return b.Put(seqKey(key), nv)
		})
		db.Close()
		if err := readEverything(path); err != nil {
			t.Fatalf("restored: %v", err)
		}
	}
}

// TestChunkDecoderRejects feeds malformed chunks (with valid checksums) to
// the chunk reader.
func TestChunkDecoderRejects(t *testing.T) {
	var ch chunkBuilder
	for _, s := range []uint64{5, 6, 9} {
		ch.add(&item{kind: itemRecord, seq: s, data: []byte("eventeffects"), split: 5})
	}
	good := make([]byte, ch.size())
	ch.encode(good)
	read := func(k, v []byte) (n int, err error) {
		var c chunkReader
		if err := c.reset(k, v); err != nil {
			return 0, err
		}
		for {
			_, ev, eff, err := c.next()
			if err == errChunkEnd {
				return n, nil
			}
			if err != nil {
				return n, err
			}
			if string(ev) != "event" || string(eff) != "effects" {
				return n, nil
			}
			n++
		}
	}
	if n, err := read(seqKey(5), good); n != 3 || err != nil {
		t.Fatalf("good chunk: %d records, %v", n, err)
	}
	if last, err := chunkLast(seqKey(5), good); last != 9 || err != nil {
		t.Fatalf("chunkLast = %d, %v", last, err)
	}
	resum := func(b []byte) []byte { // a valid checksum over b
		out := append([]byte(nil), b...)
		binary.LittleEndian.PutUint32(out, crc32.Checksum(out[chunkCRCSize:], castagnoli))
		return out
	}
	bad := map[string][]byte{
		"empty":     {},
		"short":     good[:5],
		"cut":       resum(good[:len(good)-3]),
		"trailing":  resum(append(append([]byte(nil), good...), 0)),
		"count 0":   resum([]byte{0, 0, 0, 0, 0, 0}),
		"count big": resum([]byte{0, 0, 0, 0, 200, 1, 0, 0, 0}),
		"span low":  resum(append([]byte{0, 0, 0, 0, 3, 1}, good[6:]...)),
		"span high": resum(append([]byte{0, 0, 0, 0, 3, 9}, good[6:]...)),
		"delta":     resum(append([]byte{0, 0, 0, 0, 3, 4, 1}, good[7:]...)),
		"length":    resum(append([]byte{0, 0, 0, 0, 3, 4, 0, 0x7f}, good[8:]...)),
	}
	for name, v := range bad {
		if _, err := read(seqKey(5), v); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), "seq 5") {
			t.Errorf("%s: error %q does not name the chunk", name, err)
		}
	}
	if _, err := read([]byte{1, 2}, good); err == nil {
		t.Error("short key accepted")
	}
}
