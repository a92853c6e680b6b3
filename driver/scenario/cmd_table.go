package scenario

import (
	"net/netip"

	"github.com/vigil-ha/vigil/driver"
)

var tableSpec = spec{}

// cmdTable prints the IPVS table the engine asks for (its IPVSTable,
// which the harness's IPVS model matches after every step): each service
// with its virtual server, then its destinations.
//
// Syntax:
//
//	table
//
// Example:
//
//	table
func (h *Harness) cmdTable(*params) error {
	for _, s := range h.Engine.IPVSTable() {
		h.report("%s (%s)", driver.DescribeService(&s.Service, true), s.VirtualServer)
		for _, d := range s.Dests {
			h.report("  -> %s %s w=%d", netip.AddrPortFrom(d.Dest.Addr, uint16(d.Dest.Port)), d.Dest.Method, d.Weight)
		}
	}
	return nil
}
