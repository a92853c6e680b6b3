package lexer

import (
	"path/filepath"
	"testing"
)

// TestSamples lexes keepalived's installed sample configurations (skipped
// when they are absent): none of them should raise a diagnostic, and
// braces should balance.
func TestSamples(t *testing.T) {
	names, _ := filepath.Glob("/usr/share/doc/keepalived/samples/keepalived.conf.*")
	if len(names) == 0 {
		t.Skip("keepalived samples not installed")
	}
	for _, n := range names {
		lines, diags, err := Load(n, Options{ConfigID: "main"})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range diags {
			t.Errorf("%s", d)
		}
		depth := 0
		for _, l := range lines {
			for _, tok := range l.Tokens {
				switch {
				case tok.Quoted:
				case tok.Text == "{":
					depth++
				case tok.Text == "}":
					depth--
				}
			}
		}
		if depth != 0 || len(lines) == 0 {
			t.Errorf("%s: %d lines, brace depth %d at the end", n, len(lines), depth)
		}
	}
}
