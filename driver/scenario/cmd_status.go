package scenario

import "fmt"

var statusSpec = spec{}

// cmdStatus reports the engine's state: every VRRP instance (state,
// effective and configured priority), then every LVS virtual server
// (quorum, sorry server, live weight) with its real servers and their
// checkers.
//
// Syntax:
//
//	status
//
// Example:
//
//	status
func (h *Harness) cmdStatus(*params) error {
	for _, s := range h.Engine.Instances() {
		h.report("%s %s prio=%d base=%d vrid=%d if=%s fam=%d group=%s", s.Name, s.State, s.Priority, s.BasePriority, s.VRID, s.Interface, s.Family, s.SyncGroup)
	}
	for _, v := range h.Engine.VirtualServers() {
		h.report("%s %s quorum=%v sorry=%v live=%d", v.ID, v.Name, v.QuorumUp, v.SorryOn, v.LiveWeight)
		for _, r := range v.RealServers {
			s := ""
			for _, c := range r.Checkers {
				s += fmt.Sprintf(" [%s up=%v run=%v retry=%d next=%s]", c.Type, c.Up, c.HasRun, c.RetryIt, c.Next)
			}
			h.report("  %s alive=%v w=%d%s", r.ID, r.Alive, r.Weight, s)
		}
	}
	return nil
}
