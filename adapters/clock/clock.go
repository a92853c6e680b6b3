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
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/internal/timerq"
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

	mu sync.Mutex
	// q is the armed timers, in the order every vigil timer queue uses
	// (internal/timerq: deadline, then set order).
	q       timerq.Queue
	timer   *time.Timer
	armedAt events.Time // the deadline timer is set for; valid if armed
	armed   bool
	closed  bool
	inline  bool // NewInline: no goroutine, no channel
}

// New starts a clock whose times are durations since origin. Pass a
// time.Now() value: its monotonic reading makes Now immune to wall-clock
// steps.
func New(origin time.Time) *Clock { return NewBuffered(origin, DefaultBuffer) }

// NewInline is a clock without a goroutine of its own: the consumer waits
// on Wake and then calls Expired, which hands it the due timers. The
// daemon's loop uses it so that a timer reaches the engine in one
// goroutine hand-off (the runtime's timer to the loop), not two (to the
// clock's goroutine, then over a channel to the loop): at a thousand BFD
// sessions that is some 20,000 wake-ups a second fewer, and on a loaded
// host each hand-off can wait for a CPU. Fired returns nil.
func NewInline(origin time.Time) *Clock {
	c := &Clock{origin: origin, done: make(chan struct{}), timer: time.NewTimer(time.Hour), inline: true}
	c.timer.Stop()
	return c
}

// Wake is, for a clock made by NewInline, the channel that receives when
// the earliest timer may be due: then call Expired.
func (c *Clock) Wake() <-chan time.Time { return c.timer.C }

// Expired hands every timer due by now to step, in deadline order (then
// set order), one at a time, and re-arms for the next deadline. step may
// set and cancel timers (it runs without the clock's lock). Timers that
// fall due while it runs wait for the next wake, so that an overloaded
// loop still serves its other sources between bursts. For a clock made
// by NewInline, called after a receive from Wake.
func (c *Clock) Expired(step func(*events.TimerFired)) {
	c.mu.Lock()
	c.armed = false
	c.mu.Unlock()
	until := c.Now()
	for {
		fired := c.popDueUntil(until)
		if fired == nil {
			break
		}
		step(fired)
	}
	c.mu.Lock()
	if !c.closed {
		c.rearm()
	}
	c.mu.Unlock()
}

// NewBuffered is New with a given channel capacity.
func NewBuffered(origin time.Time, buffer int) *Clock {
	c := &Clock{
		origin: origin,
		out:    make(chan *events.TimerFired, buffer),
		done:   make(chan struct{}),
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
// expired, never before its deadline. The channel is closed by Close. A
// clock made by NewInline has none (nil): see Wake and Expired.
func (c *Clock) Fired() <-chan *events.TimerFired { return c.out }

// Len reports how many timers are armed.
func (c *Clock) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.q.Len()
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
	c.q.Set(key, at)
	c.rearm()
}

// Cancel disarms key; cancelling an unarmed key does nothing.
func (c *Clock) Cancel(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.q.Cancel(key)
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
	if c.out != nil {
		close(c.out)
	}
}

// rearm points the runtime timer at the earliest deadline, touching it only
// when that deadline changed. Called with mu held.
func (c *Clock) rearm() {
	_, next, ok := c.q.Next()
	if !ok {
		if c.armed {
			c.timer.Stop()
			c.armed = false
		}
		return
	}
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
func (c *Clock) popDue() *events.TimerFired { return c.popDueUntil(-1) }

// popDueUntil is popDue for timers due by until (negative: now).
func (c *Clock) popDueUntil(until events.Time) *events.TimerFired {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	now := c.Now()
	if until < 0 {
		until = now
	}
	key, _, ok := c.q.PopDue(until)
	if !ok {
		return nil
	}
	return &events.TimerFired{Header: events.Header{At: now}, Key: key}
}
