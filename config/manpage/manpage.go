// Package manpage extracts the configuration keywords that keepalived.conf(5)
// documents, with the block each appears in, from the man page's troff
// source. config's keyword table is checked against it: a keyword of the
// man page the table lacks is a keyword vigil might silently ignore.
//
// The man page has no machine-readable keyword list. Keywords appear in
// two places, which the extractor reads differently:
//
//   - In the configuration examples (the no-fill regions between .nf and
//     .fi): the first word of a line is a keyword when it is set in bold
//     (\fBkeyword\fR), or, when it is not, if it is indented like a bold
//     keyword of the same block (which tells it from the continuation of a
//     comment) or, at the top level, if it opens a block. Braces give the
//     block a keyword belongs to. Blocks without any bold keyword are list
//     blocks (interfaces, addresses, names): their lines are entries, not
//     keywords. Comments ('#' to the end of the line) are dropped first.
//   - In the prose: a bold span that is a single keyword-shaped word at the
//     start of a line (the include directives in DESCRIPTION).
//
// Reading stops at ADVANCED CONFIGURATION: the sections from there on
// (conditional configuration, parameters, sequence and list blocks,
// kernel settings) show the preprocessor with keywords out of their
// blocks, and name sysctls in bold.
package manpage

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

// Installed is where Debian's keepalived package puts the man page.
const Installed = "/usr/share/man/man5/keepalived.conf.5.gz"

// Keyword is one keyword of the man page.
type Keyword struct {
	Name string
	// Block is the keyword of the block it appears in ("" for the top
	// level). A keyword that opens a block whose keyword has alternatives
	// (HTTP_GET|SSL_GET) is reported under each. CHECKER_TYPE stands for
	// any checker (the man page's generic checker options).
	Block string
	// Line is the first line of the man page's source it appears on.
	Line int
	// Prose marks a keyword found only in the prose, whose block is
	// unknown (Block is "").
	Prose bool
}

// ReadInstalled returns the troff source of the installed man page.
func ReadInstalled() (string, error) {
	return ReadFile(Installed)
}

// ReadFile returns the troff source of a man page, gunzipping it when its
// name ends in .gz.
func ReadFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return "", err
		}
		if b, err = io.ReadAll(zr); err != nil {
			return "", err
		}
	}
	return string(b), nil
}

var (
	// A keyword: lower case words with _ or - (flag-1, sh-port), or the
	// upper case checker names (HTTP_GET, BFD_CHECK) and SSL.
	lowerKw = regexp.MustCompile(`^[a-z][a-z0-9_]*(-[a-z0-9]+)*$`)
	upperKw = regexp.MustCompile(`^([A-Z][A-Z0-9]*_[A-Z0-9_]+|SSL)$`)
	// Words that start example lines without being keywords ("lvs_method
	// NAT|DR / or / lvs_method TUN ...").
	notKeywords = map[string]bool{"or": true, "and": true}
)

// placeholder is the man page's name for "any checker": a block, not a
// keyword.
const placeholder = "CHECKER_TYPE"

func keywordShaped(s string) bool {
	return lowerKw.MatchString(s) || upperKw.MatchString(s)
}

// segment is a run of text in one font.
type segment struct {
	text string
	bold bool
}

// decode splits a troff line into font runs, resolving the escapes the
// man page uses.
func decode(line string) []segment {
	var out []segment
	var cur strings.Builder
	bold := false
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, segment{cur.String(), bold})
			cur.Reset()
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c != '\\' || i+1 == len(line) {
			cur.WriteByte(c)
			continue
		}
		i++
		switch line[i] {
		case 'f':
			if i+1 < len(line) {
				i++
				flush()
				bold = line[i] == 'B'
			}
		case 'e', '\\':
			cur.WriteByte('\\')
		case '-':
			cur.WriteByte('-')
		case '&':
		default:
			cur.WriteByte(line[i])
		}
	}
	flush()
	return out
}

// stripComment cuts a no-fill line at its '#' comment, keeping the font
// runs before it.
func stripComment(segs []segment) []segment {
	var out []segment
	for _, s := range segs {
		if k := strings.IndexByte(s.text, '#'); k >= 0 {
			if k > 0 {
				out = append(out, segment{s.text[:k], s.bold})
			}
			return out
		}
		out = append(out, s)
	}
	return out
}

func indentOf(s string) int {
	n := 0
	for _, c := range s {
		switch c {
		case ' ':
			n++
		case '\t':
			n = n/8*8 + 8
		default:
			return n
		}
	}
	return n
}

// frame is an open block of an example.
type frame struct {
	names      []string // the block's keyword (several for A|B)
	boldIndent map[int]bool
	pending    []pendingKw // non-bold candidates, decided when the block closes
	sawBold    bool
}

type pendingKw struct {
	kw     Keyword
	indent int
}

// Extract returns the keywords of the man page source, sorted by block
// then name, each once per block (its first line).
func Extract(src string) []Keyword {
	found := map[[2]string]Keyword{}
	add := func(k Keyword) {
		key := [2]string{k.Block, k.Name}
		if prev, ok := found[key]; ok && (prev.Prose == k.Prose && prev.Line <= k.Line || !prev.Prose && k.Prose) {
			return // keep the first example (an example over the prose)
		}
		found[key] = k
	}
	nofill := false
	var stack []*frame
	top := &frame{boldIndent: map[int]bool{}}
	blocksOf := func() []string {
		if len(stack) == 0 {
			return []string{""}
		}
		return stack[len(stack)-1].names
	}
	closeFrame := func(f *frame) {
		for _, p := range f.pending {
			if f.sawBold && f.boldIndent[p.indent] {
				add(p.kw)
			}
		}
	}
	resetExample := func() {
		for i := len(stack) - 1; i >= 0; i-- {
			closeFrame(stack[i])
		}
		stack = nil
	}
	lines := strings.Split(src, "\n")
	for ln, raw := range lines {
		lineNo := ln + 1
		if strings.HasPrefix(raw, ".") {
			switch {
			case strings.HasPrefix(raw, ".nf"):
				nofill = true
			case strings.HasPrefix(raw, ".fi"):
				nofill = false
				resetExample()
			case strings.HasPrefix(raw, ".SH"):
				resetExample()
				if strings.Contains(raw, "ADVANCED CONFIGURATION") {
					return sorted(found)
				}
			}
			continue
		}
		segs := decode(raw)
		if !nofill {
			// Prose: a bold keyword starting the line.
			if len(segs) > 0 && segs[0].bold {
				w := strings.TrimSpace(segs[0].text)
				if keywordShaped(w) && !notKeywords[w] {
					add(Keyword{Name: w, Line: lineNo, Prose: true})
				}
			}
			continue
		}
		segs = stripComment(segs)
		var text strings.Builder
		for _, s := range segs {
			text.WriteString(s.text)
		}
		plain := text.String()
		fields := strings.Fields(plain)
		if len(fields) == 0 {
			continue
		}
		indent := indentOf(plain)
		// The first word, and whether it is bold.
		first, bold := fields[0], false
		for _, s := range segs {
			if strings.TrimSpace(s.text) == "" {
				continue
			}
			bold = s.bold && strings.HasPrefix(strings.TrimSpace(s.text), first)
			break
		}
		opens := strings.Count(plain, "{") - strings.Count(plain, "}")
		names := strings.Split(first, "|")
		shaped := first != "{" && first != "}"
		for _, n := range names {
			shaped = shaped && keywordShaped(n) && !notKeywords[n]
		}
		if shaped {
			f := top
			if len(stack) > 0 {
				f = stack[len(stack)-1]
			}
			for _, blk := range blocksOf() {
				for _, n := range names {
					if n == placeholder {
						continue
					}
					k := Keyword{Name: n, Block: blk, Line: lineNo}
					switch {
					case bold:
						add(k)
					case len(stack) == 0:
						if opens > 0 {
							add(k)
						}
					default:
						f.pending = append(f.pending, pendingKw{k, indent})
					}
				}
			}
			if bold {
				f.sawBold = true
				f.boldIndent[indent] = true
			}
		}
		// Braces: a line opening a block makes its first word the block.
		if strings.HasPrefix(first, "}") {
			if len(stack) > 0 {
				closeFrame(stack[len(stack)-1])
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if opens > 0 {
			stack = append(stack, &frame{names: names, boldIndent: map[int]bool{}})
		} else if opens < 0 && len(stack) > 0 {
			closeFrame(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
		}
	}
	resetExample()
	return sorted(found)
}

// sorted returns the keywords in order, leaving out prose mentions of
// keywords an example shows in their block.
func sorted(m map[[2]string]Keyword) []Keyword {
	inExample := map[string]bool{}
	for _, k := range m {
		if !k.Prose {
			inExample[k.Name] = true
		}
	}
	out := make([]Keyword, 0, len(m))
	for _, k := range m {
		if !k.Prose || !inExample[k.Name] {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Block != out[j].Block {
			return out[i].Block < out[j].Block
		}
		return out[i].Name < out[j].Name
	})
	return out
}
