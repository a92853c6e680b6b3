package lvs

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// pool hands out reusable effect values (see engine/vrrp's pool): what is
// taken since the last reset belongs to the current Step's effects.
type pool[T any] struct {
	items []*T
	n     int
}

func (p *pool[T]) get() *T {
	var zero T
	if p.n < len(p.items) {
		v := p.items[p.n]
		p.n++
		*v = zero
		return v
	}
	v := new(T)
	p.items = append(p.items, v)
	p.n++
	return v
}

// out collects the effects of one Step. notes holds the Notify effects,
// appended after the table changes.
type out struct {
	list    []effects.Effect
	notes   []effects.Effect
	sets    pool[effects.SetTimer]
	cancels pool[effects.CancelTimer]
	runs    pool[effects.RunCheck]
	states  pool[effects.CheckStateChanged]
	ipvs    pool[effects.SetIPVS]
	counts  pool[effects.Count]
}

func (o *out) reset() {
	clear(o.list)
	o.list = o.list[:0]
	clear(o.notes)
	o.notes = o.notes[:0]
	o.sets.n, o.cancels.n, o.runs.n, o.states.n, o.ipvs.n, o.counts.n = 0, 0, 0, 0, 0, 0
}

func (o *out) add(e effects.Effect) { o.list = append(o.list, e) }

func (o *out) setTimer(key string, at events.Time) {
	s := o.sets.get()
	s.Key, s.At = key, at
	o.add(s)
}

func (o *out) cancelTimer(key string) {
	c := o.cancels.get()
	c.Key = key
	o.add(c)
}

func (o *out) log(level, vs, msg string) {
	o.add(&effects.Log{Level: level, Instance: vs, Message: msg})
}

func (o *out) count(vs, counter string) {
	c := o.counts.get()
	c.Instance, c.Counter, c.Delta = vs, counter, 1
	o.add(c)
}

// Counter names (Count effects, Instance is the virtual server ID or
// "lvs").
const (
	// CountUnknownResult: a CheckResult for no configured checker.
	CountUnknownResult = "check_result_unknown"
	// CountStaleResult: a CheckResult that answers no outstanding RunCheck.
	CountStaleResult = "check_result_stale"
	// CountCheckTimeout: a RunCheck that got no CheckResult in time.
	CountCheckTimeout = "check_no_result"
)
