package wire

import (
	"net/netip"
	"unicode/utf8"
)

// CBOR major types, already shifted into the initial byte's top three bits.
const (
	majUint  byte = 0 << 5
	majNeg   byte = 1 << 5
	majBytes byte = 2 << 5
	majText  byte = 3 << 5
	majArray byte = 4 << 5
	majMap   byte = 5 << 5
	majTag   byte = 6 << 5
	majOther byte = 7 << 5

	simpleFalse byte = majOther | 20
	simpleTrue  byte = majOther | 21
)

// Encoder appends CBOR to a byte slice. Map fields are written with the
// keyed methods (Uint, String, ...), which omit zero values and count the
// entries of the map being written; BeginMap/EndMap fix the map's length
// once its fields are known. Keys must be written in ascending order for
// the output to be deterministic.
type Encoder struct {
	buf []byte
	n   int // entries written so far in the innermost open map
}

// NewEncoder returns an encoder appending to dst.
func NewEncoder(dst []byte) *Encoder { return &Encoder{buf: dst} }

// Reset makes the encoder append to dst.
func (e *Encoder) Reset(dst []byte) { e.buf, e.n = dst, 0 }

// Bytes returns the encoded bytes.
func (e *Encoder) Bytes() []byte { return e.buf }

// appendHead writes a CBOR head in its shortest form. The one-byte case
// (small map keys, lengths and values: most heads) is kept small enough
// to be inlined; the rest is in appendLongHead.
func appendHead(b []byte, major byte, v uint64) []byte {
	if v < 24 {
		return append(b, major|byte(v))
	}
	return appendLongHead(b, major, v)
}

func appendLongHead(b []byte, major byte, v uint64) []byte {
	switch {
	case v <= 0xff:
		return append(b, major|24, byte(v))
	case v <= 0xffff:
		return append(b, major|25, byte(v>>8), byte(v))
	case v <= 0xffffffff:
		return append(b, major|26, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, major|27, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
		byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// Mark remembers an open map; see BeginMap.
type Mark struct{ key, pos, parent int }

// BeginMap opens a map value. Its entries are the keyed writes until the
// matching EndMap.
func (e *Encoder) BeginMap() Mark {
	m := Mark{pos: len(e.buf), parent: e.n}
	e.buf = append(e.buf, majMap) // placeholder head, fixed by EndMap
	e.n = 0
	return m
}

// EndMap closes the map opened by m, writing its length.
func (e *Encoder) EndMap(m Mark) {
	if e.n < 24 {
		e.buf[m.pos] = majMap | byte(e.n)
	} else {
		// Rare (maps of 24+ present fields): widen the head in place.
		head := appendHead(nil, majMap, uint64(e.n))
		e.buf = append(e.buf, head[1:]...)
		copy(e.buf[m.pos+len(head):], e.buf[m.pos+1:len(e.buf)-len(head)+1])
		copy(e.buf[m.pos:], head)
	}
	e.n = m.parent
}

// BeginMapField writes key k and opens a map as its value; EndMapField
// closes it, dropping key and map when the map stayed empty.
func (e *Encoder) BeginMapField(k uint64) Mark {
	key := len(e.buf)
	e.Key(k)
	m := e.BeginMap()
	m.key = key
	return m
}

// EndMapField closes a map opened by BeginMapField.
func (e *Encoder) EndMapField(m Mark) {
	if e.n == 0 {
		e.buf = e.buf[:m.key]
		e.n = m.parent - 1
		return
	}
	e.EndMap(m)
}

// Key writes a map key; the caller then writes its value with one of the
// Append methods.
func (e *Encoder) Key(k uint64) {
	if k < 24 {
		e.buf = append(e.buf, majUint|byte(k))
	} else {
		e.buf = appendLongHead(e.buf, majUint, k)
	}
	e.n++
}

// TextKey writes a text map key (used by the reflective codec).
func (e *Encoder) TextKey(k string) {
	e.buf = appendHead(e.buf, majText, uint64(len(k)))
	e.buf = append(e.buf, k...)
	e.n++
}

// AppendUint writes an unsigned integer value.
func (e *Encoder) AppendUint(v uint64) { e.buf = appendHead(e.buf, majUint, v) }

// AppendInt writes a signed integer value.
func (e *Encoder) AppendInt(v int64) {
	if v >= 0 {
		e.buf = appendHead(e.buf, majUint, uint64(v))
	} else {
		e.buf = appendHead(e.buf, majNeg, uint64(-(v + 1)))
	}
}

// AppendBool writes false or true.
func (e *Encoder) AppendBool(v bool) {
	if v {
		e.buf = append(e.buf, simpleTrue)
	} else {
		e.buf = append(e.buf, simpleFalse)
	}
}

// AppendString writes a Go string: as a text string when it is valid UTF-8
// (as CBOR requires of text), otherwise as a byte string, so that any Go
// string survives a round trip exactly.
func (e *Encoder) AppendString(s string) {
	major := majText
	if !utf8.ValidString(s) {
		major = majBytes
	}
	e.buf = appendHead(e.buf, major, uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// AppendBytes writes a byte string.
func (e *Encoder) AppendBytes(b []byte) {
	e.buf = appendHead(e.buf, majBytes, uint64(len(b)))
	e.buf = append(e.buf, b...)
}

// AppendArrayHeader starts an array of n items; the caller writes them.
func (e *Encoder) AppendArrayHeader(n int) { e.buf = appendHead(e.buf, majArray, uint64(n)) }

// AppendAddr writes an address as a byte string in netip's binary form:
// empty for the zero Addr, 4 bytes for IPv4, 16 (plus the zone) for IPv6.
func (e *Encoder) AppendAddr(a netip.Addr) {
	n := 0
	switch {
	case a.Is4():
		n = 4
	case a.Is6():
		n = 16 + len(a.Zone())
	}
	if n == 4 {
		v4 := a.As4()
		e.buf = append(e.buf, majBytes|4, v4[0], v4[1], v4[2], v4[3])
		return
	}
	e.buf = appendHead(e.buf, majBytes, uint64(n))
	e.buf, _ = a.AppendBinary(e.buf) // never fails
}

// AppendPrefix writes a prefix as a byte string: the address's binary form
// followed by one byte of prefix length (0xff for the zero Prefix).
func (e *Encoder) AppendPrefix(p netip.Prefix) {
	n := 1
	if p.Addr().Is4() {
		n += 4
	} else if p.Addr().Is6() {
		n += 16
	}
	e.buf = appendHead(e.buf, majBytes, uint64(n))
	e.buf, _ = p.AppendBinary(e.buf) // never fails
}

// Keyed writers: each writes key k and the value, unless the value is zero.
//
// The common case of each — a key below 24 and a short value — appends
// key and value in one append: an event is mostly such fields, and this
// cut an advert's encoding from ~94 to ~65 ns (the daemon's loop pays it
// on every event). The bytes are those of the general path.

// Uint writes key k with an unsigned value, omitted when zero.
func (e *Encoder) Uint(k uint64, v uint64) {
	if v == 0 {
		return
	}
	if k < 24 && v <= 0xff {
		if v < 24 {
			e.buf = append(e.buf, majUint|byte(k), majUint|byte(v))
		} else {
			e.buf = append(e.buf, majUint|byte(k), majUint|24, byte(v))
		}
		e.n++
		return
	}
	e.Key(k)
	e.AppendUint(v)
}

// Int writes key k with a signed value, omitted when zero.
func (e *Encoder) Int(k uint64, v int64) {
	if v == 0 {
		return
	}
	if k < 24 && v > 0 && v <= 0xff {
		if v < 24 {
			e.buf = append(e.buf, majUint|byte(k), majUint|byte(v))
		} else {
			e.buf = append(e.buf, majUint|byte(k), majUint|24, byte(v))
		}
		e.n++
		return
	}
	e.Key(k)
	e.AppendInt(v)
}

// Bool writes key k as true, omitted when false.
func (e *Encoder) Bool(k uint64, v bool) {
	if v {
		e.Key(k)
		e.buf = append(e.buf, simpleTrue)
	}
}

// String writes key k with a string, omitted when empty.
func (e *Encoder) String(k uint64, s string) {
	if s == "" {
		return
	}
	if k < 24 && len(s) < 24 {
		major := majText
		if !utf8.ValidString(s) {
			major = majBytes
		}
		e.buf = append(append(e.buf, majUint|byte(k), major|byte(len(s))), s...)
		e.n++
		return
	}
	e.Key(k)
	e.AppendString(s)
}

// ByteString writes key k with bytes, omitted when all bytes are zero
// (which covers fixed-size arrays such as an auth data field).
func (e *Encoder) ByteString(k uint64, b []byte) {
	for _, c := range b {
		if c != 0 {
			e.Key(k)
			e.AppendBytes(b)
			return
		}
	}
}

// Addr writes key k with an address, omitted when it is the zero Addr.
func (e *Encoder) Addr(k uint64, a netip.Addr) {
	if !a.IsValid() {
		return
	}
	if k < 24 && a.Is4() {
		v4 := a.As4()
		e.buf = append(e.buf, majUint|byte(k), majBytes|4, v4[0], v4[1], v4[2], v4[3])
		e.n++
		return
	}
	e.Key(k)
	e.AppendAddr(a)
}

// Prefix writes key k with a prefix, omitted when it is the zero Prefix.
func (e *Encoder) Prefix(k uint64, p netip.Prefix) {
	if p != (netip.Prefix{}) {
		e.Key(k)
		e.AppendPrefix(p)
	}
}

// Addrs writes key k with an array of addresses, omitted when empty.
func (e *Encoder) Addrs(k uint64, as []netip.Addr) {
	if len(as) > 0 {
		e.Key(k)
		e.AppendArrayHeader(len(as))
		for _, a := range as {
			e.AppendAddr(a)
		}
	}
}

// Strings writes key k with an array of strings, omitted when empty.
func (e *Encoder) Strings(k uint64, ss []string) {
	if len(ss) > 0 {
		e.Key(k)
		e.AppendArrayHeader(len(ss))
		for _, s := range ss {
			e.AppendString(s)
		}
	}
}
