package scenario

import (
	"fmt"
	"math"
)

var healthSpec = spec{
	args: []arg{
		{key: "rs", kind: value, required: true, hint: "rs=ADDR:PORT"},
		{key: "vs", kind: value, hint: "vs=VSID"},
		{key: "idx", kind: value, hint: "idx=N"},
		{key: "up", kind: flag},
		{key: "down", kind: flag},
		{key: "none", kind: flag},
		{key: "msg", kind: value, hint: "msg=TEXT"},
		{key: "weight", kind: value, hint: "weight=N"},
	},
	oneOf: [][]string{{"!", "up", "down", "none"}},
}

// cmdHealth sets how the checker answers the RunChecks of a real server
// from now on: up, down (with msg=, default "connection refused") or
// none (never answered). vs= narrows it to the real server in one virtual
// server, idx= further to one of its checkers; weight= makes the answers
// dynamic (MISC_CHECK misc_dynamic). Without a health, a real server is
// up.
//
// Syntax:
//
//	health rs=ADDR:PORT [vs=VSID [idx=N]] up|down|none [msg=TEXT] [weight=N]
//
// Example:
//
//	health rs=10.0.1.1:80 down msg=exit-status-1
//	health vs=tcp/10.0.0.1:80 rs=10.0.1.1:80 idx=1 up weight=20
func (h *Harness) cmdHealth(a *params) error {
	vs, idx := a.Str("vs", ""), a.Int("idx", -1, 0, math.MaxInt32)
	if idx >= 0 && vs == "" {
		return fmt.Errorf("%s: idx= needs vs=", a.cmd)
	}
	ans := Answer{OK: a.Has("up"), None: a.Has("none"), Message: a.Str("msg", "")}
	if a.Has("weight") {
		ans.Weight, ans.Dynamic = a.Int("weight", 0, math.MinInt32, math.MaxInt32), true
	}
	if !ans.OK && !ans.None && ans.Message == "" {
		ans.Message = "connection refused"
	}
	if err := a.Err(); err != nil {
		return err
	}
	h.Health.Set(vs, a.Str("rs", ""), idx, ans)
	return nil
}
