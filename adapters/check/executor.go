package check

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// Defaults for ExecutorOptions.
const (
	DefaultWorkers  = 32
	DefaultQueueLen = 4096
)

// ExecutorOptions configures an Executor.
type ExecutorOptions struct {
	// Checker runs the checks (global SSL, HELO name, script user).
	Checker *Checker
	// Results receives exactly one *events.CheckResult per RunCheck.
	Results chan<- events.Event
	// Now stamps results with the monotonic event time.
	Now func() events.Time
	// Workers bounds how many checks run at once (default 32).
	Workers int
	// QueueLen bounds the checks waiting for a worker (default 4096).
	QueueLen int
}

// ExecutorStats are the executor's counters.
type ExecutorStats struct {
	Run uint64 // checks run
	// Refused counts RunCheck effects answered at once with a failure:
	// queue full, executor closed, or a check of the same checker still
	// running.
	Refused uint64
}

type job struct {
	rc  effects.RunCheck
	key checkKey
}

type checkKey struct {
	vs, rs  string
	checker int
}

// Executor runs effects.RunCheck on a bounded pool of workers and reports
// each outcome as an events.CheckResult. Apply never blocks the engine:
// a check that cannot be queued is answered at once with a failure.
type Executor struct {
	opts ExecutorOptions
	// checker is opts.Checker, swapped by SetChecker while checks run.
	checker atomic.Pointer[Checker]
	queue   chan job
	stop    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	running map[checkKey]bool
	closed  bool
	run     atomic.Uint64
	refused atomic.Uint64
}

// NewExecutor starts the workers.
func NewExecutor(opts ExecutorOptions) *Executor {
	if opts.Checker == nil {
		opts.Checker = &Checker{}
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = DefaultQueueLen
	}
	x := &Executor{
		opts:    opts,
		queue:   make(chan job, opts.QueueLen),
		stop:    make(chan struct{}),
		running: map[checkKey]bool{},
	}
	x.checker.Store(opts.Checker)
	for range opts.Workers {
		x.wg.Add(1)
		go x.work()
	}
	return x
}

// Apply queues a RunCheck; other effects are ignored.
func (x *Executor) Apply(e effects.Effect) error {
	rc, ok := e.(*effects.RunCheck)
	if !ok {
		return nil
	}
	j := job{rc: *rc, key: checkKey{rc.VirtualServer, rc.RealServer, rc.Checker}}
	x.mu.Lock()
	switch {
	case x.closed:
		x.mu.Unlock()
		x.refuse(j, "checker executor stopped")
		return nil
	case x.running[j.key]:
		// The engine asked again before the previous attempt answered
		// (it gives up on a result after Timeout+5s): do not run two
		// attempts of one checker at once.
		x.mu.Unlock()
		x.refuse(j, "previous check still running")
		return nil
	}
	x.running[j.key] = true
	x.mu.Unlock()
	select {
	case x.queue <- j:
	default:
		x.done(j.key)
		x.refuse(j, "checker queue full")
	}
	return nil
}

// SetChecker replaces the global settings (SSL, HELO name, script user)
// for the checks started from now on; running checks finish with the old
// ones. Why not a new Executor: closing the old one would drop the
// results of checks in flight, which the engine would then count as
// failures.
func (x *Executor) SetChecker(c *Checker) {
	if c == nil {
		c = &Checker{}
	}
	x.checker.Store(c)
}

// Stats returns the counters.
func (x *Executor) Stats() ExecutorStats {
	return ExecutorStats{Run: x.run.Load(), Refused: x.refused.Load()}
}

// Close stops the workers, cancelling running checks, and waits for them.
// Results not yet delivered are dropped.
func (x *Executor) Close() {
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return
	}
	x.closed = true
	x.mu.Unlock()
	close(x.stop)
	x.wg.Wait()
}

func (x *Executor) work() {
	defer x.wg.Done()
	for {
		select {
		case <-x.stop:
			return
		case j := <-x.queue:
			x.runJob(j)
		}
	}
}

func (x *Executor) runJob(j job) {
	defer x.done(j.key)
	timeout := j.rc.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	go func() {
		select {
		case <-x.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	var r Result
	if j.rc.Spec == nil {
		r = fail("RunCheck without a checker configuration")
	} else {
		spec := j.rc.Spec
		if spec.Type == "" {
			s := *spec
			s.Type = j.rc.Type
			spec = &s
		}
		r = x.checker.Load().Check(ctx, Target{Addr: j.rc.Addr, Port: j.rc.Port}, spec)
	}
	x.run.Add(1)
	x.report(j, r, true)
}

func (x *Executor) done(k checkKey) {
	x.mu.Lock()
	delete(x.running, k)
	x.mu.Unlock()
}

// refuse answers a RunCheck that will not run. It must not block the
// engine's goroutine, so the result is delivered from a goroutine.
func (x *Executor) refuse(j job, why string) {
	x.refused.Add(1)
	go x.report(j, fail("%s", why), false)
}

func (x *Executor) report(j job, r Result, wait bool) {
	ev := &events.CheckResult{
		VirtualServer: j.rc.VirtualServer,
		RealServer:    j.rc.RealServer,
		Checker:       j.rc.Checker,
		OK:            r.OK,
		Message:       r.Message,
		Dynamic:       r.Dynamic,
		Weight:        r.Weight,
	}
	if x.opts.Now != nil {
		ev.At = x.opts.Now()
	}
	if !wait {
		// A refused check's answer may wait for the reader, but not for
		// ever: the engine times the check out anyway.
		select {
		case x.opts.Results <- ev:
		case <-time.After(time.Minute):
		}
		return
	}
	select {
	case x.opts.Results <- ev:
	case <-x.stop: // closing: nobody may be reading any more
	}
}
