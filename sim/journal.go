package sim

import (
	"fmt"
	"io"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// Recorder observes every node's engine: `vigil sim --journal` uses one
// to write a journal per node, as the daemon would have written it.
//
// Calls come from the simulation's single goroutine, in the order the
// engines see their events.
type Recorder interface {
	// Started is called when node boots a new engine (start or restart),
	// before its first event. eng is the new engine.
	Started(node string, at events.Time, eng Engine) error
	// Stepped is called after each event the node's engine consumed, with
	// the effects it produced; they are valid only during the call.
	Stepped(node string, ev events.Event, effs []effects.Effect)
	// Halted is called when the node's engine goes away: a graceful stop
	// (after its Stop event) or a crash.
	Halted(node string, at events.Time)
}

// SetRecorder installs rec (nil: none). Set it before the first start.
func (w *World) SetRecorder(rec Recorder) { w.rec = rec }

// RunScenarioRecorded is RunScenario with rec observing every node's
// engine.
func RunScenarioRecorded(s *Scenario, b Backend, seed uint64, out io.Writer, rec Recorder) (Result, error) {
	r := NewRunner(s, b, seed, out)
	r.W.SetRecorder(rec)
	for _, c := range s.Cmds {
		if err := r.Exec(c); err != nil {
			return r.res, fmt.Errorf("%s:%d: %s: %w", s.Name, c.Line, c.Verb, err)
		}
	}
	return r.res, nil
}
