package harness

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/sim"
)

// deafEngine is the real engine with its BFD detection timers swallowed:
// a broken engine whose sessions never time out.
type deafEngine struct{ realEngine }

func (d deafEngine) Step(ev events.Event) []effects.Effect {
	if t, ok := ev.(*events.TimerFired); ok && strings.HasPrefix(t.Key, "bfd/") && strings.HasSuffix(t.Key, "/detect") {
		return nil
	}
	return d.realEngine.Step(ev)
}

// TestBFDDetectInvariantCatchesAMissedDetection runs bfd_fault.scn on an
// engine that never lets a detection time run out: the bfd-detect
// invariant must report a's session still Up after its detection time,
// and the scenario's expectations must fail.
func TestBFDDetectInvariantCatchesAMissedDetection(t *testing.T) {
	s, err := sim.ParseFile("../../testdata/sim/bfd_fault.scn")
	if err != nil {
		t.Fatal(err)
	}
	b := Backend()
	b.NewEngine = func() sim.Engine { return deafEngine{realEngine{engine.New()}} }
	var out bytes.Buffer
	res, err := sim.RunScenario(s, b, 1, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed == 0 || !strings.Contains(out.String(), "VIOLATION bfd-detect: a bfd to_b is still Up") {
		t.Fatalf("no bfd-detect violation (%d failed):\n%s", res.Failed, out.String())
	}
}
