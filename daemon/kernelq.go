package daemon

import (
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
// effects they depend on (ApplyAfter).
type kernelQueue struct {
	x       Applier
	ch      chan kernelJob
	onErr   func(effects.Effect, error)
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
	q := &kernelQueue{x: x, ch: make(chan kernelJob, size), onErr: onErr, stopped: make(chan struct{})}
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
	select {
	case q.ch <- kernelJob{x: x, eff: effects.Clone(e)}:
		return nil
	default:
		q.dropped.Add(1)
		return ErrKernelQueueFull
	}
}

func (q *kernelQueue) run() {
	defer close(q.stopped)
	for j := range q.ch {
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
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case q.ch <- kernelJob{done: done}:
	case <-t.C:
		return false
	}
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// Close stops the goroutine after the queued effects are applied.
func (q *kernelQueue) Close() {
	close(q.ch)
	<-q.stopped
}
