package replay

import (
	"github.com/vigil-ha/vigil/driver"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/explain"
)

// effectInstance returns the instance an effect concerns ("" if none);
// timers says what the step's timer keys stand for.
func effectInstance(ef effects.Effect, timers *timerBook) string {
	return explain.EffectInstance(ef, timers.timer)
}

func upWord(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

// rerun steps a recorded event through the driver, at its recorded time:
// the way every re-run of a journal (verify, at, explain) steps the
// engine.
func rerun(eng *engine.Engine, ev events.Event) []effects.Effect {
	d := driver.Driver{Engine: eng}
	return d.Step(ev, ev.EventTime())
}
