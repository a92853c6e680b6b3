package scenario

import (
	"net/netip"

	"github.com/vigil-ha/vigil/events"
)

var ruleSpec = spec{steps: true, args: []arg{
	{key: "from", kind: value, hint: "from=ADDR/LEN"},
	{key: "to", kind: value, hint: "to=ADDR/LEN"},
	{key: "table", kind: value, hint: "table=N"},
	{key: "pref", kind: value, hint: "pref=N"},
	{key: "del", kind: flag},
}}

// cmdRule delivers a RuleChanged: a policy rule added (or with del
// removed) with the given selectors, table (default 254, main) and
// preference (default 0).
//
// Syntax:
//
//	rule [from=ADDR/LEN] [to=ADDR/LEN] [table=N] [pref=N] [del] [only=(Kind, ...)]
//
// Example:
//
//	rule from=10.9.0.0/16 table=100 pref=100 only=(DelRule)
func (h *Harness) cmdRule(a *params) error {
	ev := &events.RuleChanged{Table: a.Int("table", 254, 0, 1<<32-1), Priority: a.Int("pref", 0, 0, 1<<32-1), Added: !a.Has("del")}
	if a.Has("from") {
		ev.From = a.Prefix("from")
	}
	if a.Has("to") {
		ev.To = a.Prefix("to")
	}
	ev.Family = 2
	for _, p := range []netip.Prefix{ev.From, ev.To} {
		if p.IsValid() && p.Addr().Is6() {
			ev.Family = 10
		}
	}
	if err := a.Err(); err != nil {
		return err
	}
	return h.Step(ev)
}
