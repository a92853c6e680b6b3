package journal

import (
	"fmt"
	"iter"
	"runtime/debug"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// RawRecord is a journaled event, decoded, with its effects still encoded:
// re-running a journal compares encodings and needs the effects decoded
// only to show a divergence. File is the index of its file in the Reader.
type RawRecord struct {
	Seq   uint64
	Event events.Event
	// RawEffects is the recorded encoding (effects.EncodeAll); it is valid
	// only until the iteration advances.
	RawEffects []byte
	File       int
}

// Effects decodes the recorded effects.
func (r RawRecord) Effects() ([]effects.Effect, error) {
	effs, err := effects.DecodeAll(r.RawEffects)
	if err != nil {
		return nil, fmt.Errorf("seq %d: %w", r.Seq, err)
	}
	return effs, nil
}

// RawRecords iterates the records with sequence at least from, as Records
// does, decoding only the events.
func (r *Reader) RawRecords(from uint64) iter.Seq2[RawRecord, error] {
	return func(yield func(RawRecord, error) bool) {
		var dec events.Decoder // shares recurring strings across the iteration
		for i, f := range r.files {
			if !f.rawRecords(i, from, &dec, yield) {
				return
			}
		}
	}
}

// rawRecords iterates one file; it returns false when iteration must stop.
func (f *readerFile) rawRecords(idx int, from uint64, dec *events.Decoder, yield func(RawRecord, error) bool) bool {
	fail := func(err error) bool {
		yield(RawRecord{}, fmt.Errorf("journal %s: %w", f.path, err))
		return false
	}
	// Keys and values point into bbolt's mapping: keep faults recoverable
	// for the whole iteration (see records).
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
		var rec RawRecord
		var ok bool
		err := protect(func() error {
			seq, v, fv, more, err := cur.next()
			if !more || err != nil {
				return err
			}
			ok = true
			ev, err := dec.Decode(v)
			if err != nil {
				return fmt.Errorf("seq %d: %w", seq, err)
			}
			rec = RawRecord{Seq: seq, Event: ev, RawEffects: fv, File: idx}
			return nil
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

// SnapshotInfo describes a snapshot without its state.
type SnapshotInfo struct {
	// Seq is the last event applied to the state.
	Seq uint64
	// At is the wall time the Writer received it.
	At time.Time
	// File is the index of the file holding it.
	File int
}

// Snapshots lists every snapshot of the journal, by sequence.
func (r *Reader) Snapshots() ([]SnapshotInfo, error) {
	var out []SnapshotInfo
	for i, f := range r.files {
		err := f.view(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketSnapshots).ForEach(func(k, v []byte) error {
				seq, err := keySeq(k)
				if err != nil {
					return err
				}
				s, err := decodeSnapshot(v, false)
				if err != nil {
					return fmt.Errorf("snapshot %d: %w", seq, err)
				}
				out = append(out, SnapshotInfo{Seq: seq, At: s.At, File: i})
				return nil
			})
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(out, func(a, b SnapshotInfo) int {
		if a.Seq != b.Seq {
			if a.Seq < b.Seq {
				return -1
			}
			return 1
		}
		return a.File - b.File
	})
	return out, nil
}

// SnapshotState reads the state of the snapshot at seq in file idx (the
// File of its SnapshotInfo).
func (r *Reader) SnapshotState(idx int, seq uint64) ([]byte, error) {
	f := r.files[idx]
	var state []byte
	err := f.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSnapshots).Get(seqKey(seq))
		if v == nil {
			return fmt.Errorf("snapshot %d: %w", seq, ErrNoSnapshot)
		}
		s, err := decodeSnapshot(v, true)
		if err != nil {
			return fmt.Errorf("snapshot %d: %w", seq, err)
		}
		state = s.State // decodeSnapshot copies out of the mapping
		return nil
	})
	return state, err
}

// EdgeEvents decodes the first and last events of file idx (nil if empty).
func (r *Reader) EdgeEvents(idx int) (first, last events.Event, err error) {
	f := r.files[idx]
	err = f.view(func(tx *bolt.Tx) error {
		var v1, vn []byte
		var has1, hasn bool
		if f.meta.Format == 1 {
			c := tx.Bucket(bucketEvents).Cursor()
			var k []byte
			k, v1 = c.First()
			has1 = k != nil
			k, vn = c.Last()
			hasn = k != nil
		} else if f.meta.Format >= 3 {
			var cur fileCursor
			if err := cur.seek(tx, f.meta.Format, 0); err != nil {
				return err
			}
			_, ev, _, more, err := cur.next()
			if err != nil {
				return err
			}
			if more { // decoded now: the slices are the decoder's
				if first, err = events.Decode(ev); err != nil {
					return fmt.Errorf("first event: %w", err)
				}
			}
			if k, _ := tx.Bucket(bucketRecords).Cursor().Last(); k != nil {
				last, err := keySeq(k)
				if err != nil {
					return err
				}
				if err := cur.seek(tx, f.meta.Format, last); err != nil {
					return err
				}
				for {
					_, ev, _, more, err := cur.next()
					if err != nil {
						return err
					}
					if !more {
						break
					}
					vn, hasn = append(vn[:0], ev...), true
				}
			}
		} else {
			var cr chunkReader
			c := tx.Bucket(bucketRecords).Cursor()
			if k, v := c.First(); k != nil {
				if err := cr.reset(k, v); err != nil {
					return err
				}
				if _, v1, _, err = cr.next(); err != nil {
					return err
				}
				has1 = true
			}
			if k, v := c.Last(); k != nil {
				if err := cr.reset(k, v); err != nil {
					return err
				}
				for {
					_, ev, _, err := cr.next()
					if err == errChunkEnd {
						break
					}
					if err != nil {
						return err
					}
					vn, hasn = ev, true
				}
			}
		}
		if has1 {
			if first, err = events.Decode(v1); err != nil {
				return fmt.Errorf("first event: %w", err)
			}
		}
		if hasn {
			if last, err = events.Decode(vn); err != nil {
				return fmt.Errorf("last event: %w", err)
			}
		}
		return nil
	})
	return first, last, err
}
