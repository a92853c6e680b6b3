package track

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// hangBound bounds every wait; it only prevents a hang.
const hangBound = 20 * time.Second

func TestParseValue(t *testing.T) {
	for _, c := range []struct {
		in  string
		v   int64
		ok  bool
		bad bool // out of range: keepalived ignores the read
	}{
		{"5\n", 5, true, false},
		{"  \t-3 trailing", -3, true, false},
		{"+7", 7, true, false},
		{"12abc", 12, true, false},
		{"0x1F", 31, true, false},
		{"010", 8, true, false}, // strtol base 0: octal
		{"08", 0, true, false},  // stops at the 8
		{"0x", 0, true, false},  // "0", then stops at the x
		{"2147483648", 2147483648, true, false},
		{"-2147483648", -2147483648, true, false},
		{"2147483649", 0, true, true},
		{"-2147483649", 0, true, true},
		{"99999999999999999999999", 0, true, true},
		{"abc", 0, false, false},
		{"", 0, false, false},
		{"-", 0, false, false},
	} {
		v, ok, err := parseValue([]byte(c.in))
		if v != c.v || ok != c.ok || (err != nil) != c.bad {
			t.Errorf("parseValue(%q) = %d, %v, %v; want %d, %v, bad=%v", c.in, v, ok, err, c.v, c.ok, c.bad)
		}
	}
}

// fileEvents collects TrackFileValue events by file name.
type fileEvents struct {
	t  *testing.T
	ch chan events.Event
}

// next returns the next event, which must be for name.
func (fe fileEvents) next(name string) *events.TrackFileValue {
	fe.t.Helper()
	select {
	case ev := <-fe.ch:
		v, ok := ev.(*events.TrackFileValue)
		if !ok || v.File != name {
			fe.t.Fatalf("got %#v, want a TrackFileValue for %s", ev, name)
		}
		return v
	case <-time.After(hangBound):
		fe.t.Fatalf("no event for %s", name)
		return nil
	}
}

func (fe fileEvents) expect(name string, value int64, failed bool) {
	fe.t.Helper()
	if v := fe.next(name); v.Value != value || v.Failed != failed {
		fe.t.Fatalf("%s: value %d failed %v, want %d failed %v", name, v.Value, v.Failed, value, failed)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// replaceFile renames a new file over path.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".new")
	writeFile(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestFileWatcher(t *testing.T) {
	dir := t.TempDir()
	prio := filepath.Join(dir, "prio")
	writeFile(t, prio, "10\n")
	existing := filepath.Join(dir, "existing")
	writeFile(t, existing, "9\n")
	overwritten := filepath.Join(dir, "overwritten")
	writeFile(t, overwritten, "9\n")
	// A symlinked directory is resolved, as keepalived does.
	if err := os.Symlink(dir, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	files := []conf.TrackFile{
		{Name: "prio", File: prio},
		{Name: "missing", File: filepath.Join(dir, "link", "missing")},
		{Name: "init", File: filepath.Join(dir, "init"), InitFile: true, InitValue: -7},
		{Name: "existing", File: existing, InitFile: true, InitValue: 3},
		{Name: "overwritten", File: overwritten, InitFile: true, InitValue: 3, InitOverwrite: true},
	}
	ch := make(chan events.Event)
	now := events.Time(5)
	w, err := WatchFiles(FileOptions{Files: files, Out: ch, Now: func() events.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	fe := fileEvents{t, ch}

	if v := fe.next("prio"); v.Value != 10 || v.Failed || v.At != 5 {
		t.Fatalf("initial prio = %+v", v)
	}
	fe.expect("missing", 0, true)
	fe.expect("init", -7, false)
	fe.expect("existing", 9, false)
	fe.expect("overwritten", 3, false)
	for path, want := range map[string]string{filepath.Join(dir, "init"): "-7\n", existing: "9\n", overwritten: "3\n"} {
		if b, _ := os.ReadFile(path); string(b) != want {
			t.Errorf("%s holds %q, want %q", path, b, want)
		}
	}

	writeFile(t, prio, "20\n") // truncate, write, close: one read after close
	fe.expect("prio", 20, false)
	writeFile(t, prio, "20\n") // same value: nothing to report...
	// ...so the next event is this one. (Replaced atomically: a plain
	// rewrite could be truncated under the read the previous close
	// triggered — keepalived, reading on the same events, has that race.)
	replaceFile(t, prio, "0x15")
	fe.expect("prio", 21, false)

	replaceFile(t, prio, "-4\n")
	fe.expect("prio", -4, false)

	if err := os.Remove(prio); err != nil {
		t.Fatal(err)
	}
	fe.expect("prio", 0, true)

	writeFile(t, filepath.Join(dir, "missing"), "garbage") // no number: reads as 0
	writeFile(t, filepath.Join(dir, "missing"), "99999999999")
	writeFile(t, filepath.Join(dir, "missing"), "12")
	// "garbage" is (0, failed) as before; the out-of-range number is
	// ignored; so the next event is 12.
	fe.expect("missing", 12, false)

	writeFile(t, prio, "1")
	fe.expect("prio", 1, false)

	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFileWatcherMissingDirectory(t *testing.T) {
	dir := t.TempDir()
	ch := make(chan events.Event, 4)
	w, err := WatchFiles(FileOptions{Out: ch, Files: []conf.TrackFile{
		{Name: "gone", File: filepath.Join(dir, "nodir", "f")},
		{Name: "ok", File: filepath.Join(dir, "f")},
	}})
	if err == nil {
		t.Fatal("want an error for a file in a missing directory")
	}
	defer w.Close()
	fe := fileEvents{t, ch}
	fe.expect("ok", 0, true)
	writeFile(t, filepath.Join(dir, "f"), "3")
	fe.expect("ok", 3, false)
}

func TestInitFileRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	err := initFile(conf.TrackFile{Name: "d", File: dir, InitFile: true, InitOverwrite: true})
	if err == nil {
		t.Fatal("overwriting a directory must fail")
	}
	if st, err2 := os.Stat(dir); err2 != nil || !st.IsDir() {
		t.Fatalf("directory damaged: %v", errors.Join(err, err2))
	}
}
