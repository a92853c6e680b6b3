package lexer

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLexer feeds arbitrary text through the whole preprocessor and lexer.
// It must never panic or hang; limits are lowered so that every input
// finishes quickly. Seeds: keepalived's sample configurations (when
// installed), this package's testdata, and tricky fragments.
func FuzzLexer(f *testing.F) {
	for _, pat := range []string{"/usr/share/doc/keepalived/samples/keepalived.conf.*", "testdata/*.txt"} {
		names, _ := filepath.Glob(pat)
		for _, n := range names {
			if b, err := os.ReadFile(n); err == nil {
				f.Add(string(b))
			}
		}
	}
	for _, s := range []string{
		"$A=$A\n$A\n",
		"$A= \\\n x${A} \\\n $A\n$A\n",
		"~SEQ(A,0,1000000000) ~LST({B,C},{1},{2,3}) $A$B\n",
		"~SEQx(A, 0x10, -1, 0) ${A}\n",
		"include *.conf\nincludea {a,b{c,d}}.conf\n",
		"@^x a \"b\\x4\" '\\c' \\\n{}{}\n",
		"${_RANDOM 1 99999999999999999999999} ${_PWD}\n",
	} {
		f.Add(s)
	}
	files := memFS{
		"/f/a.conf": "include *.conf\n$X=1\n",
		"/f/b.conf": "~SEQ(I,1,3) b${I}\n",
	}
	f.Fuzz(func(t *testing.T, text string) {
		seed := int64(1)
		opts := files.options()
		opts.RandomSeed = &seed
		opts.ConfigID = "x"
		p := newPreproc(opts)
		p.maxLines = 20_000
		p.maxBytes = 1 << 20
		p.runFile("/f/k.conf", "/f", text, 0)
		for _, l := range p.lines() {
			if len(l.Tokens) == 0 {
				t.Fatalf("empty line %v", l)
			}
			if l.Line < 1 || l.File == "" {
				t.Fatalf("bad position %v", l)
			}
		}
		for _, d := range p.diags {
			if d.Line < 0 || d.File == "" || d.Message == "" {
				t.Fatalf("bad diagnostic %v", d)
			}
		}
	})
}
