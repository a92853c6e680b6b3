// Package explain holds the building blocks of "why did this instance
// change state": which instance an effect concerns, a step's effects on
// one instance in words, a causal chain of such steps with repeats
// collapsed, the rule that fired put in words, and an instance's state as
// the engine sees it (effective priority with every tracked object's
// part, timers, the master heard). `vigil replay explain` applies them
// to a journal; the daemon applies them to its live engine for
// `vigil status explain`.
//
// Nothing here decides a keepalived rule: what an effect or a timer key
// stands for comes from the engine (engine.Engine.Timer, the view).
package explain

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/driver"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/engine/lvs"
	"github.com/vigil-ha/vigil/engine/vrrp"
	"github.com/vigil-ha/vigil/events"
)

// MaxChain bounds the lines of a causal chain (after collapsing repeats).
const MaxChain = 40

// TimerLookup says what a timer key stands for (engine.Engine.Timer, or
// a book of the keys a recorded step used). nil knows no key.
type TimerLookup func(key string) (engine.TimerInfo, bool)

func (f TimerLookup) timer(key string) (engine.TimerInfo, bool) {
	if f == nil {
		return engine.TimerInfo{}, false
	}
	return f(key)
}

// EffectInstance returns the VRRP instance an effect concerns ("" if
// none).
func EffectInstance(ef effects.Effect, timers TimerLookup) string {
	switch e := ef.(type) {
	case *effects.SendAdvert:
		return e.Instance
	case *effects.AddAddress:
		return e.Instance
	case *effects.DelAddress:
		return e.Instance
	case *effects.AddRoute:
		return e.Instance
	case *effects.DelRoute:
		return e.Instance
	case *effects.AddRule:
		return e.Instance
	case *effects.DelRule:
		return e.Instance
	case *effects.CreateVMAC:
		return e.Instance
	case *effects.DeleteVMAC:
		return e.Instance
	case *effects.AddFirewallVIPs:
		return e.Instance
	case *effects.DelFirewallVIPs:
		return e.Instance
	case *effects.SendGARP:
		return e.Instance
	case *effects.SendNA:
		return e.Instance
	case *effects.SetTimer:
		if lvs.IsTimerKey(e.Key) {
			return "" // a checker's: no instance, and no lookup
		}
		info, _ := timers.timer(e.Key)
		return info.Instance
	case *effects.CancelTimer:
		if lvs.IsTimerKey(e.Key) {
			return ""
		}
		info, _ := timers.timer(e.Key)
		return info.Instance
	case *effects.Notify:
		if e.Type == "INSTANCE" {
			return e.Name
		}
	case *effects.Count:
		return e.Instance
	case *effects.StateChanged:
		return e.Instance
	case *effects.Log:
		return e.Instance
	}
	return ""
}

// Summarize describes what effs did to instance, timers relative to at
// so that repeats compare equal; "" if nothing (or only counters).
func Summarize(instance string, at events.Time, effs []effects.Effect, timers TimerLookup) string {
	var parts []string
	for _, ef := range effs {
		if EffectInstance(ef, timers) != instance {
			continue
		}
		switch e := ef.(type) {
		case *effects.StateChanged:
			parts = append(parts, fmt.Sprintf("%s -> %s prio %d (%s)", e.From, e.To, e.Priority, e.Reason))
		case *effects.SetTimer:
			parts = append(parts, fmt.Sprintf("%s timer in %s", TimerName(timers, e.Key), e.At.Sub(at)))
		case *effects.CancelTimer:
			parts = append(parts, TimerName(timers, e.Key)+" timer cancelled")
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

// TimerName names a timer by its kind, as the engine says it
// ("master-down"); the key itself when the lookup does not know it.
func TimerName(timers TimerLookup, key string) string {
	if info, ok := timers.timer(key); ok {
		return info.Kind.String()
	}
	return key
}

// ChainLine is one event (or a run of alike events) in a causal chain.
type ChainLine struct {
	Seq, LastSeq   uint64
	At, LastAt     events.Time
	Count          int
	Event, Effects string
}

// Chain is a bounded causal chain: the last MaxChain lines, a line that
// repeats the one before it (same event text, same effects) merged into
// it.
type Chain struct {
	Lines []ChainLine
	// Omitted counts the older lines dropped to keep the bound.
	Omitted int
	// Max bounds the lines (0: MaxChain).
	Max int
}

// Add appends l, merging it into the last line when it repeats it.
func (c *Chain) Add(l ChainLine) {
	if n := len(c.Lines); n > 0 && c.Lines[n-1].Event == l.Event && c.Lines[n-1].Effects == l.Effects {
		last := &c.Lines[n-1]
		last.LastSeq, last.LastAt = l.Seq, l.At
		last.Count++
		return
	}
	limit := c.Max
	if limit <= 0 {
		limit = MaxChain
	}
	if len(c.Lines) >= limit {
		c.Lines = append(c.Lines[:0], c.Lines[1:]...)
		c.Omitted++
	}
	c.Lines = append(c.Lines, l)
}

// Clone returns a copy that shares nothing with c.
func (c *Chain) Clone() Chain {
	return Chain{Lines: append([]ChainLine(nil), c.Lines...), Omitted: c.Omitted, Max: c.Max}
}

// Print writes the chain's lines, indented, times printed by fmtTime.
func (c *Chain) Print(w io.Writer, fmtTime func(events.Time) string) {
	if c.Omitted > 0 {
		fmt.Fprintf(w, "  (%d earlier lines left out)\n", c.Omitted)
	}
	for _, l := range c.Lines {
		more := ""
		if l.Count > 1 {
			more = fmt.Sprintf("  (x%d, the last at %s, #%d)", l.Count, fmtTime(l.LastAt), l.LastSeq)
		}
		fmt.Fprintf(w, "  %12s #%-6d %s%s\n", fmtTime(l.At), l.Seq, l.Event, more)
		if l.Effects != "" {
			fmt.Fprintf(w, "  %12s         => %s\n", "", l.Effects)
		}
	}
}

// Interpret says in words why the rule of transition c fired, for the
// common rules; "" when there is nothing to add to its reason. trigger is
// the event that caused it; ours is the instance's effective priority
// just before it (known false: the instance did not exist yet); last is
// the last advert received for the instance before the event, at lastAt
// (nil: none in the window looked at).
func Interpret(c effects.StateChanged, trigger events.Event, ours int, known bool, last *events.AdvertReceived, lastAt events.Time) string {
	a := last
	switch c.Reason {
	case "master-down-timer":
		if c.To != effects.StateMaster {
			return ""
		}
		if a != nil && known && a.Advert.Priority > 0 && int(a.Advert.Priority) < ours {
			return fmt.Sprintf("preemption: the master %s advertised priority %d, lower than ours (%d), so its adverts were discarded and the master-down timer ran out",
				a.Src, a.Advert.Priority, ours)
		}
		if a == nil {
			return "no master was heard since the instance became BACKUP, so the master-down timer ran out"
		}
		return fmt.Sprintf("no advert for %s (the last from %s, priority %d): the master is gone (crash, partition or link failure)",
			trigger.EventTime().Sub(lastAt), a.Src, a.Advert.Priority)
	case "priority-0-advert":
		if a != nil {
			return fmt.Sprintf("the master %s resigned with a priority-0 advert (a graceful stop or it left MASTER)", a.Src)
		}
		return "the master resigned with a priority-0 advert"
	case "higher-priority-advert":
		if a, ok := trigger.(*events.AdvertReceived); ok {
			return fmt.Sprintf("%s advertised priority %d, above ours (%d)", a.Src, a.Advert.Priority, c.Priority)
		}
	case "start":
		return "the instance started"
	}
	if c.To == effects.StateFault || (known && c.From == effects.StateFault) {
		return "a tracked object changed: see the contributions below"
	}
	return ""
}

// FmtTime prints an event time as timelines do: seconds since the start,
// to the microsecond.
func FmtTime(t events.Time) string {
	return strconv.FormatFloat(time.Duration(t).Seconds(), 'f', 6, 64) + "s"
}

// PrintInstance writes an instance as the engine sees it: state,
// effective priority and each tracked object's part, preemption, the
// armed timers (relative to now) and the master last heard. nil prints
// that it is not configured.
func PrintInstance(w io.Writer, d *vrrp.InstanceView, now events.Time, fmtTime func(events.Time) string) {
	if d == nil {
		fmt.Fprintln(w, "  (the instance is not configured yet)")
		return
	}
	fmt.Fprintf(w, "  %s (wants %s), effective priority %d, base %d", d.State, d.Want, d.Effective, d.Base)
	if d.Total != d.Effective {
		fmt.Fprintf(w, " (tracking sums to %d)", d.Total)
	}
	fmt.Fprintln(w)
	for _, c := range d.Parts {
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
	case d.Config != nil && d.Config.NoPreempt:
		fmt.Fprintln(w, "    nopreempt")
	case d.Config != nil && d.Config.PreemptDelay > 0:
		fmt.Fprintf(w, "    preempt_delay %s", d.Config.PreemptDelay.Std())
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
			s := fmt.Sprintf("%s at %s (in %s)", t.kind, fmtTime(t.at), t.at.Sub(now))
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
