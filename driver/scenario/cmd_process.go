package scenario

import (
	"math"

	"github.com/vigil-ha/vigil/events"
)

var processSpec = spec{steps: true, args: []arg{
	{key: "name", kind: value, required: true, hint: "name=NAME"},
	{key: "count", kind: value, required: true, hint: "count=N"},
}}

// cmdProcess delivers a ProcessCount: how many processes match a
// vrrp_track_process.
//
// Syntax:
//
//	process name=NAME count=N [only=(Kind, ...)]
//
// Example:
//
//	process name=haproxy count=0 only=(StateChanged)
func (h *Harness) cmdProcess(a *params) error {
	ev := &events.ProcessCount{Process: a.Str("name", ""), Count: a.Int("count", 0, 0, math.MaxInt32)}
	if err := a.Err(); err != nil {
		return err
	}
	return h.Step(ev)
}
