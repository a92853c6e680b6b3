package scenario

import "github.com/vigil-ha/vigil/events"

var routeSpec = spec{steps: true, args: []arg{
	{key: "dst", kind: value, required: true, hint: "dst=ADDR/LEN"},
	{key: "table", kind: value, hint: "table=N"},
	{key: "del", kind: flag},
}}

// cmdRoute delivers a RouteChanged: a route added to a table (default
// 0), or with del removed.
//
// Syntax:
//
//	route dst=ADDR/LEN [table=N] [del] [only=(Kind, ...)]
//
// Example:
//
//	route dst=192.168.1.0/24 table=100 del only=(AddRoute)
func (h *Harness) cmdRoute(a *params) error {
	ev := &events.RouteChanged{Dst: a.Prefix("dst"), Table: a.Int("table", 0, 0, 1<<32-1), Added: !a.Has("del")}
	if err := a.Err(); err != nil {
		return err
	}
	return h.Step(ev)
}
