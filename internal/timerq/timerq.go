// Package timerq is the one timer queue of vigil: armed timers by key,
// served by deadline, and timers with equal deadlines in the order they
// were set. The daemon's real clock (adapters/clock) and the drivers'
// virtual timers (driver.Timers) both keep their timers in it, so the
// order is the same by construction. It is not safe for concurrent use.
package timerq

import (
	"container/heap"

	"github.com/vigil-ha/vigil/events"
)

// Queue is a set of armed timers. The zero value is empty and ready.
type Queue struct {
	h     entries
	byKey map[string]*entry
	seq   uint64
}

type entry struct {
	key   string
	at    events.Time
	seq   uint64 // set order, to break deadline ties
	index int    // position in the heap
}

// Set arms key at at, replacing any timer armed under key (which then
// counts as set now for ties).
func (q *Queue) Set(key string, at events.Time) {
	if q.byKey == nil {
		q.byKey = map[string]*entry{}
	}
	q.seq++
	if e := q.byKey[key]; e != nil {
		e.at, e.seq = at, q.seq
		heap.Fix(&q.h, e.index)
		return
	}
	e := &entry{key: key, at: at, seq: q.seq}
	q.byKey[key] = e
	heap.Push(&q.h, e)
}

// Cancel disarms key; cancelling an unarmed key does nothing.
func (q *Queue) Cancel(key string) {
	if e := q.byKey[key]; e != nil {
		heap.Remove(&q.h, e.index)
		delete(q.byKey, key)
	}
}

// Next returns the timer that fires first.
func (q *Queue) Next() (key string, at events.Time, ok bool) {
	if len(q.h) == 0 {
		return "", 0, false
	}
	return q.h[0].key, q.h[0].at, true
}

// PopDue removes and returns the timer that fires first if its deadline is
// at or before until.
func (q *Queue) PopDue(until events.Time) (key string, at events.Time, ok bool) {
	if len(q.h) == 0 || q.h[0].at > until {
		return "", 0, false
	}
	e := heap.Pop(&q.h).(*entry)
	delete(q.byKey, e.key)
	return e.key, e.at, true
}

// Len is the number of armed timers.
func (q *Queue) Len() int { return len(q.h) }

// Armed lists the armed timers in firing order.
func (q *Queue) Armed() (keys []string, ats []events.Time) {
	// A copy of the entries: popping moves their heap indexes.
	c := Queue{h: make(entries, len(q.h))}
	for k, e := range q.h {
		cp := *e
		c.h[k] = &cp
	}
	for len(c.h) > 0 {
		e := heap.Pop(&c.h).(*entry)
		keys, ats = append(keys, e.key), append(ats, e.at)
	}
	return keys, ats
}

// entries orders by deadline, then set order.
type entries []*entry

func (h entries) Len() int { return len(h) }
func (h entries) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h entries) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *entries) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *entries) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
