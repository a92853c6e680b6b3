package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/config/kwexample"
)

// TestCheckReportsUnimplementedKeywords: for every keyword the keyword
// table says vigil does not (fully) implement, `vigil check` prints a
// warning with FILE:LINE:COL, the keyword and the table's message and
// exits as keepalived -t would (0 unless the example has other
// problems); with --strict the warning is an error and the exit status 5.
func TestCheckReportsUnimplementedKeywords(t *testing.T) {
	dir := t.TempDir()
	for i, k := range kwexample.Reported() {
		text, line := kwexample.Example(k)
		p := filepath.Join(dir, fmt.Sprintf("k%d.conf", i))
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		prefix := fmt.Sprintf("%s:%d:", p, line)
		report := ": " + k.Name + ": " + k.Diagnostic() + "\n"
		var out, errb bytes.Buffer
		// keepalived -t accepts the keyword: the status is what the
		// example's other diagnostics make it (5 when there are any).
		code := realMain([]string{"check", "-f", p}, &out, &errb)
		want := exitOK
		if strings.Count(errb.String(), "\n") > strings.Count(errb.String(), ": not implemented: ") {
			want = exitConfig
		}
		if code != want {
			t.Errorf("%s/%s: exit %d, want %d; stderr:\n%s", k.Block, k.Name, code, want, errb.String())
			continue
		}
		if !hasReport(errb.String(), prefix, "warning"+report) {
			t.Errorf("%s/%s: no warning %q at %s; stderr:\n%s", k.Block, k.Name, report, prefix, errb.String())
		}
		out.Reset()
		errb.Reset()
		if code := realMain([]string{"check", "-f", p, "--strict"}, &out, &errb); code != exitConfig {
			t.Errorf("%s/%s: --strict: exit %d, want 5", k.Block, k.Name, code)
		}
		if !hasReport(errb.String(), prefix, "error"+report) {
			t.Errorf("%s/%s: --strict: no error %q at %s; stderr:\n%s", k.Block, k.Name, report, prefix, errb.String())
		}
	}
}

// hasReport finds a line "PREFIX COL: TAIL", COL a column number (TAIL
// ends with the newline).
func hasReport(stderr, prefix, tail string) bool {
	for _, l := range strings.SplitAfter(stderr, "\n") {
		rest, ok := strings.CutPrefix(l, prefix)
		if !ok {
			continue
		}
		if col, after, ok := strings.Cut(rest, ": "); ok && col != "" && strings.Trim(col, "0123456789") == "" && after == tail {
			return true
		}
	}
	return false
}
