package scenario

import "github.com/vigil-ha/vigil/events"

var startSpec = spec{steps: true, args: []arg{
	{key: "seed", kind: value, hint: "seed=N"},
	{key: "reports-joins", kind: flag},
}}

// cmdStart delivers Start with the PRNG seed (default 1). With
// reports-joins the driver says it answers every JoinGroup with a
// GroupJoined, as the daemon and the simulator do; the scenario then
// answers with `joined`.
//
// Syntax:
//
//	start [seed=N] [reports-joins] [only=(Kind, ...)]
//
// Example:
//
//	start seed=7 reports-joins only=(JoinGroup, StateChanged)
func (h *Harness) cmdStart(a *params) error {
	ev := &events.Start{Seed: a.Uint64("seed", 1), ReportsJoins: a.Has("reports-joins")}
	if err := a.Err(); err != nil {
		return err
	}
	return h.Step(ev)
}
