package lvs

import "strconv"

// Quorum: a virtual server has quorum while its alive real servers'
// weights add up to enough (keepalived's quorum and hysteresis); without
// it the sorry server, when there is one, replaces the real servers.

// liveWeight is the sum of the alive real servers' weights.
func liveWeight(v *vserver) int {
	sum := 0
	for _, r := range v.rss {
		if r.d.Alive {
			sum += realWeight(r.d.Weight)
		}
	}
	return sum
}

// updateQuorum is keepalived's update_quorum_state: quorum is gained at
// quorum+hysteresis and lost below quorum-hysteresis; losing it puts the
// sorry server in place of the real servers, gaining it takes it out.
// init is set when the server enters service (start, reload), when a
// server that starts without quorum gets its sorry server.
func (m *Machine) updateQuorum(v *vserver, init bool) {
	sum := liveWeight(v)
	q, h := v.c.Quorum, v.c.Hysteresis
	threshold := q + h
	if v.d.QuorumUp {
		threshold = q - h
	}
	nums := strconv.Itoa(q) + "+" + strconv.Itoa(h) + "=" + strconv.Itoa(threshold)
	switch {
	case !v.d.QuorumUp && sum >= threshold:
		v.d.QuorumUp = true
		m.o.log("info", v.id, "Gained quorum "+nums+" <= "+strconv.Itoa(sum)+" for VS "+v.fmt)
		if v.sorry != nil && v.d.SorryOn {
			verb := "Removing"
			if v.sorry.inhibit {
				verb = "Disabling"
			}
			m.o.log("info", v.id, verb+" sorry server "+v.sorry.fmt+" from VS "+v.fmt)
			v.d.SorryOn = false
		}
	case (v.d.QuorumUp && (sum == 0 || sum < threshold)) || (init && !v.d.QuorumUp && v.sorry != nil && !v.d.SorryOn):
		v.d.QuorumUp = false
		what := "Lost quorum"
		if init {
			what = "Starting with quorum down"
		}
		nums = strconv.Itoa(q) + "-" + strconv.Itoa(h) + "=" + strconv.Itoa(threshold)
		m.o.log("info", v.id, what+" "+nums+" > "+strconv.Itoa(sum)+" for VS "+v.fmt)
		if v.sorry != nil && !v.d.SorryOn {
			verb := "Adding"
			if v.sorry.inhibit {
				verb = "Enabling"
			}
			m.o.log("info", v.id, verb+" sorry server "+v.sorry.fmt+" to VS "+v.fmt)
			v.d.SorryOn = true
		}
	default:
		return
	}
	v.dirty = true
	m.notifyVS(v)
}

// quorumOnStop is keepalived's update_vs_notifies for a virtual server
// going away: quorum goes down. When stopping, keepalived notifies DOWN
// (whatever the quorum was) only with omega; when a reload removes the
// virtual server, it notifies if quorum was up.
func (m *Machine) quorumOnStop(v *vserver, stopping bool) {
	was := v.d.QuorumUp
	v.d.QuorumUp, v.d.SorryOn = false, false
	if (stopping && v.c.Omega) || (!stopping && was) {
		m.notifyVS(v)
	}
}
