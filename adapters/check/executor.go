package check

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// DefaultQueueLen is ExecutorOptions.QueueLen's default, with Workers.
const DefaultQueueLen = 4096

// ExecutorOptions configures an Executor.
type ExecutorOptions struct {
	// Checker runs the checks (global SSL, HELO name, script user).
	Checker *Checker
	// Results receives exactly one *events.CheckResult per RunCheck.
	Results chan<- events.Event
	// Now stamps results with the monotonic event time.
	Now func() events.Time
	// Workers, when positive, bounds how many checks run at once (a
	// pool of that many goroutines, QueueLen checks waiting). Zero, the
	// default, runs each check on its own goroutine as soon as it is
	// asked for: never two attempts of one checker at once, so at most
	// one goroutine per configured checker — what keepalived does with
	// its one outstanding connection per checker. A fixed pool turned
	// into false failures at scale ("checker queue full" at 10,000
	// checks a second: bench/checkers.sh).
	Workers int
	// QueueLen bounds the checks waiting for a worker when Workers is
	// positive (default 4096).
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
	queue   chan job // nil without a pool (Workers 0)
	stop    chan struct{}
	// base is cancelled by Close: every check's context derives from it.
	base       context.Context
	cancelBase context.CancelFunc
	wg         sync.WaitGroup
	mu         sync.Mutex
	running    map[checkKey]bool
	closed     bool
	run        atomic.Uint64
	refused    atomic.Uint64
}

// NewExecutor starts the workers.
func NewExecutor(opts ExecutorOptions) *Executor {
	if opts.Checker == nil {
		opts.Checker = &Checker{}
	}
	if opts.Workers < 0 {
		opts.Workers = 0
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = DefaultQueueLen
	}
	x := &Executor{
		opts:    opts,
		stop:    make(chan struct{}),
		running: map[checkKey]bool{},
	}
	x.base, x.cancelBase = context.WithCancel(context.Background())
	x.checker.Store(opts.Checker)
	if opts.Workers > 0 {
		x.queue = make(chan job, opts.QueueLen)
		for range opts.Workers {
			x.wg.Add(1)
			go x.work()
		}
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
	if x.queue == nil {
		// Added under mu, so Close (which sets closed under mu before
		// waiting) never misses it.
		x.wg.Add(1)
		x.mu.Unlock()
		go func() {
			defer x.wg.Done()
			x.runJob(j)
		}()
		return nil
	}
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
	x.cancelBase()
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
	// Derived from base, so Close cancels it without a goroutine per
	// check watching for the stop.
	ctx, cancel := context.WithTimeout(x.base, timeout)
	defer cancel()
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
