package daemon

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-ha/vigil/effects"
)

// DefaultKernelQueue bounds the netlink effects waiting to be applied.
const DefaultKernelQueue = 65536

// Applier executes one effect (the netlink executor, the ARP sender, the
// clock).
type Applier interface {
	Apply(effects.Effect) error
}

// kernelJob is a queued effect (for x, or the queue's own Applier when x
// is nil) or (with done set) a drain marker.
type kernelJob struct {
	x    Applier
	eff  effects.Effect
	done chan struct{}
}

// kernelQueue runs an Applier in its own goroutine behind a bounded FIFO
// queue. Why: a netlink round trip can take milliseconds (thousands of
// addresses, a busy RTNL lock) and must never delay the engine loop or an
// advert. Order is kept, so a VMAC is created before its addresses and
// the start's ReconcileIPVS reaches the kernel before later SetIPVS; it is
// a Sequencer, so the dispatcher queues announcements behind the kernel
// effects they depend on (ApplyAfter). The queue is a slice that grows
// with a burst and is let go when it empties, not a channel of its bound:
// a 65,536-slot channel would hold 2 MB for ever in a daemon that queues a
// few thousand jobs at its busiest (a mass takeover).
type kernelQueue struct {
	x     Applier
	limit int
	onErr func(effects.Effect, error)

	mu     sync.Mutex
	jobs   []kernelJob
	head   int
	closed bool
	wake   chan struct{} // capacity 1: "there is work, or the queue closed"

	dropped atomic.Uint64
	applied atomic.Uint64
	stopped chan struct{}
}

// newKernelQueue starts the queue's goroutine. onErr is called from it
// with each failed effect.
func newKernelQueue(x Applier, size int, onErr func(effects.Effect, error)) *kernelQueue {
	if size <= 0 {
		size = DefaultKernelQueue
	}
	q := &kernelQueue{x: x, limit: size, onErr: onErr, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go q.run()
	return q
}

// Apply queues a copy of e (the engine reuses its effects after the next
// Step). It never blocks: when the queue is full the effect is dropped,
// counted and reported as ErrKernelQueueFull.
func (q *kernelQueue) Apply(e effects.Effect) error {
	return q.ApplyAfter(nil, e)
}

// ApplyAfter queues a copy of e for x (nil: the queue's own Applier): the
// queue's goroutine calls x.Apply(e) once everything queued before it has
// been applied. Like Apply it never blocks; x's error goes to onErr.
func (q *kernelQueue) ApplyAfter(x Applier, e effects.Effect) error {
	q.mu.Lock()
	if q.closed || len(q.jobs)-q.head >= q.limit {
		q.mu.Unlock()
		q.dropped.Add(1)
		return ErrKernelQueueFull
	}
	q.jobs = append(q.jobs, kernelJob{x: x, eff: effects.Clone(e)})
	q.mu.Unlock()
	q.signal()
	return nil
}

func (q *kernelQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// next returns the next job, waiting for one; ok is false once the queue
// is closed and empty.
func (q *kernelQueue) next() (kernelJob, bool) {
	for {
		q.mu.Lock()
		if q.head < len(q.jobs) {
			j := q.jobs[q.head]
			q.jobs[q.head] = kernelJob{}
			q.head++
			q.mu.Unlock()
			return j, true
		}
		// Empty: start again from the front, and let a burst's large
		// backing array go.
		if cap(q.jobs) > 1024 {
			q.jobs = nil
		} else {
			q.jobs = q.jobs[:0]
		}
		q.head = 0
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return kernelJob{}, false
		}
		<-q.wake
	}
}

func (q *kernelQueue) run() {
	defer close(q.stopped)
	for {
		j, ok := q.next()
		if !ok {
			return
		}
		if j.done != nil {
			close(j.done)
			continue
		}
		x := j.x
		if x == nil {
			x = q.x
		}
		if err := x.Apply(j.eff); err != nil && q.onErr != nil {
			q.onErr(j.eff, err)
		}
		q.applied.Add(1)
	}
}

// Drain waits until everything queued before the call has been applied, or
// timeout passes; it reports whether the queue drained.
func (q *kernelQueue) Drain(timeout time.Duration) bool {
	done := make(chan struct{})
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.jobs = append(q.jobs, kernelJob{done: done}) // a marker may pass the bound
	q.mu.Unlock()
	q.signal()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// Close stops the goroutine after the queued effects are applied.
func (q *kernelQueue) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
	<-q.stopped
}
