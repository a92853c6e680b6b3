// Package testfill fills values of any type with pseudo-random, non-zero
// contents by reflection. The codec tests use it to prove that every field
// of every event and effect survives a round trip, so a field added
// without codec support fails a test instead of vanishing from journals.
package testfill

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
)

var (
	addrType   = reflect.TypeFor[netip.Addr]()
	prefixType = reflect.TypeFor[netip.Prefix]()
)

// Filler fills values deterministically from a seed.
type Filler struct {
	r *rand.Rand
}

// New returns a Filler seeded with seed.
func New(seed uint64) *Filler {
	return &Filler{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Fill sets every exported field reachable from ptr (a non-nil pointer) to
// a random value. Slices get one to three elements and pointers a fresh
// pointee, so no field is left nil. It panics on types it cannot fill
// (maps, interfaces, funcs, channels, floats), which in a test is the point.
func (f *Filler) Fill(ptr any) {
	f.value(reflect.ValueOf(ptr).Elem(), 0)
}

// Addr returns a random valid address: IPv4, IPv6, or IPv6 with a zone.
func (f *Filler) Addr() netip.Addr {
	switch f.r.IntN(3) {
	case 0:
		return netip.AddrFrom4([4]byte{10, byte(f.r.Uint32()), byte(f.r.Uint32()), byte(f.r.Uint32())})
	case 1:
		var b [16]byte
		for i := range b {
			b[i] = byte(f.r.Uint32())
		}
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom16([16]byte{0xfe, 0x80, 15: byte(f.r.Uint32())}).WithZone("eth" + string(rune('0'+f.r.IntN(10))))
}

// String returns a random short string, occasionally not valid UTF-8.
func (f *Filler) String() string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789_-. \"é"
	n := 1 + f.r.IntN(12)
	b := make([]byte, 0, n+2)
	for range n {
		b = append(b, letters[f.r.IntN(len(letters))])
	}
	if f.r.IntN(8) == 0 {
		b = append(b, 0xff) // invalid UTF-8 must survive too
	}
	return string(b)
}

func (f *Filler) value(v reflect.Value, depth int) {
	t := v.Type()
	switch t {
	case addrType:
		v.Set(reflect.ValueOf(f.Addr()))
		return
	case prefixType:
		a := f.Addr().WithZone("")
		v.Set(reflect.ValueOf(netip.PrefixFrom(a, f.r.IntN(a.BitLen()+1))))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(f.r.IntN(4) != 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		x := int64(f.r.Uint64()) >> (64 - bits)
		if f.r.IntN(2) == 0 {
			x >>= f.r.IntN(bits) // mostly small numbers, as in real journals
		}
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		bits := t.Bits()
		x := f.r.Uint64() >> (64 - bits)
		if f.r.IntN(2) == 0 {
			x >>= f.r.IntN(bits)
		}
		v.SetUint(x)
	case reflect.String:
		v.SetString(f.String())
	case reflect.Array:
		for i := range v.Len() {
			f.value(v.Index(i), depth+1)
		}
	case reflect.Slice:
		n := 1 + f.r.IntN(3)
		s := reflect.MakeSlice(t, n, n)
		for i := range n {
			f.value(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		f.value(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			if t.Field(i).IsExported() {
				f.value(v.Field(i), depth+1)
			}
		}
	default:
		panic("testfill: cannot fill " + t.String())
	}
}
