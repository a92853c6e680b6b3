package journal

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/vigil-ha/vigil/internal/wire"
)

// FormatVersion is the journal file format written by this package. A
// reader refuses files with a newer format. Format 1 stores one record per
// key in the events and effects buckets; format 2 stores chunks of records
// in the records bucket (see chunk.go); format 3 stores chunks too, each
// record coded as a delta from the previous record of its shape (see
// chunk3.go, shape.go and doc.go). All three are read.
const FormatVersion = 3

// Bucket names.
var (
	bucketEvents    = []byte("events")
	bucketEffects   = []byte("effects")
	bucketRecords   = []byte("records")
	bucketSnapshots = []byte("snapshots")
	bucketGaps      = []byte("gaps")
	bucketMeta      = []byte("meta")
)

// Meta keys.
const (
	metaFormat  = "format"
	metaCodec   = "codec"
	metaHost    = "host"
	metaVersion = "version"
	metaDigest  = "config_digest"
	metaCreated = "created"
)

// seqKey returns the bucket key of a sequence number.
func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq) }

// keySeq parses a bucket key.
func keySeq(k []byte) (uint64, error) {
	if len(k) != 8 {
		return 0, fmt.Errorf("sequence key of %d bytes, want 8", len(k))
	}
	return binary.BigEndian.Uint64(k), nil
}

// Gap records events the journal lost: appended while the queue was full,
// or in a batch whose commit failed.
type Gap struct {
	// First and Last are the first and last lost sequence numbers.
	First, Last uint64
	// Count is how many events were lost between them (inclusive).
	Count uint64
	// At is the wall time of the first loss.
	At time.Time
	// Reason says why: "queue full", "commit failed: ...", "encode: ...".
	Reason string
}

func (g Gap) String() string {
	return fmt.Sprintf("gap %d..%d (%d events lost at %s: %s)", g.First, g.Last, g.Count, g.At.UTC().Format(time.RFC3339Nano), g.Reason)
}

func encodeGap(g Gap) []byte {
	e := wire.NewEncoder(make([]byte, 0, 64))
	m := e.BeginMap()
	e.Uint(1, g.First)
	e.Uint(2, g.Last)
	e.Uint(3, g.Count)
	e.Int(4, wallNanos(g.At))
	e.String(5, g.Reason)
	e.EndMap(m)
	return e.Bytes()
}

func decodeGap(b []byte) (Gap, error) {
	var g Gap
	d := wire.NewDecoder(b)
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			g.First = d.Uint()
		case 2:
			g.Last = d.Uint()
		case 3:
			g.Count = d.Uint()
		case 4:
			g.At = fromWallNanos(d.Int())
		case 5:
			g.Reason = d.String()
		default:
			d.Skip()
		}
	}
	d.EndContainer()
	if err := finish(d); err != nil {
		return Gap{}, fmt.Errorf("gap record: %w", err)
	}
	if g.Last < g.First {
		return Gap{}, fmt.Errorf("gap record: last %d before first %d", g.Last, g.First)
	}
	return g, nil
}

// Snapshot is an engine state recorded in the journal.
type Snapshot struct {
	// Seq is the sequence of the last event applied to State.
	Seq uint64
	// At is the wall time the Writer received it.
	At time.Time
	// State is the engine's marshalled state (engine.MarshalState).
	State []byte
	// File is the journal file holding it.
	File string
}

func encodeSnapshot(at time.Time, state []byte) []byte {
	e := wire.NewEncoder(make([]byte, 0, len(state)+24))
	m := e.BeginMap()
	e.Int(1, wallNanos(at))
	if len(state) > 0 {
		e.Key(2)
		e.AppendBytes(state)
	}
	e.EndMap(m)
	return e.Bytes()
}

// decodeSnapshot decodes a snapshot record, its state only if withState.
func decodeSnapshot(b []byte, withState bool) (Snapshot, error) {
	var s Snapshot
	d := wire.NewDecoder(b)
	for range d.MapLen() {
		switch d.Key() {
		case 1:
			s.At = fromWallNanos(d.Int())
		case 2:
			if withState {
				s.State = d.ByteString()
			} else {
				d.Skip()
			}
		default:
			d.Skip()
		}
	}
	d.EndContainer()
	if err := finish(d); err != nil {
		return Snapshot{}, fmt.Errorf("snapshot record: %w", err)
	}
	return s, nil
}

func finish(d *wire.Decoder) error {
	if err := d.Err(); err != nil {
		return err
	}
	if !d.Done() {
		return fmt.Errorf("trailing bytes after byte %d", d.Offset())
	}
	return nil
}

func wallNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromWallNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
