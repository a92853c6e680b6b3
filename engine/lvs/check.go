package lvs

import (
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// initVS brings a virtual server into service (keepalived's
// init_service_vs on a server that was not running): checkers start,
// real servers without failed checkers are alive, quorum is evaluated with
// init set. fresh is false for a server a reload adds, whose checkers
// then need retry+1 failures like keepalived's.
func (m *Machine) initVS(v *vserver, fresh bool) {
	// keepalived sets the initial quorum state before any real server is
	// alive (set_quorum_states at parse time), so it is up only when no
	// weight is needed; init then gains it, notifying quorum_up.
	v.dyn.QuorumUp = v.cfg.Quorum+v.cfg.Hysteresis <= 0
	v.dyn.SorryOn = false
	for _, r := range v.reals {
		m.initRS(r, fresh)
	}
	v.dirty, v.servicesDirty = true, true
	m.updateQuorum(v, true)
}

// initRS starts a real server's checkers: alpha checkers are down until
// their first success, the others up; the first check runs after
// bootstrapDelay plus a warmup drawn from the seed.
func (m *Machine) initRS(r *rserver, fresh bool) {
	failed := 0
	for _, ck := range r.checkers {
		ck.dyn = checkerDyn{Key: ck.timerKey, Up: !ck.cfg.Alpha}
		if fresh {
			// "For non alpha mode, one failure is enough initially."
			ck.dyn.RetryIt = ck.cfg.Retry
		}
		if !ck.dyn.Up {
			failed++
		}
		if ck.polled {
			m.arm(ck, m.now.Add(bootstrapDelay+m.warmup(ck)))
		}
	}
	r.dyn.Weight = r.weight
	if failed == 0 {
		r.dyn.Alive = true
		if m.cfg.GlobalDefs.RSInitNotifies {
			m.notifyRS(r)
		}
	} else {
		r.dyn.Alive = false
	}
}

// warmup draws a checker's random initial delay, uniform in [0, warmup]
// at millisecond resolution. The draw depends only on the Start seed and
// the checker's key, so it is the same on replay and after a restore.
func (m *Machine) warmup(ck *checker) time.Duration {
	w := ck.cfg.Warmup.Std().Milliseconds()
	if w <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(ck.timerKey))
	x := m.seed ^ h.Sum64()
	// splitmix64's finaliser spreads nearby seeds and keys.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return time.Duration(x%uint64(w+1)) * time.Millisecond
}

func (m *Machine) arm(ck *checker, at events.Time) {
	ck.dyn.Due = at
	m.out.setTimer(ck.timerKey, at)
}

func (m *Machine) disarm(ck *checker) {
	if ck.dyn.Due != 0 {
		ck.dyn.Due = 0
		m.out.cancelTimer(ck.timerKey)
	}
	ck.dyn.Pending = false
}

// epilog applies one check's outcome as keepalived's checkers do
// (tcp_epilog): a success, or a failure once the retries are used up,
// decides the checker's state; a failure of an up checker with retries
// left schedules a retry after delay_before_retry.
func (m *Machine) epilog(ck *checker, ok bool, msg string, weight int, dynamic bool) {
	c, d := ck.cfg, &ck.dyn
	m.dynamicWeight(ck, ok, weight, dynamic)
	if !ok && d.Up && (c.LogAllFailures || m.cfg.GlobalDefs.CheckerLogAllFailures) {
		// log_all_failures: every failure of an up checker is logged, also
		// those its retries absorb (otherwise only the verdict is).
		m.logFailure(ck, msg)
	}
	delay := c.DelayLoop.Std()
	if ok || ((d.Up || !d.HasRun) && d.RetryIt >= c.Retry) {
		d.RetryIt = 0
		if ok && (!d.Up || !d.HasRun) {
			m.verdict(ck, true, "success", false)
		} else if !ok && (d.Up || !d.HasRun) {
			m.verdict(ck, false, msg, d.HasRun && c.Retry > 0)
		}
	} else if d.Up {
		delay = c.DelayBeforeRetry.Std()
		d.RetryIt++
	}
	d.HasRun = true
	if delay <= 0 {
		delay = time.Second // never spin on a zero delay
	}
	m.arm(ck, m.now.Add(delay))
}

// logFailure logs one failed check of an up checker (log_all_failures).
func (m *Machine) logFailure(ck *checker, reason string) {
	msg := ck.cfg.Type + " on service " + ck.rs.logName + " of VS " + ck.rs.vs.logName + ": check failed"
	if reason != "" {
		msg += " (" + reason + ")"
	}
	if ck.cfg.Retry > 0 && ck.dyn.RetryIt < ck.cfg.Retry {
		msg += ", retry " + strconv.Itoa(ck.dyn.RetryIt+1) + " of " + strconv.Itoa(ck.cfg.Retry)
	}
	m.out.log(effects.LogInfo, ck.rs.vs.id, msg)
}

// verdict is keepalived's update_svr_checker_state: a checker's state
// becomes up or down, and its real server follows (alive when all its
// checkers are up). A checker's first verdict that confirms its initial
// state changes nothing, but notifies for alpha checkers and failures.
// retried says the failure comes after retries, for the log.
func (m *Machine) verdict(ck *checker, up bool, reason string, retried bool) {
	d := &ck.dyn
	wasAlive := ck.rs.dyn.Alive
	if d.Up == up {
		if !d.HasRun {
			d.HasRun = true
			m.checkState(ck, up, reason, retried)
			if ck.cfg.Alpha || !up {
				m.notifyRS(ck.rs)
			}
			m.mailChecker(ck, false, wasAlive, up, reason)
		}
		return
	}
	d.HasRun, d.Up = true, up
	m.checkState(ck, up, reason, retried)
	alive := true
	for _, o := range ck.rs.checkers {
		alive = alive && o.dyn.Up
	}
	m.setAlive(ck.rs, alive)
	m.mailChecker(ck, true, wasAlive, up, reason)
}

func (m *Machine) checkState(ck *checker, up bool, reason string, retried bool) {
	s := m.out.states.Get()
	s.VirtualServer, s.RealServer, s.Checker, s.Type, s.Up, s.Reason = ck.rs.vs.id, ck.rs.id, ck.idx, ck.cfg.Type, up, reason
	m.out.add(s)
	msg := ck.cfg.Type + " on service " + ck.rs.logName + " of VS " + ck.rs.vs.logName
	switch {
	case up:
		msg += " succeeded."
	case retried:
		msg += " failed after " + strconv.Itoa(ck.cfg.Retry) + " retries."
	default:
		msg += " failed."
	}
	if !up && reason != "" {
		msg += " (" + reason + ")"
	}
	m.out.log(effects.LogInfo, ck.rs.vs.id, msg)
}

// setAlive is keepalived's perform_svr_state: a real server enters or
// leaves the pool, is notified, and quorum is re-evaluated.
func (m *Machine) setAlive(r *rserver, alive bool) {
	if r.dyn.Alive == alive {
		return
	}
	v := r.vs
	verb, prep := "Remov", "from"
	if alive {
		verb, prep = "Add", "to"
	}
	if r.inhibit {
		verb, prep = "Disabl", "of"
		if alive {
			verb = "Enabl"
		}
	}
	m.out.log(effects.LogInfo, v.id, verb+"ing service "+r.logName+" "+prep+" VS "+v.logName)
	r.dyn.Alive = alive
	v.dirty = true
	m.notifyRS(r)
	m.updateQuorum(v, false)
}

// dynamicWeight applies a MISC_CHECK misc_dynamic or dynamic FILE_CHECK
// weight (keepalived's update_svr_wgt): the checker's contribution
// changes the real server's effective weight.
func (m *Machine) dynamicWeight(ck *checker, ok bool, weight int, dynamic bool) {
	cur := 0
	if ok && dynamic {
		cur = weight
		if ck.cfg.Type == conf.CheckMisc {
			// The exit status sets the weight: status-2 replaces the
			// configured weight.
			cur = weight - ck.rs.weight
		}
	}
	if cur == ck.dyn.WeightDelta {
		return
	}
	r := ck.rs
	old := realWeight(r.dyn.Weight)
	r.dyn.Weight += cur - ck.dyn.WeightDelta
	ck.dyn.WeightDelta = cur
	if nw := realWeight(r.dyn.Weight); nw != old {
		in := ""
		if !r.dyn.Alive {
			in = "in"
		}
		m.out.log(effects.LogInfo, r.vs.id, "Changing weight from "+strconv.Itoa(old)+" to "+strconv.Itoa(nw)+" for "+in+"active service "+r.logName+" of VS "+r.vs.logName)
		r.vs.dirty = true
		m.updateQuorum(r.vs, false)
	}
}

// realWeight clamps an effective weight to what IPVS takes.
func realWeight(w int) int {
	return max(0, min(w, math.MaxInt32))
}

// notifyRS reports a real server's state: its notify_up or notify_down
// script as configured (keepalived adds no arguments) and the FIFO line
// "RS <rs> <vs> UP|DOWN".
func (m *Machine) notifyRS(r *rserver) {
	if r.cfg == nil {
		return
	}
	state, s := "DOWN", r.cfg.NotifyDown
	if r.dyn.Alive {
		state, s = "UP", r.cfg.NotifyUp
	}
	name := r.logName + " " + r.vs.logName
	m.out.notes = append(m.out.notes, m.buildNotify("RS", name, state, s, r.cfg.SMTPAlert))
}

// notifyVS reports a virtual server's quorum: quorum_up or quorum_down
// and the FIFO line "VS <vs> UP|DOWN", then the email alert saying
// mailBody.
func (m *Machine) notifyVS(v *vserver, mailBody string) {
	state, s := "DOWN", v.cfg.QuorumDown
	if v.dyn.QuorumUp {
		state, s = "UP", v.cfg.QuorumUp
	}
	m.out.notes = append(m.out.notes, m.buildNotify("VS", v.logName, state, s, v.cfg.SMTPAlert))
	m.mailVS(v, mailBody)
}

func (m *Machine) buildNotify(typ, name, state string, s *conf.Script, smtp bool) *effects.Notify {
	n := &effects.Notify{Type: typ, Name: name, State: state, FIFOLine: typ + " " + name + " " + state, SMTPAlert: smtp}
	if s != nil && len(s.Argv) > 0 {
		n.Scripts = [][]string{slices.Clone(s.Argv)}
		n.User, n.Group = s.User, s.Group
		if n.User == "" {
			n.User, n.Group = m.cfg.GlobalDefs.ScriptUser, m.cfg.GlobalDefs.ScriptGroup
		}
	}
	return n
}
