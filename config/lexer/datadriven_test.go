package lexer

import (
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/vigil-ha/vigil/config/diag"
)

// memFS is an in-memory file tree for Options.ReadFile and Options.Glob.
type memFS map[string]string

func (m memFS) ReadFile(name string) ([]byte, error) {
	s, ok := m[path.Clean(name)]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return []byte(s), nil
}

// Glob behaves like filepath.Glob: sorted matches, and a pattern without
// wildcards matches itself only if it exists.
func (m memFS) Glob(pattern string) ([]string, error) {
	pattern = path.Clean(pattern)
	var out []string
	for name := range m {
		ok, err := path.Match(pattern, name)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (m memFS) options() Options {
	return Options{ReadFile: m.ReadFile, Glob: m.Glob}
}

// TestDataDriven runs testdata/*.txt. Commands:
//
//	file path=P              store the input as file P of the in-memory tree
//	preprocess [name=N] [id=ID] [seed=S]
//	                         load the input as file N (default keepalived.conf)
//	load path=P [id=ID]      load file P of the in-memory tree
//	count [id=ID]            like preprocess, but print the number of lines
//	                         and the first and last few
//	split                    SplitCommand on each input line
//
// Output: one line per logical line (FILE:LINE: words, quoted words in Go
// syntax), then diagnostics.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, file string) {
		if strings.HasPrefix(file, filepath.Join("testdata", "fuzz")+string(filepath.Separator)) {
			return // the fuzzer's seed corpus lives here too; it is not a scenario
		}
		files := memFS{}
		datadriven.RunTest(t, file, func(t *testing.T, d *datadriven.TestData) string {
			opts := files.options()
			name := "keepalived.conf"
			var seed int64
			for _, a := range d.CmdArgs {
				v := ""
				if len(a.Vals) > 0 {
					v = a.Vals[0]
				}
				switch a.Key {
				case "id":
					opts.ConfigID = v
				case "seed":
					n, err := strconv.ParseInt(v, 10, 64)
					if err != nil {
						d.Fatalf(t, "bad seed: %v", err)
					}
					seed = n
					opts.RandomSeed = &seed
				case "name", "path":
					name = v
				}
			}
			switch d.Cmd {
			case "file":
				files[path.Clean(name)] = d.Input + "\n"
				return ""
			case "preprocess", "count":
				if opts.RandomSeed == nil {
					opts.RandomSeed = &seed
				}
				lines, diags, err := LoadString(name, d.Input+"\n", opts)
				if err != nil {
					d.Fatalf(t, "LoadString: %v", err)
				}
				if d.Cmd == "count" {
					return summarize(lines) + formatDiags(diags)
				}
				return formatLines(lines) + formatDiags(diags)
			case "load":
				lines, diags, err := Load(name, opts)
				if err != nil {
					return fmt.Sprintf("error: %v\n", err)
				}
				return formatLines(lines) + formatDiags(diags)
			case "split":
				var b strings.Builder
				for _, l := range strings.Split(d.Input, "\n") {
					fmt.Fprintf(&b, "%q\n", SplitCommand(l))
				}
				return b.String()
			}
			d.Fatalf(t, "unknown command %q", d.Cmd)
			return ""
		})
	})
}

func formatLines(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func formatDiags(diags diag.List) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func summarize(lines []Line) string {
	var b strings.Builder
	n := 0
	for _, l := range lines {
		if l.Tokens[0].Text == "vrrp_instance" {
			n++
		}
	}
	fmt.Fprintf(&b, "%d lines, %d vrrp_instance\n", len(lines), n)
	if len(lines) <= 40 {
		return b.String() + formatLines(lines)
	}
	b.WriteString(formatLines(lines[:20]))
	b.WriteString("...\n")
	b.WriteString(formatLines(lines[len(lines)-20:]))
	return b.String()
}
