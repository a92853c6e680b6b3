package journal

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vigil-ha/vigil/events"
)

// run is the writer goroutine. It sleeps until the queue gets its first
// item, then until MaxBatch items wait, the first is MaxBatchAge old, or a
// Sync or Close asks; then it takes the whole queue and commits it in one
// transaction (so a backlog costs one fsync, not many).
func (w *Writer) run() {
	defer close(w.done)
	var spare []item
	var spareSlabs [][]byte
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for range w.wake {
		w.mu.Lock()
		wait := w.opts.MaxBatchAge - time.Since(w.firstAt)
		hold := !w.flush && len(w.pending) > 0 && len(w.pending) < w.opts.MaxBatch && wait > 0
		w.mu.Unlock()
		if hold {
			timer.Reset(wait)
			select {
			case <-w.wake: // a full batch or a flush request
			case <-timer.C:
			}
			timer.Stop()
		}
		w.mu.Lock()
		batch := w.pending
		w.pending, w.flush = spare[:0], false
		slabs := w.filled
		w.filled = spareSlabs[:0]
		closed := w.closed
		w.mu.Unlock()

		w.commit(batch)
		clear(batch) // drop references to encoded records
		spare = batch
		// The commit is over: bbolt no longer refers to the records.
		w.mu.Lock()
		n := max(min(len(slabs), maxFreeSlabs-len(w.free)), 0)
		w.free = append(w.free, slabs[:n]...)
		w.mu.Unlock()
		clear(slabs)
		spareSlabs = slabs
		if closed {
			w.mu.Lock()
			rest := len(w.pending)
			w.mu.Unlock()
			if rest == 0 {
				w.closeFile()
				return
			}
			w.signal()
		}
	}
}

func (w *Writer) closeFile() {
	if w.db == nil {
		return
	}
	if err := w.db.Close(); err != nil {
		w.setErr(fmt.Errorf("journal: close %s: %w", w.cur.path, err))
	}
}

// commit writes a batch. A snapshot arriving while the file is due for
// rotation starts the next file, so each file begins with a snapshot.
func (w *Writer) commit(batch []item) {
	if len(batch) == 0 {
		return
	}
	if w.opts.beforeCommit != nil {
		if err := w.opts.beforeCommit(); err != nil {
			w.setErr(fmt.Errorf("journal: commit to %s: %w", w.cur.path, err))
			w.trouble(err)
			w.failed(batch, err)
			w.replySyncs(batch)
			return
		}
	}
	start := 0
	for i, it := range batch {
		if it.kind == itemSnapshot && w.snapshotDue.Load() && i > start {
			w.commitSegment(batch[start:i])
			start = i
		}
		if it.kind == itemSnapshot && w.snapshotDue.Load() {
			w.rotate()
		}
	}
	w.commitSegment(batch[start:])
	w.checkRotation()
	w.replySyncs(batch)
}

// replySyncs answers the Sync and Close requests of a batch.
func (w *Writer) replySyncs(batch []item) {
	for _, it := range batch {
		if it.kind == itemSync {
			it.ctl.done <- w.Err()
		}
	}
}

// trouble starts an episode of trouble, unless one is going on: it is
// counted and reported (Options.Health) once, not per failed commit.
func (w *Writer) trouble(err error) {
	w.lastFail = time.Now()
	if w.failing.Load() {
		return
	}
	w.failing.Store(true)
	w.episodes.Add(1)
	w.lostAtStart = w.lost.Load()
	if w.opts.Health != nil {
		w.opts.Health(err, 0)
	}
}

// troubleQuiet is how long after its last failure an episode of trouble
// may end (see Options.Health).
const troubleQuiet = 5 * time.Second

// recovered ends the episode of trouble after a successful commit, if a
// file is open, the last attempt to create one (if any) succeeded, and
// nothing failed for Options.quiet.
func (w *Writer) recovered() {
	if !w.failing.Load() || w.db == nil || w.createErr != nil || time.Since(w.lastFail) < w.opts.quiet {
		return
	}
	lost := w.lost.Load() - w.lostAtStart
	if lost > 0 {
		w.needSnapshot.Store(true)
	}
	w.failing.Store(false)
	w.setErr(nil)
	if w.opts.Health != nil {
		w.opts.Health(nil, lost)
	}
}

// commitSegment writes items in one transaction. On failure the events
// are recorded as a gap with the next commit.
func (w *Writer) commitSegment(items []item) {
	if len(w.pendingGaps) == 0 && !slices.ContainsFunc(items, func(it item) bool { return it.kind != itemSync }) {
		return // only Sync requests: nothing to write
	}
	var records, snaps, size uint64
	err := w.update(func(tx *bolt.Tx) error {
		rb, snb, gpb := tx.Bucket(bucketRecords), tx.Bucket(bucketSnapshots), tx.Bucket(bucketGaps)
		// Keys only grow: pack pages full instead of bbolt's half-full split.
		rb.FillPercent, snb.FillPercent = 1, 1
		for _, g := range w.pendingGaps {
			if err := gpb.Put(seqKey(g.First), encodeGap(g)); err != nil {
				return err
			}
		}
		k := make([]byte, 8)
		ch := &w.chunk
		put3 := func(first uint64, v []byte, oldLen int) error {
			binary.BigEndian.PutUint64(k, first)
			size += uint64(len(v) - oldLen)
			return rb.Put(k, v)
		}
		flush := func() error {
			if w.opts.format >= 3 {
				return w.chunk3.flush(put3)
			}
			if len(ch.recs) == 0 {
				return nil
			}
			binary.BigEndian.PutUint64(k, ch.first) // bbolt copies keys, not values
			v := w.arena.alloc(ch.size())
			ch.encode(v)
			size += uint64(len(v))
			return rb.Put(k, v)
		}
		for i := range items {
			it := &items[i]
			var err error
			switch it.kind {
			case itemRecord:
				if w.opts.format >= 3 {
					err = w.chunk3.add(it, put3)
				} else {
					if !ch.fits(it, w.chunkLimit) {
						err = flush()
					}
					ch.add(it)
				}
				records++
				if err == nil && it.ctl != nil && it.ctl.hasDigest {
					w.meta.ConfigDigest = it.ctl.digest
					err = tx.Bucket(bucketMeta).Put([]byte(metaDigest), []byte(it.ctl.digest))
				}
			case itemGap:
				err = gpb.Put(seqKey(it.ctl.gap.First), encodeGap(it.ctl.gap))
			case itemSnapshot:
				v := encodeSnapshot(it.ctl.at, it.data)
				err = snb.Put(seqKey(it.seq), v)
				snaps++
				size += uint64(len(v))
			}
			if err != nil {
				return err
			}
		}
		return flush()
	})
	// The transaction is over: bbolt no longer refers to the chunks.
	w.arena.reset()
	clear(w.chunk.recs)
	w.chunk.recs, w.chunk.body = w.chunk.recs[:0], 0
	if err != nil {
		// The file keeps the open chunk as last committed; the next
		// records start a chunk and an epoch of their own.
		w.chunk3.reset(w.chunkLimit)
		err = fmt.Errorf("journal: commit to %s: %w", w.cur.path, err)
		w.setErr(err)
		w.trouble(err)
		w.failed(items, err)
		return
	}
	w.pendingGaps = nil
	w.commits.Add(1)
	w.committed.Add(records)
	w.snapshots.Add(snaps)
	w.bytes.Add(size)
	w.recovered()
}

func (w *Writer) update(f func(*bolt.Tx) error) error {
	if w.db == nil {
		return fmt.Errorf("no journal file open")
	}
	return w.db.Update(f)
}

// failed turns the events of a failed commit into a gap (and keeps the
// gaps it carried), to be written with the next successful commit. A gap
// that continues the last pending one extends it, so a long episode (a
// full disk for hours, 50 failed commits a second) is one gap, not a
// growing list.
func (w *Writer) failed(items []item, err error) {
	var g *Gap
	for _, it := range items {
		switch it.kind {
		case itemRecord:
			w.lost.Add(1)
			if g == nil {
				g = &Gap{First: it.seq, Last: it.seq, At: w.opts.Now(), Reason: "commit failed: " + err.Error()}
			}
			g.First, g.Last = min(g.First, it.seq), max(g.Last, it.seq)
			g.Count++
		case itemGap:
			w.addPendingGap(it.ctl.gap)
		}
	}
	if g != nil {
		w.addPendingGap(*g)
	}
}

// addPendingGap queues g for the next commit, merged into the last
// pending gap when it starts right after it (keeping the first reason).
func (w *Writer) addPendingGap(g Gap) {
	if n := len(w.pendingGaps); n > 0 {
		if last := &w.pendingGaps[n-1]; last.Last+1 == g.First {
			last.Last, last.Count = g.Last, last.Count+g.Count
			return
		}
	}
	w.pendingGaps = append(w.pendingGaps, g)
}

// createRetry is how often a Writer without a file tries to create one.
const createRetry = time.Second

// checkRotation asks for a snapshot when the file reaches its size or age
// limit, and rotates without one at twice the limit.
func (w *Writer) checkRotation() {
	if w.db == nil {
		w.rotate() // a previous file creation failed: try again (rotate paces it)
		return
	}
	var size int64
	w.db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil })
	w.db.AllocSize = growStep(size) // read by the next commit, in this goroutine
	age := w.opts.Now().Sub(w.cur.at)
	switch {
	case size >= 2*w.opts.RotateSize || age >= 2*w.opts.RotateAge:
		w.rotate()
	case size >= w.opts.RotateSize || age >= w.opts.RotateAge:
		w.snapshotDue.Store(true)
	}
}

// rotate closes the current file, starts the next and applies retention.
func (w *Writer) rotate() {
	if w.createErr != nil && time.Since(w.createAt) < createRetry {
		return // failed less than a second ago: a full or read-only directory fails every time
	}
	old, oldPath := w.db, w.cur.path
	w.createAt = time.Now()
	if err := w.startFile(); err != nil {
		w.createErr = err
		w.setErr(err)
		w.trouble(err)
		return // keep writing the old file, if any
	}
	w.createErr = nil
	if old != nil {
		w.rotations.Add(1)
	}
	if old != nil {
		if err := old.Close(); err != nil {
			w.setErr(fmt.Errorf("journal: close %s: %w", oldPath, err))
		}
	}
	w.retention()
}

// startFile creates the next journal file: initialised under a temporary
// name and renamed, so a file with a journal name is always complete.
func (w *Writer) startFile() error {
	now := w.opts.Now()
	if err := os.MkdirAll(w.dir, 0o750); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	// Name the file after every existing one, even if the wall clock went
	// back or retention freed an earlier name: name order is replay order.
	at, n := now.UTC().Truncate(time.Second), 0
	files, err := listFiles(w.dir)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if len(files) > 0 {
		if last := files[len(files)-1]; !at.After(last.at) {
			at, n = last.at, last.n+1
		}
	}
	path := filepath.Join(w.dir, fileName(at, n))
	tmp := path + tmpSuffix
	db, err := bolt.Open(tmp, 0o640, &bolt.Options{Timeout: time.Second, NoSync: w.opts.NoSync, NoGrowSync: w.opts.NoSync,
		// Map the whole file's future at once. Each time bbolt grows its
		// mapping inside a write transaction it first copies every key and
		// value the transaction has touched to the heap (node.dereference),
		// and a group commit touches thousands: with bbolt's doubling
		// mappings that was most of the writer's allocations. A mapping
		// costs address space only; the file itself grows by growStep.
		InitialMmapSize: mmapSize(w.opts.RotateSize),
		// The file is never reopened for writing (each Writer starts a new
		// one), so the freelist need not be on disk: one page write less
		// per commit. Readers open read-only and never need it; the format
		// is bbolt's own, read by any bbolt since 1.3. (The freelist stays
		// bbolt's default array type: it reuses the lowest free pages
		// first, which measured 10–15 % smaller files than the map type.)
		NoFreelistSync: true,
	})
	if err != nil {
		return fmt.Errorf("journal: create %s: %w", tmp, err)
	}
	db.AllocSize = growStep(0)
	meta := Meta{Format: w.opts.format, Codec: events.CodecVersion, Host: w.opts.Host,
		Version: w.opts.Version, ConfigDigest: w.meta.ConfigDigest, Created: now}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketRecords, bucketSnapshots, bucketGaps, bucketMeta} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		return writeMeta(tx, meta)
	})
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil && !w.opts.NoSync {
		err = syncDir(w.dir)
	}
	if err != nil {
		db.Close()
		os.Remove(tmp)
		return fmt.Errorf("journal: create %s: %w", path, err)
	}
	w.db, w.meta = db, meta
	w.chunkLimit = chunkCap(db.Info().PageSize)
	w.chunk3.arena = &w.arena
	w.chunk3.reset(w.chunkLimit)
	w.cur = journalFile{path: path, at: now}
	w.snapshotDue.Store(false)
	return nil
}

// mmapSize is the mapping a journal file is opened with: room for the
// file up to twice rotate (when it rotates without a snapshot) and a
// commit beyond, capped to keep address space modest (a larger file is
// still written correctly: bbolt remaps, as it did before).
func mmapSize(rotate int64) int {
	limit := int64(1 << 30)
	if strconv.IntSize == 32 {
		limit = 256 << 20
	}
	return int(min(max(2*rotate+16<<20, 32<<20), limit))
}

// growStep is how much bbolt extends a journal file of size bytes by
// when it fills up (DB.AllocSize): an eighth of it, from 32 KiB to 4 MiB,
// so a small file stays small (retention counts file sizes) and a large
// one is extended, with an fsync each time, only every few thousand
// commits. bbolt extends by exactly this only while the mapping is larger
// than the step, which mmapSize ensures.
func growStep(size int64) int {
	return int(min(max(size/8, 32<<10), 4<<20)) &^ (4<<10 - 1)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
