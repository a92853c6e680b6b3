package scenario

import "github.com/vigil-ha/vigil/events"

var fireSpec = spec{steps: true, args: []arg{
	{key: "key", kind: value, required: true, hint: "key=TIMER"},
}}

// cmdFire delivers a TimerFired now, whatever the timer's armed deadline,
// and leaves the armed timer as it is: a stale or early delivery, which
// the engine must ignore.
//
// Syntax:
//
//	fire key=TIMER [only=(Kind, ...)]
//
// Example:
//
//	fire key=vrrp/VI_1/adv
func (h *Harness) cmdFire(a *params) error {
	return h.Step(&events.TimerFired{Key: a.Str("key", "")})
}
