package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// Defaults for Options.
const (
	// DefaultMaxBatch records per commit.
	DefaultMaxBatch = 1024
	// DefaultMaxBatchAge bounds how long a record waits for its commit,
	// and so what a crash may lose.
	DefaultMaxBatchAge = 20 * time.Millisecond
	// DefaultQueueSize is the number of records (about 200 bytes each with
	// their encodings) that may wait for the writer goroutine before
	// Append starts recording gaps: over 0.8 s of adverts at 20,000/s.
	DefaultQueueSize = 16384
	// DefaultRotateSize and DefaultRotateAge start a new file.
	DefaultRotateSize = 16 << 20
	DefaultRotateAge  = time.Hour
	// DefaultMaxTotalSize and DefaultMaxAge bound the directory. In
	// format 3 a node of 1,020 instances at advert_int 1 writes about
	// 550 MiB a day (6.3 bytes per advert, a 560 KB snapshot every
	// 16 MiB file), so the default keeps about 33 hours of it.
	DefaultMaxTotalSize = 768 << 20
	DefaultMaxAge       = 30 * 24 * time.Hour
)

// Options configures a Writer. Zero fields take the defaults above.
type Options struct {
	// MaxBatch waiting records or the oldest waiting MaxBatchAge trigger
	// a group commit of the whole queue, whichever comes first.
	// MaxBatchAge (plus one commit's duration) is the crash-loss bound.
	MaxBatch    int
	MaxBatchAge time.Duration
	// QueueSize bounds the records waiting for the writer goroutine.
	QueueSize int
	// RotateSize (bytes of bbolt data) and RotateAge make the Writer ask
	// for a snapshot and start a new file with it; at twice either limit
	// it starts one without waiting for a snapshot.
	RotateSize int64
	RotateAge  time.Duration
	// MaxTotalSize and MaxAge bound the journal directory: older files are
	// deleted at each rotation until both hold.
	MaxTotalSize int64
	MaxAge       time.Duration
	// Now is the wall clock for file names, retention ages and record
	// times (default AnchoredClock(): ordered even when the system clock
	// is stepped). Rotation and retention follow it, so a test can run a
	// year in a second.
	Now func() time.Time
	// Host and Version are recorded in each file's meta.
	Host, Version string
	// NoSync skips fsync: a crash of the process still loses nothing
	// committed, but a power loss may lose or damage recent commits. For
	// tests and benchmarks.
	NoSync bool
	// Resilient makes Open succeed even when the directory cannot be
	// written (read-only, full, missing): the Writer then records every
	// event as part of a gap and tries to create a file again at most
	// once a second, so a daemon is never stopped by its journal.
	Resilient bool
	// Health, if set, is called by the writer goroutine (or Open) once per
	// episode of trouble, never per record: with the error when writing
	// starts failing (a commit or a file creation), and with nil and the
	// number of events lost meanwhile (recorded as gaps) when a commit
	// succeeds 5 s or more after the episode's last failure (a nearly full
	// disk fails large commits and takes small ones: one episode, not a
	// flapping one). It must not call the Writer.
	Health func(err error, lost uint64)
	// Damaged, if set, is told of each damaged file Open set aside
	// ("path: why (renamed ...)"), from Open or from the background
	// read-through that follows it. It must not call the Writer.
	Damaged func(what string)

	// beforeCommit, a test hook, runs before each commit (a stalled
	// disk); a non-nil error fails the commit (a full disk).
	beforeCommit func() error
	// quiet overrides troubleQuiet (tests).
	quiet time.Duration
	// format is the file format to write (default FormatVersion; 2 for
	// tests and benchmarks comparing the formats).
	format int
}

func (o *Options) setDefaults() {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	def((*int64)(&o.MaxBatchAge), int64(DefaultMaxBatchAge))
	def(&o.RotateSize, DefaultRotateSize)
	def((*int64)(&o.RotateAge), int64(DefaultRotateAge))
	def(&o.MaxTotalSize, DefaultMaxTotalSize)
	def((*int64)(&o.MaxAge), int64(DefaultMaxAge))
	if o.Now == nil {
		o.Now = AnchoredClock()
	}
	if o.quiet <= 0 {
		o.quiet = troubleQuiet
	}
	if o.format == 0 {
		o.format = FormatVersion
	}
}

// ErrClosed is returned by a closed Writer.
var ErrClosed = errors.New("journal: writer closed")

// ErrQueueFull is returned by Snapshot when the queue has no room; the
// snapshot is not recorded and the caller may retry later.
var ErrQueueFull = errors.New("journal: queue full")

// Stats are a Writer's counters.
type Stats struct {
	Appended  uint64 // events handed to Append
	Committed uint64 // events committed to disk
	Lost      uint64 // events recorded as gaps
	Bytes     uint64 // bytes of records and snapshots committed (values written to bbolt)
	Snapshots uint64 // snapshots committed
	Commits   uint64 // group commits
	Rotations uint64 // files started after the first
	Deleted   uint64 // files deleted by retention
	Episodes  uint64 // episodes of trouble: writing started failing (see Options.Health)
	Failing   bool   // writing is failing now: events become gaps
	SetAside  uint64 // damaged files renamed *.damaged (see Options.Damaged)
}

// Writer appends to a journal directory. Append, Snapshot, Sync and Close
// may be called from any goroutine; the daemon calls them from the one
// that owns the engine.
type Writer struct {
	dir  string
	opts Options
	done chan struct{}
	// wake tells the writer goroutine that the queue got its first item,
	// a full batch, or a flush request — never once per item.
	wake chan struct{}

	mu      sync.Mutex // guards the fields below
	pending []item     // the queue, swapped out whole by the writer goroutine
	firstAt time.Time  // when pending got its first item
	flush   bool       // a Sync or Close wants the queue committed now
	closed  bool
	gap     *Gap     // losses not yet queued
	slab    []byte   // see encodeLocked
	filled  [][]byte // full slabs, all of whose records are queued
	free    [][]byte // slabs whose records are committed, for reuse

	snapshotDue  atomic.Bool
	needSnapshot atomic.Bool // after lost events: see SnapshotDue
	appended     atomic.Uint64
	committed    atomic.Uint64
	lost         atomic.Uint64
	bytes        atomic.Uint64
	snapshots    atomic.Uint64
	commits      atomic.Uint64
	rotations    atomic.Uint64
	deleted      atomic.Uint64
	episodes     atomic.Uint64
	failing      atomic.Bool
	setAside     atomic.Uint64
	checks       sync.WaitGroup // deepCheck

	errMu sync.Mutex
	err   error // the writer goroutine's latest error

	nextSeq uint64

	// Owned by the writer goroutine.
	db          *bolt.DB
	cur         journalFile
	meta        Meta
	pendingGaps []Gap        // from failed commits, written with the next one
	chunk       chunkBuilder // the chunk being built (format 2)
	chunk3      chunk3Writer // the open chunk and shape table (format 3)
	chunkLimit  int          // chunkCap of the current file
	arena       chunkArena   // the current commit's chunks
	createErr   error        // the last file creation's error, until one succeeds
	createAt    time.Time    // when the last file creation was tried (real time)
	lostAtStart uint64       // Stats.Lost when the current episode began
	lastFail    time.Time    // the current episode's latest failure (real time)
}

type itemKind uint8

const (
	itemRecord itemKind = iota
	itemGap
	itemSnapshot
	itemSync
)

// item is one entry of the writer queue; it is kept small because the
// queue holds many.
type item struct {
	kind  itemKind
	split int // data[:split] is the event, data[split:] its effects
	seq   uint64
	data  []byte
	ctl   *control // rare extras
}

type control struct {
	gap       Gap
	at        time.Time
	done      chan error
	digest    string
	hasDigest bool
}

// Open starts a Writer on the journal directory dir (created if needed).
// Each Writer starts a new file, so a journal left by a crash is never
// written to again, only read and eventually deleted.
//
// With Options.Resilient, Open fails only on bad options: a directory it
// cannot write is an episode of trouble (see Options.Health), reported
// once the writer goroutine runs.
//
// The last file (the one a crash or a stop left) is checked: if it cannot
// be read it is renamed *.damaged (kept, out of the journal: readers and
// retention ignore it) and reported (Options.Damaged), so that the journal
// stays readable and its sequences keep increasing. Its structure is
// checked here; its records are read through in the background.
func Open(dir string, opts Options) (*Writer, error) {
	opts.setDefaults()
	w := &Writer{dir: dir, opts: opts, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		if !opts.Resilient {
			return nil, fmt.Errorf("journal: %w", err)
		}
		w.createErr, w.createAt = fmt.Errorf("journal: %w", err), time.Now()
	} else {
		damaged, deep := checkLast(dir)
		for _, d := range damaged {
			w.reportDamaged(d)
		}
		if deep != "" {
			w.checks.Add(1)
			go w.deepCheck(deep)
		}
		w.nextSeq, w.meta.ConfigDigest = lastSeq(dir)
		removeTemp(dir)
		if err := w.startFile(); err != nil {
			if !opts.Resilient {
				return nil, err
			}
			w.createErr, w.createAt = err, time.Now()
		} else {
			w.retention()
		}
	}
	if w.nextSeq == 0 {
		w.nextSeq = 1
	}
	if w.createErr != nil {
		w.setErr(w.createErr)
		w.trouble(w.createErr)
	}
	go w.run()
	return w, nil
}

// NextSeq is the sequence number after the last one found in the
// directory when the Writer opened (1 for a new journal). A daemon that
// numbers its events from here keeps sequences increasing across restarts.
func (w *Writer) NextSeq() uint64 { return w.nextSeq }

// Backlog is the number of items waiting for the writer goroutine (at
// most Options.QueueSize records, plus the odd control item).
func (w *Writer) Backlog() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

// Dir returns the journal directory.
func (w *Writer) Dir() string { return w.dir }

// Append journals event seq and the effects the engine returned for it.
// It encodes in the caller's goroutine (effects need only be valid for the
// call) and never blocks on the disk: if the queue is full the event is
// recorded as part of a gap. It fails only when the Writer is closed or the
// event or effects cannot be encoded (also recorded as a gap). Sequence
// numbers must increase.
func (w *Writer) Append(seq uint64, ev events.Event, effs []effects.Effect) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.appended.Add(1)
	buf, split, err := w.encodeLocked(ev, effs)
	if err != nil {
		w.loseLocked(seq, "encode: "+err.Error())
		return fmt.Errorf("journal: append %d: %w", seq, err)
	}
	it := item{kind: itemRecord, seq: seq, data: buf, split: split}
	if cl, ok := ev.(*events.ConfigLoaded); ok {
		it.ctl = &control{digest: cl.Digest, hasDigest: true}
	}
	if !w.flushGapLocked() || !w.enqueueLocked(it) {
		w.loseLocked(seq, "queue full")
	}
	return nil
}

// slabSize is the size of the buffers records are encoded into, several
// hundred records each. Slabs are recycled: a full one goes to filled,
// the writer goroutine takes filled with the batch it commits (every
// record of those slabs is in that batch or an earlier one) and hands
// them back to free once the commit no longer references them, so a
// steady Append allocates nothing.
const slabSize = 64 << 10

// maxFreeSlabs bounds the memory kept for reuse after a burst: about a
// full default queue of adverts.
const maxFreeSlabs = 32

// encodeLocked encodes ev and effs into the current slab.
func (w *Writer) encodeLocked(ev events.Event, effs []effects.Effect) (data []byte, split int, err error) {
	if cap(w.slab)-len(w.slab) < 1024 {
		if cap(w.slab) == slabSize {
			w.filled = append(w.filled, w.slab[:0])
		}
		if n := len(w.free); n > 0 {
			w.slab, w.free[n-1] = w.free[n-1], nil
			w.free = w.free[:n-1]
		} else {
			w.slab = make([]byte, 0, slabSize)
		}
	}
	start := len(w.slab)
	b, err := events.AppendEncode(w.slab, ev)
	if err != nil {
		return nil, 0, err
	}
	split = len(b) - start
	if b, err = effects.AppendEncodeAll(b, effs); err != nil {
		return nil, 0, err
	}
	// A large record may have moved b to a new array; either way the
	// record's bytes are never written again, and later records go after.
	w.slab = b
	return b[start:len(b):len(b)], split, nil
}

// enqueueLocked queues it unless the queue is full.
func (w *Writer) enqueueLocked(it item) bool {
	n := len(w.pending)
	if n >= w.opts.QueueSize {
		return false
	}
	w.pending = append(w.pending, it)
	if n == 0 {
		w.firstAt = time.Now() // real time: the crash-loss bound is real time
		w.signal()
	} else if n+1 == w.opts.MaxBatch {
		w.signal()
	}
	return true
}

func (w *Writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// flushLocked queues it regardless of the bound (control items are few)
// and asks for an immediate commit.
func (w *Writer) flushLocked(it item) {
	if w.gap != nil {
		w.pending = append(w.pending, item{kind: itemGap, ctl: &control{gap: *w.gap}})
		w.gap = nil
	}
	if len(w.pending) == 0 {
		w.firstAt = time.Now()
	}
	w.pending = append(w.pending, it)
	w.flush = true
	w.signal()
}

// Lose records event seq as lost, part of a gap (counted in Stats.Lost),
// as Append does when its queue is full: for a caller that numbered an
// event it cannot journal, such as a tool rewriting a journal. Sequence
// numbers must increase, as for Append.
func (w *Writer) Lose(seq uint64, reason string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.loseLocked(seq, reason)
	return nil
}

// loseLocked adds seq to the pending gap.
func (w *Writer) loseLocked(seq uint64, reason string) {
	w.lost.Add(1)
	if w.gap == nil {
		w.gap = &Gap{First: seq, Last: seq, Count: 1, At: w.opts.Now(), Reason: reason}
		return
	}
	w.gap.First = min(w.gap.First, seq)
	w.gap.Last = max(w.gap.Last, seq)
	w.gap.Count++
}

// flushGapLocked queues the pending gap record; false if there is no room.
func (w *Writer) flushGapLocked() bool {
	if w.gap == nil {
		return true
	}
	if !w.enqueueLocked(item{kind: itemGap, ctl: &control{gap: *w.gap}}) {
		return false
	}
	w.gap = nil
	return true
}

// SnapshotDue reports that the current file is due for rotation: the
// caller should pass a fresh engine state to Snapshot, which will then
// start the next file.
//
// It is also due after an episode of trouble that lost events (a replay
// resumes from the next snapshot after a gap), and never while writing
// fails (it would only be lost, and states can be large).
func (w *Writer) SnapshotDue() bool {
	return (w.snapshotDue.Load() || w.needSnapshot.Load()) && !w.failing.Load()
}

// Snapshot records the engine state after event seq (engine.MarshalState).
// The Writer keeps state; the caller must not modify it. It never blocks:
// if the queue is full it returns ErrQueueFull and records nothing.
func (w *Writer) Snapshot(seq uint64, state []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if !w.flushGapLocked() || !w.enqueueLocked(item{kind: itemSnapshot, seq: seq, data: state, ctl: &control{at: w.opts.Now()}}) {
		return ErrQueueFull
	}
	w.needSnapshot.Store(false)
	return nil
}

// Sync blocks until everything appended so far is committed, and returns
// the writer goroutine's latest error, if any.
func (w *Writer) Sync() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	done := make(chan error, 1)
	w.flushLocked(item{kind: itemSync, ctl: &control{done: done}})
	w.mu.Unlock()
	return <-done
}

// Close commits everything appended, closes the file and stops the writer
// goroutine. It returns the writer goroutine's latest error, if any.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	w.flushLocked(item{kind: itemSync, ctl: &control{done: make(chan error, 1)}})
	w.mu.Unlock()
	<-w.done
	w.checks.Wait() // it stops at its next 4,096 records
	return w.Err()
}

// Err returns the writer goroutine's latest error (a failed commit,
// rotation or deletion), or nil.
func (w *Writer) Err() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

func (w *Writer) setErr(err error) {
	w.errMu.Lock()
	w.err = err
	w.errMu.Unlock()
}

// Stats returns the Writer's counters.
func (w *Writer) Stats() Stats {
	return Stats{
		Appended:  w.appended.Load(),
		Committed: w.committed.Load(),
		Lost:      w.lost.Load(),
		Bytes:     w.bytes.Load(),
		Snapshots: w.snapshots.Load(),
		Commits:   w.commits.Load(),
		Rotations: w.rotations.Load(),
		Deleted:   w.deleted.Load(),
		Episodes:  w.episodes.Load(),
		Failing:   w.failing.Load(),
		SetAside:  w.setAside.Load(),
	}
}

// removeTemp deletes files left by a crash while a journal file was being
// created.
func removeTemp(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), filePrefix) && strings.HasSuffix(e.Name(), fileSuffix+tmpSuffix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// AnchoredClock returns a wall clock that reads the system's wall clock
// once, now, and then advances with the monotonic clock. The times a
// Writer records with it (snapshots, gaps, file names, rotation and
// retention ages) therefore stay in order when CLOCK_REALTIME is stepped
// (NTP, an operator, a VM resumed): the events' own times are monotonic
// already, and a journal whose times went backwards would make
// `vigil replay at TIME` ambiguous. The price: after a step the recorded
// times differ from the system clock by the step, until the next Writer
// (the next start) takes a new anchor.
func AnchoredClock() func() time.Time {
	start := time.Now()    // with a monotonic reading
	wall := start.Round(0) // without
	return func() time.Time { return wall.Add(time.Since(start)) }
}
