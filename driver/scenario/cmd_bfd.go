package scenario

import "github.com/vigil-ha/vigil/events"

var bfdSpec = spec{steps: true,
	args: []arg{
		{key: "name", kind: value, required: true, hint: "name=NAME"},
		{key: "up", kind: flag},
		{key: "down", kind: flag},
	},
	oneOf: [][]string{{"up", "down"}},
}

// cmdBFD delivers a BFDState: the session up (the default, or up) or
// down.
//
// Syntax:
//
//	bfd name=NAME [up|down] [only=(Kind, ...)]
//
// Example:
//
//	bfd name=b1 down only=(StateChanged)
func (h *Harness) cmdBFD(a *params) error {
	return h.Step(&events.BFDState{Name: a.Str("name", ""), Up: !a.Has("down")})
}
