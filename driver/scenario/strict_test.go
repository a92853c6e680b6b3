package scenario

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestStrict runs testdata/strict.txt, whose directives are mistakes: the
// output of each is the error that fails a scenario, prefixed with the
// directive's file:line as Run reports it.
func TestStrict(t *testing.T) {
	h := New()
	datadriven.RunTest(t, "testdata/strict.txt", func(t *testing.T, d *datadriven.TestData) string {
		out, err := h.Exec(d)
		if err != nil {
			return fmt.Sprintf("error: %s: %v\n", d.Pos, err)
		}
		return out
	})
}

// fatalTB records the first Fatalf and stops the goroutine, as testing.T
// does.
type fatalTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

// runFails runs the directive line through Run with a recording TB and
// returns what it failed with ("" if it did not).
func runFails(t *testing.T, h *Harness, pos, line, input string) string {
	t.Helper()
	cmd, args, err := datadriven.ParseLine(line)
	if err != nil {
		t.Fatal(err)
	}
	d := &datadriven.TestData{Pos: pos, Cmd: cmd, CmdArgs: args, Input: input}
	tb := &fatalTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Run(tb, d)
	}()
	<-done
	return tb.msg
}

// TestTypoFails shows that a typo in a directive fails the test, at the
// directive's file:line, instead of silently meaning a default (here a
// priority of 0).
func TestTypoFails(t *testing.T) {
	h := New()
	if msg := runFails(t, h, "x.txt:1", "config", "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n virtual_ipaddress {\n  10.0.0.1/24\n }\n}\n"); msg != "" {
		t.Fatalf("config failed: %s", msg)
	}
	for _, c := range []struct{ line, want string }{
		{"advert from=10.0.0.2 prioo=150", `x.txt:7: advert: unknown argument "prioo" (allowed: from, prio, inst,`},
		{"advert from=10.0.0.2", "x.txt:7: advert: missing prio=N"},
		{"advert from=10.0.0.2 prio=15O", `x.txt:7: advert: prio: "15O" is not an integer in [0, 255]`},
		{"advert from=10.0.0.2 prio=256", `x.txt:7: advert: prio: "256" is not an integer in [0, 255]`},
		{"advert from=10.0.0.2 prio=150 only=(StateChange)", `x.txt:7: advert: only: "StateChange" is not an effect kind`},
		{"advance 3x", `x.txt:7: advance: DURATION: "3x" is not a duration >= 0`},
		{"link if=eth0 dwn", `x.txt:7: link: unknown argument "dwn"`},
		{"tick 1s", `x.txt:7: unknown command "tick"`},
	} {
		msg := runFails(t, h, "x.txt:7", c.line, "")
		if !strings.HasPrefix(msg, c.want) {
			t.Errorf("%s: failed with %q, want %q...", c.line, msg, c.want)
		}
	}
	if h.Now != 0 || len(h.Log) != 1 {
		t.Fatalf("a failed directive stepped the engine: now %s, %d events", h.Now, len(h.Log))
	}
}
