package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Format 3 codes a record as the delta from the previous record of the
// same shape (see doc.go, "Format 3"). This file is that codec: finding a
// record's integer slots, the shape table both ends keep, and the record
// encoder (writer) and decoder (reader). The chunk around the records is
// in chunk3.go.

// A slot is one integer field of a shape: the argument bytes of a CBOR
// integer head (major type 0 or 1) that has 1, 2, 4 or 8 argument bytes.
type slot struct {
	pos   uint16 // offset of the argument bytes in the record
	width uint8  // 1, 2, 4 or 8
	code  uint8  // how the last record coded it (slotKeep...)
	v, d  uint64 // its value in the last record, and the change then
}

// Slot codes: how a delta record gives a slot's new value v from its value
// p and change d in the shape's previous record. lead is the change of the
// record's last explicit slot before this one.
const (
	slotKeep     = 0 // v = p
	slotRepeat   = 1 // v = p + d
	slotFollow   = 2 // v = p + lead
	slotExplicit = 3 // v = p + d + zigzag residual (a uvarint in the record)
)

// Record head byte of format 3.
const (
	recLiteral  = 0 // a literal record
	recDefine   = 1 // a literal record that defines the next shape
	recDelta    = 2 // a delta from the shape's previous record
	recTypeMask = 3

	recNextSeq   = 1 << 2 // sequence = previous + 1 (no delta follows)
	recPredicted = 1 << 3 // delta: the predicted shape (no id follows)
	recSameCodes = 1 << 4 // delta: the shape's previous slot codes (no codes follow)
	recReserved  = 0xe0
)

// Shape limits: a record longer than maxShapeBytes is never a shape (the
// configuration, a full IPVS table: rare and large), and an epoch holds at
// most maxShapes shapes (the writer then starts a new epoch).
const (
	maxShapeBytes = 2048
	maxShapes     = 1 << 14
)

// shape is one entry of the shape table: the last record of that shape
// and its slots.
type shape struct {
	rec   []byte // the last record of this shape: event then effects
	split int    // the event's length
	slots []slot
	next  int32 // the shape of the record that followed it last (-1: none)
}

// shapeTable is the state both ends keep through an epoch.
type shapeTable struct {
	shapes []shape
	prev   int32 // the previous record's shape, -1 if none (a literal)
}

func (t *shapeTable) reset() {
	for i := range t.shapes {
		t.shapes[i] = shape{rec: t.shapes[i].rec[:0], slots: t.shapes[i].slots[:0]}
	}
	t.shapes = t.shapes[:0]
	t.prev = -1
}

// define adds rec (event rec[:split]) as a new shape, reusing the storage
// of a shape dropped by reset if there is one.
func (t *shapeTable) define(rec []byte, split int) int32 {
	id := int32(len(t.shapes))
	if len(t.shapes) < cap(t.shapes) {
		t.shapes = t.shapes[:id+1]
	} else {
		t.shapes = append(t.shapes, shape{})
	}
	s := &t.shapes[id]
	s.rec = append(s.rec[:0], rec...)
	s.split = split
	s.slots = findSlots(s.rec[:split], 0, s.slots[:0])
	s.slots = findSlots(s.rec[split:], split, s.slots)
	s.next = -1
	return id
}

// follow records that a record of shape id came next.
func (t *shapeTable) follow(id int32) {
	if t.prev >= 0 && int(t.prev) < len(t.shapes) {
		t.shapes[t.prev].next = id
	}
	t.prev = id
}

// predicted is the shape expected next.
func (t *shapeTable) predicted() int32 {
	if t.prev < 0 || int(t.prev) >= len(t.shapes) {
		return -1
	}
	return t.shapes[t.prev].next
}

// findSlots appends the integer slots of b, a CBOR sequence that starts at
// offset base of its record, to slots. It reads the items flat, head by
// head (the contents of arrays, maps and tags are items that follow their
// head). If b is not well-formed at that level, b has no slots: the
// encoder and decoder agree on that as on everything else, since both
// run this function on the same bytes.
func findSlots(b []byte, base int, slots []slot) []slot {
	start := len(slots)
	for i := 0; i < len(b); {
		h := b[i]
		major, ai := h>>5, h&31
		i++
		n := 0
		switch {
		case ai < 24:
		case ai <= 27:
			n = 1 << (ai - 24)
		case ai == 31 && major >= 2 && major != 6: // indefinite length, or break
		default:
			return slots[:start]
		}
		if n > len(b)-i {
			return slots[:start]
		}
		arg := uint64(ai) // the argument itself when ai < 24
		if n > 0 {
			arg = 0
		}
		for _, c := range b[i : i+n] {
			arg = arg<<8 | uint64(c)
		}
		if major <= 1 && n > 0 {
			slots = append(slots, slot{pos: uint16(base + i), width: uint8(n), v: arg})
		}
		i += n
		if (major == 2 || major == 3) && ai != 31 {
			if arg > uint64(len(b)-i) {
				return slots[:start]
			}
			i += int(arg)
		}
	}
	return slots
}

// putSlot writes a slot's value in a record.
func putSlot(rec []byte, s *slot, v uint64) {
	for i := int(s.width) - 1; i >= 0; i-- {
		rec[int(s.pos)+i] = byte(v)
		v >>= 8
	}
}

func zigzag(x uint64) uint64   { return x<<1 ^ uint64(int64(x)>>63) }
func unzigzag(x uint64) uint64 { return x>>1 ^ -(x & 1) }

// shapeEncoder is the writer's side: the table, and an index of shapes by
// skeleton (the record with its slots' argument bytes zeroed, after the
// event's length).
type shapeEncoder struct {
	shapeTable
	index map[string]int32
	skel  []byte // scratch
	tmp   []slot // scratch
	full  bool   // a shape could not be defined: start a new epoch soon
}

func (e *shapeEncoder) reset() {
	e.shapeTable.reset()
	clear(e.index)
	e.full = false
}

// skeleton builds the index key of a record and its slots in e.tmp; ok is
// false if the record cannot be a shape.
func (e *shapeEncoder) skeleton(rec []byte, split int) bool {
	if len(rec) > maxShapeBytes {
		return false
	}
	e.tmp = findSlots(rec[:split], 0, e.tmp[:0])
	e.tmp = findSlots(rec[split:], split, e.tmp)
	e.skel = binary.AppendUvarint(e.skel[:0], uint64(split))
	off := len(e.skel)
	e.skel = append(e.skel, rec...)
	for i := range e.tmp {
		s := &e.tmp[i]
		clear(e.skel[off+int(s.pos) : off+int(s.pos)+int(s.width)])
	}
	return true
}

// encode appends the coding of record rec (event rec[:split]) to dst: the
// head byte first, without recNextSeq, then what follows the sequence
// delta (which the caller inserts). It updates the table as the decoder
// will.
func (e *shapeEncoder) encode(dst []byte, rec []byte, split int) []byte {
	if e.index == nil {
		e.index = make(map[string]int32)
	}
	if !e.skeleton(rec, split) {
		e.shapeTable.prev = -1
		return appendLiteral(dst, recLiteral, rec, split)
	}
	id, ok := e.index[string(e.skel)]
	if !ok {
		if len(e.shapes) >= maxShapes {
			e.full = true
			e.shapeTable.prev = -1
			return appendLiteral(dst, recLiteral, rec, split)
		}
		id = e.define(rec, split)
		e.index[string(e.skel)] = id
		e.follow(id)
		return appendLiteral(dst, recDefine, rec, split)
	}
	s := &e.shapes[id]
	head := byte(recDelta)
	if e.predicted() == id {
		head |= recPredicted
	}
	// Choose each slot's code: the one it had if that still works (so
	// the codes repeat), else the cheapest that works.
	same := true
	var lead uint64
	var hasLead bool
	for i := range s.slots {
		sl, t := &s.slots[i], &e.tmp[i]
		d := t.v - sl.v
		keep, repeat, follow := d == 0, d == sl.d, hasLead && d == lead
		code := uint8(slotExplicit)
		switch {
		case sl.code == slotKeep && keep, sl.code == slotRepeat && repeat, sl.code == slotFollow && follow:
			code = sl.code
		case keep:
			code = slotKeep
		case repeat:
			code = slotRepeat
		case follow:
			code = slotFollow
		}
		if code == slotExplicit {
			lead, hasLead = d, true
		}
		if code != sl.code {
			same = false
		}
		t.code, t.d = code, d
	}
	if same {
		head |= recSameCodes
	}
	dst = append(dst, head)
	if head&recPredicted == 0 {
		dst = binary.AppendUvarint(dst, uint64(id))
	}
	if !same {
		var b byte
		for i := range s.slots {
			b |= e.tmp[i].code << (2 * (i % 4))
			if i%4 == 3 || i == len(s.slots)-1 {
				dst = append(dst, b)
				b = 0
			}
		}
	}
	for i := range s.slots {
		sl, t := &s.slots[i], &e.tmp[i]
		if t.code == slotExplicit {
			dst = binary.AppendUvarint(dst, zigzag(t.d-sl.d))
		}
		sl.code, sl.v, sl.d = t.code, t.v, t.d
	}
	copy(s.rec, rec) // same length and skeleton: only the slots differ
	e.follow(id)
	return dst
}

func appendLiteral(dst []byte, head byte, rec []byte, split int) []byte {
	dst = append(dst, head)
	dst = binary.AppendUvarint(dst, uint64(split))
	dst = binary.AppendUvarint(dst, uint64(len(rec)-split))
	return append(dst, rec...)
}

// shapeDecoder is the reader's side.
type shapeDecoder struct {
	shapeTable
}

var errShape = errors.New("bad record")

// decode decodes one record from b (after its head byte and sequence
// delta, which the caller read). It returns the record's event and effects
// (valid until the next call), and the bytes after the record.
func (d *shapeDecoder) decode(head byte, b []byte) (ev, eff, rest []byte, err error) {
	bad := func(format string, args ...any) error { return fmt.Errorf(format, args...) }
	switch head & recTypeMask {
	case recLiteral, recDefine:
		if head&(recPredicted|recSameCodes|recReserved) != 0 {
			return nil, nil, nil, bad("literal record with head %#x", head)
		}
		evLen, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, nil, nil, bad("bad event length")
		}
		b = b[n:]
		effLen, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, nil, nil, bad("bad effects length")
		}
		b = b[n:]
		if evLen > uint64(len(b)) || effLen > uint64(len(b))-evLen {
			return nil, nil, nil, bad("record of %d+%d bytes overruns the chunk's %d", evLen, effLen, len(b))
		}
		rec := b[: evLen+effLen : evLen+effLen]
		rest = b[evLen+effLen:]
		if head&recTypeMask == recLiteral {
			d.prev = -1
			return rec[:evLen:evLen], rec[evLen:], rest, nil
		}
		if len(rec) > maxShapeBytes || len(d.shapes) >= maxShapes {
			return nil, nil, nil, bad("shape %d of %d bytes beyond the limits", len(d.shapes), len(rec))
		}
		id := d.define(rec, int(evLen))
		d.follow(id)
		s := &d.shapes[id]
		return s.rec[:s.split:s.split], s.rec[s.split:], rest, nil
	case recDelta:
		if head&recReserved != 0 {
			return nil, nil, nil, bad("delta record with head %#x", head)
		}
	default:
		return nil, nil, nil, bad("record type %d", head&recTypeMask)
	}
	id := d.predicted()
	if head&recPredicted == 0 {
		x, n := binary.Uvarint(b)
		if n <= 0 || x >= uint64(len(d.shapes)) {
			return nil, nil, nil, bad("shape %d of %d", x, len(d.shapes))
		}
		b, id = b[n:], int32(x)
	} else if id < 0 {
		return nil, nil, nil, bad("no shape predicted")
	}
	s := &d.shapes[id]
	if head&recSameCodes == 0 {
		n := (len(s.slots) + 3) / 4
		if n > len(b) {
			return nil, nil, nil, bad("slot codes overrun the chunk")
		}
		for i := range s.slots {
			s.slots[i].code = b[i/4] >> (2 * (i % 4)) & 3
		}
		b = b[n:]
	}
	// An error leaves the shape half updated: the reader stops at the
	// first error.
	var lead uint64
	var hasLead bool
	for i := range s.slots {
		sl := &s.slots[i]
		var dd uint64
		switch sl.code {
		case slotKeep:
		case slotRepeat:
			dd = sl.d
		case slotFollow:
			if !hasLead {
				return nil, nil, nil, bad("slot %d follows no explicit slot", i)
			}
			dd = lead
		case slotExplicit:
			r, n := binary.Uvarint(b)
			if n <= 0 {
				return nil, nil, nil, bad("bad residual of slot %d", i)
			}
			b = b[n:]
			dd = sl.d + unzigzag(r)
			lead, hasLead = dd, true
		}
		v := sl.v + dd
		if sl.width < 8 && v>>(8*sl.width) != 0 {
			return nil, nil, nil, bad("slot %d value %d wider than %d bytes", i, v, sl.width)
		}
		sl.v, sl.d = v, dd
		putSlot(s.rec, sl, v)
	}
	d.follow(id)
	return s.rec[:s.split:s.split], s.rec[s.split:], b, nil
}
