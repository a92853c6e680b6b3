package replay

import (
	"fmt"
	"github.com/vigil-ha/vigil/driver"
	"io"
	"strings"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/engine/vrrp"
	"github.com/vigil-ha/vigil/events"
)

// maxChain bounds the lines of a causal chain (after collapsing repeats).
const maxChain = 40

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
type ChainLine struct {
	Seq, LastSeq   uint64
	At, LastAt     events.Time
	Count          int
	Event, Effects string
}

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
	if n := len(ex.Chain); n > 0 && ex.Chain[n-1].Event == l.Event && ex.Chain[n-1].Effects == l.Effects {
		last := &ex.Chain[n-1]
		last.LastSeq, last.LastAt = l.Seq, l.At
		last.Count++
		return
	}
	if len(ex.Chain) == maxChain {
		ex.Chain = append(ex.Chain[:0], ex.Chain[1:]...)
		ex.Omitted++
	}
	ex.Chain = append(ex.Chain, l)
}

// summarize describes what effs did to instance, timers relative to at so
// that repeats compare equal; "" if nothing (or only counters). timers
// says what the step's timer keys stand for.
func summarize(instance string, at events.Time, effs []effects.Effect, timers *timerBook) string {
	var parts []string
	for _, ef := range effs {
		if effectInstance(ef, timers) != instance {
			continue
		}
		switch e := ef.(type) {
		case *effects.StateChanged:
			parts = append(parts, fmt.Sprintf("%s -> %s prio %d (%s)", e.From, e.To, e.Priority, e.Reason))
		case *effects.SetTimer:
			parts = append(parts, fmt.Sprintf("%s timer in %s", timerName(timers, e.Key), e.At.Sub(at)))
		case *effects.CancelTimer:
			parts = append(parts, timerName(timers, e.Key)+" timer cancelled")
		case *effects.SendAdvert:
			parts = append(parts, fmt.Sprintf("advert prio %d", e.Priority))
		case *effects.Log:
			if msg := strings.TrimPrefix(e.Message, "("+instance+") "); !strings.HasPrefix(msg, "Entering ") {
				parts = append(parts, msg) // "Entering X STATE" restates the StateChanged
			}
		case *effects.Count:
			// Counters restate the other effects.
		case *effects.Notify:
			parts = append(parts, "notify "+e.State)
		default:
			parts = append(parts, driver.DescribeEffect(ef))
		}
	}
	return strings.Join(parts, "; ")
}

// timerName names a timer by its kind, as the engine says it ("master-down").
func timerName(timers *timerBook, key string) string {
	if info, ok := timers.timer(key); ok {
		return info.Kind.String()
	}
	return key
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
	if ex.Omitted > 0 {
		fmt.Fprintf(w, "  (%d earlier lines left out)\n", ex.Omitted)
	}
	for _, l := range ex.Chain {
		more := ""
		if l.Count > 1 {
			more = fmt.Sprintf("  (x%d, the last at %s, #%d)", l.Count, fmtTime(l.LastAt), l.LastSeq)
		}
		fmt.Fprintf(w, "  %12s #%-6d %s%s\n", fmtTime(l.At), l.Seq, l.Event, more)
		if l.Effects != "" {
			fmt.Fprintf(w, "  %12s         => %s\n", "", l.Effects)
		}
	}
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
		fmt.Fprintln(w, "  (the instance is not configured yet)")
		return
	}
	d := s
	fmt.Fprintf(w, "  %s (wants %s), effective priority %d, base %d", d.State, d.Want, d.Effective, s.Base)
	if s.Total != d.Effective {
		fmt.Fprintf(w, " (tracking sums to %d)", s.Total)
	}
	fmt.Fprintln(w)
	for _, c := range s.Parts {
		fmt.Fprintf(w, "    %-32s %-18s", c.What, c.Status)
		switch {
		case c.Pending:
			fmt.Fprint(w, " pending (no result yet)")
		case c.Weight == 0 && c.Fault:
			fmt.Fprint(w, " weight 0: FAULT")
		case c.Weight == 0:
			fmt.Fprint(w, " weight 0: fault when it fails")
		default:
			rev := ""
			if c.Reverse {
				rev = " reverse"
			}
			fmt.Fprintf(w, " weight %+d%s: %+d", c.Weight, rev, c.Delta)
		}
		fmt.Fprintln(w)
	}
	switch {
	case s.Config.NoPreempt:
		fmt.Fprintln(w, "    nopreempt")
	case s.Config.PreemptDelay > 0:
		fmt.Fprintf(w, "    preempt_delay %s", s.Config.PreemptDelay.Std())
		if d.PreemptAt != 0 {
			fmt.Fprintf(w, " (may preempt from %s)", fmtTime(d.PreemptAt))
		}
		fmt.Fprintln(w)
	}
	var timers []string
	for _, t := range []struct {
		kind effects.TimerKind
		at   events.Time
	}{{effects.TimerAdvert, d.AdvertAt}, {effects.TimerMasterDown, d.MasterDownAt}, {effects.TimerSecondGARP, d.SecondGARPAt},
		{effects.TimerLowerPrioGARP, d.LowerPrioGARPAt}, {effects.TimerGARPRefresh, d.GARPRefreshAt}} {
		if t.at != 0 {
			s := fmt.Sprintf("%s at %s (in %s)", t.kind, fmtTime(t.at), t.at.Sub(s.Now))
			if t.kind == effects.TimerMasterDown && d.MasterDownWhy != "" {
				s += " [" + d.MasterDownWhy + "]"
			}
			timers = append(timers, s)
		}
	}
	if len(timers) == 0 {
		timers = []string{"none"}
	}
	fmt.Fprintf(w, "    timers: %s\n", strings.Join(timers, "; "))
	if d.MasterSrc.IsValid() {
		fmt.Fprintf(w, "    master seen: %s prio %d, advert interval %s\n", d.MasterSrc, d.MasterPrio, d.MasterAdvertInt)
	}
}

// Interpretation says in words why the rule fired, for the common rules;
// "" when there is nothing to add to the reason.
func (ex *Explanation) Interpretation() string {
	c, b, a := ex.Change, ex.Before, ex.LastAdvert
	at := ex.Event.EventTime()
	switch c.Reason {
	case "master-down-timer":
		if c.To != effects.StateMaster {
			return ""
		}
		if a != nil && b != nil && a.Advert.Priority > 0 && int(a.Advert.Priority) < b.Effective {
			return fmt.Sprintf("preemption: the master %s advertised priority %d, lower than ours (%d), so its adverts were discarded and the master-down timer ran out",
				a.Src, a.Advert.Priority, b.Effective)
		}
		if a == nil {
			return "no master was heard since the instance became BACKUP, so the master-down timer ran out"
		}
		return fmt.Sprintf("no advert for %s (the last from %s, priority %d): the master is gone (crash, partition or link failure)",
			at.Sub(ex.LastAdvertAt), a.Src, a.Advert.Priority)
	case "priority-0-advert":
		if a != nil {
			return fmt.Sprintf("the master %s resigned with a priority-0 advert (a graceful stop or it left MASTER)", a.Src)
		}
		return "the master resigned with a priority-0 advert"
	case "higher-priority-advert":
		if a, ok := ex.Event.(*events.AdvertReceived); ok {
			return fmt.Sprintf("%s advertised priority %d, above ours (%d)", a.Src, a.Advert.Priority, c.Priority)
		}
	case "start":
		return "the instance started"
	}
	if c.To == effects.StateFault || (b != nil && c.From == effects.StateFault) {
		return "a tracked object changed: see the contributions below"
	}
	return ""
}
