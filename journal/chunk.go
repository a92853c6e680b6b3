package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// A chunk (format 2) is one value of the records bucket: consecutive
// records of one commit, keyed by the first one's sequence.
//
//	crc     4 bytes, little-endian CRC-32C (Castagnoli) of everything after it
//	count   uvarint, records in the chunk (at least 1)
//	span    uvarint, last sequence − first sequence
//	count × record:
//	  delta   uvarint, sequence − previous record's (0 for the first: its
//	          sequence is the key; at least 1 for the others)
//	  evLen   uvarint, then effLen uvarint
//	  event   evLen bytes (events.Encode)
//	  effects effLen bytes (effects.EncodeAll)
//
// The writer closes a chunk at maxChunkRecords records, before it would
// exceed chunkCap (so bbolt packs two chunks in two pages), or at the end
// of the commit. A single record larger than chunkCap is a chunk alone.

// maxChunkRecords bounds the records of one chunk.
const maxChunkRecords = 256

// chunkCap is the largest chunk (value bytes) the writer builds for a file
// of pageSize pages, unless a single record needs more: two such values with
// their keys and element headers fill a two-page bbolt node exactly (bbolt
// puts at least two elements in a node), so full chunks waste no space.
func chunkCap(pageSize int) int { return max(pageSize-32, 512) }

const chunkCRCSize = 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// chunkBuilder accumulates the records of the chunk being built.
type chunkBuilder struct {
	recs  []item // records of the chunk, in sequence order
	body  int    // their encoded size (record headers included)
	first uint64
	last  uint64
}

// recordSize is the encoded size of record it in a chunk after prev.
func chunkRecordSize(it *item, prev uint64, first bool) int {
	delta := uint64(0)
	if !first {
		delta = it.seq - prev
	}
	return uvarintLen(delta) + uvarintLen(uint64(it.split)) + uvarintLen(uint64(len(it.data)-it.split)) + len(it.data)
}

func chunkHeaderSize(count int, span uint64) int {
	return chunkCRCSize + uvarintLen(uint64(count)) + uvarintLen(span)
}

// fits reports whether it may join the chunk (it is in sequence order,
// and the chunk stays within limit and maxChunkRecords).
func (c *chunkBuilder) fits(it *item, limit int) bool {
	if len(c.recs) == 0 {
		return true
	}
	if it.seq <= c.last || len(c.recs) >= maxChunkRecords {
		return false
	}
	size := c.body + chunkRecordSize(it, c.last, false)
	return chunkHeaderSize(len(c.recs)+1, it.seq-c.first)+size <= limit
}

func (c *chunkBuilder) add(it *item) {
	c.body += chunkRecordSize(it, c.last, len(c.recs) == 0)
	if len(c.recs) == 0 {
		c.first = it.seq
	}
	c.last = it.seq
	c.recs = append(c.recs, *it)
}

// size is the chunk's encoded size.
func (c *chunkBuilder) size() int { return chunkHeaderSize(len(c.recs), c.last-c.first) + c.body }

// encode writes the chunk into b, of exactly c.size() bytes, and resets c.
func (c *chunkBuilder) encode(b []byte) {
	p := b[:chunkCRCSize]
	p = binary.AppendUvarint(p, uint64(len(c.recs)))
	p = binary.AppendUvarint(p, c.last-c.first)
	prev := c.first
	for i := range c.recs {
		it := &c.recs[i]
		p = binary.AppendUvarint(p, it.seq-prev)
		prev = it.seq
		p = binary.AppendUvarint(p, uint64(it.split))
		p = binary.AppendUvarint(p, uint64(len(it.data)-it.split))
		p = append(p, it.data...)
	}
	if len(p) != len(b) || &p[0] != &b[0] {
		panic(fmt.Sprintf("journal: chunk of %d bytes, sized %d", len(p), len(b)))
	}
	binary.LittleEndian.PutUint32(b, crc32.Checksum(b[chunkCRCSize:], castagnoli))
	clear(c.recs) // drop references to the slabs
	c.recs, c.body = c.recs[:0], 0
}

// chunkReader walks the records of one chunk. A corrupt chunk yields an
// error, never a panic or an out-of-range slice.
type chunkReader struct {
	first, last uint64 // the chunk's sequences, from its key and span
	seq         uint64 // the sequence of the record last returned
	left        int    // records still to return
	rest        []byte // their encodings
	started     bool
}

var errChunkEnd = errors.New("end of chunk")

// reset starts reading chunk v stored under key k, checking its checksum
// and header.
func (c *chunkReader) reset(k, v []byte) error {
	*c = chunkReader{}
	first, err := keySeq(k)
	if err != nil {
		return err
	}
	c.first = first
	if len(v) < chunkCRCSize+2 {
		return fmt.Errorf("seq %d: chunk of %d bytes truncated", first, len(v))
	}
	if sum := crc32.Checksum(v[chunkCRCSize:], castagnoli); sum != binary.LittleEndian.Uint32(v) {
		return fmt.Errorf("seq %d: chunk checksum mismatch (%08x, recorded %08x)", first, sum, binary.LittleEndian.Uint32(v))
	}
	return c.header(first, v[chunkCRCSize:])
}

// header parses the count and span of a chunk whose checksum is checked.
func (c *chunkReader) header(first uint64, b []byte) error {
	count, n := binary.Uvarint(b)
	if n <= 0 || count == 0 || count > uint64(len(b)) {
		return fmt.Errorf("seq %d: chunk header: bad record count", first)
	}
	b = b[n:]
	span, n := binary.Uvarint(b)
	if n <= 0 || span > ^uint64(0)-first || span < count-1 {
		return fmt.Errorf("seq %d: chunk header: bad span", first)
	}
	c.first, c.last, c.seq, c.left, c.rest = first, first+span, first, int(count), b[n:]
	return nil
}

// next returns the next record's sequence and encodings (subslices of the
// chunk), or errChunkEnd after the last.
func (c *chunkReader) next() (seq uint64, ev, eff []byte, err error) {
	if c.left == 0 {
		if c.seq != c.last {
			return 0, nil, nil, fmt.Errorf("seq %d: chunk ends at seq %d, its header says %d", c.first, c.seq, c.last)
		}
		if len(c.rest) != 0 {
			return 0, nil, nil, fmt.Errorf("seq %d: %d trailing bytes after the chunk's records", c.first, len(c.rest))
		}
		return 0, nil, nil, errChunkEnd
	}
	bad := func(what string) error {
		return fmt.Errorf("seq %d: chunk record after seq %d: %s", c.first, c.seq, what)
	}
	b := c.rest
	delta, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, nil, bad("bad sequence delta")
	}
	b = b[n:]
	if c.started != (delta > 0) || delta > c.last-c.seq {
		return 0, nil, nil, bad(fmt.Sprintf("sequence delta %d out of order", delta))
	}
	evLen, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, nil, bad("bad event length")
	}
	b = b[n:]
	effLen, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, nil, bad("bad effects length")
	}
	b = b[n:]
	if evLen > uint64(len(b)) || effLen > uint64(len(b))-evLen {
		return 0, nil, nil, bad(fmt.Sprintf("record of %d+%d bytes overruns the chunk's %d", evLen, effLen, len(b)))
	}
	c.seq += delta
	c.started = true
	c.left--
	ev, eff = b[:evLen:evLen], b[evLen:evLen+effLen:evLen+effLen]
	c.rest = b[evLen+effLen:]
	return c.seq, ev, eff, nil
}

// chunkLast returns the last sequence of chunk v stored under key k,
// from its header only (no checksum: the reader checks it when it reads
// the records).
func chunkLast(k, v []byte) (uint64, error) {
	first, err := keySeq(k)
	if err != nil {
		return 0, err
	}
	if len(v) < chunkCRCSize+2 {
		return 0, fmt.Errorf("seq %d: chunk of %d bytes truncated", first, len(v))
	}
	var c chunkReader
	if err := c.header(first, v[chunkCRCSize:]); err != nil {
		return 0, err
	}
	return c.last, nil
}

// chunkArena holds the chunks of one commit: bbolt keeps the values
// passed to Put until the transaction ends, so chunks are built in
// blocks that are reused once it has.
type chunkArena struct {
	blocks [][]byte
	cur    int
}

const (
	arenaBlock     = 64 << 10
	maxArenaBlocks = 32
)

func (a *chunkArena) alloc(n int) []byte {
	if n > arenaBlock {
		return make([]byte, n)
	}
	for a.cur < len(a.blocks) && cap(a.blocks[a.cur])-len(a.blocks[a.cur]) < n {
		a.cur++
	}
	if a.cur == len(a.blocks) {
		a.blocks = append(a.blocks, make([]byte, 0, arenaBlock))
	}
	b := a.blocks[a.cur]
	off := len(b)
	a.blocks[a.cur] = b[:off+n]
	return b[off : off+n : off+n]
}

// reset makes the blocks reusable; the transaction using them is over.
func (a *chunkArena) reset() {
	if len(a.blocks) > maxArenaBlocks {
		clear(a.blocks[maxArenaBlocks:])
		a.blocks = a.blocks[:maxArenaBlocks]
	}
	for i := range a.blocks {
		a.blocks[i] = a.blocks[i][:0]
	}
	a.cur = 0
}
