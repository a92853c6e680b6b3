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
	v.d.QuorumUp = v.c.Quorum+v.c.Hysteresis <= 0
	v.d.SorryOn = false
	for _, r := range v.rss {
		m.initRS(r, fresh)
	}
	v.dirty, v.svcDirty = true, true
	m.updateQuorum(v, true)
}

// initRS starts a real server's checkers: alpha checkers are down until
// their first success, the others up; the first check runs after
// bootstrapDelay plus a warmup drawn from the seed.
func (m *Machine) initRS(r *rserver, fresh bool) {
	failed := 0
	for _, ck := range r.checks {
		ck.d = chkDyn{Key: ck.key, Up: !ck.c.Alpha}
		if fresh {
			// "For non alpha mode, one failure is enough initially."
			ck.d.RetryIt = ck.c.Retry
		}
		if !ck.d.Up {
			failed++
		}
		if ck.polled {
			m.arm(ck, m.now.Add(bootstrapDelay+m.warmup(ck)))
		}
	}
	r.d.Weight = r.iweight
	if failed == 0 {
		r.d.Alive = true
		if m.cfg.GlobalDefs.RSInitNotifies {
			m.notifyRS(r)
		}
	} else {
		r.d.Alive = false
	}
}

// warmup draws a checker's random initial delay, uniform in [0, warmup]
// at millisecond resolution. The draw depends only on the Start seed and
// the checker's key, so it is the same on replay and after a restore.
func (m *Machine) warmup(ck *checker) time.Duration {
	w := ck.c.Warmup.Std().Milliseconds()
	if w <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(ck.key))
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
	ck.d.Due = at
	m.o.setTimer(ck.key, at)
}

func (m *Machine) disarm(ck *checker) {
	if ck.d.Due != 0 {
		ck.d.Due = 0
		m.o.cancelTimer(ck.key)
	}
	ck.d.Pending = false
}

// epilog applies one check's outcome as keepalived's checkers do
// (tcp_epilog): a success, or a failure once the retries are used up,
// decides the checker's state; a failure of an up checker with retries
// left schedules a retry after delay_before_retry.
func (m *Machine) epilog(ck *checker, ok bool, msg string, weight int, dynamic bool) {
	c, d := ck.c, &ck.d
	m.dynamicWeight(ck, ok, weight, dynamic)
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

// verdict is keepalived's update_svr_checker_state: a checker's state
// becomes up or down, and its real server follows (alive when all its
// checkers are up). A checker's first verdict that confirms its initial
// state changes nothing, but notifies for alpha checkers and failures.
// retried says the failure comes after retries, for the log.
func (m *Machine) verdict(ck *checker, up bool, reason string, retried bool) {
	d := &ck.d
	if d.Up == up {
		if !d.HasRun {
			d.HasRun = true
			m.checkState(ck, up, reason, retried)
			if ck.c.Alpha || !up {
				m.notifyRS(ck.rs)
			}
		}
		return
	}
	d.HasRun, d.Up = true, up
	m.checkState(ck, up, reason, retried)
	alive := true
	for _, o := range ck.rs.checks {
		alive = alive && o.d.Up
	}
	m.setAlive(ck.rs, alive)
}

func (m *Machine) checkState(ck *checker, up bool, reason string, retried bool) {
	s := m.o.states.Get()
	s.VirtualServer, s.RealServer, s.Checker, s.Type, s.Up, s.Reason = ck.rs.vs.id, ck.rs.id, ck.idx, ck.c.Type, up, reason
	m.o.add(s)
	msg := ck.c.Type + " on service " + ck.rs.fmt + " of VS " + ck.rs.vs.fmt
	switch {
	case up:
		msg += " succeeded."
	case retried:
		msg += " failed after " + strconv.Itoa(ck.c.Retry) + " retries."
	default:
		msg += " failed."
	}
	if !up && reason != "" {
		msg += " (" + reason + ")"
	}
	m.o.log("info", ck.rs.vs.id, msg)
}

// setAlive is keepalived's perform_svr_state: a real server enters or
// leaves the pool, is notified, and quorum is re-evaluated.
func (m *Machine) setAlive(r *rserver, alive bool) {
	if r.d.Alive == alive {
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
	m.o.log("info", v.id, verb+"ing service "+r.fmt+" "+prep+" VS "+v.fmt)
	r.d.Alive = alive
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
		if ck.c.Type == conf.CheckMisc {
			// The exit status sets the weight: status-2 replaces the
			// configured weight.
			cur = weight - ck.rs.iweight
		}
	}
	if cur == ck.d.Cur {
		return
	}
	r := ck.rs
	old := realWeight(r.d.Weight)
	r.d.Weight += cur - ck.d.Cur
	ck.d.Cur = cur
	if nw := realWeight(r.d.Weight); nw != old {
		in := ""
		if !r.d.Alive {
			in = "in"
		}
		m.o.log("info", r.vs.id, "Changing weight from "+strconv.Itoa(old)+" to "+strconv.Itoa(nw)+" for "+in+"active service "+r.fmt+" of VS "+r.vs.fmt)
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
	if r.c == nil {
		return
	}
	state, s := "DOWN", r.c.NotifyDown
	if r.d.Alive {
		state, s = "UP", r.c.NotifyUp
	}
	name := r.fmt + " " + r.vs.fmt
	m.o.notes = append(m.o.notes, m.buildNotify("RS", name, state, s, r.c.SMTPAlert))
}

// notifyVS reports a virtual server's quorum: quorum_up or quorum_down
// and the FIFO line "VS <vs> UP|DOWN".
func (m *Machine) notifyVS(v *vserver) {
	state, s := "DOWN", v.c.QuorumDown
	if v.d.QuorumUp {
		state, s = "UP", v.c.QuorumUp
	}
	m.o.notes = append(m.o.notes, m.buildNotify("VS", v.fmt, state, s, v.c.SMTPAlert))
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
