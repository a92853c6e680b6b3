package track

import (
	"slices"
	"time"

	"github.com/vigil-ha/vigil/events"
)

// scanChange is a count change found by a rescan, applied by flush.
type scanChange struct {
	idx   int
	cause cause
}

// scan reads /proc. The first scan sets the counts; later ones (after lost
// events, or periodically without the connector) replace the process table
// and queue the count changes for flush.
func (p *ProcessTracker) scan(initial bool) error {
	pids, err := listPIDs(p.root)
	if err != nil {
		return err
	}
	table := make(map[int][]int)
	counts := make([]int, len(p.counters))
	for _, pid := range pids {
		info, ok := readProc(p.root, pid, p.needCmd)
		if !ok {
			continue
		}
		if set := p.matchSet(info, nil, false); len(set) > 0 {
			table[pid] = set
			for _, i := range set {
				counts[i]++
			}
		}
	}
	p.pids = table
	for i, n := range counts {
		c := &p.counters[i]
		switch {
		case initial:
			c.count = n
		case n > c.count:
			c.count = n
			p.dirty = append(p.dirty, scanChange{i, causeFork})
		case n < c.count:
			c.count = n
			p.dirty = append(p.dirty, scanChange{i, causeExit})
		}
	}
	return nil
}

// flush applies the changes queued by scan; false means stopped.
func (p *ProcessTracker) flush() bool {
	dirty := p.dirty
	p.dirty = p.dirty[:0]
	for _, d := range dirty {
		if !p.changed(d.idx, d.cause) {
			return false
		}
	}
	return true
}

// matchSet lists the matchers a process counts for. With commOnly (a comm
// change: the command line is unchanged), matchers on the full command keep
// their previous verdict, given in prev.
func (p *ProcessTracker) matchSet(info procInfo, prev []int, commOnly bool) []int {
	var set []int
	for i := range p.matchers {
		m := &p.matchers[i]
		if commOnly && m.full {
			if slices.Contains(prev, i) {
				set = append(set, i)
			}
			continue
		}
		if m.match(info.comm, info.cmdline) {
			set = append(set, i)
		}
	}
	return set
}

// apply handles one process event; false means stopped.
func (p *ProcessTracker) apply(ev procEvent) bool {
	switch ev.what {
	case procEventFork:
		parent, ok := p.pids[ev.parent]
		if _, known := p.pids[ev.pid]; !ok || known {
			return true // the child of an uncounted process does not count
		}
		return p.update(ev.pid, slices.Clone(parent), causeFork)
	case procEventExec:
		info, ok := readProc(p.root, ev.pid, p.needCmd)
		if !ok {
			return true // already gone: its exit event follows
		}
		return p.update(ev.pid, p.matchSet(info, nil, false), causeNow)
	case procEventComm:
		return p.update(ev.pid, p.matchSet(procInfo{comm: ev.comm}, p.pids[ev.pid], true), causeNow)
	case procEventExit:
		return p.update(ev.pid, nil, causeExit)
	}
	return true
}

// update records the matchers pid now counts for and applies the count
// changes.
func (p *ProcessTracker) update(pid int, set []int, why cause) bool {
	old := p.pids[pid]
	if len(set) == 0 {
		delete(p.pids, pid)
	} else {
		p.pids[pid] = set
	}
	for _, i := range old {
		if !slices.Contains(set, i) {
			p.counters[i].count--
			if !p.changed(i, why) {
				return false
			}
		}
	}
	for _, i := range set {
		if !slices.Contains(old, i) {
			p.counters[i].count++
			if !p.changed(i, why) {
				return false
			}
		}
	}
	return true
}

// changed reports counter i's new count now or after its delay; false
// means stopped.
func (p *ProcessTracker) changed(i int, why cause) bool {
	c := &p.counters[i]
	var delay time.Duration
	var kind, opposite pendingKind
	switch why {
	case causeFork:
		delay, kind, opposite = p.opts.Processes[i].ForkDelay.Std(), pendingFork, pendingTerminate
	case causeExit:
		delay, kind, opposite = p.opts.Processes[i].TerminateDelay.Std(), pendingTerminate, pendingFork
	default:
		p.cancel(i)
		return p.report(i, false)
	}
	switch {
	case c.pending == opposite:
		// A reversal during the delay: the bounce is over.
		p.cancel(i)
		return p.report(i, false)
	case c.pending == kind:
		return true // already waiting; the timer reports the count then
	case delay > 0 && c.count != c.reported:
		p.arm(i, kind, delay)
		return true
	}
	return p.report(i, false)
}

// arm starts counter i's delay timer.
func (p *ProcessTracker) arm(i int, kind pendingKind, d time.Duration) {
	c := &p.counters[i]
	c.gen++
	gen := c.gen
	c.pending = kind
	c.timer = time.AfterFunc(d, func() {
		select {
		case p.timerFire <- timerMsg{idx: i, gen: gen}:
		case <-p.stop:
		}
	})
}

// cancel stops counter i's delay timer, if any.
func (p *ProcessTracker) cancel(i int) {
	c := &p.counters[i]
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.pending = pendingNone
	c.gen++
}

// report sends counter i's count if it differs from the last one sent (or
// always, with force); false means stopped.
func (p *ProcessTracker) report(i int, force bool) bool {
	c := &p.counters[i]
	if !force && c.count == c.reported {
		return true
	}
	c.reported = c.count
	ev := &events.ProcessCount{Header: events.Header{At: p.opts.Now()}, Process: p.matchers[i].name, Count: c.count}
	select {
	case p.opts.Out <- ev:
		return true
	case <-p.stop:
		return false
	}
}
