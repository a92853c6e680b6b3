package driver

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/internal/timerq"
)

// Timers is a virtual timer queue for drivers without a real clock (the
// simulator, what-if, the scenario tests). It keeps its timers in the
// same queue as the daemon's clock (internal/timerq), so they fire in the
// same order: by deadline, and timers with equal deadlines in the order
// they were set. Setting an armed key replaces it.
type Timers struct {
	q timerq.Queue
}

// Apply arms and cancels the timers of a step's effects, in order.
// Deadlines in the past are kept: the timer is due at once.
func (t *Timers) Apply(effs []effects.Effect) {
	for _, e := range effs {
		switch v := e.(type) {
		case *effects.SetTimer:
			t.Set(v.Key, v.At)
		case *effects.CancelTimer:
			t.Cancel(v.Key)
		}
	}
}

// Set arms key at at.
func (t *Timers) Set(key string, at events.Time) { t.q.Set(key, at) }

// Cancel disarms key.
func (t *Timers) Cancel(key string) { t.q.Cancel(key) }

// Next returns the earliest armed timer.
func (t *Timers) Next() (key string, at events.Time, ok bool) { return t.q.Next() }

// PopDue removes and returns the earliest timer if it is due at or
// before until.
func (t *Timers) PopDue(until events.Time) (*events.TimerFired, bool) {
	key, at, ok := t.q.PopDue(until)
	if !ok {
		return nil, false
	}
	return &events.TimerFired{Header: events.Header{At: at}, Key: key}, true
}

// Armed lists the armed timers in firing order.
func (t *Timers) Armed() []effects.SetTimer {
	keys, ats := t.q.Armed()
	out := make([]effects.SetTimer, len(keys))
	for k := range keys {
		out[k] = effects.SetTimer{Key: keys[k], At: ats[k]}
	}
	return out
}

// Len is the number of armed timers.
func (t *Timers) Len() int { return t.q.Len() }
