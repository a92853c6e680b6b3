package lvs

import (
	"github.com/vigil-ha/vigil/events/conf"
)

// reload replaces the configuration while running, as keepalived's
// clear_diff_services and init_services do: virtual servers, real servers
// and checkers that remain keep their state (a checker also keeps its
// schedule); what disappears is removed from the table with its DOWN
// notifications; what appears starts as at startup.
func (m *Machine) reload(cfg *conf.Config, cp *compiled) {
	keep := make(map[string]bool, len(cp.vss))
	for _, v := range cp.vss {
		keep[v.id] = true
	}
	old := make(map[string]*vserver, len(m.cp.vss))
	for _, ov := range m.cp.vss {
		old[ov.id] = ov
		if keep[ov.id] {
			continue
		}
		m.o.log("info", ov.id, "Removing Virtual Server "+ov.fmt)
		for _, r := range ov.rss {
			for _, ck := range r.checks {
				m.disarm(ck)
			}
		}
		m.clearVS(ov, false)
	}
	m.cfg, m.cp = cfg, cp
	for _, v := range cp.vss {
		if ov := old[v.id]; ov != nil {
			m.migrateVS(ov, v)
		} else {
			m.initVS(v, false)
		}
	}
}

// migrateVS carries a kept virtual server's state into its new model.
func (m *Machine) migrateVS(ov, v *vserver) {
	v.d.QuorumUp, v.d.SorryOn = ov.d.QuorumUp, ov.d.SorryOn && v.sorry != nil
	v.d.Svcs, v.d.Dests = ov.d.Svcs, ov.d.Dests
	byID := make(map[string]*rserver, len(v.rss))
	for _, r := range v.rss {
		byID[r.id] = r
	}
	oldByID := make(map[string]*rserver, len(ov.rss))
	for _, or := range ov.rss {
		oldByID[or.id] = or
		if byID[or.id] != nil {
			continue
		}
		m.o.log("info", v.id, "service "+or.fmt+" no longer exist")
		for _, ck := range or.checks {
			m.disarm(ck)
		}
		if or.d.Alive {
			or.d.Alive = false
			m.notifyRS(or)
		}
	}
	for _, r := range v.rss {
		if or := oldByID[r.id]; or != nil {
			m.migrateRS(or, r)
		} else {
			m.initRS(r, false)
		}
	}
	v.dirty, v.svcDirty = true, true
	m.updateQuorum(v, true)
}

// migrateRS carries a kept real server's checker states over
// (keepalived's migrate_checkers): a checker that is the same check keeps
// its verdict, retry count and schedule.
func (m *Machine) migrateRS(or, r *rserver) {
	r.d.Alive = or.d.Alive
	from := make([]*checker, len(r.checks))
	used := make([]bool, len(or.checks))
	for k, ck := range r.checks {
		ck.d = chkDyn{Key: ck.key, Up: true}
		for j, oc := range or.checks {
			if used[j] || !sameChecker(oc.c, ck.c) {
				continue
			}
			used[j], from[k] = true, oc
			if oc.d.HasRun {
				ck.d.Up = oc.d.Up
			}
			ck.d.HasRun, ck.d.Cur = oc.d.HasRun, oc.d.Cur
			switch {
			case !ck.d.Up:
				ck.d.RetryIt = ck.c.Retry + 1
			case oc.d.RetryIt >= ck.c.Retry:
				ck.d.RetryIt = ck.c.Retry
			default:
				ck.d.RetryIt = oc.d.RetryIt
			}
			break
		}
	}
	// Cancel what no longer runs under its key before arming anything, so
	// that a key reused by another checker ends armed.
	for j, oc := range or.checks {
		if !used[j] || oc.key != r.checks[indexOf(from, oc)].key {
			m.disarm(oc)
		}
	}
	failed, ran := 0, false
	for k, ck := range r.checks {
		oc := from[k]
		switch {
		case !ck.polled:
		case oc != nil && oc.key == ck.key:
			ck.d.Due, ck.d.Pending = oc.d.Due, oc.d.Pending
		case oc != nil && oc.d.Due != 0:
			m.arm(ck, max(oc.d.Due, m.now))
		default:
			m.arm(ck, m.now.Add(bootstrapDelay+m.warmup(ck)))
		}
		if ck.d.HasRun {
			ran = true
			if !ck.d.Up {
				failed++
			}
		}
	}
	if failed > 0 || (!r.d.Alive && !ran) {
		// "If a checker has failed, set new alpha checkers to be down
		// until they have run."
		for _, ck := range r.checks {
			if !ck.d.HasRun {
				if ck.c.Alpha {
					ck.d.Up = false
				}
				ck.d.RetryIt = ck.c.Retry
			}
		}
	}
	r.d.Weight = r.iweight
	all := true
	for _, ck := range r.checks {
		r.d.Weight += ck.d.Cur
		all = all && ck.d.Up
	}
	switch {
	case all && !r.d.Alive:
		m.setAlive(r, true)
	case !all && r.d.Alive:
		// keepalived takes it out of the pool without a notification.
		m.o.log("info", r.vs.id, "Removing service "+r.fmt+" from VS "+r.vs.fmt)
		r.d.Alive = false
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
