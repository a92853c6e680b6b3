// Package journal is vigil's journal storage: every event the engine
// consumed and the effects it produced, recorded durably and cheaply
// enough that journaling never delays an advert, bounded on disk, and
// readable back. The daemon writes it (Writer); package replay reads it
// back for timelines, explanations, what-ifs and determinism checks; the
// simulator writes one per node through sim/simjournal.
//
// # Layout
//
// A journal is a directory of bbolt files, one per period, named
// vigil-YYYYMMDD-HHMMSS[-N].journal from the caller's wall clock (UTC).
// Each file holds the buckets
//
//	records    first sequence → chunk of records (format 3, see below)
//	snapshots  sequence → {wall time, engine state after that event}
//	gaps       first sequence → {first, last, count, wall time, reason}
//	meta       format, codec, host, version, config_digest, created
//
// A record is an event (events.Encode) with the effects it produced
// (effects.EncodeAll). A chunk is consecutive records, so that a commit
// costs a few bbolt Puts, not one per record. The reader returns each
// record's event and effects bytes exactly as they were encoded.
//
// # Format 3
//
// Steady state is a few records repeating with new times (a master's
// advert timer: TimerFired → SendAdvert, Count, SetTimer; a backup's
// advert: AdvertReceived → Count, SetTimer), so format 3 codes a record as
// the change from the previous record of the same shape. Chunk:
//
//	crc32c  4 bytes, little-endian, Castagnoli CRC of the rest
//	count   uvarint ≥ 1;  span  uvarint, last sequence − first
//	base    uvarint, first sequence − the first sequence of its epoch
//	        (0: the chunk starts an epoch)
//	shapes  uvarint, shapes the epoch defined before this chunk (0 if base 0)
//	count × record
//
// Slots. The integer slots of a record are found by reading its event and
// its effects, each on its own, as flat CBOR: head after head, skipping the
// contents of byte and text strings (the items inside arrays, maps and
// tags are heads of their own). Every head of major type 0 or 1 with 1, 2,
// 4 or 8 argument bytes (additional information 24–27) is a slot: its
// argument bytes, read as a big-endian unsigned value. A head with
// additional information 28–30, 31 on major type 0, 1 or 6, or a string
// running past the end makes that part (event or effects) have no slots.
// A record's skeleton is the uvarint of its event's length followed by its
// bytes with every slot's argument bytes zeroed; two records have the same
// shape when their skeletons are equal (they then have the same slots).
//
// Shapes. An epoch keeps a table of shapes, empty at its start: for each,
// the last record of that shape, each slot's value v and change d in it
// (d = 0 when the shape is defined), each slot's code (0 when defined),
// and its successor: the shape of the record that came after that record
// (none when defined). The epoch also remembers the previous record's
// shape (none at its start and after a plain literal); the predicted shape
// is its successor. After a record of shape S, the previous record's
// shape (if any) gets successor S, and S becomes the previous shape.
//
// Record: a head byte, bits 0–1 the type, bit 2 N (sequence = previous
// + 1; the first record of a chunk must set it and has the chunk's key),
// bits 3 and 4 for delta records only, bits 5–7 zero. If N is clear a
// uvarint sequence delta ≥ 2 follows. Then, by type:
//
//	0 literal  uvarint event length, uvarint effects length, the bytes.
//	1 define   the same; the record also becomes shape number len(table)
//	           (at most 16,384 shapes an epoch, of at most 2,048 bytes).
//	2 delta    bit 3 P: the shape is the predicted one, else a uvarint
//	           shape number follows; bit 4 C: the slots keep the codes of
//	           the shape's last record, else ⌈slots/4⌉ bytes of 2-bit codes
//	           follow (slot i in bits 2(i mod 4) of byte i/4); then one
//	           zigzag uvarint r for each slot of code 3, in slot order.
//	           Slot by slot, with lead the new change of the last code-3
//	           slot before it (a code-2 slot needs one), the new change is
//	             code 0: 0          code 1: d
//	             code 2: lead       code 3: d + r (mod 2⁶⁴)
//	           and the new value v + change (mod 2⁶⁴), which must fit the
//	           slot's width; the record is the shape's last one with the
//	           new values written into its slots.
//
// The writer picks for each slot the code it had if that still gives the
// value, else the first of 0, 1, 2 that does, else 3; a record of a new
// shape is a define while the table has room, else a literal.
//
// Epochs. Reading a record needs its epoch read from its start, so the
// reader seeking to a sequence starts at the chunk key − base. The writer
// starts an epoch with each file, after 2¹⁹ records (at the next chunk),
// when the table is full, and after a failed commit. A damaged chunk
// (its checksum fails) is an error naming the file and the chunk's
// sequence, and the records after it in its epoch cannot be read.
//
// Chunks stay open across commits: the chunk a commit ends with is put
// again, grown, by the next commit under the same key (bbolt rewrites
// that leaf page in every commit anyway), until it would pass 4,096
// records or a page minus 32 bytes; a record larger than that is a chunk
// alone. A chunk is written in one transaction, so a crash keeps each
// version whole or not at all.
//
// # Formats 1 and 2
//
// Format 2 (vigil before format 3) has the same buckets; its chunks hold
// each commit's records whole, never reopened:
//
//	crc32c  4 bytes, little-endian, Castagnoli CRC of the rest
//	count   uvarint ≥ 1;  span  uvarint, last sequence − first
//	count × {seq delta uvarint (0 first, then ≥ 1), event length uvarint,
//	         effects length uvarint, event bytes, effects bytes}
//
// Format 1 files have instead the buckets events (sequence → encoded
// event) and effects (sequence → encoded effects). The Reader reads all
// three formats, choosing by meta format; the Writer writes format 3.
//
// Sequence keys are big-endian uint64, so bbolt's key order is sequence
// order. Meta values are plain text (inspect with `bbolt get`); events,
// effects, gaps and snapshots are CBOR (see internal/wire). The records
// and snapshots buckets are filled with FillPercent 1 (keys only grow, so
// pages are packed full), and the files are written without an on-disk
// freelist (bbolt's NoFreelistSync: a journal file is never reopened for
// writing); both are ordinary bbolt files that any bbolt reads.
//
// # Writing
//
// Writer.Append encodes in the caller's goroutine (effects are only valid
// until the engine's next Step) into recycled slabs, allocating nothing in
// the steady state, and hands the bytes to one writer goroutine through a
// bounded queue. Append never blocks: when the queue
// is full the lost sequences are recorded as a gap, never dropped
// silently. The writer goroutine group-commits: it sleeps until MaxBatch
// records wait or the oldest is MaxBatchAge old (or Sync or Close asks),
// then commits everything queued in one transaction — one fsync, one
// bbolt Put per chunk — so a backlog is absorbed in a few large commits
// rather than many small ones. A crash (or power
// loss, with fsync on) therefore loses at most the records appended in
// the last MaxBatchAge plus one commit's duration — that is the setting
// that bounds crash loss. What is committed is never damaged by a crash:
// bbolt writes copy-on-write and switches meta pages last.
//
// # Trouble: a full, read-only or damaged disk
//
// A commit that fails (ENOSPC, EROFS, EIO) turns its records into a gap,
// written with the next commit that succeeds; consecutive failures extend
// one gap. An episode of trouble starts with the first failure (counted in
// Stats.Episodes, Stats.Failing set, reported once through Options.Health)
// and ends with a successful commit 5 s after its last failure, so a nearly
// full disk that takes small commits and fails large ones is one episode.
// After an episode that lost events a snapshot is due, so that a replay
// resumes after the gap. With Options.Resilient, Open succeeds on a
// directory it cannot write; a Writer without a file retries creating one
// once a second. A last file that cannot be read (truncated or
// overwritten while no Writer had it) is renamed *.damaged and kept out
// of the journal, reported through Options.Damaged: Open checks its bbolt
// structure, and reads its records through in the background (seconds
// for a large file: not on a daemon's start path). Sequences its keys
// still show are not reused (a file bbolt cannot open shows none).
// Recorded times come from AnchoredClock: the wall clock read at Open,
// advanced monotonically, so a stepped system clock never orders them
// backwards.
//
// # Rotation and retention
//
// When the current file reaches RotateSize or RotateAge the Writer asks
// for a snapshot (SnapshotDue) and starts the next file with it, so every
// file replays on its own from its first snapshot, and deleting old files
// never strands the new ones. A caller that never snapshots still gets a
// rotation at twice those limits. After each rotation the oldest files are
// deleted until the directory holds at most MaxTotalSize bytes and nothing
// older than MaxAge; the current file is never deleted. Disk use is thus
// bounded by MaxTotalSize plus one file (at most about 2×RotateSize plus
// one growth step, at most 4 MiB: files grow by an eighth at a time).
//
// # Reading
//
// OpenReader reads one file or a whole directory (files in name order):
// Records decodes events and effects, RawRecords only the events (the
// effects stay encoded, for comparison), and Files, Gaps, Snapshots and
// SnapshotAt read the rest. Files are validated before bbolt maps them,
// and bbolt faults are recovered, so a truncated or corrupt journal yields
// an error, never a crash.
package journal
