package harness

import (
	"os"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/sim"
)

func TestTraceTmp(t *testing.T) {
	b, v, err := sim.SwarmTrace(Backend(), 114, time.Minute)
	t.Log(v, err)
	os.WriteFile("/tmp/trace114.txt", b, 0o644)
}
