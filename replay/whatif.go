package replay

import (
	"cmp"
	"fmt"
	"github.com/vigil-ha/vigil/driver"
	"io"

	"slices"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// Transition is one state change of an instance.
type Transition struct {
	Run      int
	At       events.Time
	Instance string
	From, To effects.State
	Priority int
	Reason   string
}

func (t Transition) String() string {
	return fmt.Sprintf("%s %s -> %s prio %d (%s)", t.Instance, t.From, t.To, t.Priority, t.Reason)
}

// WhatIfResult compares a journal's transitions with those an engine
// running another configuration derives from the same external inputs.
type WhatIfResult struct {
	Node, Config string
	// Recorded and WhatIf are the two sides' transitions, in order.
	Recorded, WhatIf []Transition
	// External counts the recorded inputs fed; Timers the timers the
	// what-if engine set and saw fire; Dropped the recorded events that
	// were not inputs (timers, echoes of the node's own address changes).
	External, Timers, Dropped int
	// Notes list what could not be re-derived.
	Notes []string
}

// WhatIf feeds the recorded external inputs of j's journal — adverts
// received, link and address changes not caused by the node, script,
// file, process and BFD results, Start and Stop — to an engine running
// cfg instead of the recorded configuration (every ConfigLoaded is
// replaced by cfg, named name). Timers are re-derived: the what-if
// engine's own SetTimer effects schedule its TimerFired events in event
// time, interleaved with the recorded inputs; its address changes are
// echoed back as the kernel would. The peers' adverts stay as recorded:
// a what-if cannot change how the other nodes would have reacted.
func WhatIf(j *Journal, cfg *conf.Config, name string) (*WhatIfResult, error) {
	res := &WhatIfResult{Node: j.Name, Config: name}
	w := &whatIf{res: res, cfg: cfg, digest: name}
	runIdx := -1
	active := false
	for rec, err := range j.RawRecords(0) {
		if err != nil {
			return nil, err
		}
		if runIdx+1 < len(j.Runs) && rec.Seq == j.Runs[runIdx+1].First {
			if active {
				w.finish(j.Runs[runIdx].LastAt)
			}
			runIdx++
			run := j.Runs[runIdx]
			active = run.Fresh
			if !active {
				res.Notes = append(res.Notes, fmt.Sprintf("run %d begins mid-run in the journal: the what-if cannot start there and skips it", run.N))
			}
			w.start(run.N)
		}
		if !active {
			continue
		}
		effs, err := rec.Effects()
		if err != nil {
			return nil, err
		}
		at := rec.Event.EventTime()
		for _, ef := range effs {
			if sc, ok := ef.(*effects.StateChanged); ok {
				res.Recorded = append(res.Recorded, transition(w.run, at, sc))
			}
		}
		ev := w.input(rec.Event)
		w.echo.Expect(at, effs)
		if ev == nil {
			res.Dropped++
			continue
		}
		w.advance(at)
		res.External++
		w.step(ev)
	}
	if active {
		w.finish(j.Runs[runIdx].LastAt)
	}
	return res, nil
}

func transition(run int, at events.Time, sc *effects.StateChanged) Transition {
	return Transition{Run: run, At: at, Instance: sc.Instance, From: sc.From, To: sc.To, Priority: sc.Priority, Reason: sc.Reason}
}

// whatIf is the what-if engine with its own timers, kernel and answers,
// all the driver's models: the same the simulator runs.
type whatIf struct {
	res    *WhatIfResult
	cfg    *conf.Config
	digest string

	run int
	drv *driver.Driver
	// echo recognises the recorded echoes of the node's own changes.
	echo driver.Echoes
	// timers are the what-if engine's armed timers, in the daemon
	// clock's order.
	timers driver.Timers
	// kernel holds the addresses present, as the engine's changes and
	// the recorded external changes leave them; pending queues the
	// events the modelled kernel sends back (echoes, join answers, VMAC
	// links), in time order.
	kernel  driver.Kernel
	pending []events.Event
}

func (w *whatIf) start(run int) {
	w.run, w.drv = run, driver.New()
	w.echo.Reset()
	w.timers, w.kernel, w.pending = driver.Timers{}, driver.Kernel{}, nil
}

// input returns the event to feed for a recorded one, or nil if it is not
// an external input.
func (w *whatIf) input(ev events.Event) events.Event {
	switch e := ev.(type) {
	case *events.TimerFired, *events.GroupJoined:
		// Timers are re-derived; join outcomes answered the recorded
		// engine's joins, and the what-if answers its own.
		return nil
	case *events.ConfigLoaded:
		return &events.ConfigLoaded{Header: e.Header, Config: w.cfg, Digest: w.digest}
	case *events.AddressChanged:
		if w.echo.Own(e) {
			return nil
		}
		w.kernel.Observe(e)
	}
	return ev
}

// advance fires the what-if's timers and kernel answers due at or before
// t, in time order (timers first at equal times: they were armed
// earlier).
func (w *whatIf) advance(t events.Time) {
	for {
		_, tat, ok := w.timers.Next()
		echoDue := len(w.pending) > 0 && w.pending[0].EventTime() <= t
		timerDue := ok && tat <= t
		switch {
		case timerDue && (!echoDue || tat <= w.pending[0].EventTime()):
			ev, _ := w.timers.PopDue(tat)
			w.res.Timers++
			w.step(ev)
		case echoDue:
			ev := w.pending[0]
			w.pending = w.pending[1:]
			w.step(ev)
		default:
			return
		}
	}
}

// step feeds one event and carries out the effects the what-if models.
func (w *whatIf) step(ev events.Event) {
	at := ev.EventTime()
	effs := w.drv.Step(ev, at)
	w.timers.Apply(effs)
	for _, e := range w.kernel.Apply(at, effs) {
		w.queue(e)
	}
	for _, e := range driver.Answers(at, effs) {
		w.queue(e)
	}
	for _, ef := range effs {
		if e, ok := ef.(*effects.StateChanged); ok {
			w.res.WhatIf = append(w.res.WhatIf, transition(w.run, at, e))
		}
	}
}

// queue keeps pending in time order (stable for equal times).
func (w *whatIf) queue(ev events.Event) {
	k := len(w.pending)
	for k > 0 && w.pending[k-1].EventTime() > ev.EventTime() {
		k--
	}
	w.pending = slices.Insert(w.pending, k, ev)
}

// finish fires what is due up to the run's last recorded event.
func (w *whatIf) finish(last events.Time) { w.advance(last) }

// Print writes the two timelines side by side, differences marked with
// "*", and the counts.
func (r *WhatIfResult) Print(out io.Writer) {
	fmt.Fprintf(out, "what-if for node %s with %s\n", r.Node, r.Config)
	fmt.Fprintf(out, "fed %d recorded inputs (adverts received, link and address changes not caused by the node, script/track results, start and stop); re-derived %d timers; left out %d recorded timer firings and echoes of the node's own changes\n",
		r.External, r.Timers, r.Dropped)
	fmt.Fprintln(out, "note: the other nodes' adverts are replayed as they were recorded; a what-if cannot change how the peers would have reacted to a different behaviour of this node")
	for _, n := range r.Notes {
		fmt.Fprintf(out, "note: %s\n", n)
	}
	fmt.Fprintln(out)
	const col = 52
	fmt.Fprintf(out, "  %-4s %12s  %-*s %s\n", "run", "time", col, "recorded", "what-if")
	for _, row := range r.rows() {
		mark := " "
		if row.rec == nil || row.alt == nil {
			mark = "*"
		}
		left, right := "-", "-"
		t := Transition{}
		if row.rec != nil {
			left, t = row.rec.String(), *row.rec
		}
		if row.alt != nil {
			right, t = row.alt.String(), *row.alt
		}
		fmt.Fprintf(out, "%s %-4d %12s  %-*s %s\n", mark, t.Run, fmtTime(t.At), col, left, right)
	}
	rm, wm := masters(r.Recorded), masters(r.WhatIf)
	fmt.Fprintf(out, "\ntransitions: recorded %d, what-if %d; entering MASTER: recorded %d, what-if %d\n", len(r.Recorded), len(r.WhatIf), rm, wm)
}

func masters(ts []Transition) int {
	n := 0
	for _, t := range ts {
		if t.To == effects.StateMaster {
			n++
		}
	}
	return n
}

type whatIfRow struct{ rec, alt *Transition }

// rows pairs the transitions that happened alike (same run, time,
// instance and change) and interleaves the rest by time.
func (r *WhatIfResult) rows() []whatIfRow {
	var rows []whatIfRow
	i, k := 0, 0
	key := func(t Transition) (int, events.Time) { return t.Run, t.At }
	less := func(a, b Transition) bool {
		ra, ta := key(a)
		rb, tb := key(b)
		return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(ta, tb)) <= 0
	}
	same := func(a, b Transition) bool {
		return a.Run == b.Run && a.At == b.At && a.Instance == b.Instance && a.From == b.From && a.To == b.To
	}
	for i < len(r.Recorded) || k < len(r.WhatIf) {
		switch {
		case i < len(r.Recorded) && k < len(r.WhatIf) && same(r.Recorded[i], r.WhatIf[k]):
			rows = append(rows, whatIfRow{&r.Recorded[i], &r.WhatIf[k]})
			i++
			k++
		case k >= len(r.WhatIf) || (i < len(r.Recorded) && less(r.Recorded[i], r.WhatIf[k])):
			rows = append(rows, whatIfRow{rec: &r.Recorded[i]})
			i++
		default:
			rows = append(rows, whatIfRow{alt: &r.WhatIf[k]})
			k++
		}
	}
	return slices.Clip(rows)
}
