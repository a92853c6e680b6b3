package sim

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"
)

// preBFDScenarios are the SHA-256 digests of swarm seeds' scenarios (10
// simulated minutes) as the generator wrote them before the swarm had
// BFD. Seeds 1 and 6 now get BFD: their digests are of the scenario
// without it.
var preBFDScenarios = map[uint64]string{
	1:   "6ad6c6ff9d352e8c11ffd90e533761859607cdbd86a899baf840d08e275b83ce",
	2:   "6a1e163aeb094898f75b40e3d42ae932e7fd79cebfde27ad880fc7f2a43c81e7",
	3:   "11a9bb0c5c8639d3cda994dc327b5a4406701c247e1945704a6fb687ae7f8672",
	4:   "f0ec4e3c61b7efb85470eecb83ea3a208728bd915329dfc0cda9cc176154ad90",
	5:   "40b7a76cf6b15635120320589abbd3637d86704627af2e1ea587434954d6fc6a",
	6:   "64a5c4e4baf2fb8c29c0707007c9d023be97ca07dec3751eef7219e758aecd09",
	114: "34892f289b960ecf8e88b994fc88a7121dd7fd93c1f0e3b55b6b9247284c79ed",
}

// TestSwarmBFDKeepsOldSchedules checks that BFD, drawn from a stream of
// its own, leaves every seed's VRRP cluster and fault schedule as they
// were: a seed without BFD generates the very same scenario, and a seed
// with BFD is that scenario plus its sessions and path breaks.
func TestSwarmBFDKeepsOldSchedules(t *testing.T) {
	const d = 10 * time.Minute
	withBFD := 0
	for seed, want := range preBFDScenarios {
		sc, err := newSwarmCase(seed, d)
		if err != nil {
			t.Fatal(err)
		}
		if sc.cluster.bfd != nil {
			withBFD++
			text := scenarioText(seed, sc.cluster, sc.faults, d)
			if !strings.Contains(text, "bfd_instance") || !strings.Contains(text, "\ndrop ") {
				t.Errorf("seed %d: BFD drawn, but its scenario has no session or no path break", seed)
			}
			sc.cluster.bfd = nil
			var kept []fault
			for _, f := range sc.faults {
				if !strings.HasPrefix(f.cmd, "drop ") {
					kept = append(kept, f)
				}
			}
			sc.faults = kept
		}
		got := fmt.Sprintf("%x", sha256.Sum256([]byte(scenarioText(seed, sc.cluster, sc.faults, d))))
		if got != want {
			t.Errorf("seed %d: scenario digest %s, want %s (the pre-BFD schedule changed)", seed, got, want)
		}
	}
	if withBFD == 0 {
		t.Error("no seed drew BFD: the test checks nothing of it")
	}
}
