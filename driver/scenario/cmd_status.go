package scenario

import (
	"fmt"

	"github.com/vigil-ha/vigil/events"
)

var statusSpec = spec{}

// cmdStatus reports the engine's state: every VRRP instance (state,
// effective and configured priority), then every LVS virtual server
// (quorum, sorry server, live weight) with its real servers and their
// checkers, then every BFD session (state, discriminators, diagnostics,
// the negotiated transmit interval and detection time, what track_bfd
// sees).
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
	for _, b := range h.Engine.BFDSessions() {
		h.report("bfd %s %s remote=%s my=%#x your=%#x diag=%d remote-diag=%d tx=%s detect=%s poll=%v tracked=%s", b.Name,
			events.BFDStateName(b.State), events.BFDStateName(b.RemoteState), b.LocalDisc, b.RemoteDisc, b.LocalDiag, b.RemoteDiag,
			b.TxInterval, b.DetectTime, b.Poll, map[bool]string{true: "up", false: "down"}[b.Reported])
	}
	return nil
}
