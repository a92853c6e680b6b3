package journal

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"iter"
	"os"
	"runtime/debug"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// ErrNoSnapshot is returned when no snapshot matches a query.
var ErrNoSnapshot = errors.New("journal: no snapshot")

// Reader reads a journal file or directory. It is not safe for concurrent
// use.
type Reader struct {
	files []*readerFile
}

type readerFile struct {
	path string
	db   *bolt.DB
	meta Meta
}

// FileInfo describes one file of a journal.
type FileInfo struct {
	Path string
	Meta Meta
	// First and Last are its first and last event sequences (0 if none).
	First, Last uint64
}

// Record is one journaled event with the effects it produced.
type Record struct {
	Seq     uint64
	Event   events.Event
	Effects []effects.Effect
	// RawEvent and RawEffects are the recorded encodings, for byte-exact
	// comparisons. They are valid only until the iteration advances.
	RawEvent, RawEffects []byte
}

// OpenReader opens a journal: one file, or a directory whose journal files
// are read oldest first. Every file is validated; a missing, truncated,
// corrupt or foreign file is an error naming it.
func OpenReader(path string) (*Reader, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	paths := []string{path}
	if info.IsDir() {
		files, err := listFiles(path)
		if err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		paths = paths[:0]
		for _, f := range files {
			paths = append(paths, f.path)
		}
	}
	r := &Reader{}
	for _, p := range paths {
		db, meta, err := openRead(p)
		if err != nil {
			r.Close()
			return nil, err
		}
		r.files = append(r.files, &readerFile{path: p, db: db, meta: meta})
	}
	return r, nil
}

// Close releases the files.
func (r *Reader) Close() error {
	var errs []error
	for _, f := range r.files {
		errs = append(errs, f.db.Close())
	}
	r.files = nil
	return errors.Join(errs...)
}

// view runs fn in a read transaction of f, turning faults into errors
// that name the file.
func (f *readerFile) view(fn func(tx *bolt.Tx) error) error {
	if err := protect(func() error { return f.db.View(fn) }); err != nil {
		return fmt.Errorf("journal %s: %w", f.path, err)
	}
	return nil
}

// Files describes the journal's files, oldest first.
func (r *Reader) Files() ([]FileInfo, error) {
	var infos []FileInfo
	for _, f := range r.files {
		fi := FileInfo{Path: f.path, Meta: f.meta}
		err := f.view(func(tx *bolt.Tx) (err error) {
			fi.First, fi.Last, err = seqBounds(tx, f.meta.Format)
			return err
		})
		if err != nil {
			return nil, err
		}
		infos = append(infos, fi)
	}
	return infos, nil
}

// Records iterates the journaled events and their effects with sequence
// at least from, in file order and sequence order within a file. It stops
// at the first error, which it yields.
func (r *Reader) Records(from uint64) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		var dec recordDecoder
		for _, f := range r.files {
			if !f.records(from, &dec, yield) {
				return
			}
		}
	}
}

// records iterates one file; it returns false when iteration must stop.
func (f *readerFile) records(from uint64, dec *recordDecoder, yield func(Record, error) bool) bool {
	fail := func(err error) bool {
		yield(Record{}, fmt.Errorf("journal %s: %w", f.path, err))
		return false
	}
	// Keys and values point into bbolt's mapping of the file: keep faults
	// recoverable for the whole iteration, not only inside bbolt calls.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var tx *bolt.Tx
	if err := protect(func() (err error) { tx, err = f.db.Begin(false); return err }); err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	var cur fileCursor
	if err := protect(func() error { return cur.seek(tx, f.meta.Format, from) }); err != nil {
		return fail(err)
	}
	for {
		var rec Record
		var ok bool
		err := protect(func() error {
			seq, ev, eff, more, err := cur.next()
			if !more || err != nil {
				return err
			}
			ok = true
			rec, err = dec.body(seq, ev, eff)
			return err
		})
		if err != nil {
			return fail(err)
		}
		if !ok {
			return true
		}
		if !yield(rec, nil) {
			return false
		}
	}
}

// fileCursor walks the records of one file, of either format, from a
// sequence on. Its methods read the mapping: call them under protect.
type fileCursor struct {
	format int
	from   uint64
	// Format 1: the events and effects cursors and their positions.
	ce, cf       *bolt.Cursor
	k, v, fk, fv []byte
	// Format 2: the chunk cursor and the chunk being read.
	cr      *bolt.Cursor
	chunk   chunkReader
	inChunk bool
	prev    uint64 // the last sequence of the previous chunk, if hasPrev
	hasPrev bool
	// Format 3: the chunk being read and its epoch's shape table.
	chunk3  chunk3Reader
	shapes  shapeDecoder
	epoch   uint64 // the epoch's first sequence, if inEpoch
	inEpoch bool
}

// seek positions the cursor at the first record with sequence ≥ from.
func (c *fileCursor) seek(tx *bolt.Tx, format int, from uint64) error {
	*c = fileCursor{format: format, from: from}
	start := seqKey(from)
	if format == 1 {
		c.ce, c.cf = tx.Bucket(bucketEvents).Cursor(), tx.Bucket(bucketEffects).Cursor()
		c.k, c.v = c.ce.Seek(start)
		c.fk, c.fv = c.cf.Seek(start)
		return nil
	}
	// The chunk holding from starts at or before it (and in format 3 the
	// records are decoded from the start of its epoch).
	c.cr = tx.Bucket(bucketRecords).Cursor()
	k, v := c.cr.Seek(start)
	if k == nil || !bytes.Equal(k, start) {
		var pk, pv []byte
		if k == nil {
			pk, pv = c.cr.Last()
		} else {
			pk, pv = c.cr.Prev()
		}
		if pk != nil {
			k, v = pk, pv
		} else {
			k, v = c.cr.Seek(start)
		}
	}
	if format >= 3 && k != nil {
		var ch chunk3Reader
		if err := ch.reset(k, v); err != nil {
			return err
		}
		if ch.base > 0 {
			ek := seqKey(ch.first - ch.base)
			if k, v = c.cr.Seek(ek); !bytes.Equal(k, ek) {
				return fmt.Errorf("seq %d: the chunk's epoch, from seq %d, is missing", ch.first, ch.first-ch.base)
			}
		}
	}
	return c.enter(k, v)
}

// enter starts reading chunk v under key k (none if k is nil).
func (c *fileCursor) enter(k, v []byte) error {
	if k == nil {
		c.inChunk = false
		return nil
	}
	if c.format >= 3 {
		if err := c.chunk3.reset(k, v); err != nil {
			return err
		}
		ch := &c.chunk3
		switch {
		case ch.base == 0:
			c.shapes.reset()
			c.epoch, c.inEpoch = ch.first, true
		case !c.inEpoch || ch.first-ch.base != c.epoch:
			return fmt.Errorf("seq %d: chunk continues the epoch from seq %d, which was not read", ch.first, ch.first-ch.base)
		case ch.shapes != uint64(len(c.shapes.shapes)):
			return fmt.Errorf("seq %d: chunk expects %d shapes defined before it, found %d", ch.first, ch.shapes, len(c.shapes.shapes))
		}
		c.chunk.first, c.chunk.last = ch.first, ch.last
	} else if err := c.chunk.reset(k, v); err != nil {
		return err
	}
	if c.hasPrev && c.chunk.first <= c.prev {
		return fmt.Errorf("seq %d: chunk overlaps the previous one (up to seq %d)", c.chunk.first, c.prev)
	}
	c.prev, c.hasPrev, c.inChunk = c.chunk.last, true, true
	return nil
}

// next returns the next record, more false at the end of the file.
func (c *fileCursor) next() (seq uint64, ev, eff []byte, more bool, err error) {
	if c.format == 1 {
		return c.nextV1()
	}
	for c.inChunk {
		if c.format >= 3 {
			seq, ev, eff, err = c.chunk3.next(&c.shapes)
		} else {
			seq, ev, eff, err = c.chunk.next()
		}
		if err == errChunkEnd {
			if err := c.enter(c.cr.Next()); err != nil {
				return 0, nil, nil, false, err
			}
			continue
		}
		if err != nil {
			return 0, nil, nil, false, err
		}
		if seq >= c.from {
			return seq, ev, eff, true, nil
		}
	}
	return 0, nil, nil, false, nil
}

func (c *fileCursor) nextV1() (seq uint64, ev, eff []byte, more bool, err error) {
	if c.k == nil {
		if c.fk != nil {
			s, _ := keySeq(c.fk)
			return 0, nil, nil, false, fmt.Errorf("seq %d: effects without an event", s)
		}
		return 0, nil, nil, false, nil
	}
	if seq, err = keySeq(c.k); err != nil {
		return 0, nil, nil, false, err
	}
	if !bytes.Equal(c.k, c.fk) {
		return 0, nil, nil, false, fmt.Errorf("seq %d: effects record missing", seq)
	}
	ev, eff = c.v, c.fv
	c.k, c.v = c.ce.Next()
	c.fk, c.fv = c.cf.Next()
	return seq, ev, eff, true, nil
}

// recordDecoder decodes the records of one iteration, sharing the
// strings that recur from record to record.
type recordDecoder struct {
	events  events.Decoder
	effects effects.Decoder
}

// decode decodes a format-1 record: the events bucket's key and value and
// the effects bucket's.
func (dec *recordDecoder) decode(k, v, fk, fv []byte) (Record, error) {
	seq, err := keySeq(k)
	if err != nil {
		return Record{}, err
	}
	if !bytes.Equal(k, fk) {
		return Record{}, fmt.Errorf("seq %d: effects record missing", seq)
	}
	return dec.body(seq, v, fv)
}

// body decodes record seq from its event and effects encodings.
func (dec *recordDecoder) body(seq uint64, v, fv []byte) (Record, error) {
	ev, err := dec.events.Decode(v)
	if err != nil {
		return Record{}, fmt.Errorf("seq %d: %w", seq, err)
	}
	effs, err := dec.effects.DecodeAll(fv)
	if err != nil {
		return Record{}, fmt.Errorf("seq %d: %w", seq, err)
	}
	return Record{Seq: seq, Event: ev, Effects: effs, RawEvent: v, RawEffects: fv}, nil
}

// seqBounds returns the first and last record sequences of a file (0, 0
// if it has none).
func seqBounds(tx *bolt.Tx, format int) (first, last uint64, err error) {
	if format == 1 {
		c := tx.Bucket(bucketEvents).Cursor()
		if k, _ := c.First(); k != nil {
			first, _ = keySeq(k)
		}
		if k, _ := c.Last(); k != nil {
			last, _ = keySeq(k)
		}
		return first, last, nil
	}
	c := tx.Bucket(bucketRecords).Cursor()
	if k, _ := c.First(); k != nil {
		if first, err = keySeq(k); err != nil {
			return 0, 0, err
		}
	}
	if k, v := c.Last(); k != nil {
		if last, err = chunkLast(k, v); err != nil {
			return 0, 0, err
		}
	}
	return first, last, nil
}

// Gaps lists the recorded gaps of all files, by first sequence.
func (r *Reader) Gaps() ([]Gap, error) {
	var gaps []Gap
	for _, f := range r.files {
		err := f.view(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketGaps).ForEach(func(k, v []byte) error {
				g, err := decodeGap(v)
				if err != nil {
					return err
				}
				gaps = append(gaps, g)
				return nil
			})
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(gaps, func(a, b Gap) int { return cmp.Compare(a.First, b.First) })
	return gaps, nil
}

// SnapshotAt returns the newest snapshot taken at or before event seq.
func (r *Reader) SnapshotAt(seq uint64) (Snapshot, error) {
	return r.findSnapshot(func(s uint64, _ time.Time) bool { return s <= seq })
}

// SnapshotAtTime returns the newest snapshot taken at or before wall time t.
func (r *Reader) SnapshotAtTime(t time.Time) (Snapshot, error) {
	return r.findSnapshot(func(_ uint64, at time.Time) bool { return !at.After(t) })
}

// findSnapshot scans snapshots newest first for the first that matches.
func (r *Reader) findSnapshot(match func(seq uint64, at time.Time) bool) (Snapshot, error) {
	for i := len(r.files) - 1; i >= 0; i-- {
		f := r.files[i]
		var found Snapshot
		var ok bool
		err := f.view(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketSnapshots).Cursor()
			for k, v := c.Last(); k != nil; k, v = c.Prev() {
				seq, err := keySeq(k)
				if err != nil {
					return err
				}
				s, err := decodeSnapshot(v, false)
				if err != nil {
					return fmt.Errorf("snapshot %d: %w", seq, err)
				}
				if match(seq, s.At) {
					if found, err = decodeSnapshot(v, true); err != nil {
						return err
					}
					found.Seq, found.File, ok = seq, f.path, true
					return nil
				}
			}
			return nil
		})
		if err != nil {
			return Snapshot{}, err
		}
		if ok {
			return found, nil
		}
	}
	return Snapshot{}, ErrNoSnapshot
}
