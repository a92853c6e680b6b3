package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt on-disk constants (go.etcd.io/bbolt/internal/common), checked
// here before bbolt maps a file: bbolt trusts its file and faults on a
// truncated one.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltPageHeader   = 16
	boltMetaSumBytes = 56 // meta fields before the checksum
	boltNoFreelist   = ^uint64(0)
)

// boltMeta is the part of a bbolt meta page the check needs.
type boltMeta struct {
	pageSize       uint32
	root, freelist uint64
	pgid, txid     uint64
}

// parseBoltMeta validates one meta page (b starts at the page header).
func parseBoltMeta(b []byte) (boltMeta, error) {
	if len(b) < boltPageHeader+boltMetaSumBytes+8 {
		return boltMeta{}, errors.New("meta page truncated")
	}
	m := b[boltPageHeader:]
	le := binary.NativeEndian // bbolt writes its structs in native order
	if le.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, errors.New("not a bbolt file (bad magic)")
	}
	if v := le.Uint32(m[4:]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("bbolt format version %d, want %d", v, boltVersion)
	}
	h := fnv.New64a()
	h.Write(m[:boltMetaSumBytes])
	if h.Sum64() != le.Uint64(m[boltMetaSumBytes:]) {
		return boltMeta{}, errors.New("meta page checksum mismatch")
	}
	return boltMeta{
		pageSize: le.Uint32(m[8:]),
		root:     le.Uint64(m[16:]),
		freelist: le.Uint64(m[32:]),
		pgid:     le.Uint64(m[40:]),
		txid:     le.Uint64(m[48:]),
	}, nil
}

// checkFile verifies that path is a complete, structurally sound bbolt
// file: a valid meta page, all pages inside the file, a well-formed page
// tree. It catches truncation, corruption and foreign files with a clear
// error before bbolt maps them (reading the tree once, a few ms for a
// 16 MiB file).
func checkFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	size := info.Size()
	if size == 0 {
		return errors.New("empty file")
	}
	head := make([]byte, 4096)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	m0, err0 := parseBoltMeta(head[:n])
	// Meta page 1 sits one page in; if meta 0 is torn, guess the page size.
	sizes := []int64{4096, 8192, 16384, 32768, 65536}
	if err0 == nil {
		sizes = []int64{int64(m0.pageSize)}
	}
	var m1 boltMeta
	err1 := errors.New("no second meta page")
	for _, ps := range sizes {
		page := make([]byte, boltPageHeader+boltMetaSumBytes+8)
		if _, err := f.ReadAt(page, ps); err == nil {
			if m1, err1 = parseBoltMeta(page); err1 == nil {
				break
			}
		}
	}
	if err0 != nil && err1 != nil {
		return fmt.Errorf("no valid meta page: %w", err0)
	}
	m := m0
	if err0 != nil || (err1 == nil && m1.txid > m0.txid) {
		m = m1
	}
	ps := int64(m.pageSize)
	if ps < 512 || ps > 1<<16 || ps&(ps-1) != 0 {
		return fmt.Errorf("implausible page size %d", ps)
	}
	if m.pgid < 4 || m.pgid > uint64(size/ps) {
		return fmt.Errorf("truncated: %d bytes, the journal needs %d", size, int64(min(m.pgid, 1<<40))*ps)
	}
	if m.root >= m.pgid || (m.freelist >= m.pgid && m.freelist != boltNoFreelist) {
		return errors.New("meta page points outside the file")
	}
	w := &walker{f: f, ps: ps, hwm: m.pgid, seen: make([]bool, m.pgid)}
	if m.freelist != boltNoFreelist {
		if err := w.freelist(m.freelist); err != nil {
			return err
		}
	}
	return w.page(m.root, 0)
}

// walker checks the page tree of a bbolt file: every page in range,
// reached once (no cycles, no sharing), of the expected type, with its
// elements inside it. bbolt trusts all of this and would fault, panic, or
// recurse forever on a corrupt file.
type walker struct {
	f    *os.File
	ps   int64
	hwm  uint64
	seen []bool
}

const (
	boltBranch     = 0x01
	boltLeaf       = 0x02
	boltFreelist   = 0x10
	boltBucketLeaf = 0x01
	boltElemSize   = 16
	boltMaxDepth   = 64
)

// read returns page id with its overflow pages, marking them seen.
func (w *walker) read(id uint64) ([]byte, error) {
	if id < 2 || id >= w.hwm {
		return nil, fmt.Errorf("page %d outside the file's %d pages", id, w.hwm)
	}
	hdr := make([]byte, boltPageHeader)
	if _, err := w.f.ReadAt(hdr, int64(id)*w.ps); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	le := binary.NativeEndian
	if pid := le.Uint64(hdr); pid != id {
		return nil, fmt.Errorf("page %d claims to be page %d", id, pid)
	}
	overflow := uint64(le.Uint32(hdr[12:]))
	if overflow >= w.hwm-id {
		return nil, fmt.Errorf("page %d: overflow %d past the end", id, overflow)
	}
	for i := id; i <= id+overflow; i++ {
		if w.seen[i] {
			return nil, fmt.Errorf("page %d referenced twice", i)
		}
		w.seen[i] = true
	}
	buf := make([]byte, int64(overflow+1)*w.ps)
	if _, err := w.f.ReadAt(buf, int64(id)*w.ps); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	return buf, nil
}

func (w *walker) freelist(id uint64) error {
	p, err := w.read(id)
	if err != nil {
		return fmt.Errorf("freelist: %w", err)
	}
	le := binary.NativeEndian
	if flags := le.Uint16(p[8:]); flags != boltFreelist {
		return fmt.Errorf("freelist page %d has type %#x", id, flags)
	}
	n := uint64(le.Uint16(p[10:]))
	if n == 0xffff { // count stored in the first element
		n = le.Uint64(p[boltPageHeader:]) + 1
	}
	if n > uint64(len(p)-boltPageHeader)/8 {
		return fmt.Errorf("freelist page %d: %d ids overflow it", id, n)
	}
	return nil
}

// page checks the tree rooted at page id.
func (w *walker) page(id uint64, depth int) error {
	if depth > boltMaxDepth {
		return fmt.Errorf("page %d: tree deeper than %d", id, boltMaxDepth)
	}
	p, err := w.read(id)
	if err != nil {
		return err
	}
	return w.elements(p, id, depth)
}

// elements checks the elements of page p (a page or an inline bucket).
func (w *walker) elements(p []byte, id uint64, depth int) error {
	le := binary.NativeEndian
	flags, count := le.Uint16(p[8:]), int(le.Uint16(p[10:]))
	if boltPageHeader+count*boltElemSize > len(p) {
		return fmt.Errorf("page %d: %d elements overflow it", id, count)
	}
	for i := range count {
		off := boltPageHeader + i*boltElemSize
		e := p[off : off+boltElemSize]
		switch flags {
		case boltBranch:
			pos, ksize := uint64(le.Uint32(e)), uint64(le.Uint32(e[4:]))
			if uint64(off)+pos+ksize > uint64(len(p)) {
				return fmt.Errorf("page %d: branch element %d outside the page", id, i)
			}
			if err := w.page(le.Uint64(e[8:]), depth+1); err != nil {
				return err
			}
		case boltLeaf:
			eflags, pos := le.Uint32(e), uint64(le.Uint32(e[4:]))
			ksize, vsize := uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
			start := uint64(off) + pos + ksize
			if start+vsize > uint64(len(p)) {
				return fmt.Errorf("page %d: leaf element %d outside the page", id, i)
			}
			if eflags&boltBucketLeaf != 0 {
				if err := w.bucket(p[start:start+vsize], id, depth); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("page %d: unexpected page type %#x", id, flags)
		}
	}
	return nil
}

// bucket checks a nested bucket's header and its tree or inline page.
func (w *walker) bucket(v []byte, id uint64, depth int) error {
	if len(v) < 16 {
		return fmt.Errorf("page %d: bucket header truncated", id)
	}
	if root := binary.NativeEndian.Uint64(v); root != 0 {
		return w.page(root, depth+1)
	}
	inline := v[16:]
	if len(inline) < boltPageHeader {
		return fmt.Errorf("page %d: inline bucket truncated", id)
	}
	if flags := binary.NativeEndian.Uint16(inline[8:]); flags != boltLeaf {
		return fmt.Errorf("page %d: inline bucket of type %#x", id, flags)
	}
	if depth > boltMaxDepth {
		return fmt.Errorf("page %d: tree deeper than %d", id, boltMaxDepth)
	}
	return w.elements(inline, id, depth+1)
}
