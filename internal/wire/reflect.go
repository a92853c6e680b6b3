package wire

import (
	"bytes"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// The reflective codec serves the configuration tree (conf.Config and the
// conf values inside some effects): a large, evolving model written once
// per reload, for which a hand-written codec would silently drop every
// field someone adds. Structs become maps keyed by the field's JSON name —
// keepalived's keyword, the stable `vigil dump` vocabulary — or by the Go
// field name when the JSON name is absent or "-" (source positions), so the
// whole value is journaled. Pointers are their pointee (nil: absent),
// slices arrays, []byte and [N]byte byte strings. Zero fields are omitted;
// a non-nil empty slice and a non-nil pointer to a zero value are kept.
// Maps, floats and interfaces are refused with an error rather than
// encoded nondeterministically or lossily.

var (
	addrType   = reflect.TypeFor[netip.Addr]()
	prefixType = reflect.TypeFor[netip.Prefix]()
)

type field struct {
	index int
	key   []byte // the encoded CBOR text key
}

type plan struct {
	fields []field // in deterministic (bytewise encoded-key) order
	byName map[string]int
}

var plans sync.Map // reflect.Type → *plan or error

func planFor(t reflect.Type) (*plan, error) {
	if p, ok := plans.Load(t); ok {
		if err, bad := p.(error); bad {
			return nil, err
		}
		return p.(*plan), nil
	}
	p := &plan{byName: map[string]int{}}
	var err error
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			name = f.Name
		}
		if _, dup := p.byName[name]; dup {
			err = fmt.Errorf("%v: two fields named %q", t, name)
			break
		}
		p.byName[name] = i
		key := appendHead(nil, majText, uint64(len(name)))
		p.fields = append(p.fields, field{index: i, key: append(key, name...)})
	}
	slices.SortFunc(p.fields, func(a, b field) int { return bytes.Compare(a.key, b.key) })
	if err != nil {
		plans.Store(t, err)
		return nil, err
	}
	plans.Store(t, p)
	return p, nil
}

// AppendValue writes v reflectively (see the package comment on the
// reflective codec).
func (e *Encoder) AppendValue(v any) error {
	return e.value(reflect.ValueOf(v))
}

func (e *Encoder) value(v reflect.Value) error {
	t := v.Type()
	switch t {
	case addrType:
		e.AppendAddr(v.Interface().(netip.Addr))
		return nil
	case prefixType:
		e.AppendPrefix(v.Interface().(netip.Prefix))
		return nil
	}
	switch v.Kind() {
	case reflect.Bool:
		e.AppendBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.AppendInt(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		e.AppendUint(v.Uint())
	case reflect.String:
		e.AppendString(v.String())
	case reflect.Array, reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			e.AppendBytes(byteSlice(v))
			return nil
		}
		e.AppendArrayHeader(v.Len())
		for i := range v.Len() {
			if err := e.value(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Pointer:
		if v.IsNil() {
			return fmt.Errorf("nil %v inside an array cannot be encoded", t)
		}
		return e.value(v.Elem())
	case reflect.Struct:
		p, err := planFor(t)
		if err != nil {
			return err
		}
		m := e.BeginMap()
		for _, f := range p.fields {
			fv := v.Field(f.index)
			if fv.IsZero() {
				continue
			}
			e.buf = append(e.buf, f.key...)
			e.n++
			if err := e.value(fv); err != nil {
				return fmt.Errorf("%s.%s: %w", t.Name(), t.Field(f.index).Name, err)
			}
		}
		e.EndMap(m)
	default:
		return fmt.Errorf("type %v (%v) is not supported by the journal codec", t, v.Kind())
	}
	return nil
}

// byteSlice returns the bytes of a []byte or [N]byte value (copying an
// unaddressable array).
func byteSlice(v reflect.Value) []byte {
	if v.Kind() == reflect.Slice {
		return v.Bytes()
	}
	b := make([]byte, v.Len())
	reflect.Copy(reflect.ValueOf(b), v)
	return b
}

// DecodeValue reads a value written by AppendValue into the value ptr
// points to. Errors are recorded in the decoder (see Err).
func (d *Decoder) DecodeValue(ptr any) {
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		d.failf("DecodeValue needs a non-nil pointer, got %T", ptr)
		return
	}
	if d.budget == 0 {
		// Bound what hostile input can make us allocate: a one-byte empty
		// map can stand for a struct of a kilobyte or more.
		d.budget = 1<<20 + 64*len(d.buf)
	}
	d.value(v.Elem())
}

func (d *Decoder) value(v reflect.Value) {
	if d.err != nil {
		return
	}
	t := v.Type()
	switch t {
	case addrType:
		v.Set(reflect.ValueOf(d.Addr()))
		return
	case prefixType:
		v.Set(reflect.ValueOf(d.Prefix()))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(d.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x := d.Int()
		if v.OverflowInt(x) {
			d.failf("integer %d overflows %v", x, t)
			return
		}
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		x := d.Uint()
		if v.OverflowUint(x) {
			d.failf("integer %d overflows %v", x, t)
			return
		}
		v.SetUint(x)
	case reflect.String:
		v.SetString(d.String())
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			d.Fixed(v.Slice(0, v.Len()).Bytes())
			return
		}
		n := d.ArrayLen()
		if d.err == nil && n != v.Len() {
			d.failf("array of %d items for %v", n, t)
		}
		for i := 0; i < n && d.err == nil; i++ {
			d.value(v.Index(i))
		}
		d.EndContainer()
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			v.SetBytes(d.ByteString())
			return
		}
		n := d.ArrayLen()
		if !d.spend(n * int(t.Elem().Size())) {
			return
		}
		s := reflect.MakeSlice(t, n, n)
		for i := 0; i < n && d.err == nil; i++ {
			d.value(s.Index(i))
		}
		d.EndContainer()
		v.Set(s)
	case reflect.Pointer:
		if !d.spend(int(t.Elem().Size())) {
			return
		}
		p := reflect.New(t.Elem())
		d.value(p.Elem())
		v.Set(p)
	case reflect.Struct:
		d.structValue(v)
	default:
		d.failf("type %v (%v) is not supported by the journal codec", t, v.Kind())
	}
}

func (d *Decoder) structValue(v reflect.Value) {
	p, err := planFor(v.Type())
	if err != nil {
		d.Fail(err)
		return
	}
	n := d.MapLen()
	for i := 0; i < n && d.err == nil; i++ {
		idx, ok := p.byName[string(d.raw())]
		if !ok {
			d.Skip() // a field this version does not know
			continue
		}
		d.value(v.Field(idx))
	}
	d.EndContainer()
}

// spend charges n bytes of allocation against the decoder's budget.
func (d *Decoder) spend(n int) bool {
	d.budget -= n
	if d.budget < 0 {
		d.failf("value too large for its %d-byte encoding", len(d.buf))
		return false
	}
	return true
}

// Value writes key k with v encoded reflectively, omitted when v is zero
// (a nil pointer included).
func (e *Encoder) Value(k uint64, v any) error {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.IsZero() {
		return nil
	}
	e.Key(k)
	return e.value(rv)
}
