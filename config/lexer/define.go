package lexer

import (
	"math"
	"strconv"
	"strings"

	"github.com/vigil-ha/vigil/config/diag"
)

// stdKind says how a pre-defined parameter computes its value.
type stdKind uint8

const (
	userDef     stdKind = iota // defined by $NAME=VALUE: the value is text
	pwdDef                     // ${_PWD}: directory of the current file
	instanceDef                // ${_INSTANCE}: the config id
	randomDef                  // ${_RANDOM [MIN [MAX]]}
)

// definition is one $NAME parameter.
type definition struct {
	kind stdKind
	// value is the text; a multi-line value separates its lines with '\n',
	// as keepalived stores it.
	value     string
	multiline bool
	maxParams int // only pre-defined parameters take parameters
	lines     []string
}

// bodyLines returns a multi-line value split into its lines, cached
// because a template is typically expanded many times.
func (d *definition) bodyLines() []string {
	if d.lines == nil {
		d.lines = strings.Split(d.value, "\n")
	}
	return d.lines
}

func (p *preproc) stdDefinitions() {
	p.defs["_PWD"] = &definition{kind: pwdDef}
	p.defs["_INSTANCE"] = &definition{kind: instanceDef}
	p.defs["_RANDOM"] = &definition{kind: randomDef, maxParams: 2}
	p.defs["_HASH"] = &definition{value: "#"}
	p.defs["_BANG"] = &definition{value: "!"}
}

// setDef gives NAME a single-line value, as ~SEQ and ~LST do for their
// variable. A pre-defined parameter of the same name is overridden.
func (p *preproc) setDef(name, value string) {
	if d := p.defs[name]; d != nil {
		*d = definition{value: value}
		return
	}
	p.defs[name] = &definition{value: value}
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isNameChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '_'
}

// define handles a $NAME=VALUE line and reports whether it was one. A value
// ending in '\' starts a multi-line definition whose following lines are
// read by collect.
func (p *preproc) define(text string) bool {
	if len(text) < 2 || !isAlpha(text[1]) && text[1] != '_' {
		return false
	}
	eq := 2
	for eq < len(text) && text[eq] != '=' {
		if !isNameChar(text[eq]) {
			return false
		}
		eq++
	}
	if eq == len(text) {
		return false
	}
	name := text[1:eq]
	v := strings.TrimLeft(text[eq+1:], " \t")
	d := &definition{}
	if strings.HasSuffix(v, "\\") {
		v = strings.TrimRight(v[:len(v)-1], " \t")
		if v != "" {
			v += "\n"
		}
		d.multiline = true
		p.collecting = d
	}
	d.value = v
	if old := p.defs[name]; old != nil {
		*old = *d
		if p.collecting == d {
			p.collecting = old
		}
		return true
	}
	p.defs[name] = d
	return true
}

// collect adds one line to the multi-line definition being read. A line
// without a trailing '\' is the last one.
func (p *preproc) collect(text string) {
	d := p.collecting
	more := strings.HasSuffix(text, "\\")
	if more {
		text = strings.TrimRight(text[:len(text)-1], " \t")
		if text != "" {
			d.value += text + "\n"
		}
		return
	}
	p.collecting = nil
	d.value += text
	d.multiline = d.value != ""
	d.lines = nil
}

// reference is a parsed $NAME or ${NAME params} in a line.
type reference struct {
	def    *definition
	end    int    // index just after the reference
	params string // the parameters of ${NAME params}, "" if none
}

// lookup parses the reference at text[at] (a '$'), keepalived's
// find_definition: $NAME must be followed by a blank, ',', ')' or the end
// of the line; ${NAME} may be followed by anything; a multi-line parameter
// is only replaced at the end of a line. It returns false when the text is
// not a reference to a defined parameter, which then stays as written.
func (p *preproc) lookup(text string, at, col int) (reference, bool) {
	i := at + 1
	braces := i < len(text) && text[i] == '{'
	if braces {
		i++
	}
	if i >= len(text) || !isAlpha(text[i]) && text[i] != '_' {
		return reference{}, false
	}
	n := i + 1
	for n < len(text) && isNameChar(text[n]) {
		n++
	}
	name := text[i:n]
	ref := reference{end: n}
	nparams, numeric := 0, true
	if braces {
		j, pstart, pend := n, -1, -1
		inParam := false
		for j < len(text) && (isBlank(text[j]) || isNameChar(text[j])) {
			if !isBlank(text[j]) {
				if pstart < 0 {
					pstart = j
				}
				pend = j
				numeric = numeric && isDigit(text[j])
				if !inParam {
					inParam = true
					nparams++
				}
			} else {
				inParam = false
			}
			j++
		}
		if pstart >= 0 && pend+1 != j {
			return reference{}, false
		}
		if j >= len(text) || text[j] != '}' {
			return reference{}, false
		}
		if pstart >= 0 {
			ref.params = text[pstart : pend+1]
		}
		ref.end = j + 1
	} else if n < len(text) && !strings.ContainsRune(" \t,)", rune(text[n])) {
		return reference{}, false
	}
	d := p.defs[name]
	if d == nil || d.multiline && ref.end != len(text) {
		return reference{}, false
	}
	if nparams > 0 {
		switch {
		case d.maxParams == 0:
			return reference{}, false
		case !numeric:
			p.report(diag.Error, col+at, "definition %s requires numeric parameters only", name)
			return reference{}, false
		case nparams > d.maxParams:
			p.report(diag.Error, col+at, "definition %s takes at most %d parameters, %d given", name, d.maxParams, nparams)
			return reference{}, false
		}
	}
	ref.def = d
	return ref, true
}

// substitute replaces parameter references in text. Replacement text is
// scanned again from where it starts, so substitution is recursive and
// happens at use time. A multi-line parameter contributes its first line
// in place; the rest of its lines are returned in more, in order of
// discovery. changed reports whether anything was replaced.
//
// Text before the scan position is final, so it is appended to a buffer
// once; only a replacement that itself holds a '$' is re-joined with the
// remaining text to be scanned again.
//
// block reports that a replacement was a ~SEQ/~LST block (its value
// starts with '~'): substitution stopped there, and the caller must not
// substitute the line again either (the block's own variables are its to
// replace; and a definition that holds itself after a '~' would otherwise
// grow the line a little at every pass, quadratically, up to
// MaxLineLen).
func (p *preproc) substitute(text string, col int) (out string, more [][]string, changed, capped, block bool) {
	buf := p.scratch[:0]
	src, pos, count := text, 0, 0
	for {
		i := strings.IndexByte(src[pos:], '$')
		if i < 0 || pos+i+1 >= len(src) {
			break
		}
		at := pos + i
		ref, ok := p.lookup(src, at, col+len(buf))
		if !ok {
			buf = append(buf, src[pos:at+1]...)
			pos = at + 1
			continue
		}
		if count++; count > MaxSubstitutions {
			p.report(diag.Error, col, "more than %d parameter substitutions in one line (self-referencing definition?) - stopping", MaxSubstitutions)
			capped = true
			break
		}
		changed = true
		var repl string
		if ref.def.multiline {
			lines := ref.def.bodyLines()
			repl = lines[0]
			more = append(more, lines[1:])
		} else {
			repl = p.value(ref.def, ref.params, col+len(buf)+at-pos)
		}
		if len(buf)+at-pos+len(repl)+len(src)-ref.end > MaxLineLen {
			p.report(diag.Error, col, "parameter substitution makes the line longer than %d bytes - stopping", MaxLineLen)
			capped = true
			break
		}
		buf = append(buf, src[pos:at]...)
		// A value that is a ~SEQ/~LST block ends substitution here, so the
		// block's own variables are not replaced before it runs.
		if r := strings.TrimLeft(repl, " \t"); r != "" && r[0] == '~' {
			buf = append(buf, repl...)
			pos = ref.end
			block = true
			break
		}
		if strings.IndexByte(repl, '$') < 0 {
			buf = append(buf, repl...)
			pos = ref.end
			continue
		}
		src, pos = repl+src[ref.end:], 0
	}
	if !changed {
		return text, nil, false, capped, false
	}
	buf = append(buf, src[pos:]...)
	out = string(buf)
	p.scratch = buf
	return out, more, true, capped, block
}

// value computes a single-line parameter's replacement text.
func (p *preproc) value(d *definition, params string, col int) string {
	switch d.kind {
	case pwdDef:
		return p.dir
	case instanceDef:
		return p.opts.ConfigID
	case randomDef:
		return p.random(params, col)
	}
	return d.value
}

// random implements ${_RANDOM [MIN [MAX]]}: an integer in [MIN, MAX],
// defaults 0 and 32767, from the load's seeded generator.
func (p *preproc) random(params string, col int) string {
	lo, hi := uint64(0), uint64(32767)
	f := strings.Fields(params)
	if len(f) > 0 {
		lo = parseUint(f[0])
	}
	if len(f) > 1 {
		hi = parseUint(f[1])
	}
	if lo > hi {
		p.report(diag.Error, col, "${_RANDOM}: min %d exceeds max %d, using %d", lo, hi, lo)
		hi = lo
	}
	v := p.rng.Uint64()
	if span := hi - lo + 1; span != 0 {
		v = lo + v%span
	}
	return strconv.FormatUint(v, 10)
}

// parseUint reads decimal digits, saturating like strtoul.
func parseUint(s string) uint64 {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return math.MaxUint64
	}
	return v
}
