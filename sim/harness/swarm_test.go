package harness

import (
	"bytes"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/sim"
)

// knownEngineFailures are seeds that fail because of engine bugs recorded
// in sim/FINDINGS.md, with the invariant they break. They are reported, not
// failed; when one passes, the finding is fixed and the entry can go.
var knownEngineFailures = map[uint64]string{}

// TestSwarm runs the bounded swarm: 200 seeds of 10 simulated minutes.
// SWARM_SEEDS, SWARM_MINUTES and SWARM_FIRST override (`make swarm`).
func TestSwarm(t *testing.T) {
	seeds, minutes := envInt("SWARM_SEEDS", 200), envInt("SWARM_MINUTES", 10)
	if testing.Short() {
		seeds = 20
	}
	var out bytes.Buffer
	res, err := sim.Swarm(Backend(), sim.SwarmOptions{Seeds: seeds, First: uint64(envInt("SWARM_FIRST", 1)),
		Duration: time.Duration(minutes) * time.Minute, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d seeds x %d min in %s: %d engine steps, %.0f simulated seconds per wall second",
		res.Seeds, minutes, res.Wall.Round(time.Millisecond), res.Events, res.Speed())
	failed := map[uint64]bool{}
	for i, seed := range res.Failed {
		failed[seed] = true
		if rule, ok := knownEngineFailures[seed]; ok && rule == res.Violations[i].Rule {
			t.Logf("seed %d: known engine failure (sim/FINDINGS.md): %s", seed, res.Violations[i])
			continue
		}
		t.Errorf("seed %d: %s", seed, res.Violations[i])
	}
	first := uint64(envInt("SWARM_FIRST", 1))
	for seed := range knownEngineFailures {
		if seed >= first && seed < first+uint64(res.Seeds) && !failed[seed] {
			t.Logf("seed %d passes now: its finding looks fixed; drop it from knownEngineFailures", seed)
		}
	}
	if t.Failed() {
		t.Logf("swarm output:\n%s", out.String())
	}
}

// TestSwarmRegressions runs, for their full simulated hour, seeds that
// once failed: an invariant was wrong (1074, 1686, 1742, 2821, 2990) or
// the engine let a second rival's advert pass (3375, 3470); see
// sim/FINDINGS.md, sections 2 and 2b.
func TestSwarmRegressions(t *testing.T) {
	for _, seed := range []uint64{1074, 1686, 1742, 2821, 2990, 3375, 3470} {
		res, err := sim.Swarm(Backend(), sim.SwarmOptions{Seeds: 1, First: seed, Duration: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range res.Violations {
			t.Errorf("seed %d: %s", seed, v)
		}
	}
}

// TestSwarmDeterministic checks that a seed always produces the same
// trace, byte for byte.
func TestSwarmDeterministic(t *testing.T) {
	for _, seed := range []uint64{3, 7, 114} {
		one, v1, err := sim.SwarmTrace(Backend(), seed, 3*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		two, v2, err := sim.SwarmTrace(Backend(), seed, 3*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(one, two) || (v1 == nil) != (v2 == nil) {
			t.Fatalf("seed %d: two runs differ (%d vs %d bytes)", seed, len(one), len(two))
		}
		if len(one) < 10000 {
			t.Fatalf("seed %d: trace suspiciously short (%d bytes)", seed, len(one))
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}
