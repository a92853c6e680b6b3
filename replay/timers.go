package replay

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
)

// timerBook says what the timer keys of recorded effects stand for. A key
// is opaque outside the engine, so replay never parses one: the book
// follows the run with an engine, re-running each recorded event through
// the driver as verify does, and asks it (engine.Engine.Timer).
//
// A key is looked up just after the event that set or cancelled it, and
// failing that just before it: a reload cancels the timers of the
// instances it removes, which its new configuration no longer has.
//
// A run that begins in the middle of the journal without a snapshot
// before its first event cannot be re-run (nothing says what its
// configuration was): its keys stay unknown, and their effects are
// attributed to no instance.
type timerBook struct {
	eng  *engine.Engine
	keys map[string]engine.TimerInfo
}

// startRun readies the book for run r of j: an empty engine for a run
// that starts with its configuration, else the snapshot the run begins
// after.
func (b *timerBook) startRun(j *Journal, r Run) {
	b.eng = nil
	clear(b.keys)
	if r.Fresh {
		b.eng = engine.New()
		return
	}
	for _, s := range j.Snaps {
		if s.Seq+1 != r.First || s.File < r.FirstFile || s.File > r.LastFile {
			continue
		}
		if state, err := j.SnapshotState(s.File, s.Seq); err == nil {
			if eng, err := engine.RestoreState(state); err == nil {
				b.eng = eng
				return
			}
		}
	}
}

// step re-runs ev, whose recorded effects are effs, and learns what the
// timer keys of effs stand for.
func (b *timerBook) step(ev events.Event, effs []effects.Effect) {
	clear(b.keys)
	if b.eng == nil {
		return
	}
	b.learn(effs)
	rerun(b.eng, ev)
	b.learn(effs)
}

func (b *timerBook) learn(effs []effects.Effect) {
	for _, ef := range effs {
		var key string
		switch e := ef.(type) {
		case *effects.SetTimer:
			key = e.Key
		case *effects.CancelTimer:
			key = e.Key
		default:
			continue
		}
		if info, ok := b.eng.Timer(key); ok {
			if b.keys == nil {
				b.keys = map[string]engine.TimerInfo{}
			}
			b.keys[key] = info
		}
	}
}

// timer returns what key, one of the last step's timer keys, stands for.
func (b *timerBook) timer(key string) (engine.TimerInfo, bool) {
	info, ok := b.keys[key]
	return info, ok
}
