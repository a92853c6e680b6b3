package lvs_test

import (
	"testing"

	"github.com/vigil-ha/vigil/driver/scenario"
)

// TestScenarios runs every scenario file under testdata (the rules of
// virtual and real servers, health checks and the IPVS table) through
// the scenario harness and *engine.Engine, with its strict IPVS model and
// its checker answers, then checks determinism on the events each
// produced.
func TestScenarios(t *testing.T) {
	scenario.Walk(t, "testdata")
}
