package script

import (
	"sync/atomic"
	"time"

	"github.com/vigil-ha/vigil/effects"
)

// notifyQueue is one instance's (or group's, or server's) queue of pending
// notifications, drained in order by its own goroutine.
type notifyQueue struct {
	key     string
	ch      chan *effects.Notify
	stopped chan struct{}
	dropped atomic.Uint64 // since the worker last reported
}

// Notify executes a Notify effect without blocking: the FIFO line is
// written at once (non-blocking; dropped and counted if the FIFO is full),
// and the scripts are queued on the instance's queue (dropped and counted if
// it is full). One instance's notifications are delivered in order; each
// notification's scripts are started together, in the given order, as
// keepalived forks them.
func (x *Executor) Notify(n *effects.Notify) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return
	}
	if n.FIFOLine != "" {
		fifos, ok := x.fifoByTy[n.Type]
		if !ok {
			fifos = x.fifoByTy["INSTANCE"]
		}
		line := []byte(n.FIFOLine + "\n")
		for _, f := range fifos {
			if !f.write(line) {
				x.fifoDropped.Add(1)
			}
		}
	}
	if len(n.Scripts) == 0 {
		return
	}
	key := n.Type + " " + n.Name
	q := x.queues[key]
	if q == nil {
		q = &notifyQueue{key: key, ch: make(chan *effects.Notify, x.opts.QueueLen), stopped: make(chan struct{})}
		x.queues[key] = q
		go x.runQueue(q)
	}
	select {
	case q.ch <- effects.Clone(n).(*effects.Notify):
	default:
		x.notifyDropped.Add(1)
		q.dropped.Add(1)
	}
}

// runQueue delivers one instance's notifications in order until Close.
func (x *Executor) runQueue(q *notifyQueue) {
	defer close(q.stopped)
	var prev []chan struct{} // exits of the previous notification's scripts
	for n := range q.ch {
		x.awaitExits(prev)
		prev = prev[:0]
		for k, argv := range n.Scripts {
			what := "notify " + n.Type + " " + n.Name + " " + n.State
			cred := n.Cred(k) // each script has its own user and group
			cmd, err := x.startScript(what, argv, cred.User, cred.Group)
			if err != nil {
				x.log.Error("notify script not run", "err", err)
				continue
			}
			exited := make(chan struct{})
			prev = append(prev, exited)
			x.wg.Add(1)
			go func() {
				defer x.wg.Done()
				defer close(exited)
				if err := x.procs.wait(cmd); err != nil {
					x.log.Debug("notify script ended", "what", what, "script", cmd.Args[0], "status", exitText(err))
				}
			}()
		}
		if d := q.dropped.Swap(0); d > 0 {
			x.log.Warn("notifications dropped: queue full", "queue", q.key, "dropped", d)
		}
	}
}

// awaitExits waits for the given scripts to exit, for at most NotifyWait,
// and not at all once Close has begun.
func (x *Executor) awaitExits(exits []chan struct{}) {
	if len(exits) == 0 || x.opts.NotifyWait < 0 {
		return
	}
	timer := time.NewTimer(x.opts.NotifyWait)
	defer timer.Stop()
	for _, ch := range exits {
		select {
		case <-ch:
		case <-timer.C:
			x.log.Warn("notify scripts still running: starting the next notification anyway", "wait", x.opts.NotifyWait)
			return
		case <-x.done:
			return
		}
	}
}

// drained closes the queue and waits until every queued notification has
// been started. Called by Close with x.closed set, so nothing is sent to q
// concurrently.
func (q *notifyQueue) drained() {
	close(q.ch)
	<-q.stopped
}
