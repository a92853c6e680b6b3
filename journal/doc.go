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
//	records    first sequence → chunk of records (format 2, see below)
//	snapshots  sequence → {wall time, engine state after that event}
//	gaps       first sequence → {first, last, count, wall time, reason}
//	meta       format, codec, host, version, config_digest, created
//
// A chunk is consecutive records of one commit — each an event
// (events.Encode) with the effects it produced (effects.EncodeAll) — so a
// group commit of a thousand records costs a few dozen bbolt Puts, not
// two thousand:
//
//	crc32c  4 bytes, little-endian, Castagnoli CRC of the rest
//	count   uvarint ≥ 1;  span  uvarint, last sequence − first
//	count × {seq delta uvarint (0 first, then ≥ 1), event length uvarint,
//	         effects length uvarint, event bytes, effects bytes}
//
// The writer closes a chunk at 256 records, before it would outgrow a
// page minus 32 bytes (two chunks then fill a two-page bbolt node), or at
// the end of the commit; a record larger than that is a chunk alone. A
// chunk is written in one transaction, so a crash keeps it whole or not at
// all, and its checksum turns a damaged one into an error naming the file
// and the chunk's sequence. Sequences inside a chunk may skip (a gap).
//
// Format 1 files (vigil before format 2) have instead the buckets
// events (sequence → encoded event) and effects (sequence → encoded
// effects); the Reader reads both formats, choosing by meta format.
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
