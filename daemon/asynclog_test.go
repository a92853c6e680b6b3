package daemon

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
)

// blockingOut blocks every write until released, like a stalled console.
type blockingOut struct {
	mu      sync.Mutex
	release chan struct{}
	lines   []string
	levels  []zerolog.Level
}

func (b *blockingOut) Write(p []byte) (int, error) { return b.WriteLevel(zerolog.NoLevel, p) }
func (b *blockingOut) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	<-b.release
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, string(p))
	b.levels = append(b.levels, l)
	return len(p), nil
}

// A stalled output never blocks the writer: lines beyond the buffer are
// dropped and counted, and a note reports the count once output resumes.
func TestAsyncWriterDropsInsteadOfBlocking(t *testing.T) {
	out := &blockingOut{release: make(chan struct{})}
	w := NewAsyncWriter(out, 4, nil)
	for k := 0; k < 100; k++ {
		w.WriteLevel(zerolog.InfoLevel, []byte("line\n")) // returns although out is stalled
	}
	// One line may be held by the goroutine, 4 queued: the rest dropped.
	if d := w.Dropped(); d < 95 || d > 96 {
		t.Fatalf("dropped %d, want 95 or 96", d)
	}
	close(out.release)
	w.Close()
	// The drops may be reported in more than one note (the writer counts
	// what was dropped when it checks, and writes may still be arriving):
	// together the notes account for every dropped line.
	var reported uint64
	for _, l := range out.lines {
		if strings.Contains(l, "log lines dropped") {
			var n struct {
				Dropped uint64 `json:"dropped"`
			}
			if err := json.Unmarshal([]byte(l), &n); err != nil || n.Dropped == 0 {
				t.Errorf("note %q lacks the count (%v)", l, err)
			}
			reported += n.Dropped
		}
	}
	if reported != w.Dropped() {
		t.Errorf("notes report %d dropped lines, the writer dropped %d: %q", reported, w.Dropped(), out.lines)
	}
}

// The writer copies lines (zerolog reuses its buffer) and keeps levels.
func TestAsyncWriterCopiesAndKeepsLevel(t *testing.T) {
	out := &blockingOut{release: make(chan struct{})}
	close(out.release)
	w := NewAsyncWriter(out, 16, nil)
	buf := []byte("first\n")
	w.WriteLevel(zerolog.WarnLevel, buf)
	copy(buf, "XXXXX")
	w.Close()
	if len(out.lines) != 1 || out.lines[0] != "first\n" || out.levels[0] != zerolog.WarnLevel {
		t.Fatalf("got %q %v", out.lines, out.levels)
	}
	w.WriteLevel(zerolog.InfoLevel, []byte("late\n")) // after Close: dropped, no panic
}

func TestLoggingConsoleText(t *testing.T) {
	var buf bytes.Buffer
	lg, err := NewLogging(LogOptions{Console: true, NoSyslog: true, Stderr: &buf})
	if err != nil {
		t.Fatal(err)
	}
	lg.Logger.Info().Msg("(VI_1) Entering MASTER STATE")
	lg.Logger.Debug().Msg("hidden without -D")
	lg.Close()
	if !strings.Contains(buf.String(), "INF (VI_1) Entering MASTER STATE") || strings.Contains(buf.String(), "hidden") {
		t.Fatalf("console output %q", buf.String())
	}
}

func TestParseFacility(t *testing.T) {
	for _, ok := range []string{"", "daemon", "user", "0", "7", "local0", "local7"} {
		if _, err := ParseFacility(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"8", "local8", "kern", "-1", "local"} {
		if _, err := ParseFacility(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
