package harness

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/sim"
)

// threeNodes is the speed reference: three nodes, one VRRPv2 instance each
// at advert_int 1, one simulated hour.
func threeNodes(b testing.TB) *sim.Runner {
	b.Helper()
	text := sim.Demo[:strings.Index(sim.Demo, "echo ")] + "start a b c\n"
	s, err := sim.Parse("speed.scn", ".", text)
	if err != nil {
		b.Fatal(err)
	}
	r := sim.NewRunner(s, Backend(), 1, nil)
	for _, c := range s.Cmds {
		if err := r.Exec(c); err != nil {
			b.Fatal(err)
		}
	}
	return r
}

// TestSpeed prints simulated seconds per wall second for the reference
// cluster (goal: at least 10,000).
func TestSpeed(t *testing.T) {
	r := threeNodes(t)
	start := time.Now()
	r.W.Run(time.Hour)
	wall := time.Since(start)
	t.Logf("3 nodes, 1 instance each, advert_int 1: 1 h simulated in %s = %.0f simulated seconds per wall second",
		wall.Round(time.Millisecond), time.Hour.Seconds()/wall.Seconds())
	if vs := r.W.Violations(); len(vs) > 0 {
		t.Fatalf("violations: %v", vs)
	}
}

// BenchmarkThreeNodesMinute measures one simulated minute of the
// reference cluster.
func BenchmarkThreeNodesMinute(b *testing.B) {
	r := threeNodes(b)
	b.ResetTimer()
	for range b.N {
		r.W.Run(time.Minute)
	}
}
