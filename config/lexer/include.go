package lexer

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-ha/vigil/config/diag"
)

// includeFlags are keepalived's include_check conditions: each one that is
// set turns the matching include problem from a warning into an error.
type includeFlags uint8

const (
	incReadable     includeFlags = 1 << iota // a match cannot be read
	incMatch                                 // a file named without wildcards is missing
	incWildcard                              // a wildcard pattern matches nothing
	incBrace                                 // a brace alternative matches nothing
	incAll          = incReadable | incMatch | incWildcard | incBrace
	maxBraceResults = 4096
)

// isInclude recognises "include PATH" and its variants includer, includem,
// includew, includeb and includea. Like keepalived (and as the manual says)
// this is checked on the line as written, before @ID and $NAME processing.
func isInclude(line string) (flags includeFlags, path string, ok bool) {
	if !strings.HasPrefix(line, "include") || len(line) < 9 {
		return 0, "", false
	}
	switch c := line[7]; {
	case isSpace(c):
		path = line[8:]
	case isSpace(line[8]) && strings.IndexByte("rmwba", c) >= 0:
		path = line[9:]
		switch c {
		case 'r':
			flags = incReadable
		case 'm':
			flags = incReadable | incMatch
		case 'w':
			flags = incReadable | incMatch | incWildcard
		case 'b':
			flags = incReadable | incBrace
		case 'a':
			flags = incAll
		}
	default:
		return 0, "", false
	}
	return flags, strings.TrimLeft(path, " \t"), true
}

// setIncludeCheck applies an "include_check [OPTIONS]" line (a global_defs
// keyword that keepalived applies while reading, so it is handled here).
// The setting lasts until the end of the current file.
func (p *preproc) setIncludeCheck(args []Token) {
	if len(args) == 0 {
		p.includeCheck = incAll
		return
	}
	for i, a := range args {
		word, mode := a.Text, byte(0)
		if word != "" && (word[0] == '+' || word[0] == '-') {
			word, mode = word[1:], word[0]
		} else if i > 0 {
			p.report(diag.Error, a.Col, "duplicate include_check '%s' specified - ignoring", a.Text)
			continue
		} else {
			p.includeCheck = 0
		}
		var f includeFlags
		switch word {
		case "read":
			f = incReadable
		case "match":
			f = incMatch
		case "wildcard_match":
			f = incWildcard
		case "brace_match":
			f = incBrace
		default:
			p.report(diag.Error, a.Col, "unknown include_check type '%s' - ignoring", word)
			continue
		}
		switch mode {
		case 0:
			p.includeCheck = incReadable | f
		case '+':
			p.includeCheck |= f
		default:
			p.includeCheck &^= f
		}
	}
}

// include reads the files an include line names. Relative paths are
// relative to the including file's directory. Problems are warnings unless
// the include variant or include_check makes them errors.
func (p *preproc) include(kind includeFlags, pattern string) {
	flags := p.includeCheck | kind
	sev := func(f includeFlags) diag.Severity {
		if flags&f != 0 {
			return diag.Error
		}
		return diag.Warning
	}
	if p.depth >= MaxIncludeDepth {
		p.report(diag.Error, 0, "includes nested more than %d deep (include loop?) - skipping '%s'", MaxIncludeDepth, pattern)
		return
	}
	full := pattern
	if !filepath.IsAbs(full) {
		full = filepath.Join(p.dir, full)
	}
	alts, ok := braceExpand(full, maxBraceResults)
	if !ok {
		p.report(diag.Error, 0, "include '%s' expands to more than %d patterns - skipping", pattern, maxBraceResults)
		return
	}
	braced := hasBrace(full)
	var files []string
	missing, wild := false, false
	for _, alt := range alts {
		m, err := p.glob(alt)
		if err != nil {
			p.report(sev(incReadable), 0, "error reading config file(s) '%s': %v - skipping", pattern, err)
			return
		}
		if hasMeta(alt) {
			wild = true
		} else if len(m) == 0 {
			missing = true
		}
		files = append(files, m...)
	}
	switch {
	case len(files) == 0 && missing && braced:
		p.report(sev(incBrace), 0, "config files missing '%s'", pattern)
		return
	case len(files) == 0 && missing:
		p.report(sev(incMatch), 0, "config file missing '%s'", pattern)
		return
	case len(files) == 0 && wild:
		if flags&incWildcard != 0 {
			p.report(diag.Error, 0, "no config files matched '%s'", pattern)
		}
		return
	case missing:
		p.report(sev(incBrace), 0, "some config files missing: '%s'", pattern)
		if flags&incBrace != 0 {
			return
		}
	}
	for _, f := range files {
		if !p.readableConfig(f, sev(incReadable)) {
			continue
		}
		if p.includes++; p.includes > MaxIncludes {
			p.report(diag.Error, 0, "more than %d included files - ignoring the rest", MaxIncludes)
			p.stopped = true
			return
		}
		data, err := p.readFile(f)
		if err != nil {
			p.report(sev(incReadable), 0, "configuration file '%s' open problem (%v) - skipping", f, err)
			continue
		}
		p.depth++
		p.runFile(f, filepath.Dir(f), string(data), flags)
		p.depth--
		if p.stopped {
			return
		}
	}
}

// readableConfig applies keepalived's safety check to a real file: it must
// be a regular file that nobody can execute. An injected file system has
// no modes, so there only reading can fail.
func (p *preproc) readableConfig(f string, sev diag.Severity) bool {
	if p.opts.ReadFile != nil {
		return true
	}
	st, err := os.Stat(f)
	if err != nil {
		return true // reading reports it
	}
	if st.IsDir() {
		p.report(sev, 0, "configuration file '%s' is a directory - skipping", f)
		return false
	}
	if !st.Mode().IsRegular() || st.Mode()&0o111 != 0 {
		p.report(sev, 0, "configuration file '%s' is not a regular non-executable file - skipping", f)
		return false
	}
	return true
}

func hasMeta(s string) bool { return strings.ContainsAny(s, "*?[") }

// hasBrace reports an unescaped '{' in s.
func hasBrace(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			return true
		}
	}
	return false
}

// braceExpand expands csh-style alternatives as glob(3) with GLOB_BRACE
// does: "a{b,c{d,e}}f" is abf, acdf, acef, in that order. An unbalanced
// brace is literal. ok is false when there would be more than limit
// results.
func braceExpand(s string, limit int) (out []string, ok bool) {
	open := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == '{' {
			open = i
			break
		}
	}
	if open < 0 {
		return []string{s}, true
	}
	depth, closeAt := 0, -1
	commas := []int{}
	for i := open; i < len(s) && closeAt < 0; i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				closeAt = i
			}
		case ',':
			if depth == 1 {
				commas = append(commas, i)
			}
		}
	}
	if closeAt < 0 {
		return []string{s}, true
	}
	prefix, suffix := s[:open], s[closeAt+1:]
	bounds := append(append([]int{open}, commas...), closeAt)
	for k := 0; k+1 < len(bounds); k++ {
		alt := s[bounds[k]+1 : bounds[k+1]]
		sub, ok := braceExpand(prefix+alt+suffix, limit-len(out))
		if !ok {
			return nil, false
		}
		out = append(out, sub...)
		if len(out) > limit {
			return nil, false
		}
	}
	return out, true
}
