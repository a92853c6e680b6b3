package lvs

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine/internal/effpool"
	"github.com/vigil-ha/vigil/events"
)

// outbox collects the effects of one Step. notes holds the Notify effects,
// appended after the table changes.
type outbox struct {
	list    []effects.Effect
	notes   []effects.Effect
	sets    effpool.Pool[effects.SetTimer]
	cancels effpool.Pool[effects.CancelTimer]
	runs    effpool.Pool[effects.RunCheck]
	states  effpool.Pool[effects.CheckStateChanged]
	ipvs    effpool.Pool[effects.SetIPVS]
	counts  effpool.Pool[effects.Count]
}

func (o *outbox) reset() {
	clear(o.list)
	o.list = o.list[:0]
	clear(o.notes)
	o.notes = o.notes[:0]
	o.sets.Reset()
	o.cancels.Reset()
	o.runs.Reset()
	o.states.Reset()
	o.ipvs.Reset()
	o.counts.Reset()
}

func (o *outbox) add(e effects.Effect) { o.list = append(o.list, e) }

func (o *outbox) setTimer(key string, at events.Time) {
	s := o.sets.Get()
	s.Key, s.At = key, at
	o.add(s)
}

func (o *outbox) cancelTimer(key string) {
	c := o.cancels.Get()
	c.Key = key
	o.add(c)
}

func (o *outbox) log(level effects.LogLevel, vs, msg string) {
	o.add(&effects.Log{Level: level, Instance: vs, Message: msg})
}

func (o *outbox) count(vs string, counter effects.Counter) {
	c := o.counts.Get()
	c.Instance, c.Counter, c.Delta = vs, counter, 1
	o.add(c)
}
