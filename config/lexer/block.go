package lexer

import (
	"math"
	"strconv"
	"strings"

	"github.com/vigil-ha/vigil/config/diag"
)

// block runs a ~SEQ or ~LST line: the rest of the line is processed once
// per value with the block's variables set. Blocks nest because the rest
// of the line may itself start with a block.
func (p *preproc) block(text string, col int) {
	if text[1] == 'S' {
		p.seq(text, col)
	} else {
		p.lst(text, col)
	}
}

// skipBlanks returns the index of the first non-blank at or after i.
func skipBlanks(s string, i int) int {
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	return i
}

// at returns s[i], or 0 past the end (keepalived reads the terminating NUL).
func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// seqParamsMax is the longest ~SEQ parameter list keepalived accepts.
const seqParamsMax = 63

// seq handles ~SEQ(VAR, [START,] [STEP,] END) and ~SEQx(...): one argument
// is END (START 1 or -1, STEP 1 or -1); two are START, END (STEP 1 or -1);
// three are START, STEP, END. Numbers are C integers (decimal, 0x hex, 0
// octal) after parameter substitution; ~SEQx formats the variable in hex.
func (p *preproc) seq(text string, col int) {
	bad := func(format string, args ...any) {
		p.report(diag.Error, col, "invalid ~SEQ specification '%s': "+format, append([]any{text}, args...)...)
	}
	i := 4
	hex := at(text, i) == 'x'
	if hex {
		i++
	}
	i = skipBlanks(text, i)
	if at(text, i) != '(' {
		bad("missing '('")
		return
	}
	i = skipBlanks(text, i+1)
	v := i
	for i < len(text) && !strings.ContainsRune(" \t,)", rune(text[i])) {
		i++
	}
	name := text[v:i]
	i = skipBlanks(text, i)
	if i >= len(text) || text[i] == ')' || name == "" || name[0] == '{' {
		bad("no variable or no values")
		return
	}
	i = skipBlanks(text, i+1) // keepalived skips the separator unchecked
	closing := strings.IndexByte(text[i:], ')')
	if closing < 0 {
		bad("missing ')'")
		return
	}
	closing += i
	args := text[i : closing+1]
	if len(args) > seqParamsMax {
		bad("parameters too long")
		return
	}
	args, more, _, _, _ := p.substitute(args, col+i)
	if len(more) > 0 {
		bad("a parameter is a multi-line definition")
		return
	}
	var nums []int64
	for a := args; ; {
		n, rest := strtol(a)
		nums = append(nums, n)
		rest = strings.TrimLeft(rest, " \t")
		if strings.HasPrefix(rest, ")") {
			break
		}
		if !strings.HasPrefix(rest, ",") || len(nums) == 3 {
			bad("expected ',' or ')' after a number")
			return
		}
		a = rest[1:]
	}
	var start, step, end int64
	switch len(nums) {
	case 1:
		end = nums[0]
		step, start = 1, 1
		if end < 1 {
			step = -1
		}
		if end < 0 {
			start = -1
		}
	case 2:
		start, end = nums[0], nums[1]
		step = 1
		if start > end {
			step = -1
		}
	default:
		start, step, end = nums[0], nums[1], nums[2]
		if step == 0 || start < end && step < 0 || start > end && step > 0 {
			bad("step %d never goes from %d to %d", step, start, end)
			return
		}
	}
	if hex && (start < 0 || end < 0) {
		bad("~SEQx is only valid for positive numbers")
		return
	}
	rest := text[skipBlanks(text, closing+1):]
	restCol := col + len(text) - len(rest)
	for n := start; ; n += step {
		if hex {
			p.setDef(name, strconv.FormatUint(uint64(n), 16))
		} else {
			p.setDef(name, strconv.FormatInt(n, 10))
		}
		p.process(rest, restCol)
		// Stop before stepping past END, without overflowing.
		if p.stopped || step > 0 && n > end-step || step < 0 && n < end-step {
			return
		}
	}
}

// strtol parses a C integer like strtol(s, &rest, 0): leading blanks, a
// sign, then 0x hex, 0 octal or decimal digits; no digits yields 0 and s
// unchanged. Out-of-range values saturate.
func strtol(s string) (int64, string) {
	i := skipBlanks(s, 0)
	neg := false
	if c := at(s, i); c == '+' || c == '-' {
		neg = c == '-'
		i++
	}
	base := uint64(10)
	if at(s, i) == '0' && (at(s, i+1) == 'x' || at(s, i+1) == 'X') && isHex(at(s, i+2)) {
		base, i = 16, i+2
	} else if at(s, i) == '0' {
		base = 8
	}
	digits := i
	var v uint64
	over := false
	for ; i < len(s); i++ {
		var d uint64
		switch c := s[i]; {
		case isDigit(c):
			d = uint64(c - '0')
		case base == 16 && isHex(c):
			d = uint64(hexVal(c))
		default:
			d = base
		}
		if d >= base {
			break
		}
		if v > (math.MaxUint64-d)/base {
			over = true
		} else {
			v = v*base + d
		}
	}
	if i == digits {
		return 0, s
	}
	switch {
	case neg && (over || v > 1<<63):
		return math.MinInt64, s[i:]
	case neg:
		return -int64(v), s[i:]
	case over || v > math.MaxInt64:
		return math.MaxInt64, s[i:]
	}
	return int64(v), s[i:]
}

// lst handles ~LST(VAR, v1, v2, ...) and ~LST({VAR1, VAR2}, {a1, a2},
// {b1, b2}, ...): the rest of the line is processed once per value set.
// A set with fewer values than variables leaves the others empty.
func (p *preproc) lst(text string, col int) {
	bad := func(why string) {
		p.report(diag.Error, col, "invalid ~LST specification '%s': %s", text, why)
	}
	i := skipBlanks(text, 4)
	if at(text, i) != '(' {
		bad("missing '('")
		return
	}
	i = skipBlanks(text, i+1)
	endc := byte(',')
	if at(text, i) == '{' {
		endc = '}'
		i = skipBlanks(text, i+1)
	}
	var vars []string
	for {
		v := i
		for i < len(text) && !strings.ContainsRune(" \t,}", rune(text[i])) {
			i++
		}
		vars = append(vars, text[v:i])
		i = skipBlanks(text, i)
		if at(text, i) == endc {
			break
		}
		if at(text, i) != ',' {
			bad("bad variable list")
			return
		}
		i = skipBlanks(text, i+1)
	}
	if at(text, i) == '}' {
		i = skipBlanks(text, i+1)
	}
	if at(text, i) != ',' {
		bad("no values")
		return
	}
	i = skipBlanks(text, i+1)
	var sets [][]string
	for {
		endc = ','
		if at(text, i) == '{' {
			endc = '}'
			i = skipBlanks(text, i+1)
		}
		var set []string
		for {
			v := i
			for i < len(text) && !strings.ContainsRune(" \t,})", rune(text[i])) {
				i++
			}
			set = append(set, text[v:i])
			i = skipBlanks(text, i)
			if c := at(text, i); c == endc || c == ')' && endc == ',' {
				break
			}
			if at(text, i) != ',' {
				bad("bad value list")
				return
			}
			i = skipBlanks(text, i+1)
			if len(set) >= len(vars) {
				bad("too many values in a set")
				return
			}
		}
		for len(set) < len(vars) {
			set = append(set, "")
		}
		sets = append(sets, set)
		if at(text, i) == '}' && endc == '}' {
			i = skipBlanks(text, i+1)
		}
		if at(text, i) == ')' {
			break
		}
		if at(text, i) != ',' {
			bad("expected ',' or ')'")
			return
		}
		i = skipBlanks(text, i+1)
	}
	rest := text[skipBlanks(text, i+1):]
	restCol := col + len(text) - len(rest)
	for _, set := range sets {
		for k, name := range vars {
			p.setDef(name, set[k])
		}
		if p.process(rest, restCol); p.stopped {
			return
		}
	}
}
