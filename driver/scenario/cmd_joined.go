package scenario

import (
	"net/netip"

	"github.com/vigil-ha/vigil/events"
)

var joinedSpec = spec{steps: true, args: []arg{
	{key: "if", kind: value, required: true, hint: "if=NAME"},
	{key: "group", kind: value, required: true, hint: "group=ADDR"},
	{key: "err", kind: value, hint: "err=TEXT"},
}}

// cmdJoined delivers a GroupJoined: the outcome of a JoinGroup (after
// `start reports-joins`), a success or with err= a failure.
//
// Syntax:
//
//	joined if=NAME group=ADDR [err=TEXT] [only=(Kind, ...)]
//
// Example:
//
//	joined if=eth0 group=224.0.0.18 err=ENODEV only=(StateChanged)
func (h *Harness) cmdJoined(a *params) error {
	ev := &events.GroupJoined{Interface: a.Str("if", ""), Group: a.Addr("group", netip.Addr{}), Err: a.Str("err", "")}
	if err := a.Err(); err != nil {
		return err
	}
	return h.Step(ev)
}
