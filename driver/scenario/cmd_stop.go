package scenario

import "github.com/vigil-ha/vigil/events"

var stopSpec = spec{steps: true, args: []arg{
	{key: "keep", kind: flag},
	{key: "keep-ipvs", kind: flag},
}}

// cmdStop delivers Stop: keep leaves the virtual addresses in place
// (keepalived's --dont-release-vrrp), keep-ipvs the IPVS table
// (--dont-release-ipvs).
//
// Syntax:
//
//	stop [keep] [keep-ipvs] [only=(Kind, ...)]
//
// Example:
//
//	stop keep-ipvs only=(SetIPVS, Notify)
func (h *Harness) cmdStop(a *params) error {
	return h.Step(&events.Stop{KeepAddresses: a.Has("keep"), KeepIPVS: a.Has("keep-ipvs")})
}
