package lab

import (
	"testing"
	"time"
)

// WaitFor polls cond every 20 ms until it holds or timeout passes, and
// reports how long it took. End-to-end tests use generous deadlines: they
// check that a state appears, not how fast.
func WaitFor(timeout time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// MustWait is WaitFor failing the test with what when the deadline passes.
func MustWait(t testing.TB, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	d, ok := WaitFor(timeout, cond)
	if !ok {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
	return d
}
