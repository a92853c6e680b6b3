package daemon

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// threadCount is the process's number of OS threads (/proc/self/status).
func threadCount(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	t.Skip("no Threads line")
	return 0
}

// TestWarmThreads: after warmThreads(n) the process has at least n more
// threads than the runtime's own, kept for later blocking calls.
func TestWarmThreads(t *testing.T) {
	before := threadCount(t)
	warmThreads(16)
	if after := threadCount(t); after < 16 {
		t.Errorf("%d threads after warmThreads(16) (%d before)", after, before)
	}
}
