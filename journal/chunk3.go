package journal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// A chunk of format 3 is one value of the records bucket, keyed by its
// first record's sequence:
//
//	crc     4 bytes, little-endian CRC-32C (Castagnoli) of everything after it
//	count   uvarint, records in the chunk (at least 1)
//	span    uvarint, last sequence − first sequence
//	base    uvarint, first sequence − the first sequence of the chunk's
//	        epoch (0: the chunk starts an epoch, with an empty shape table)
//	shapes  uvarint, shapes defined in the epoch before this chunk
//	count × record (shape.go; doc.go has the whole specification)
//
// Unlike format 2's, the chunk a commit ends with stays open: the next
// commit puts it again, grown, under the same key (bbolt rewrites that
// leaf page in every commit anyway), until it reaches maxChunk3Records or
// chunkCap; then the next record starts a new chunk.

// chunk3Records bounds the records of one chunk of format 3 (a variable
// for tests).
var chunk3Records = 4096

// epochRecords is the length of an epoch: after that many records the
// writer starts a new one at the next chunk (the cost: one literal per
// shape in use; the gain: a reader seeking into the file decodes at most
// that many records first, and a damaged chunk loses at most the rest of
// its epoch). A variable for tests.
var epochRecords = 1 << 19

// chunk3Writer builds the chunks of format 3 of one file: the writer
// goroutine's.
type chunk3Writer struct {
	enc      shapeEncoder
	body     []byte // the open chunk's records
	scratch  []byte
	count    int    // records in the open chunk (0: none open)
	first    uint64 // the open chunk's first and last sequences
	last     uint64
	shapesAt int         // shapes defined before the open chunk
	epoch    uint64      // first sequence of the epoch
	inEpoch  int         // records in the epoch so far (0: the next starts one)
	putLen   int         // the open chunk's size when last put (0: never)
	dirty    bool        // records added since it was last put
	limit    int         // chunkCap of the file
	arena    *chunkArena // where the values of the commit's Puts are built
}

// reset forgets the open chunk and starts a new epoch: at a new file, or
// after a failed commit (the file keeps what was committed).
func (c *chunk3Writer) reset(limit int) {
	c.enc.reset()
	c.body, c.count, c.inEpoch, c.putLen, c.dirty, c.limit = c.body[:0], 0, 0, 0, false, limit
}

// chunk3Header appends a chunk's header (without the checksum).
func chunk3Header(b []byte, count int, span, base uint64, shapes int) []byte {
	b = binary.AppendUvarint(b, uint64(count))
	b = binary.AppendUvarint(b, span)
	b = binary.AppendUvarint(b, base)
	return binary.AppendUvarint(b, uint64(shapes))
}

func (c *chunk3Writer) headerSize(count int, last uint64) int {
	return chunkCRCSize + uvarintLen(uint64(count)) + uvarintLen(last-c.first) + uvarintLen(c.first-c.epoch) + uvarintLen(uint64(c.shapesAt))
}

// add codes record it into the open chunk. When it does not fit, the open
// chunk is put a last time and it starts the next. put stores a chunk
// (oldLen: the size it had when last put, 0 if never).
func (c *chunk3Writer) add(it *item, put func(first uint64, v []byte, oldLen int) error) error {
	if c.count > 0 && it.seq <= c.last { // out of order: never from the Writer
		if err := c.close(put); err != nil {
			return err
		}
	}
	if c.count == 0 {
		c.open(it.seq)
	}
	before := len(c.enc.shapes)
	c.scratch = c.enc.encode(c.scratch[:0], it.data, it.split)
	if c.count > 0 {
		delta := it.seq - c.last
		size := len(c.scratch)
		if delta != 1 {
			size += uvarintLen(delta)
		}
		if c.count < chunk3Records && c.headerSize(c.count+1, it.seq)+len(c.body)+size <= c.limit {
			if delta == 1 {
				c.body = append(c.body, c.scratch[0]|recNextSeq)
			} else {
				c.body = append(c.body, c.scratch[0])
				c.body = binary.AppendUvarint(c.body, delta)
			}
			c.body = append(c.body, c.scratch[1:]...)
			c.count, c.last, c.dirty = c.count+1, it.seq, true
			c.inEpoch++
			return nil
		}
		if err := c.close(put); err != nil {
			return err
		}
		if c.epochDue() {
			c.inEpoch = 0
		}
		c.open(it.seq)
		if c.inEpoch == 0 { // a new epoch: code the record afresh
			before = 0
			c.scratch = c.enc.encode(c.scratch[:0], it.data, it.split)
		}
	}
	c.shapesAt = before
	c.body = append(c.body, c.scratch[0]|recNextSeq)
	c.body = append(c.body, c.scratch[1:]...)
	c.count, c.last, c.dirty = 1, it.seq, true
	c.inEpoch++
	return nil
}

func (c *chunk3Writer) epochDue() bool { return c.enc.full || c.inEpoch >= epochRecords }

// open starts a chunk at seq (and an epoch if none is under way).
func (c *chunk3Writer) open(seq uint64) {
	if c.inEpoch == 0 {
		c.enc.reset()
		c.epoch = seq
	}
	c.first, c.count, c.body, c.putLen, c.dirty = seq, 0, c.body[:0], 0, false
}

// close puts the open chunk if it changed, and closes it.
func (c *chunk3Writer) close(put func(uint64, []byte, int) error) error {
	err := c.flush(put)
	c.count, c.body, c.putLen = 0, c.body[:0], 0
	return err
}

// flush puts the open chunk if records were added since it was last put.
func (c *chunk3Writer) flush(put func(uint64, []byte, int) error) error {
	if c.count == 0 || !c.dirty {
		return nil
	}
	v := c.arena.alloc(c.headerSize(c.count, c.last) + len(c.body))
	p := chunk3Header(v[:chunkCRCSize], c.count, c.last-c.first, c.first-c.epoch, c.shapesAt)
	p = append(p, c.body...)
	if len(p) != len(v) {
		panic(fmt.Sprintf("journal: chunk of %d bytes, sized %d", len(p), len(v)))
	}
	binary.LittleEndian.PutUint32(v, crc32.Checksum(v[chunkCRCSize:], castagnoli))
	if err := put(c.first, v, c.putLen); err != nil {
		return err
	}
	c.putLen, c.dirty = len(v), false
	return nil
}

// chunk3Reader walks the records of one chunk of format 3, with the shape
// table of its epoch. A corrupt chunk yields an error, never a panic or an
// out-of-range slice.
type chunk3Reader struct {
	chunkReader
	base   uint64 // first − the epoch's first sequence
	shapes uint64 // shapes defined before the chunk
}

// reset starts reading chunk v stored under key k: its checksum and
// header.
func (c *chunk3Reader) reset(k, v []byte) error {
	*c = chunk3Reader{}
	if err := c.chunkReader.reset(k, v); err != nil {
		return err
	}
	return c.header3()
}

// header3 parses the header fields after count and span.
func (c *chunk3Reader) header3() error {
	b := c.rest
	base, n := binary.Uvarint(b)
	if n <= 0 || base > c.first {
		return fmt.Errorf("seq %d: chunk header: bad epoch", c.first)
	}
	b = b[n:]
	shapes, n := binary.Uvarint(b)
	if n <= 0 || shapes > maxShapes || base == 0 && shapes != 0 {
		return fmt.Errorf("seq %d: chunk header: bad shape count", c.first)
	}
	c.base, c.shapes, c.rest = base, shapes, b[n:]
	return nil
}

// next returns the next record's sequence and encodings (valid until the
// next call), or errChunkEnd after the last. dec is the epoch's table.
func (c *chunk3Reader) next(dec *shapeDecoder) (seq uint64, ev, eff []byte, err error) {
	if c.left == 0 {
		if c.seq != c.last {
			return 0, nil, nil, fmt.Errorf("seq %d: chunk ends at seq %d, its header says %d", c.first, c.seq, c.last)
		}
		if len(c.rest) != 0 {
			return 0, nil, nil, fmt.Errorf("seq %d: %d trailing bytes after the chunk's records", c.first, len(c.rest))
		}
		return 0, nil, nil, errChunkEnd
	}
	bad := func(err error) error {
		return fmt.Errorf("seq %d: chunk record after seq %d: %w", c.first, c.seq, err)
	}
	b := c.rest
	if len(b) == 0 {
		return 0, nil, nil, bad(fmt.Errorf("chunk ends %d records early", c.left))
	}
	head := b[0]
	b = b[1:]
	delta := uint64(1)
	if !c.started {
		delta = 0
		if head&recNextSeq == 0 {
			return 0, nil, nil, bad(fmt.Errorf("first record with a sequence delta"))
		}
	} else if head&recNextSeq == 0 {
		var n int
		delta, n = binary.Uvarint(b)
		if n <= 0 || delta < 2 {
			return 0, nil, nil, bad(fmt.Errorf("bad sequence delta"))
		}
		b = b[n:]
	}
	if delta > c.last-c.seq {
		return 0, nil, nil, bad(fmt.Errorf("sequence delta %d beyond the chunk's span", delta))
	}
	ev, eff, rest, err := dec.decode(head&^recNextSeq, b)
	if err != nil {
		return 0, nil, nil, bad(err)
	}
	c.seq += delta
	c.started = true
	c.left--
	c.rest = rest
	return c.seq, ev, eff, nil
}
