package lexer

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/config/diag"
)

func words(l Line) []string {
	out := make([]string, len(l.Tokens))
	for i, t := range l.Tokens {
		out[i] = t.Text
	}
	return out
}

func TestTokens(t *testing.T) {
	tests := []struct {
		name, in string
		want     [][]string
	}{
		{"words", "  state   MASTER\t", [][]string{{"state", "MASTER"}}},
		{"hash comment", "a b # c d", [][]string{{"a", "b"}}},
		{"bang comment", "a b! c", [][]string{{"a", "b"}}},
		{"comment only", "  # nothing", nil},
		{"comment in double quotes", `a "b # c" d`, [][]string{{"a", "b # c", "d"}}},
		{"escaped comment chars", `a\#b c\!d`, [][]string{{"a#b", "c!d"}}},
		{"manual: one string", `abcd" efg h jkl "mnop`, [][]string{{"abcd efg h jkl mnop"}}},
		{"manual: three strings", `abcd "efg h jkl" mnop`, [][]string{{"abcd", "efg h jkl", "mnop"}}},
		{"single quotes group", `x 'a "b" c'`, [][]string{{"x", `a "b" c`}}},
		{"empty quoted", `x "" y`, [][]string{{"x", "", "y"}}},
		{"brace words", "vrrp_instance VI_1 {", [][]string{{"vrrp_instance", "VI_1", "{"}}},
		{"attached braces", "a{b}c", [][]string{{"a", "{", "b", "}", "c"}}},
		{"one-line block", "virtual_ipaddress { 10.0.0.1/24 }", [][]string{{"virtual_ipaddress", "{", "10.0.0.1/24", "}"}}},
		{"brace in double quotes", `x "{a}"`, [][]string{{"x", "{a}"}}},
		{"CRLF", "a b\r\n", [][]string{{"a", "b"}}},
		{"trailing backslash kept", "a b \\", [][]string{{"a", "b\\"}}},
		{"two lines", "a\n\n  b c\n", [][]string{{"a"}, {"b", "c"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lines, diags, err := LoadString("k.conf", tc.in, Options{})
			if err != nil || len(diags) != 0 {
				t.Fatalf("err %v, diags %v", err, diags)
			}
			var got [][]string
			for _, l := range lines {
				got = append(got, words(l))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEscapes(t *testing.T) {
	tests := []struct{ in, want, raw string }{
		{`"\a\b\E\f\n\r\t\v"`, "\a\b\x1b\f\n\r\t\v", `\a\b\E\f\n\r\t\v`},
		{`"\101\60\0010"`, "A0\x010", `\101\60\0010`},
		{`"\x41\x4a4\xg"`, "AJ4xg", `\x41\x4a4\xg`},
		{`"\cA\c["`, "\x01\x1b", `\cA\c[`},
		{`"\\ \" \' \q"`, `\ " ' q`, `\\ \" \' \q`},
		{`'it\'s'`, "it's", `it\'s`},
		{`a\ b`, "a b", `a\ b`},
		{`"\777"`, "\xff", `\777`}, // octal wraps to a byte, as in keepalived
	}
	for _, tc := range tests {
		lines, diags, _ := LoadString("k.conf", "w "+tc.in, Options{})
		if len(diags) != 0 || len(lines) != 1 || len(lines[0].Tokens) != 2 {
			t.Fatalf("%s: lines %v, diags %v", tc.in, lines, diags)
		}
		tok := lines[0].Tokens[1]
		if tok.Text != tc.want || tok.Raw != tc.raw {
			t.Errorf("%s: got %q raw %q, want %q raw %q", tc.in, tok.Text, tok.Raw, tc.want, tc.raw)
		}
	}
}

func TestColumnsAndQuoted(t *testing.T) {
	lines, _, _ := LoadString("k.conf", "\tnotify \"/x y\" {z}\n", Options{})
	want := []Token{
		{Text: "notify", Raw: "notify", Col: 2},
		{Text: "/x y", Raw: "/x y", Quoted: true, Col: 9},
		{Text: "{", Raw: "{", Col: 16},
		{Text: "z", Raw: "z", Col: 17},
		{Text: "}", Raw: "}", Col: 18},
	}
	if !reflect.DeepEqual(lines[0].Tokens, want) {
		t.Errorf("got %+v\nwant %+v", lines[0].Tokens, want)
	}
}

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"/bin/notify.sh  a b", []string{"/bin/notify.sh", "a", "b"}},
		{"/bin/x 'a b' \"c d\"", []string{"/bin/x", "a b", "c d"}},
		{`/bin/x a\ b \"c`, []string{"/bin/x", "a b", `"c`}},
		{`/bin/x pre'a b'post`, []string{"/bin/x", "prea bpost"}},
		{`/bin/x '\t'`, []string{"/bin/x", "\t"}},
		{"", nil},
		{"   ", nil},
	}
	for _, tc := range tests {
		if got := SplitCommand(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitCommand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// A script keyword's Raw form keeps escapes for SplitCommand, as
	// keepalived resolves them only once.
	lines, _, _ := LoadString("k.conf", `notify "/bin/x \"a b\""`, Options{})
	if got, want := SplitCommand(lines[0].Tokens[1].Raw), []string{"/bin/x", `"a`, `b"`}; !reflect.DeepEqual(got, want) {
		t.Errorf("SplitCommand(raw) = %q, want %q", got, want)
	}
}

func TestDiagnostics(t *testing.T) {
	files := memFS{"/etc/k/sub.conf": "ok\nbad \"open\n"}
	opts := files.options()
	tests := []struct {
		name, in string
		want     []string
	}{
		{"unterminated double quote", "a\nb \"c d\n", []string{"/etc/k/k.conf:2:3: error: missing terminating \" quote"}},
		{"unterminated single quote", "x 'y\n", []string{"/etc/k/k.conf:1:3: error: missing terminating ' quote"}},
		{"in an include", "include sub.conf\n", []string{"/etc/k/sub.conf:2:5: error: missing terminating \" quote"}},
		{"missing include", "include none.conf\n", []string{"/etc/k/k.conf:1: warning: config file missing 'none.conf'"}},
		{"bad seq", "\n~SEQ(A, 1, 0, 3) x\n", []string{"/etc/k/k.conf:2:1: error: invalid ~SEQ specification '~SEQ(A, 1, 0, 3) x': step 0 never goes from 1 to 3"}},
		{"bad lst", "~LST(A) x\n", []string{"/etc/k/k.conf:1:1: error: invalid ~LST specification '~LST(A) x': bad variable list"}},
		{"self reference", "$A=x${A}\n${A}\n", []string{"/etc/k/k.conf:2:1: error: more than 10000 parameter substitutions in one line (self-referencing definition?) - stopping"}},
		// keepalived's decomment ignores single quotes, so the quote is cut.
		{"comment in single quotes", "a 'b # c' d", []string{"/etc/k/k.conf:1:3: error: missing terminating ' quote"}},
		{"growing", "$A=0123456789012345678901234567890123456789${A}\n${A}\n", []string{"/etc/k/k.conf:2:1: error: parameter substitution makes the line longer than 65536 bytes - stopping"}},
		{"same-length loop", "$A=$A\n$A\n", []string{"/etc/k/k.conf:2:1: error: more than 10000 parameter substitutions in one line (self-referencing definition?) - stopping"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, diags, _ := LoadString("/etc/k/k.conf", tc.in, opts)
			var got []string
			for _, d := range diags {
				got = append(got, d.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestIncludes(t *testing.T) {
	files := memFS{
		"/etc/k/conf.d/a.conf":   "a1\ninclude ../extra/x.conf\na2",
		"/etc/k/conf.d/b.conf":   "b1 ${_PWD}",
		"/etc/k/conf.d/c.txt":    "not included",
		"/etc/k/extra/x.conf":    "x1",
		"/etc/k/foo/cat.conf":    "cat",
		"/etc/k/foo/dog.conf":    "dog",
		"/etc/k/bar.conf":        "bar",
		"/etc/k/loop.conf":       "include loop.conf",
		"/etc/k/check/main.conf": "include_check\ninclude missing.conf\ninclude sub.conf\ninclude missing.conf",
		"/etc/k/check/sub.conf":  "include_check -match",
	}
	tests := []struct {
		name, in string
		lines    []string
		diags    []string
	}{
		{
			name: "glob, relative to the including file",
			in:   "top\ninclude conf.d/*.conf\nend",
			lines: []string{
				"/etc/k/k.conf:1: top",
				"/etc/k/conf.d/a.conf:1: a1",
				"/etc/k/extra/x.conf:1: x1",
				"/etc/k/conf.d/a.conf:3: a2",
				"/etc/k/conf.d/b.conf:1: b1 /etc/k/conf.d",
				"/etc/k/k.conf:3: end",
			},
		},
		{
			name:  "csh brace expansion, in order",
			in:    "include {foo/{dog,cat},bar}.conf",
			lines: []string{"/etc/k/foo/dog.conf:1: dog", "/etc/k/foo/cat.conf:1: cat", "/etc/k/bar.conf:1: bar"},
		},
		{
			name:  "include: missing file is a warning",
			in:    "include nofile.conf",
			diags: []string{"/etc/k/k.conf:1: warning: config file missing 'nofile.conf'"},
		},
		{
			name: "include: unmatched wildcard is silent",
			in:   "include conf.d/*.none",
		},
		{
			name: "includer: unmatched wildcard is fine (optional conf.d)",
			in:   "includer conf.d/*.none",
		},
		{
			name:  "includem: missing file is an error",
			in:    "includem nofile.conf",
			diags: []string{"/etc/k/k.conf:1: error: config file missing 'nofile.conf'"},
		},
		{
			name:  "includew: unmatched wildcard is an error",
			in:    "includew conf.d/*.none",
			diags: []string{"/etc/k/k.conf:1: error: no config files matched 'conf.d/*.none'"},
		},
		{
			name:  "includeb: a missing brace alternative is an error and nothing is read",
			in:    "includeb {bar,nofile}.conf",
			diags: []string{"/etc/k/k.conf:1: error: some config files missing: '{bar,nofile}.conf'"},
		},
		{
			name:  "include: a missing brace alternative is a warning",
			in:    "include {bar,nofile}.conf",
			lines: []string{"/etc/k/bar.conf:1: bar"},
			diags: []string{"/etc/k/k.conf:1: warning: some config files missing: '{bar,nofile}.conf'"},
		},
		{
			name:  "includea: everything is an error",
			in:    "includea {nofile,none}.conf",
			diags: []string{"/etc/k/k.conf:1: error: config files missing '{nofile,none}.conf'"},
		},
		{
			name: "include_check applies to later includes and is restored after each file",
			in:   "include check/main.conf",
			lines: []string{
				"/etc/k/check/main.conf:1: include_check",
				"/etc/k/check/sub.conf:1: include_check -match",
			},
			diags: []string{
				"/etc/k/check/main.conf:2: error: config file missing 'missing.conf'",
				"/etc/k/check/main.conf:4: error: config file missing 'missing.conf'",
			},
		},
		{
			name:  "include loop",
			in:    "include loop.conf",
			diags: []string{"/etc/k/loop.conf:1: error: includes nested more than 32 deep (include loop?) - skipping 'loop.conf'"},
		},
		{
			name:  "include is recognised before substitution",
			in:    "$F=bar.conf\ninclude $F\n@main include bar.conf",
			diags: []string{"/etc/k/k.conf:2: warning: config file missing '$F'"},
			lines: []string{"/etc/k/k.conf:3: include bar.conf"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := files.options()
			opts.ConfigID = "main"
			lines, diags, _ := LoadString("/etc/k/k.conf", tc.in, opts)
			var gotL, gotD []string
			for _, l := range lines {
				gotL = append(gotL, l.String())
			}
			for _, d := range diags {
				gotD = append(gotD, d.String())
			}
			if !reflect.DeepEqual(gotL, tc.lines) {
				t.Errorf("lines: got %q\nwant %q", gotL, tc.lines)
			}
			if !reflect.DeepEqual(gotD, tc.diags) {
				t.Errorf("diags: got %q\nwant %q", gotD, tc.diags)
			}
		})
	}
}

// TestLoadRealFiles uses the real file system: relative includes, the
// absolute ${_PWD}, keepalived's refusal of executable files, and the
// top-level error.
func TestLoadRealFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("keepalived.conf", "global_defs {\n  router_id ${_INSTANCE}\n}\ninclude conf.d/*.conf\n", 0o644)
	write("conf.d/10-vrrp.conf", "vrrp_instance VI_1 {\n  notify \"${_PWD}/n.sh\"\n}\n", 0o644)
	write("conf.d/20-exec.conf", "should_not_appear\n", 0o755)
	if err := os.Mkdir(filepath.Join(dir, "conf.d/30-dir.conf"), 0o755); err != nil {
		t.Fatal(err)
	}

	lines, diags, err := Load(filepath.Join(dir, "keepalived.conf"), Options{ConfigID: "lb1"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		got = append(got, strings.TrimPrefix(l.String(), dir+"/"))
	}
	want := []string{
		"keepalived.conf:1: global_defs {",
		"keepalived.conf:2: router_id lb1",
		"keepalived.conf:3: }",
		"conf.d/10-vrrp.conf:1: vrrp_instance VI_1 {",
		`conf.d/10-vrrp.conf:2: notify "` + dir + `/conf.d/n.sh"`,
		"conf.d/10-vrrp.conf:3: }",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if len(diags) != 2 || diags[0].Severity != diag.Warning || !strings.Contains(diags[0].Message, "20-exec.conf' is not a regular non-executable file") ||
		!strings.Contains(diags[1].Message, "30-dir.conf' is a directory") {
		t.Errorf("diags: %v", diags)
	}

	if _, _, err := Load(filepath.Join(dir, "missing.conf"), Options{}); err == nil {
		t.Error("Load of a missing top-level file: want an error")
	}
}

func TestDefaultConfigIDIsHostname(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "k.conf")
	if err := os.WriteFile(p, []byte("x ${_INSTANCE}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lines, _, err := Load(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lines[0].Tokens[1].Text, hostID(); got != want || strings.Contains(got, ".") {
		t.Errorf("_INSTANCE = %q, want %q without a domain", got, want)
	}
}

func TestExpansionLimit(t *testing.T) {
	p := newPreproc(Options{})
	p.maxLines = 1000
	p.runFile("k.conf", ".", "~SEQ(A, 1, 1000000000000) ~SEQ(B, 1, 1000000000000)\n", 0)
	if !p.stopped || p.nout != 0 || len(p.diags) != 1 || !strings.Contains(p.diags[0].Message, "more than 1000 lines") {
		t.Errorf("stopped %v, %d lines, diags %v", p.stopped, p.nout, p.diags)
	}
}

func TestRandomIsSeeded(t *testing.T) {
	seed := int64(7)
	in := "~SEQ(I, 1, 20) r ${_RANDOM 0 1000000}\n"
	a, _, _ := LoadString("k.conf", in, Options{RandomSeed: &seed})
	b, _, _ := LoadString("k.conf", in, Options{RandomSeed: &seed})
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different ${_RANDOM} values")
	}
	seed2 := int64(8)
	c, _, _ := LoadString("k.conf", in, Options{RandomSeed: &seed2})
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds, same ${_RANDOM} values")
	}
}
