package lvs

import (
	"strconv"

	"github.com/vigil-ha/vigil/effects"
)

// Quorum: a virtual server has quorum while its alive real servers'
// weights add up to enough (keepalived's quorum and hysteresis); without
// it the sorry server, when there is one, replaces the real servers.

// liveWeight is the sum of the alive real servers' weights.
func liveWeight(v *vserver) int {
	sum := 0
	for _, r := range v.reals {
		if r.dyn.Alive {
			sum += realWeight(r.dyn.Weight)
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
	q, h := v.cfg.Quorum, v.cfg.Hysteresis
	threshold := q + h
	if v.dyn.QuorumUp {
		threshold = q - h
	}
	nums := strconv.Itoa(q) + "+" + strconv.Itoa(h) + "=" + strconv.Itoa(threshold)
	switch {
	case !v.dyn.QuorumUp && sum >= threshold:
		v.dyn.QuorumUp = true
		m.out.log(effects.LogInfo, v.id, "Gained quorum "+nums+" <= "+strconv.Itoa(sum)+" for VS "+v.logName)
		if v.sorry != nil && v.dyn.SorryOn {
			verb := "Removing"
			if v.sorry.inhibit {
				verb = "Disabling"
			}
			m.out.log(effects.LogInfo, v.id, verb+" sorry server "+v.sorry.logName+" from VS "+v.logName)
			v.dyn.SorryOn = false
		}
	case (v.dyn.QuorumUp && (sum == 0 || sum < threshold)) || (init && !v.dyn.QuorumUp && v.sorry != nil && !v.dyn.SorryOn):
		v.dyn.QuorumUp = false
		what := "Lost quorum"
		if init {
			what = "Starting with quorum down"
		}
		nums = strconv.Itoa(q) + "-" + strconv.Itoa(h) + "=" + strconv.Itoa(threshold)
		m.out.log(effects.LogInfo, v.id, what+" "+nums+" > "+strconv.Itoa(sum)+" for VS "+v.logName)
		if v.sorry != nil && !v.dyn.SorryOn {
			verb := "Adding"
			if v.sorry.inhibit {
				verb = "Enabling"
			}
			m.out.log(effects.LogInfo, v.id, verb+" sorry server "+v.sorry.logName+" to VS "+v.logName)
			v.dyn.SorryOn = true
		}
	default:
		return
	}
	v.dirty = true
	m.notifyVS(v, quorumMailBody(v, init, threshold, sum))
}

// quorumOnStop is keepalived's update_vs_notifies for a virtual server
// going away: quorum goes down. When stopping, keepalived notifies DOWN
// (whatever the quorum was) only with omega; when a reload removes the
// virtual server, it notifies if quorum was up.
func (m *Machine) quorumOnStop(v *vserver, stopping bool) {
	was := v.dyn.QuorumUp
	v.dyn.QuorumUp, v.dyn.SorryOn = false, false
	body := "=> Shutting down <="
	if !stopping {
		body = quorumMailBody(v, false, v.cfg.Quorum-v.cfg.Hysteresis, liveWeight(v))
	}
	if (stopping && v.cfg.Omega) || (!stopping && was) {
		m.notifyVS(v, body)
	}
}
