package lvs

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events/conf"
)

// reload replaces the configuration while running, as keepalived's
// clear_diff_services and init_services do: virtual servers, real servers
// and checkers that remain keep their state (a checker also keeps its
// schedule); what disappears is removed from the table with its DOWN
// notifications; what appears starts as at startup.
func (m *Machine) reload(cfg *conf.Config, cp *compiled) {
	keep := make(map[string]bool, len(cp.vservers))
	for _, v := range cp.vservers {
		keep[v.id] = true
	}
	old := make(map[string]*vserver, len(m.model.vservers))
	for _, ov := range m.model.vservers {
		old[ov.id] = ov
		if keep[ov.id] {
			continue
		}
		m.out.log(effects.LogInfo, ov.id, "Removing Virtual Server "+ov.logName)
		for _, r := range ov.reals {
			for _, ck := range r.checkers {
				m.disarm(ck)
			}
		}
		m.clearVS(ov, false)
	}
	m.cfg, m.model = cfg, cp
	for _, v := range cp.vservers {
		if ov := old[v.id]; ov != nil {
			m.migrateVS(ov, v)
		} else {
			m.initVS(v, false)
		}
	}
}

// migrateVS carries a kept virtual server's state into its new model.
func (m *Machine) migrateVS(ov, v *vserver) {
	v.dyn.QuorumUp, v.dyn.SorryOn = ov.dyn.QuorumUp, ov.dyn.SorryOn && v.sorry != nil
	v.dyn.Services, v.dyn.Dests = ov.dyn.Services, ov.dyn.Dests
	byID := make(map[string]*rserver, len(v.reals))
	for _, r := range v.reals {
		byID[r.id] = r
	}
	oldByID := make(map[string]*rserver, len(ov.reals))
	for _, or := range ov.reals {
		oldByID[or.id] = or
		if byID[or.id] != nil {
			continue
		}
		m.out.log(effects.LogInfo, v.id, "service "+or.logName+" no longer exist")
		for _, ck := range or.checkers {
			m.disarm(ck)
		}
		if or.dyn.Alive {
			or.dyn.Alive = false
			m.notifyRS(or)
			m.mailRS(or, shutBody(false))
		}
	}
	for _, r := range v.reals {
		if or := oldByID[r.id]; or != nil {
			m.migrateRS(or, r)
		} else {
			m.initRS(r, false)
		}
	}
	v.dirty, v.servicesDirty = true, true
	m.updateQuorum(v, true)
}

// migrateRS carries a kept real server's checker states over
// (keepalived's migrate_checkers): a checker that is the same check keeps
// its verdict, retry count and schedule.
func (m *Machine) migrateRS(or, r *rserver) {
	r.dyn.Alive = or.dyn.Alive
	from := make([]*checker, len(r.checkers))
	used := make([]bool, len(or.checkers))
	for k, ck := range r.checkers {
		ck.dyn = checkerDyn{Key: ck.timerKey, Up: true}
		for j, oc := range or.checkers {
			if used[j] || !sameChecker(oc.cfg, ck.cfg) {
				continue
			}
			used[j], from[k] = true, oc
			if oc.dyn.HasRun {
				ck.dyn.Up = oc.dyn.Up
			}
			ck.dyn.HasRun, ck.dyn.WeightDelta = oc.dyn.HasRun, oc.dyn.WeightDelta
			switch {
			case !ck.dyn.Up:
				ck.dyn.RetryIt = ck.cfg.Retry + 1
			case oc.dyn.RetryIt >= ck.cfg.Retry:
				ck.dyn.RetryIt = ck.cfg.Retry
			default:
				ck.dyn.RetryIt = oc.dyn.RetryIt
			}
			break
		}
	}
	// Cancel what no longer runs under its key before arming anything, so
	// that a key reused by another checker ends armed.
	for j, oc := range or.checkers {
		if !used[j] || oc.timerKey != r.checkers[indexOf(from, oc)].timerKey {
			m.disarm(oc)
		}
	}
	failed, ran := 0, false
	for k, ck := range r.checkers {
		oc := from[k]
		switch {
		case !ck.polled:
		case oc != nil && oc.timerKey == ck.timerKey:
			ck.dyn.Due, ck.dyn.Pending = oc.dyn.Due, oc.dyn.Pending
		case oc != nil && oc.dyn.Due != 0:
			m.arm(ck, max(oc.dyn.Due, m.now))
		default:
			m.arm(ck, m.now.Add(bootstrapDelay+m.warmup(ck)))
		}
		if ck.dyn.HasRun {
			ran = true
			if !ck.dyn.Up {
				failed++
			}
		}
	}
	if failed > 0 || (!r.dyn.Alive && !ran) {
		// "If a checker has failed, set new alpha checkers to be down
		// until they have run."
		for _, ck := range r.checkers {
			if !ck.dyn.HasRun {
				if ck.cfg.Alpha {
					ck.dyn.Up = false
				}
				ck.dyn.RetryIt = ck.cfg.Retry
			}
		}
	}
	r.dyn.Weight = r.weight
	all := true
	for _, ck := range r.checkers {
		r.dyn.Weight += ck.dyn.WeightDelta
		all = all && ck.dyn.Up
	}
	switch {
	case all && !r.dyn.Alive:
		m.setAlive(r, true)
	case !all && r.dyn.Alive:
		// keepalived takes it out of the pool without a notification.
		m.out.log(effects.LogInfo, r.vs.id, "Removing service "+r.logName+" from VS "+r.vs.logName)
		r.dyn.Alive = false
	}
}

func indexOf(l []*checker, c *checker) int {
	for k, x := range l {
		if x == c {
			return k
		}
	}
	return -1
}
