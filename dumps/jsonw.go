package dumps

import (
	"bufio"
	"strconv"
	"strings"
)

// jsonw writes JSON as keepalived's json_writer does: compact, members in
// the order written, '/' escaped as "\/", floats with C's %g unless a
// format is given.
type jsonw struct {
	b   *bufio.Writer
	sep bool // a value precedes in the current collection
}

func (j *jsonw) eor() {
	if j.sep {
		j.b.WriteByte(',')
	}
	j.sep = true
}

func (j *jsonw) begin(c byte) { j.eor(); j.b.WriteByte(c); j.sep = false }
func (j *jsonw) end(c byte)   { j.b.WriteByte(c); j.sep = true }

func (j *jsonw) name(n string) {
	j.eor()
	j.sep = false
	j.puts(n)
	j.b.WriteByte(':')
}

// puts writes a JSON string. keepalived 2.2.7 writes a backslash as "\n"
// (a bug that corrupts the value); vigil writes "\\" (deliberate
// difference).
func (j *jsonw) puts(s string) {
	j.b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\t':
			j.b.WriteString(`\t`)
		case '\n':
			j.b.WriteString(`\n`)
		case '\r':
			j.b.WriteString(`\r`)
		case '\f':
			j.b.WriteString(`\f`)
		case '\b':
			j.b.WriteString(`\b`)
		case '\\':
			j.b.WriteString(`\\`)
		case '"':
			j.b.WriteString(`\"`)
		case '/':
			j.b.WriteString(`\/`)
		default:
			j.b.WriteByte(c)
		}
	}
	j.b.WriteByte('"')
}

func (j *jsonw) raw(s string) { j.eor(); j.b.WriteString(s) }

func (j *jsonw) str(s string) { j.eor(); j.puts(s) }

func (j *jsonw) strField(n, v string) { j.name(n); j.str(v) }
func (j *jsonw) uintField(n string, v uint64) {
	j.name(n)
	j.raw(strconv.FormatUint(v, 10))
}
func (j *jsonw) intField(n string, v int64) { j.name(n); j.raw(strconv.FormatInt(v, 10)) }
func (j *jsonw) boolField(n string, v bool) { j.name(n); j.raw(strconv.FormatBool(v)) }
func (j *jsonw) floatField(n string, v float64) {
	j.name(n)
	j.raw(cFormatG(v))
}

// strArray writes a named array of strings, or nothing when it is empty
// (keepalived omits empty lists).
func (j *jsonw) strArray(n string, vs []string) {
	if len(vs) == 0 {
		return
	}
	j.name(n)
	j.begin('[')
	for _, v := range vs {
		j.str(v)
	}
	j.end(']')
}

// cFormatG formats v as C's printf("%g"): 6 significant digits, trailing
// zeros removed, exponent form below 1e-4 or from 1e6, with at least two
// exponent digits.
func cFormatG(v float64) string {
	s := strconv.FormatFloat(v, 'g', 6, 64)
	mant, exp, hasExp := strings.Cut(s, "e")
	if strings.Contains(mant, ".") {
		mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
	}
	if !hasExp {
		return mant
	}
	sign := exp[0]
	digits := strings.TrimLeft(exp[1:], "0")
	for len(digits) < 2 {
		digits = "0" + digits
	}
	return mant + "e" + string(sign) + digits
}
