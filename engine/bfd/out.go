package bfd

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine/internal/effpool"
	"github.com/vigil-ha/vigil/events"
)

// outbox collects the effects of one step, from pools reused step after
// step (a session's steady state allocates nothing).
type outbox struct {
	list    []effects.Effect
	sends   effpool.Pool[effects.SendBFD]
	sets    effpool.Pool[effects.SetTimer]
	cancels effpool.Pool[effects.CancelTimer]
	changes effpool.Pool[effects.BFDStateChanged]
	logs    effpool.Pool[effects.Log]
	counts  effpool.Pool[effects.Count]
}

func (o *outbox) reset() {
	clear(o.list)
	o.list = o.list[:0]
	o.sends.Reset()
	o.sets.Reset()
	o.cancels.Reset()
	o.changes.Reset()
	o.logs.Reset()
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

func (o *outbox) log(level effects.LogLevel, msg string) {
	l := o.logs.Get()
	l.Level, l.Message = level, msg
	o.add(l)
}

func (o *outbox) count(name string, c effects.Counter) {
	x := o.counts.Get()
	x.Instance, x.Counter, x.Delta = name, c, 1
	o.add(x)
}
