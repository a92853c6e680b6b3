package scenario

import (
	"math"

	"github.com/vigil-ha/vigil/events"
)

var checkSpec = spec{steps: true, args: []arg{
	{key: "vs", kind: value, required: true, hint: "vs=VSID"},
	{key: "rs", kind: value, required: true, hint: "rs=ADDR:PORT"},
	{key: "idx", kind: value, hint: "idx=N"},
	{key: "ok", kind: flag},
	{key: "msg", kind: value, hint: "msg=TEXT"},
	{key: "weight", kind: value, hint: "weight=N"},
}}

// cmdCheck delivers a CheckResult the checker was not asked for (a
// FILE_CHECK or BFD_CHECK change, a stray answer): checker idx= (default
// 0) of a real server, a failure unless ok, dynamic with weight=.
//
// Syntax:
//
//	check vs=VSID rs=ADDR:PORT [idx=N] [ok] [msg=TEXT] [weight=N] [only=(Kind, ...)]
//
// Example:
//
//	check vs=tcp/10.0.0.1:80 rs=10.0.1.1:80 idx=1 ok weight=5 only=(SetIPVS)
func (h *Harness) cmdCheck(a *params) error {
	ev := &events.CheckResult{VirtualServer: a.Str("vs", ""), RealServer: a.Str("rs", ""),
		Checker: a.Int("idx", 0, 0, math.MaxInt32), OK: a.Has("ok"), Message: a.Str("msg", "")}
	if a.Has("weight") {
		ev.Weight, ev.Dynamic = a.Int("weight", 0, math.MinInt32, math.MaxInt32), true
	}
	if err := a.Err(); err != nil {
		return err
	}
	return h.Step(ev)
}
