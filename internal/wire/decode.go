package wire

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
)

// maxDepth bounds the nesting of arrays and maps the decoder accepts, so
// hostile input cannot exhaust the stack.
const maxDepth = 64

// ErrTruncated reports input that ends inside a value.
var ErrTruncated = errors.New("truncated")

// Decoder reads the CBOR subset written by Encoder. Errors are sticky: the
// first one is kept, later reads return zero values and length reads return
// 0, so decoding loops end by themselves and the caller checks Err once.
type Decoder struct {
	buf    []byte
	off    int
	err    error
	depth  int
	at     int // offset of the item being read, for error messages
	budget int // bytes the reflective decoder may still allocate
	names  *Names
}

// NewDecoder returns a decoder reading b.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Reset makes the decoder read b from the start. It keeps its Names.
func (d *Decoder) Reset(b []byte) { *d = Decoder{buf: b, names: d.names} }

// SetNames makes Name share strings through n (nil: never).
func (d *Decoder) SetNames(n *Names) { d.names = n }

// Names shares the strings that recur from record to record of a journal
// (interface, instance and timer names), so decoding a journal does not
// allocate a copy of "eth0" per advert. It is bounded, and not safe for
// concurrent use. The zero value is ready.
type Names struct{ m map[string]string }

// Bounds of Names: it only ever holds short strings, and stops adding
// once full (a hostile or unusual journal then decodes as without it).
const (
	maxNameLen = 64
	maxNames   = 4096
)

func (n *Names) get(b []byte) string {
	if s, ok := n.m[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(b) <= maxNameLen && len(n.m) < maxNames {
		if n.m == nil {
			n.m = make(map[string]string)
		}
		n.m[s] = s
	}
	return s
}

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Offset returns the number of bytes consumed.
func (d *Decoder) Offset() int { return d.off }

// Done reports whether all input has been consumed (or an error occurred).
func (d *Decoder) Done() bool { return d.off >= len(d.buf) }

// Fail records err (if it is the first error) at the current offset.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = fmt.Errorf("at byte %d: %w", d.at, err)
		d.off = len(d.buf)
	}
}

func (d *Decoder) failf(format string, args ...any) { d.Fail(fmt.Errorf(format, args...)) }

var majorNames = [8]string{"unsigned integer", "negative integer", "byte string", "text string", "array", "map", "tag", "simple value"}

// head reads an item head: the major type and its argument.
func (d *Decoder) head() (major byte, arg uint64) {
	if d.err != nil {
		return 0, 0
	}
	d.at = d.off
	if d.off >= len(d.buf) {
		d.Fail(ErrTruncated)
		return 0, 0
	}
	c := d.buf[d.off]
	major, info := c&0xe0, c&0x1f
	d.off++
	switch {
	case info < 24:
		return major, uint64(info)
	case info <= 27:
		n := 1 << (info - 24)
		if len(d.buf)-d.off < n {
			d.Fail(ErrTruncated)
			return 0, 0
		}
		for _, b := range d.buf[d.off : d.off+n] {
			arg = arg<<8 | uint64(b)
		}
		d.off += n
		return major, arg
	case info == 31:
		d.failf("indefinite-length %s not supported", majorNames[major>>5])
	default:
		d.failf("reserved additional information %d", info)
	}
	return 0, 0
}

// expect reads a head and checks its major type.
func (d *Decoder) expect(want byte) uint64 {
	major, arg := d.head()
	if d.err == nil && major != want {
		d.failf("expected %s, found %s", majorNames[want>>5], majorNames[major>>5])
		return 0
	}
	return arg
}

// length validates a count of items, each at least one byte long, against
// the remaining input, so a hostile count never drives an allocation.
func (d *Decoder) length(n uint64) int {
	if n > uint64(len(d.buf)-d.off) {
		d.Fail(ErrTruncated)
		return 0
	}
	return int(n)
}

// MapLen reads a map head and returns its number of entries. Callers must
// EndContainer after reading the entries.
func (d *Decoder) MapLen() int {
	n := d.length(d.expect(majMap))
	d.enter()
	return n
}

// ArrayLen reads an array head and returns its number of items. Callers
// must EndContainer after reading the items.
func (d *Decoder) ArrayLen() int {
	n := d.length(d.expect(majArray))
	d.enter()
	return n
}

func (d *Decoder) enter() {
	d.depth++
	if d.depth > maxDepth {
		d.failf("nesting deeper than %d", maxDepth)
	}
}

// EndContainer closes the map or array opened by MapLen or ArrayLen.
func (d *Decoder) EndContainer() { d.depth-- }

// Key reads an unsigned integer map key.
func (d *Decoder) Key() uint64 { return d.expect(majUint) }

// Uint reads an unsigned integer.
func (d *Decoder) Uint() uint64 { return d.expect(majUint) }

// UintN reads an unsigned integer that must fit in bits bits.
func (d *Decoder) UintN(bits int) uint64 {
	v := d.Uint()
	if bits < 64 && v>>bits != 0 {
		d.failf("integer %d overflows uint%d", v, bits)
		return 0
	}
	return v
}

// Int reads a signed integer.
func (d *Decoder) Int() int64 {
	major, arg := d.head()
	if d.err != nil {
		return 0
	}
	switch {
	case major != majUint && major != majNeg:
		d.failf("expected integer, found %s", majorNames[major>>5])
	case arg > math.MaxInt64:
		d.failf("integer overflows int64")
	case major == majNeg:
		return -1 - int64(arg)
	default:
		return int64(arg)
	}
	return 0
}

// IntN reads a signed integer that must fit in bits bits.
func (d *Decoder) IntN(bits int) int64 {
	v := d.Int()
	if bits < 64 && (v < -1<<(bits-1) || v > 1<<(bits-1)-1) {
		d.failf("integer %d overflows int%d", v, bits)
		return 0
	}
	return v
}

// Bool reads false or true.
func (d *Decoder) Bool() bool {
	if d.err != nil {
		return false
	}
	d.at = d.off
	if d.off >= len(d.buf) {
		d.Fail(ErrTruncated)
		return false
	}
	switch d.buf[d.off] {
	case simpleFalse:
		d.off++
		return false
	case simpleTrue:
		d.off++
		return true
	}
	d.failf("expected boolean, found %s", majorNames[d.buf[d.off]>>5])
	return false
}

// raw reads a byte or text string (either, as AppendString may write
// either) and returns its bytes, aliasing the input.
func (d *Decoder) raw() []byte {
	major, arg := d.head()
	if d.err != nil {
		return nil
	}
	if major != majText && major != majBytes {
		d.failf("expected string, found %s", majorNames[major>>5])
		return nil
	}
	n := d.length(arg)
	if d.err != nil {
		return nil
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b
}

// String reads a text (or byte) string.
func (d *Decoder) String() string { return string(d.raw()) }

// Name reads a string as String does, shared through the decoder's Names
// if it has any: for fields whose values recur (names, keys), not for
// messages.
func (d *Decoder) Name() string {
	b := d.raw()
	if d.names == nil || len(b) == 0 {
		return string(b)
	}
	return d.names.get(b)
}

// ByteString reads a byte string into a new slice (nil when empty).
func (d *Decoder) ByteString() []byte {
	b := d.raw()
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// Fixed reads a byte string of at most len(dst) bytes into dst.
func (d *Decoder) Fixed(dst []byte) {
	b := d.raw()
	if len(b) > len(dst) {
		d.failf("byte string of %d bytes exceeds %d", len(b), len(dst))
		return
	}
	copy(dst, b)
}

// Addr reads an address written by AppendAddr.
func (d *Decoder) Addr() netip.Addr {
	b := d.raw()
	var a netip.Addr
	if d.err == nil {
		if err := a.UnmarshalBinary(b); err != nil {
			d.failf("address: %w", err)
		}
	}
	return a
}

// Prefix reads a prefix written by AppendPrefix.
func (d *Decoder) Prefix() netip.Prefix {
	b := d.raw()
	var p netip.Prefix
	if d.err == nil {
		// An out-of-range length yields an invalid Prefix that keeps its
		// address — exactly what encoding an invalid Prefix wrote.
		if err := p.UnmarshalBinary(b); err != nil {
			d.failf("prefix: %w", err)
		}
	}
	return p
}

// Addrs reads an array of addresses.
func (d *Decoder) Addrs() []netip.Addr { return d.AddrsInto(nil) }

// AddrsInto reads an array of addresses into spare's array when it has
// room (so a caller can allocate the common one-address case together with
// the value holding it), else into a new slice. The result's capacity is
// its length.
func (d *Decoder) AddrsInto(spare []netip.Addr) []netip.Addr {
	n := d.ArrayLen()
	defer d.EndContainer()
	if n == 0 {
		return nil
	}
	as := spare[:0]
	if cap(spare) < n {
		as = make([]netip.Addr, n)
	}
	as = as[:n:n]
	for i := range as {
		as[i] = d.Addr()
	}
	return as
}

// Strings reads an array of strings.
func (d *Decoder) Strings() []string {
	n := d.ArrayLen()
	defer d.EndContainer()
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.String()
	}
	return ss
}

// Skip reads and discards one item of any type, so that a reader skips the
// fields a newer writer added.
func (d *Decoder) Skip() {
	major, arg := d.head()
	if d.err != nil {
		return
	}
	switch major {
	case majBytes, majText:
		d.off += d.length(arg)
	case majArray, majMap:
		n := d.length(arg)
		if major == majMap {
			n *= 2
		}
		d.enter()
		for i := 0; i < n && d.err == nil; i++ {
			d.Skip()
		}
		d.EndContainer()
	case majTag:
		d.enter()
		d.Skip()
		d.EndContainer()
	}
	// Integers, simple values and floats are whole once their head is read.
}
