package scenario

import "github.com/vigil-ha/vigil/events"

var addrSpec = spec{steps: true, args: []arg{
	{key: "if", kind: value, required: true, hint: "if=NAME"},
	{key: "prefix", kind: value, required: true, hint: "prefix=ADDR/LEN"},
	{key: "del", kind: flag},
}}

// cmdAddr delivers an AddressChanged: an address added to an interface,
// or with del removed from it (by someone else: the harness does not
// echo the engine's own address effects).
//
// Syntax:
//
//	addr if=NAME prefix=ADDR/LEN [del] [only=(Kind, ...)]
//
// Example:
//
//	addr if=eth0 prefix=10.0.0.1/24 del
func (h *Harness) cmdAddr(a *params) error {
	ev := &events.AddressChanged{Interface: a.Str("if", ""), Prefix: a.Prefix("prefix"), Added: !a.Has("del")}
	if err := a.Err(); err != nil {
		return err
	}
	return h.Step(ev)
}
