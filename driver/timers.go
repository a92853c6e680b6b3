package driver

import (
	"container/heap"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// Timers is a virtual timer queue for drivers without a real clock (the
// simulator, what-if, the scenario tests). Its order is the daemon
// clock's (adapters/clock): by deadline, and timers with equal deadlines
// in the order they were set. Setting an armed key replaces it.
type Timers struct {
	h   timerHeap
	by  map[string]*timer
	seq uint64
}

type timer struct {
	key   string
	at    events.Time
	seq   uint64
	index int
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
func (t *Timers) Set(key string, at events.Time) {
	if t.by == nil {
		t.by = map[string]*timer{}
	}
	t.seq++
	if x := t.by[key]; x != nil {
		x.at, x.seq = at, t.seq
		heap.Fix(&t.h, x.index)
		return
	}
	x := &timer{key: key, at: at, seq: t.seq}
	t.by[key] = x
	heap.Push(&t.h, x)
}

// Cancel disarms key.
func (t *Timers) Cancel(key string) {
	if x := t.by[key]; x != nil {
		heap.Remove(&t.h, x.index)
		delete(t.by, key)
	}
}

// Next returns the earliest armed timer.
func (t *Timers) Next() (key string, at events.Time, ok bool) {
	if len(t.h) == 0 {
		return "", 0, false
	}
	return t.h[0].key, t.h[0].at, true
}

// PopDue removes and returns the earliest timer if it is due at or
// before until.
func (t *Timers) PopDue(until events.Time) (*events.TimerFired, bool) {
	if len(t.h) == 0 || t.h[0].at > until {
		return nil, false
	}
	x := heap.Pop(&t.h).(*timer)
	delete(t.by, x.key)
	return &events.TimerFired{Header: events.Header{At: x.at}, Key: x.key}, true
}

// Armed lists the armed timers in firing order.
func (t *Timers) Armed() []effects.SetTimer {
	c := timerHeap(append([]*timer(nil), t.h...))
	out := make([]effects.SetTimer, 0, len(c))
	for len(c) > 0 {
		x := c[0]
		out = append(out, effects.SetTimer{Key: x.key, At: x.at})
		c.Swap(0, len(c)-1)
		c = c[:len(c)-1]
		if len(c) > 0 {
			heap.Fix(&c, 0)
		}
	}
	return out
}

// Len is the number of armed timers.
func (t *Timers) Len() int { return len(t.h) }

type timerHeap []*timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return t
}
