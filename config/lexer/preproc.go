package lexer

import (
	"fmt"
	"math/rand"
	"strings"

	"github.com/vigil-ha/vigil/config/diag"
)

// preproc is the state of one load: keepalived keeps the same state in
// globals of lib/parser.c. Lines flow through process one logical line at a
// time; ~SEQ, ~LST and multi-line parameters recurse into it, so expansion
// streams instead of building intermediate copies.
type preproc struct {
	opts     Options
	readFile func(string) ([]byte, error)
	glob     func(string) ([]string, error)
	rng      *rand.Rand
	defs     map[string]*definition

	out     []Line   // the current chunk of output lines
	done    [][]Line // full chunks, joined once at the end
	nout    int
	tokens  []Token // arena the lines' token slices are cut from
	scratch []byte  // reused substitution buffer
	diags   diag.List

	// collecting is the multi-line definition whose body is being read.
	collecting *definition

	processed int  // logical lines seen, against maxLines
	maxLines  int  // MaxLines; lowered by tests
	bytes     int  // text emitted, against maxBytes
	maxBytes  int  // MaxBytes; lowered by tests
	includes  int  // files included, against MaxIncludes
	stopped   bool // MaxLines was hit: drop the rest

	// Where we are: the current file, its line number and directory.
	file  string
	line  int
	dir   string
	depth int

	includeCheck includeFlags
}

func (p *preproc) report(sev diag.Severity, col int, format string, args ...any) {
	p.diags = append(p.diags, diag.Diagnostic{
		File: p.file, Line: p.line, Col: col, Severity: sev,
		Message: fmt.Sprintf(format, args...),
	})
}

// runFile feeds the physical lines of one file through the preprocessor.
func (p *preproc) runFile(name, dir, text string, flags includeFlags) {
	saveFile, saveLine, saveDir, saveCheck := p.file, p.line, p.dir, p.includeCheck
	p.file, p.line, p.dir = name, 0, dir
	defer func() {
		p.file, p.line, p.dir, p.includeCheck = saveFile, saveLine, saveDir, saveCheck
		if p.depth == 0 {
			p.endCollect() // a definition cannot continue past the end of input
		}
	}()
	for len(text) > 0 && !p.stopped {
		var raw string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			raw, text = text[:i], text[i+1:]
		} else {
			raw, text = text, ""
		}
		p.line++
		raw = strings.TrimRight(raw, "\r")
		if strings.IndexByte(raw, 0) >= 0 {
			p.report(diag.Error, 0, "line contains a NUL byte - ignoring it")
			continue
		}
		line, start, _ := decomment(raw)
		if line == "" {
			// A line with nothing but blanks or a comment ends a
			// multi-line definition. keepalived 2.2.7's reading processes
			// do this (they read a decommented copy of the file, where
			// such lines are empty); its manual's $RS example therefore
			// only works without its blank lines.
			p.endCollect()
			continue
		}
		if p.collecting == nil {
			if kind, path, ok := isInclude(line); ok {
				p.include(kind, path)
				continue
			}
		}
		p.process(line, start+1)
	}
}

// endCollect ends a multi-line definition early.
func (p *preproc) endCollect() {
	if d := p.collecting; d != nil {
		p.collecting = nil
		d.multiline = d.value != ""
		d.lines = nil
	}
}

// process runs one logical line through the preprocessor, in keepalived
// 2.2.7's order: @ID, $NAME=VALUE, ~SEQ/~LST, then substitution, repeated
// while a substitution produced a new '@' line or a '$'.
func (p *preproc) process(text string, col int) {
	if p.stopped {
		return
	}
	if p.processed++; p.processed > p.maxLines {
		p.report(diag.Error, 0, "configuration expands to more than %d lines - ignoring the rest", p.maxLines)
		p.stopped = true
		return
	}
	if p.collecting != nil {
		p.collect(text)
		return
	}
	var bodies [][]string // rest of multi-line parameters, innermost last
	for text != "" {
		if text[0] == '@' {
			rest, off, keep := p.conditional(text)
			if !keep {
				text = ""
				break
			}
			text, col = rest, col+off
			if text == "" {
				break
			}
		}
		if text[0] == '$' && p.define(text) {
			text = ""
			break
		}
		if strings.HasPrefix(text, "~SEQ") || strings.HasPrefix(text, "~LST") {
			p.block(text, col)
			text = ""
			break
		}
		if text[0] == '~' || strings.IndexByte(text, '$') < 0 {
			break
		}
		replaced, more, changed, capped, block := p.substitute(text, col)
		if !changed {
			break
		}
		if capped {
			// Rechecking would hit the same limit again, forever.
			bodies = append(bodies, more...)
			text = replaced
			break
		}
		if block {
			// A ~SEQ/~LST value: the line is final but for the block
			// itself, when it starts the line.
			bodies = append(bodies, more...)
			var off int
			text, off, _ = decomment(replaced)
			col += off
			if strings.HasPrefix(text, "~SEQ") || strings.HasPrefix(text, "~LST") {
				p.block(text, col)
				text = ""
			}
			break
		}
		bodies = append(bodies, more...)
		var off int
		text, off, _ = decomment(replaced)
		col += off
		if text == "" || text[0] != '@' && strings.IndexByte(text, '$') < 0 {
			break
		}
	}
	if text != "" {
		p.emit(text, col)
	}
	for i := len(bodies) - 1; i >= 0; i-- {
		for _, l := range bodies[i] {
			p.process(l, 1)
		}
	}
}

// conditional handles an @ID or @^ID line: keep reports whether the line
// applies to this config id; rest is the line after the id.
func (p *preproc) conditional(text string) (rest string, off int, keep bool) {
	neg := len(text) > 1 && text[1] == '^'
	start := 1
	if neg {
		start = 2
	}
	n := strings.IndexAny(text[start:], " \t")
	if n < 0 {
		return "", 0, false // nothing follows the id: keepalived drops the line
	}
	id := text[start : start+n]
	match := p.opts.ConfigID != "" && id == p.opts.ConfigID
	if match == neg {
		return "", 0, false
	}
	off = start + n
	for off < len(text) && isBlank(text[off]) {
		off++
	}
	return text[off:], off, true
}

// emit tokenizes a finished line and appends it to the output. Lines and
// tokens are carved from chunks so a million-line expansion makes few,
// large allocations and never re-copies what it has produced.
func (p *preproc) emit(text string, col int) {
	if p.bytes += len(text); p.bytes > p.maxBytes {
		p.report(diag.Error, 0, "configuration expands to more than %d bytes - ignoring the rest", p.maxBytes)
		p.stopped = true
		return
	}
	if cap(p.tokens)-len(p.tokens) < len(text)+1 {
		p.tokens = make([]Token, 0, max(tokenChunk, len(text)+1))
	}
	n := len(p.tokens)
	toks, errs := tokenize(text, col, p.tokens)
	for _, e := range errs {
		p.report(diag.Error, e.col, "%s", e.msg)
	}
	p.tokens = toks
	toks = toks[n:len(toks):len(toks)]
	if len(toks) == 0 {
		return
	}
	if toks[0].Text == "include_check" {
		p.setIncludeCheck(toks[1:])
	}
	if len(p.out) == cap(p.out) {
		if len(p.out) > 0 {
			p.done = append(p.done, p.out)
		}
		p.out = make([]Line, 0, lineChunk)
	}
	p.out = append(p.out, Line{File: p.file, Line: p.line, Tokens: toks})
	p.nout++
}

// Chunk sizes for output lines and tokens.
const (
	lineChunk  = 4096
	tokenChunk = 16384
)

// lines returns all output lines as one slice.
func (p *preproc) lines() []Line {
	if len(p.done) == 0 {
		return p.out
	}
	all := make([]Line, 0, p.nout)
	for _, c := range p.done {
		all = append(all, c...)
	}
	return append(all, p.out...)
}
