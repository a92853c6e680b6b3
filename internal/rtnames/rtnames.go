// Package rtnames resolves the names iproute2 gives routing tables,
// realms, DS fields, route protocols, scopes and interface groups, from
// the same files and in the same order as keepalived, and holds the names
// every system knows (route types, the reserved tables and the stock
// protocols and scopes).
//
// The configuration resolves names once, at load: the journaled
// configuration carries numbers, so the engine and a replay never read
// the host's files.
//
// Search order (keepalived ≥ 2.3, a superset of 2.2.7, which reads only
// /etc/iproute2/FILE): the file FILE in the etc directory, or when it is
// not there in the usr directory (iproute2 ≥ 6.7 installs its defaults in
// /usr/share/iproute2); then every FILE.d/*.conf in the usr directory
// whose name is not also in the etc directory's FILE.d; then every
// FILE.d/*.conf in the etc directory. Directories are read in name order.
// Each line holds a number and a name; '#' starts a comment; other lines
// are skipped. The first entry with a name wins. Names for numbers that
// no file names are added from the built-in defaults (main, local, ...).
package rtnames

import (
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Default directories.
const (
	DefaultEtc = "/etc/iproute2"
	DefaultUsr = "/usr/share/iproute2"
)

// Files reads iproute2's name files. The zero value reads the default
// directories from the real file system. It caches what it read and is
// not safe for concurrent use.
type Files struct {
	// Etc and Usr are the two directories; empty means the default.
	Etc, Usr string
	// ReadFile and Glob replace the file system (tests); nil means
	// os.ReadFile and filepath.Glob.
	ReadFile func(string) ([]byte, error)
	Glob     func(string) ([]string, error)
	// Protocols is the protocols(5) file for IPProto; empty means
	// DefaultProtocols.
	Protocols string

	cache map[string][]entry
}

type entry struct {
	id   uint32
	name string
}

// Limits of the values each file names.
const (
	maxTable = 0xFFFFFFFF
	maxByte  = 0xFF
	maxGroup = 0x7FFFFFFF
)

// Table resolves a routing table name or number (rt_tables).
func (f *Files) Table(name string) (uint32, bool) {
	return f.find("rt_tables", name, maxTable, defaultTables)
}

// Realm resolves a realm name or number (rt_realms).
func (f *Files) Realm(name string) (uint32, bool) {
	return f.find("rt_realms", name, maxByte, nil)
}

// Realms resolves keepalived's realms value: "TO" or "FROM/TO", each a
// name or a number; FROM goes in the upper 16 bits.
func (f *Files) Realms(s string) (uint32, bool) {
	from, to, pair := strings.Cut(s, "/")
	v, ok := f.Realm(from)
	if !ok || !pair {
		return v, ok
	}
	w, ok := f.Realm(to)
	return v<<16 | w, ok
}

// DSField resolves a TOS / DS field name or number (rt_dsfield).
func (f *Files) DSField(name string) (uint8, bool) {
	v, ok := f.find("rt_dsfield", name, maxByte, nil)
	return uint8(v), ok
}

// Protocol resolves a route protocol name or number (rt_protos).
func (f *Files) Protocol(name string) (uint8, bool) {
	v, ok := f.find("rt_protos", name, maxByte, defaultProtocols)
	return uint8(v), ok
}

// Scope resolves a route scope name or number (rt_scopes).
func (f *Files) Scope(name string) (uint8, bool) {
	v, ok := f.find("rt_scopes", name, maxByte, defaultScopes)
	return uint8(v), ok
}

// Group resolves an interface group name or number (group).
func (f *Files) Group(name string) (uint32, bool) {
	return f.find("group", name, maxGroup, nil)
}

// find is keepalived's lookup: a number stands for itself (up to max),
// else the first entry with the name.
func (f *Files) find(file, name string, max uint64, defaults []entry) (uint32, bool) {
	if v, ok := ParseCUint(name, max); ok {
		return uint32(v), true
	}
	if _, isNum := ParseCUint(name, ^uint64(0)); isNum {
		return 0, false // a number, out of range
	}
	for _, e := range f.list(file, max, defaults) {
		if e.name == name {
			return e.id, true
		}
	}
	return 0, false
}

// list returns the entries of one file, read once.
func (f *Files) list(file string, max uint64, defaults []entry) []entry {
	if l, ok := f.cache[file]; ok {
		return l
	}
	var l []entry
	etc, usr := f.Etc, f.Usr
	if etc == "" {
		etc = DefaultEtc
	}
	if usr == "" {
		usr = DefaultUsr
	}
	if b, err := f.read(path.Join(etc, file)); err == nil {
		l = parse(b, max, l)
	} else if b, err := f.read(path.Join(usr, file)); err == nil {
		l = parse(b, max, l)
	}
	etcD := f.confD(etc, file)
	inEtc := map[string]bool{}
	for _, p := range etcD {
		inEtc[path.Base(p)] = true
	}
	for _, p := range f.confD(usr, file) {
		if inEtc[path.Base(p)] {
			continue
		}
		if b, err := f.read(p); err == nil {
			l = parse(b, max, l)
		}
	}
	for _, p := range etcD {
		if b, err := f.read(p); err == nil {
			l = parse(b, max, l)
		}
	}
	for _, d := range defaults {
		found := false
		for _, e := range l {
			found = found || e.id == d.id
		}
		if !found {
			l = append(l, d)
		}
	}
	if f.cache == nil {
		f.cache = map[string][]entry{}
	}
	f.cache[file] = l
	return l
}

// confD lists dir/file.d/*.conf in name order, without hidden files.
func (f *Files) confD(dir, file string) []string {
	glob := f.Glob
	if glob == nil {
		glob = filepath.Glob
	}
	matches, err := glob(path.Join(dir, file+".d", "*.conf"))
	if err != nil {
		return nil
	}
	out := matches[:0:0]
	for _, m := range matches {
		base := path.Base(m)
		if strings.HasPrefix(base, ".") || len(base) <= len(".conf") {
			continue
		}
		out = append(out, m)
	}
	return out
}

func (f *Files) read(name string) ([]byte, error) {
	if f.ReadFile != nil {
		return f.ReadFile(name)
	}
	return os.ReadFile(name)
}

// parse appends the "NUMBER NAME" lines of one file to l.
func parse(b []byte, max uint64, l []entry) []entry {
	for line := range strings.Lines(string(b)) {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) != 2 {
			continue
		}
		v, ok := ParseCUint(fields[0], max)
		if !ok {
			continue
		}
		l = append(l, entry{id: uint32(v), name: fields[1]})
	}
	return l
}

// ParseCUint parses an unsigned number as C's strtoul with base 0 does
// (0x… hexadecimal, 0… octal, else decimal), the whole string, up to max.
func ParseCUint(s string, max uint64) (uint64, bool) {
	base := uint64(10)
	digits := s
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	}
	if digits == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		if v > (max-d)/base {
			return 0, false
		}
		v = v*base + d
	}
	return v, true
}

// DefaultProtocols is the protocols(5) file.
const DefaultProtocols = "/etc/protocols"

// IPProto resolves an IP protocol for a rule's ipproto: a number up to
// 255, or a name or alias of protocols(5) (getprotobyname: case matters;
// the file lists "udp" with the alias "UDP"). Without the file, the
// common protocols are known.
func (f *Files) IPProto(name string) (uint8, bool) {
	if v, ok := ParseCUint(name, maxByte); ok {
		return uint8(v), true
	}
	file := f.Protocols
	if file == "" {
		file = DefaultProtocols
	}
	key := "protocols:" + file
	l, ok := f.cache[key]
	if !ok {
		if b, err := f.read(file); err == nil {
			for line := range strings.Lines(string(b)) {
				line, _, _ = strings.Cut(line, "#")
				fields := strings.Fields(line)
				if len(fields) < 2 {
					continue
				}
				v, ok := ParseCUint(fields[1], maxByte)
				if !ok {
					continue
				}
				l = append(l, entry{uint32(v), fields[0]})
				for _, alias := range fields[2:] {
					l = append(l, entry{uint32(v), alias})
				}
			}
		} else {
			l = defaultIPProtos
		}
		if f.cache == nil {
			f.cache = map[string][]entry{}
		}
		f.cache[key] = l
	}
	for _, e := range l {
		if e.name == name {
			return uint8(e.id), true
		}
	}
	return 0, false
}
