package replay

import (
	"fmt"
	"io"

	"github.com/vigil-ha/vigil/driver"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/engine/vrrp"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/explain"
)

// Explanation is the causal chain behind one transition of an instance.
type Explanation struct {
	Node     string
	Instance string
	Run      Run
	// Seq and Event are the event that caused the transition; Change the
	// StateChanged it produced (Reason names the rule that fired).
	Seq    uint64
	Event  events.Event
	Change effects.StateChanged
	// Previous is the instance's transition before it in the same run
	// (PrevSeq 0: none; the chain then starts at the run's start).
	Previous effects.StateChanged
	PrevSeq  uint64
	PrevAt   events.Time
	// Chain lists the events since then that touched the instance,
	// repeats collapsed; Omitted counts older lines left out.
	Chain   []ChainLine
	Omitted int
	// Before and After are the instance's state just before and just
	// after the event; Origin says how Before was rebuilt.
	Before, After *InstanceState
	Origin        Origin
	// LastAdvert is the last advert received for the instance before
	// the event (nil: none in the chain's window).
	LastAdvert   *events.AdvertReceived
	LastAdvertAt events.Time
}

// ChainLine is one event (or a run of alike events) in a causal chain.
type ChainLine = explain.ChainLine

// InstanceState is an instance as the engine itself sees it
// (engine.DumpView): state, effective priority with every tracked
// object's part, timers. Nothing here re-derives an engine rule.
type InstanceState struct {
	vrrp.InstanceView
	// Now is the time timers print relative to.
	Now events.Time
}

// Explain explains the last transition of instance at or before t (nil:
// the last one) in j's journal.
func Explain(j *Journal, instance string, t *TimeSpec) (*Explanation, error) {
	bound := j.Last()
	if t != nil {
		var err error
		if bound, err = j.Locate(*t); err != nil {
			return nil, err
		}
	}
	ex := &Explanation{Node: j.Name, Instance: instance}
	// Pass 1: find the transition and the one before it in its run.
	var prev, cur struct {
		seq uint64
		at  events.Time
		sc  effects.StateChanged
	}
	for rec, err := range j.RawRecords(0) {
		if err != nil {
			return nil, err
		}
		if rec.Seq > bound {
			break
		}
		effs, err := rec.Effects()
		if err != nil {
			return nil, err
		}
		for _, ef := range effs {
			if sc, ok := ef.(*effects.StateChanged); ok && sc.Instance == instance {
				prev, cur = cur, prev
				cur.seq, cur.at, cur.sc = rec.Seq, rec.Event.EventTime(), *sc
			}
		}
	}
	if cur.seq == 0 {
		return nil, fmt.Errorf("instance %s never changed state in the journal%s", instance, upTo(t))
	}
	ex.Seq, ex.Change = cur.seq, cur.sc
	ex.Run, _ = j.RunOf(cur.seq)
	from := ex.Run.First
	if prev.seq != 0 && ex.Run.Contains(prev.seq) {
		ex.PrevSeq, ex.PrevAt, ex.Previous, from = prev.seq, prev.at, prev.sc, prev.seq
	}
	if err := ex.chain(j, from); err != nil {
		return nil, err
	}
	if err := ex.states(j); err != nil {
		return nil, err
	}
	return ex, nil
}

func upTo(t *TimeSpec) string {
	if t == nil {
		return ""
	}
	return " up to " + t.String()
}

// chain collects the events from seq from to the transition whose
// recorded effects touch the instance.
func (ex *Explanation) chain(j *Journal, from uint64) error {
	var vrid uint8
	var iface string
	var timers timerBook
	timers.startRun(j, ex.Run)
	// Read from the run's start: its configuration names the VRID.
	for rec, err := range j.RawRecords(ex.Run.First) {
		if err != nil {
			return err
		}
		if rec.Seq > ex.Seq {
			break
		}
		if cl, ok := rec.Event.(*events.ConfigLoaded); ok && cl.Config != nil {
			for _, in := range cl.Config.Instances {
				if in.Name == ex.Instance {
					vrid, iface = uint8(in.VRID), in.Interface
				}
			}
		}
		if a, ok := rec.Event.(*events.AdvertReceived); ok && a.Advert.VRID == vrid && a.Interface == iface && rec.Seq < ex.Seq {
			ex.LastAdvert, ex.LastAdvertAt = a, a.At
		}
		if rec.Seq == ex.Seq {
			ex.Event = rec.Event
		}
		if rec.Seq < from {
			timers.step(rec.Event, nil)
			continue
		}
		effs, err := rec.Effects()
		if err != nil {
			return err
		}
		timers.step(rec.Event, effs)
		sum := summarize(ex.Instance, rec.Event.EventTime(), effs, &timers)
		if sum == "" && rec.Seq != ex.Seq {
			continue
		}
		ex.addLine(ChainLine{Seq: rec.Seq, LastSeq: rec.Seq, At: rec.Event.EventTime(), LastAt: rec.Event.EventTime(),
			Count: 1, Event: driver.DescribeEvent(rec.Event), Effects: sum})
	}
	return nil
}

// addLine appends l, merging it into the last line when it repeats it.
func (ex *Explanation) addLine(l ChainLine) {
	c := explain.Chain{Lines: ex.Chain, Omitted: ex.Omitted}
	c.Add(l)
	ex.Chain, ex.Omitted = c.Lines, c.Omitted
}

// summarize describes what effs did to instance (explain.Summarize);
// timers says what the step's timer keys stand for.
func summarize(instance string, at events.Time, effs []effects.Effect, timers *timerBook) string {
	return explain.Summarize(instance, at, effs, timers.timer)
}

// states rebuilds the engine just before and just after the event.
func (ex *Explanation) states(j *Journal) error {
	var eng *engine.Engine
	if ex.Seq == ex.Run.First && ex.Run.Fresh {
		eng = engine.New()
		ex.Origin = Origin{Seq: ex.Seq}
	} else {
		var err error
		if eng, ex.Origin, err = j.EngineAt(ex.Seq - 1); err != nil {
			return fmt.Errorf("state before seq %d: %w", ex.Seq, err)
		}
	}
	var err error
	if ex.Before, err = instanceState(eng, ex.Instance); err != nil {
		return err
	}
	rerun(eng, ex.Event)
	if ex.After, err = instanceState(eng, ex.Instance); err != nil {
		return err
	}
	// Timers print relative to the transition, not to the last event
	// the engine saw before it.
	for _, s := range []*InstanceState{ex.Before, ex.After} {
		if s != nil {
			s.Now = ex.Event.EventTime()
		}
	}
	return nil
}

func instanceState(eng *engine.Engine, name string) (*InstanceState, error) {
	v := eng.DumpView()
	for k := range v.Instances {
		if v.Instances[k].Name == name {
			return &InstanceState{InstanceView: v.Instances[k], Now: v.Now}, nil
		}
	}
	return nil, nil // not configured yet (before the ConfigLoaded)
}

// Print writes the explanation.
func (ex *Explanation) Print(w io.Writer) {
	c := ex.Change
	fmt.Fprintf(w, "%s on %s: %s -> %s at %s (seq %d, run %d)\n", ex.Instance, ex.Node, c.From, c.To, fmtTime(ex.Event.EventTime()), ex.Seq, ex.Run.N)
	fmt.Fprintf(w, "  rule:    %s\n", c.Reason)
	fmt.Fprintf(w, "  trigger: %s\n", driver.DescribeEvent(ex.Event))
	if why := ex.Interpretation(); why != "" {
		fmt.Fprintf(w, "  why:     %s\n", why)
	}
	if ex.PrevSeq != 0 {
		fmt.Fprintf(w, "\nwhat led to it, since %s -> %s at %s (seq %d):\n", ex.Previous.From, ex.Previous.To, fmtTime(ex.PrevAt), ex.PrevSeq)
	} else {
		fmt.Fprintf(w, "\nwhat led to it, since run %d started:\n", ex.Run.N)
	}
	chain := explain.Chain{Lines: ex.Chain, Omitted: ex.Omitted}
	chain.Print(w, fmtTime)
	if ex.LastAdvert != nil {
		a := ex.LastAdvert
		fmt.Fprintf(w, "\nlast advert received: from %s prio %d at %s (%s before)\n", a.Src, a.Advert.Priority,
			fmtTime(ex.LastAdvertAt), ex.Event.EventTime().Sub(ex.LastAdvertAt))
	} else {
		fmt.Fprintf(w, "\nno advert received for it in that window\n")
	}
	fmt.Fprintf(w, "\nstate just before (from the %s):\n", ex.Origin)
	ex.Before.print(w)
	fmt.Fprintf(w, "\nstate just after:\n")
	ex.After.print(w)
}

func (s *InstanceState) print(w io.Writer) {
	if s == nil {
		explain.PrintInstance(w, nil, 0, fmtTime)
		return
	}
	explain.PrintInstance(w, &s.InstanceView, s.Now, fmtTime)
}

// Interpretation says in words why the rule fired, for the common rules;
// "" when there is nothing to add to the reason.
func (ex *Explanation) Interpretation() string {
	ours, known := 0, ex.Before != nil
	if known {
		ours = ex.Before.Effective
	}
	return explain.Interpret(ex.Change, ex.Event, ours, known, ex.LastAdvert, ex.LastAdvertAt)
}
