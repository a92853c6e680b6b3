// Package driver is the one way vigil drives its engine. The daemon's
// loop, the simulator's nodes, replay (verify, at, explain, what-if) and
// the scenario tests all go through it, so the same inputs give the same
// effects in every one of them:
//
//   - Driver.Step stamps each event with the driver's clock, steps the
//     engine and hands the pair to the recorder (the journal);
//   - Boot is the start sequence the engine expects;
//   - Timers is the virtual timer queue, with the daemon clock's order
//     (deadline, then the order the timers were set);
//   - Addresses and Kernel model what the kernel does with the engine's
//     address effects (a change that changes nothing is not echoed; a
//     real one comes back as an AddressChanged after EchoDelay), and
//     Echoes tells those echoes from other changes in a recorded journal;
//   - DescribeEvent and DescribeEffect print events and effects, one
//     format for timelines, traces and scenario files.
//
// Nothing here decides a keepalived rule: those live in the engine. The
// driver only carries time, order and the world's answers.
package driver

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
)

// Engine is what a driver steps: *engine.Engine (the simulator's own
// tests also step a fake through the same path).
type Engine interface {
	Step(ev events.Event) []effects.Effect
}

// Driver steps one engine.
type Driver struct {
	Engine Engine
	// Record, when set, receives every event with the effects it
	// produced (valid until the next Step): the journal, a test.
	Record func(ev events.Event, effs []effects.Effect)
}

// New returns a driver of a fresh engine.
func New() *Driver { return &Driver{Engine: engine.New()} }

var _ Engine = (*engine.Engine)(nil)

// Step stamps ev with now, steps the engine and records the pair. The
// effects are valid until the next Step (keep them with effects.Clone).
func (d *Driver) Step(ev events.Event, now events.Time) []effects.Effect {
	events.Stamp(ev, now)
	effs := d.Engine.Step(ev)
	if d.Record != nil {
		d.Record(ev, effs)
	}
	return effs
}

// Boot is the start sequence the engine expects: the configuration, the
// kernel's interfaces and addresses as they are now (links first, then
// addresses), then Start. Every driver reports join outcomes
// (events.GroupJoined) and says so in Start. The trackers' first values
// (track files, processes) follow, as their adapters report them.
func Boot(cfg *events.ConfigLoaded, kernel []events.Event, seed uint64) []events.Event {
	out := make([]events.Event, 0, len(kernel)+2)
	out = append(out, cfg)
	for _, ev := range kernel {
		if _, ok := ev.(*events.LinkChanged); ok {
			out = append(out, ev)
		}
	}
	for _, ev := range kernel {
		if _, ok := ev.(*events.LinkChanged); !ok {
			out = append(out, ev)
		}
	}
	return append(out, &events.Start{Seed: seed, ReportsJoins: true})
}
