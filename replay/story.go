package replay

import (
	"fmt"
	"github.com/vigil-ha/vigil/driver"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// ItemKind classifies the lines of an incident's story.
type ItemKind uint8

// Story item kinds.
const (
	// ItemRun marks a run's start or end (Text says which).
	ItemRun ItemKind = iota + 1
	// ItemState is a StateChanged effect.
	ItemState
	// ItemEffect is any other effect (World says whether it touches the
	// world).
	ItemEffect
	// ItemFault is an input that degrades the node: link down, an
	// address removed behind its back, a stop, a priority-0 advert, a
	// failing track script or file or process.
	ItemFault
	// ItemRecover is such an input returning to normal.
	ItemRecover
)

// Item is one line of a node's story, in journal order.
type Item struct {
	Kind ItemKind
	Node string
	Run  int
	Seq  uint64
	At   events.Time
	// Wall is At on the wall clock (Run.Wall), to merge nodes.
	Wall     time.Time
	Instance string
	// From, To, Priority and Reason describe an ItemState.
	From, To effects.State
	Priority int
	Reason   string
	// Text describes the item; Cause is the event it came from.
	Text  string
	Cause string
	// World is set for effects that touch the world: addresses, routes,
	// rules, VMACs, GARP/NA, notifications and email alerts, adverts at
	// priority 0 or the first as master.
	World bool
	// Crash is set on an ItemRun ending without a Stop.
	Crash bool
	// End is set on an ItemRun that ends a run.
	End bool
}

// story walks a journal and reports its items in order.
type story struct {
	j    *Journal
	emit func(Item)

	run     Run
	started bool // the run's Start event has been seen
	echo    driver.Echoes
	// timers follows the run with an engine, for what timer keys stand
	// for.
	timers timerBook
	// announce holds the instances that became MASTER and have not sent
	// their first advert yet.
	announce map[string]bool
	links    map[string]bool
	scripts  map[string]bool
	files    map[string]int64
	procs    map[string]int
	// byVRID maps "iface/vrid" to the instance receiving there.
	byVRID map[string]string
}

// Story reports the items of j's journal to emit, in order.
func Story(j *Journal, emit func(Item)) error {
	s := &story{j: j, emit: emit}
	runIdx := -1
	for rec, err := range j.RawRecords(0) {
		if err != nil {
			return err
		}
		if runIdx+1 < len(j.Runs) && rec.Seq >= j.Runs[runIdx+1].First {
			if runIdx >= 0 {
				s.endRun(false)
			}
			runIdx++
			s.startRun(j.Runs[runIdx])
		}
		effs, err := rec.Effects()
		if err != nil {
			return err
		}
		s.record(rec.Seq, rec.Event, effs)
	}
	s.endRun(true)
	return nil
}

func (s *story) item(it Item) {
	it.Node, it.Run = s.j.Name, s.run.N
	it.Wall = s.run.Wall(it.At)
	s.emit(it)
}

func (s *story) startRun(r Run) {
	s.run, s.started = r, false
	s.echo.Reset()
	s.timers.startRun(s.j, r)
	s.announce, s.links, s.scripts = map[string]bool{}, map[string]bool{}, map[string]bool{}
	s.files, s.procs, s.byVRID = map[string]int64{}, map[string]int{}, map[string]string{}
	text := fmt.Sprintf("run %d starts", r.N)
	if !r.Fresh {
		text = fmt.Sprintf("run %d: the journal begins mid-run", r.N)
	}
	s.item(Item{Kind: ItemRun, Seq: r.First, At: r.FirstAt, Text: text})
}

func (s *story) endRun(final bool) {
	r := s.run
	switch {
	case r.Stopped:
		s.item(Item{Kind: ItemRun, End: true, Seq: r.Last, At: r.LastAt, Text: fmt.Sprintf("run %d stopped", r.N)})
	case final:
		s.item(Item{Kind: ItemRun, End: true, Seq: r.Last, At: r.LastAt, Text: "journal ends"})
	default:
		s.item(Item{Kind: ItemRun, End: true, Crash: true, Seq: r.Last, At: r.LastAt,
			Text: fmt.Sprintf("run %d ends without a Stop (crash or kill)", r.N)})
	}
}

// record turns one event and its effects into items.
func (s *story) record(seq uint64, ev events.Event, effs []effects.Effect) {
	at := ev.EventTime()
	cause := driver.DescribeEvent(ev)
	s.event(seq, at, ev, cause)
	s.echo.Expect(at, effs)
	s.timers.step(ev, effs)
	// An advert in the same step as the transition to MASTER (the engine
	// emits it first) is the first one as MASTER.
	for _, ef := range effs {
		if sc, ok := ef.(*effects.StateChanged); ok && sc.To == effects.StateMaster {
			s.announce[sc.Instance] = true
		}
	}
	// State changes first: a reader wants the transition, then what it
	// did.
	var rest []Item
	for _, ef := range effs {
		it := Item{Kind: ItemEffect, Seq: seq, At: at, Instance: effectInstance(ef, &s.timers), Cause: cause, Text: driver.DescribeEffect(ef)}
		switch e := ef.(type) {
		case *effects.StateChanged:
			it.Kind, it.From, it.To, it.Priority, it.Reason = ItemState, e.From, e.To, e.Priority, e.Reason
			it.Text = fmt.Sprintf("%s -> %s prio %d (%s)", e.From, e.To, e.Priority, e.Reason)
			if e.To != effects.StateMaster {
				delete(s.announce, e.Instance)
			}
		case *effects.SendAdvert:
			switch {
			case e.Priority == 0:
				it.World, it.Text = true, "advert at priority 0 (leaving MASTER)"
			case s.announce[e.Instance]:
				it.World, it.Text = true, fmt.Sprintf("first advert as MASTER, prio %d", e.Priority)
				delete(s.announce, e.Instance)
			}
		case *effects.AddAddress, *effects.DelAddress, *effects.AddRoute, *effects.DelRoute,
			*effects.AddRule, *effects.DelRule, *effects.CreateVMAC, *effects.DeleteVMAC,
			*effects.SendGARP, *effects.SendNA, *effects.Notify, *effects.SetIPVS, *effects.ReconcileIPVS,
			*effects.AddFirewallVIPs, *effects.DelFirewallVIPs, *effects.RemoveFirewall, *effects.SetIPVSTimeouts,
			*effects.SendMail, *effects.IPVSSyncDaemon, *effects.SetPromoteSecondaries,
			*effects.AddFirewallVMAC, *effects.DelFirewallVMAC:
			it.World = true
		}
		if it.Kind == ItemState {
			s.item(it)
		} else {
			rest = append(rest, it)
		}
	}
	for _, it := range rest {
		s.item(it)
	}
}

// event reports the inputs that degrade the node or restore it.
func (s *story) event(seq uint64, at events.Time, ev events.Event, cause string) {
	fault := func(kind ItemKind, inst, text string) {
		s.item(Item{Kind: kind, Seq: seq, At: at, Instance: inst, Text: text, Cause: cause})
	}
	switch e := ev.(type) {
	case *events.ConfigLoaded:
		clear(s.byVRID)
		if e.Config != nil {
			for _, in := range e.Config.Instances {
				s.byVRID[fmt.Sprintf("%s/%d", in.Interface, in.VRID)] = in.Name
			}
		}
	case *events.Start:
		s.started = true
	case *events.Stop:
		fault(ItemFault, "", "stop requested")
	case *events.LinkChanged:
		up := e.Present && e.Up && e.Running
		was, known := s.links[e.Interface]
		s.links[e.Interface] = up
		switch {
		case !up && (!known || was):
			fault(ItemFault, "", e.Interface+" down")
		case up && known && !was:
			fault(ItemRecover, "", e.Interface+" up")
		}
	case *events.AddressChanged:
		if !e.Added && s.started && !s.echo.Own(e) {
			fault(ItemFault, "", fmt.Sprintf("%s removed from %s", e.Prefix.Addr(), e.Interface))
		} else if e.Added {
			s.echo.Own(e)
		}
	case *events.AdvertReceived:
		if e.Advert.Priority == 0 && e.Verdict == events.VerdictOK {
			inst := s.byVRID[fmt.Sprintf("%s/%d", e.Interface, e.Advert.VRID)]
			fault(ItemFault, inst, fmt.Sprintf("priority-0 advert from %s", e.Src))
		}
	case *events.ScriptResult:
		ok := !e.Failed && !e.TimedOut && e.Status == 0
		was, known := s.scripts[e.Script]
		s.scripts[e.Script] = ok
		switch {
		case !ok && (!known || was):
			fault(ItemFault, "", fmt.Sprintf("script %s fails (%s)", e.Script, scriptOutcome(e)))
		case ok && known && !was:
			fault(ItemRecover, "", fmt.Sprintf("script %s succeeds", e.Script))
		}
	case *events.TrackFileValue:
		was, known := s.files[e.File]
		s.files[e.File] = e.Value
		if !known || was != e.Value {
			kind := ItemRecover
			if e.Failed || (known && e.Value < was) || (!known && e.Value != 0) {
				kind = ItemFault
			}
			if known || kind == ItemFault {
				fault(kind, "", fmt.Sprintf("track file %s = %d", e.File, e.Value))
			}
		}
	case *events.ProcessCount:
		was, known := s.procs[e.Process]
		s.procs[e.Process] = e.Count
		if known && was != e.Count {
			kind := ItemRecover
			if e.Count < was {
				kind = ItemFault
			}
			fault(kind, "", fmt.Sprintf("process %s count %d -> %d", e.Process, was, e.Count))
		}
	case *events.BFDState:
		kind := ItemRecover
		if !e.Up {
			kind = ItemFault
		}
		fault(kind, "", fmt.Sprintf("BFD %s %s", e.Name, upWord(e.Up)))
	}
}

func scriptOutcome(e *events.ScriptResult) string {
	switch {
	case e.Failed:
		return "could not run: " + e.Error
	case e.TimedOut:
		return "timed out"
	}
	return fmt.Sprintf("exit %d", e.Status)
}
