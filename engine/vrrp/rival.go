package vrrp

import (
	"net/netip"
	"slices"
)

// A MASTER answers a lower-priority advert (and a priority-0 one) with an
// advert at its own priority and a GARP/NA burst, so that a rival that
// believed itself master yields and the LAN's neighbour caches end on us.
// keepalived 2.2.7 answers every such advert: 1,000 lower-priority adverts
// a second on the segment (a misconfigured or hostile node) make it send
// 1,000 adverts and 1,000 × garp_lower_prio_repeat GARPs a second.
//
// vigil answers the first advert of each rival at once (convergence after
// a partition is as fast as keepalived's) and then at most one per advert
// interval per rival: the rival has had our advert by then, and the
// regular advert goes out on schedule anyway, so a flood gains nothing.
// Another rival within the window is still answered at once (up to
// maxRivalsPerWindow of them): with three masters at once (after a lossy
// spell), the loser that yields to us sends one last advert at its own
// priority, and only our answer to it (GARPs) puts the LAN's neighbour
// caches back on us after the loser's own GARPs — a single window for all
// rivals let it pass (swarm seeds 3375 and 3470, sim/FINDINGS.md). What
// an answer is stays keepalived's (lower_prio_no_advert: no advert;
// garp_lower_prio_repeat GARPs, and garp_lower_prio_delay later another
// burst; notify_master_rx_lower_pri); the adverts let pass are counted
// (advert_rcvd) and their number logged with the next answer. A BACKUP's
// "discarding" log line for a lower-priority advert is bounded the same
// way. The window restarts with every state change, so a new MASTER
// answers its first rival at once.

// maxRivalsPerWindow bounds the distinct rivals answered within one
// advert interval, so that a flood from forged sources stays bounded too.
const maxRivalsPerWindow = 8

// answerRival reports whether i reacts now to a lower-priority (or
// priority-0) advert from src; if not, the advert is counted as let pass.
func (m *Machine) answerRival(i *instance, src netip.Addr) bool {
	if i.dyn.LowerAnsweredAt != 0 && m.now < i.dyn.LowerAnsweredAt.Add(i.advertInt) {
		if slices.Contains(i.dyn.LowerAnswered, src) || len(i.dyn.LowerAnswered) >= maxRivalsPerWindow {
			i.dyn.LowerIgnored++
			return false
		}
		i.dyn.LowerAnswered = append(i.dyn.LowerAnswered, src)
		return true
	}
	i.dyn.LowerAnsweredAt = m.now
	// A new slice: a snapshot taken earlier may share the old one.
	i.dyn.LowerAnswered = []netip.Addr{src}
	return true
}

// ignoredNote is the suffix of the next answer's log line: how many rival
// adverts the window let pass since the last one (and resets the count).
func (m *Machine) ignoredNote(i *instance) string {
	n := i.dyn.LowerIgnored
	if n == 0 {
		return ""
	}
	i.dyn.LowerIgnored = 0
	return " (" + itoa(n) + " more since the last answer, not answered)"
}

// resetRival restarts the answer window (on every state change).
func (m *Machine) resetRival(i *instance) {
	i.dyn.LowerAnsweredAt, i.dyn.LowerIgnored, i.dyn.LowerAnswered = 0, 0, nil
}
