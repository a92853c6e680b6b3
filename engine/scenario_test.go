package engine_test

import (
	"testing"

	"github.com/vigil-ha/vigil/driver/scenario"
)

// TestScenarios runs every scenario file under testdata (the rules of
// VRRP, as keepalived behaves) through the scenario harness, then checks
// determinism on the events each produced: two fresh engines agree byte
// for byte, and an engine restored from a snapshot taken midway
// continues identically.
func TestScenarios(t *testing.T) {
	scenario.Walk(t, "testdata")
}
