package scenario

import "github.com/vigil-ha/vigil/events"

var linkSpec = spec{steps: true,
	args: []arg{
		{key: "if", kind: value, required: true, hint: "if=NAME"},
		{key: "up", kind: flag},
		{key: "down", kind: flag},
		{key: "deleted", kind: flag},
		{key: "mtu", kind: value, hint: "mtu=N"},
		{key: "promote", kind: flag},
	},
	oneOf: [][]string{{"up", "down", "deleted"}},
}

// cmdLink delivers a LinkChanged: the interface up and running (the
// default, or up), down (neither up nor running) or deleted, with its MTU
// (mtu=, default none reported) and promote_secondaries on (promote;
// default off).
//
// Syntax:
//
//	link if=NAME [up|down|deleted] [mtu=N] [promote] [only=(Kind, ...)]
//
// Example:
//
//	link if=eth0 down only=(StateChanged)
func (h *Harness) cmdLink(a *params) error {
	up := !a.Has("down")
	return h.Step(&events.LinkChanged{Interface: a.Str("if", ""), Present: !a.Has("deleted"), Up: up, Running: up, MTU: a.Int("mtu", 0, 0, 1<<20),
		PromoteSecondaries: a.Has("promote")})
}
