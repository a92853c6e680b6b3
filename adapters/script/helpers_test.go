package script

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events"
)

// hangBound bounds every wait in these tests; it only prevents a hang and is
// never what a test asserts.
const hangBound = 20 * time.Second

// openDir returns a fresh directory that any user can traverse (t.TempDir
// and its parent are 0700), so scripts can run as nobody.
func openDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// writeScript writes an executable file.
func writeScript(t *testing.T, dir, name, body string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // umask-proof
		t.Fatal(err)
	}
	return p
}

// waitFile waits for path to exist and returns its content.
func waitFile(t *testing.T, path string) []byte {
	t.Helper()
	deadline := time.Now().Add(hangBound)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil {
			return b
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", path)
	return nil
}

// waitLines waits until path holds at least n lines and returns them.
func waitLines(t *testing.T, path string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(hangBound)
	var lines []string
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(path)
		lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(b) > 0 && len(lines) >= n {
			return lines
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: want %d lines, have %q", path, n, lines)
	return nil
}

// nextResult receives one ScriptResult.
func nextResult(t *testing.T, ch <-chan events.Event) *events.ScriptResult {
	t.Helper()
	select {
	case ev := <-ch:
		r, ok := ev.(*events.ScriptResult)
		if !ok {
			t.Fatalf("got %T, want *events.ScriptResult", ev)
		}
		return r
	case <-time.After(hangBound):
		t.Fatal("no ScriptResult")
		return nil
	}
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid string) bool {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// waitDead waits for pid to be gone or a zombie.
func waitDead(t *testing.T, pid string) {
	t.Helper()
	deadline := time.Now().Add(hangBound)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %s still running", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch users and own files as root")
	}
}

// newExecutor builds an Executor closed at the end of the test.
func newExecutor(t *testing.T, opts Options) (*Executor, chan events.Event) {
	t.Helper()
	results := make(chan events.Event, 16)
	if opts.Results == nil {
		opts.Results = results
	}
	x, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x, results
}
