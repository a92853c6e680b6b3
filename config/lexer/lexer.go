// Package lexer reads a keepalived.conf into logical lines of words.
//
// It does what keepalived's lib/parser.c does before keywords are looked at:
// comments, quoting and escapes, braces as words of their own, and the
// preprocessor (include and its variants, @ID conditional lines, $NAME
// parameters, ~SEQ and ~LST blocks). The behaviour follows keepalived 2.2.7
// and its keepalived.conf(5) manual; where the two differ, the manual's
// documented behaviour wins and the difference is noted at the code.
//
// The pure entry point is LoadString; file access goes through
// Options.ReadFile and Options.Glob so tests can use an in-memory tree.
package lexer

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/config/diag"
)

// Token is one word of a line.
type Token struct {
	Text   string // unquoted, escapes resolved
	Quoted bool   // was written in "..." or '...'
	Col    int    // 1-based column in the source line
	// Raw is the word with quotes removed but backslash escapes kept as
	// written. keepalived resolves escapes of script keywords (notify*,
	// misc_path, script, quorum_up/down, ...) only when it splits the
	// command, so SplitCommand(tok.Raw) matches it exactly.
	Raw string
}

// Line is one logical configuration line after preprocessing.
type Line struct {
	File   string // the file it came from (as given / as resolved for includes)
	Line   int    // 1-based line number in that file
	Tokens []Token
}

// String formats the line as FILE:LINE: followed by its words, quoted words
// in Go syntax; tests and debugging output use it.
func (l Line) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:", l.File, l.Line)
	for _, t := range l.Tokens {
		b.WriteByte(' ')
		if t.Quoted || t.Text == "" || strings.ContainsAny(t.Text, " \t\"\\") || !isPrint(t.Text) {
			fmt.Fprintf(&b, "%q", t.Text)
		} else {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

func isPrint(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// Options control preprocessing.
type Options struct {
	ConfigID   string                                 // for @ID / @^ID lines; "" means: first label of os.Hostname() (resolved by Load, not by the pure parts)
	RandomSeed *int64                                 // seeds ${_RANDOM} (global_defs random_seed, or a test); nil → a random seed
	ReadFile   func(path string) ([]byte, error)      // nil → os.ReadFile (tests inject an in-memory FS)
	Glob       func(pattern string) ([]string, error) // nil → filepath.Glob
}

// Limits that keep hostile or mistaken input from exhausting memory or
// time. keepalived has none of them (it would loop or run out of memory).
const (
	// MaxLines caps the logical lines processed in one load, counting
	// every line a ~SEQ, ~LST or multi-line parameter generates.
	MaxLines = 10_000_000
	// MaxLineLen caps a line's length after parameter substitution.
	MaxLineLen = 64 << 10
	// MaxSubstitutions caps the parameter replacements within one line,
	// which stops self-referencing definitions.
	MaxSubstitutions = 10_000
	// MaxIncludeDepth caps nested includes, which stops include loops.
	MaxIncludeDepth = 32
	// MaxIncludes caps the files read in one load, which stops a file
	// that includes a glob matching itself from fanning out.
	MaxIncludes = 10_000
	// MaxBytes caps the total text of the output lines.
	MaxBytes = 1 << 30
)

// LoadString preprocesses and tokenizes text as if it were the file name.
// Includes are resolved relative to name's directory through opts. It never
// returns an error: every problem is a diagnostic.
func LoadString(name, text string, opts Options) ([]Line, diag.List, error) {
	p := newPreproc(opts)
	p.runFile(name, filepath.Dir(name), text, 0)
	return p.lines(), p.diags, nil
}

// Load reads the file at path and everything it includes. The error is
// non-nil only when path itself cannot be read; problems with included
// files are diagnostics, as keepalived reports them.
func Load(path string, opts Options) ([]Line, diag.List, error) {
	if opts.ConfigID == "" {
		opts.ConfigID = hostID()
	}
	read := opts.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	data, err := read(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read configuration: %w", err)
	}
	dir := filepath.Dir(path)
	if abs, err := filepath.Abs(dir); err == nil && opts.ReadFile == nil {
		dir = abs // ${_PWD} is keepalived's working directory: absolute
	}
	p := newPreproc(opts)
	p.runFile(path, dir, string(data), 0)
	return p.lines(), p.diags, nil
}

// hostID is keepalived's default config id: the node name up to the first dot.
func hostID() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	h, _, _ = strings.Cut(h, ".")
	return h
}

func newPreproc(opts Options) *preproc {
	seed := time.Now().UnixNano()
	if opts.RandomSeed != nil {
		seed = *opts.RandomSeed
	}
	p := &preproc{
		opts:     opts,
		readFile: opts.ReadFile,
		glob:     opts.Glob,
		rng:      rand.New(rand.NewSource(seed)),
		defs:     make(map[string]*definition),
		maxLines: MaxLines,
		maxBytes: MaxBytes,
	}
	if p.readFile == nil {
		p.readFile = os.ReadFile
	}
	if p.glob == nil {
		p.glob = filepath.Glob
	}
	p.stdDefinitions()
	return p
}
