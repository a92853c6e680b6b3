// Package clock is the real-time implementation of vigil's timer contract:
// the engine asks for timers with effects.SetTimer and effects.CancelTimer,
// and learns of their expiry through events.TimerFired. The simulator
// implements the same contract on virtual time.
//
// All armed timers live in one heap ordered by deadline, served by a single
// time.Timer and one goroutine, so tens of thousands of timers cost a heap
// entry each, not a goroutine or runtime timer each.
package clock

import (
	"container/heap"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// ErrUnsupported is returned (wrapped) by Apply for effects other than
// SetTimer and CancelTimer.
var ErrUnsupported = errors.New("effect not handled by the clock")

// DefaultBuffer is the capacity of the fired-timer channel.
const DefaultBuffer = 1024

// Clock runs real timers.
//
// Ordering: timers fire in deadline order, and timers with equal deadlines
// in the order they were set. Setting a key that is armed replaces it.
// Cancelling a key means no fire for it is delivered afterwards, except one
// already taken off the heap and on its way to the channel when Cancel (or
// a replacing Set) ran. The engine discards such stale fires: it ignores a
// TimerFired whose key is not armed in its state or whose At is before the
// key's current deadline.
type Clock struct {
	origin time.Time
	out    chan *events.TimerFired
	done   chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	h       timerHeap
	byKey   map[string]*entry
	seq     uint64
	timer   *time.Timer
	armedAt events.Time // the deadline timer is set for; valid if armed
	armed   bool
	closed  bool
}

// entry is one armed timer.
type entry struct {
	key   string
	at    events.Time
	seq   uint64 // set order, to break deadline ties
	index int    // position in the heap
}

// New starts a clock whose times are durations since origin. Pass a
// time.Now() value: its monotonic reading makes Now immune to wall-clock
// steps.
func New(origin time.Time) *Clock { return NewBuffered(origin, DefaultBuffer) }

// NewBuffered is New with a given channel capacity.
func NewBuffered(origin time.Time, buffer int) *Clock {
	c := &Clock{
		origin: origin,
		out:    make(chan *events.TimerFired, buffer),
		done:   make(chan struct{}),
		byKey:  map[string]*entry{},
		timer:  time.NewTimer(time.Hour),
	}
	c.timer.Stop()
	c.wg.Add(1)
	go c.run()
	return c
}

// Now returns the monotonic time since the origin.
func (c *Clock) Now() events.Time { return events.Time(time.Since(c.origin)) }

// Fired delivers expired timers. At is the time the timer was found
// expired, never before its deadline. The channel is closed by Close.
func (c *Clock) Fired() <-chan *events.TimerFired { return c.out }

// Len reports how many timers are armed.
func (c *Clock) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.h)
}

// Apply arms (SetTimer) or disarms (CancelTimer) a timer. It never blocks
// on the consumer of Fired.
func (c *Clock) Apply(e effects.Effect) error {
	switch v := e.(type) {
	case *effects.SetTimer:
		c.Set(v.Key, v.At)
		return nil
	case *effects.CancelTimer:
		c.Cancel(v.Key)
		return nil
	}
	return fmt.Errorf("%s: %w", e.EffectKind(), ErrUnsupported)
}

// Set arms key to fire at at, replacing any timer armed under key. A
// deadline already past fires at once.
func (c *Clock) Set(key string, at events.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.seq++
	if e, ok := c.byKey[key]; ok {
		e.at, e.seq = at, c.seq
		heap.Fix(&c.h, e.index)
	} else {
		e := &entry{key: key, at: at, seq: c.seq}
		c.byKey[key] = e
		heap.Push(&c.h, e)
	}
	c.rearm()
}

// Cancel disarms key; cancelling an unarmed key does nothing.
func (c *Clock) Cancel(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return
	}
	heap.Remove(&c.h, e.index)
	delete(c.byKey, key)
	c.rearm()
}

// Close stops the clock: no timer fires afterwards and Fired is closed.
func (c *Clock) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.timer.Stop()
	c.mu.Unlock()
	close(c.done)
	c.wg.Wait()
	close(c.out)
}

// rearm points the runtime timer at the earliest deadline, touching it only
// when that deadline changed. Called with mu held.
func (c *Clock) rearm() {
	if len(c.h) == 0 {
		if c.armed {
			c.timer.Stop()
			c.armed = false
		}
		return
	}
	next := c.h[0].at
	if c.armed && next == c.armedAt {
		return
	}
	c.armed, c.armedAt = true, next
	// Since Go 1.23 Reset discards a pending expiry, so no stale tick
	// follows a re-arm.
	c.timer.Reset(max(next.Sub(c.Now()), 0))
}

// run delivers due timers each time the runtime timer expires.
func (c *Clock) run() {
	defer c.wg.Done()
	for {
		select {
		case <-c.done:
			return
		case <-c.timer.C:
		}
		c.mu.Lock()
		c.armed = false
		c.mu.Unlock()
		for {
			fired := c.popDue()
			if fired == nil {
				break
			}
			select {
			case c.out <- fired:
			case <-c.done:
				return
			}
		}
		c.mu.Lock()
		c.rearm()
		c.mu.Unlock()
	}
}

// popDue removes and returns the earliest timer if it is due. Taking one at
// a time keeps the window in which a cancel cannot stop a fire to one timer.
func (c *Clock) popDue() *events.TimerFired {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.h) == 0 {
		return nil
	}
	now := c.Now()
	if c.h[0].at > now {
		return nil
	}
	e := heap.Pop(&c.h).(*entry)
	delete(c.byKey, e.key)
	return &events.TimerFired{Header: events.Header{At: now}, Key: e.key}
}

// timerHeap orders entries by deadline, then set order.
type timerHeap []*entry

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
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
