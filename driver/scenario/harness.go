package scenario

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/vigil-ha/vigil/driver"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// Harness drives one engine through a scenario.
type Harness struct {
	Engine *engine.Engine
	Driver *driver.Driver
	// Timers are the engine's armed timers; `advance` fires them.
	Timers driver.Timers
	// IPVS is the kernel's IPVS table as the SetIPVS effects built it.
	IPVS IPVS
	// Health answers the RunCheck effects.
	Health Health
	// Now is the scenario's clock; every event is stamped with it.
	Now events.Time
	// Config is the configuration loaded last (`advert` takes its
	// defaults from it).
	Config *conf.Config
	// Log is every event stepped, in order, for the determinism check.
	Log []events.Event

	out []outLine
}

// outLine is one line of a command's output: an effect (Kind is its kind)
// or a line of a report (Kind 0).
type outLine struct {
	At   events.Time
	Kind effects.Kind
	Text string
}

func (l outLine) String() string {
	if l.Kind == 0 {
		return l.Text
	}
	return l.At.String() + " " + l.Text
}

// New returns a harness of a fresh engine at time 0.
func New() *Harness {
	h := &Harness{Engine: engine.New()}
	h.Driver = &driver.Driver{Engine: h.Engine, Record: func(ev events.Event, _ []effects.Effect) {
		h.Log = append(h.Log, ev)
	}}
	return h
}

// Run executes one directive and returns its output; any error fails t
// with the directive's file:line.
func (h *Harness) Run(t testing.TB, d *datadriven.TestData) string {
	t.Helper()
	out, err := h.Exec(d)
	if err != nil {
		t.Fatalf("%s: %v", d.Pos, err)
	}
	return out
}

// Exec executes one directive and returns its output.
func (h *Harness) Exec(d *datadriven.TestData) (string, error) {
	c, ok := commandTable[d.Cmd]
	if !ok {
		return "", fmt.Errorf("unknown command %q (commands: %s)", d.Cmd, strings.Join(commandNames(), ", "))
	}
	a, err := parseArgs(d, &c.spec)
	if err != nil {
		return "", err
	}
	h.out = h.out[:0]
	if err := c.run(h, a); err != nil {
		return "", err
	}
	if err := a.Err(); err != nil {
		return "", err
	}
	var b strings.Builder
	only := a.only()
	for _, l := range h.out {
		if only == nil || slices.Contains(only, l.Kind) {
			b.WriteString(l.String())
			b.WriteByte('\n')
		}
	}
	if b.Len() == 0 {
		return "ok\n", nil
	}
	return b.String(), nil
}

// Step stamps ev with Now, steps the engine, applies the effects to the
// timers and the IPVS model, and answers the RunChecks; the effects of
// ev and of the answers go to the command's output.
func (h *Harness) Step(ev events.Event) error {
	at := h.Now
	effs := h.Driver.Step(ev, at)
	h.Timers.Apply(effs)
	var runs []effects.RunCheck
	for _, e := range effs {
		switch v := e.(type) {
		case *effects.SetIPVS:
			if err := h.IPVS.Apply(v); err != nil {
				return fmt.Errorf("after %s at %s: %s: %w", driver.DescribeEvent(ev), at, driver.DescribeEffect(v), err)
			}
		case *effects.ReconcileIPVS:
			if err := h.IPVS.Reconcile(v); err != nil {
				return fmt.Errorf("after %s at %s: %w", driver.DescribeEvent(ev), at, err)
			}
		case *effects.RunCheck:
			runs = append(runs, *v)
		}
		h.out = append(h.out, outLine{At: at, Kind: e.EffectKind(), Text: driver.DescribeEffect(e)})
	}
	if err := h.IPVS.Matches(h.Engine.IPVSTable()); err != nil {
		return fmt.Errorf("after %s at %s: the IPVS model and the engine's table differ: %w", driver.DescribeEvent(ev), at, err)
	}
	for k := range runs {
		if res, ok := h.Health.Answer(&runs[k]); ok {
			if err := h.Step(res); err != nil {
				return err
			}
		}
	}
	return nil
}

// Advance fires the timers due up to Now+d, in the daemon clock's order
// (deadline, then set order), each at its deadline, and leaves Now at
// Now+d.
func (h *Harness) Advance(d time.Duration) error {
	end := h.Now.Add(d)
	for {
		ev, ok := h.Timers.PopDue(end)
		if !ok {
			break
		}
		// A deadline already past fires at once, as the daemon's clock
		// fires it.
		h.Now = max(h.Now, ev.At)
		if err := h.Step(ev); err != nil {
			return err
		}
	}
	h.Now = end
	return nil
}

// report adds a line of a report (status, timers, table).
func (h *Harness) report(format string, args ...any) {
	h.out = append(h.out, outLine{Text: fmt.Sprintf(format, args...)})
}
