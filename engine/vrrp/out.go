package vrrp

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine/internal/effpool"
	"github.com/vigil-ha/vigil/events"
)

// outbox collects the effects of one Step.
type outbox struct {
	list     []effects.Effect
	adverts  effpool.Pool[effects.SendAdvert]
	counts   effpool.Pool[effects.Count]
	sets     effpool.Pool[effects.SetTimer]
	cancels  effpool.Pool[effects.CancelTimer]
	garps    effpool.Pool[effects.SendGARP]
	nas      effpool.Pool[effects.SendNA]
	changes  effpool.Pool[effects.StateChanged]
	addAddrs effpool.Pool[effects.AddAddress]
	delAddrs effpool.Pool[effects.DelAddress]
	logs     effpool.Pool[effects.Log]
	runs     effpool.Pool[effects.RunScript]
}

func (o *outbox) reset() {
	clear(o.list) // drop references so old effects do not pin memory
	o.list = o.list[:0]
	o.adverts.Reset()
	o.counts.Reset()
	o.sets.Reset()
	o.cancels.Reset()
	o.garps.Reset()
	o.nas.Reset()
	o.changes.Reset()
	o.addAddrs.Reset()
	o.delAddrs.Reset()
	o.logs.Reset()
	o.runs.Reset()
}

func (o *outbox) add(e effects.Effect) { o.list = append(o.list, e) }

func (o *outbox) count(inst string, counter effects.Counter) { o.countN(inst, counter, 1) }

func (o *outbox) countN(inst string, counter effects.Counter, n int) {
	c := o.counts.Get()
	c.Instance, c.Counter, c.Delta = inst, counter, n
	o.add(c)
}

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

func (o *outbox) log(level effects.LogLevel, inst, msg string) {
	l := o.logs.Get()
	l.Level, l.Instance, l.Message = level, inst, msg
	o.add(l)
}
