package sim

import (
	"fmt"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// Violation is a broken invariant.
type Violation struct {
	At events.Time
	// Rule names the invariant: split-brain, no-master, fault-state,
	// neighbour, vip, priority, takeover, reload.
	Rule string
	Msg  string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s: %s", stamp(v.At), v.Rule, v.Msg)
}

// garpRec records that a node started a GARP/NA burst for an instance.
type garpRec struct {
	at   events.Time
	node *Node
	inst string
}

// monitor watches the world for invariant violations. Split-brain is always
// watched (for `expect no-split-brain`); the swarm's stricter invariants
// are on in strict mode.
type monitor struct {
	w *World
	// lastFault is when the last fault command ran (or a stall ended);
	// settleAt is lastFault plus the protocol's convergence bound.
	lastFault, settleAt events.Time
	faultGen            int
	garps               []garpRec
	// changes lists the instance transitions since the last fault.
	changes []string

	strict bool
	// haltOnFail stops the run at the first violation (swarm).
	haltOnFail bool
	halt       bool
	dirty      bool
	violations []Violation
	// splitSeen avoids reporting one continuing split brain repeatedly.
	splitSeen map[string]bool
	// pendingAfterFault runs after the next fault is recorded.
	pendingAfterFault []func(gen int)
	// reload watches a reload with an unchanged configuration.
	reload *reloadWatch
}

func (m *monitor) init(w *World) {
	m.w = w
	m.splitSeen = map[string]bool{}
}

// Violations returns the invariant violations seen so far.
func (w *World) Violations() []Violation { return w.mon.violations }

// SetStrict turns on the swarm invariants (liveness, justified FAULT,
// neighbour view, VIP placement, preemption, takeover bounds); halt stops
// the run at the first violation.
func (w *World) SetStrict(strict, halt bool) {
	w.mon.strict, w.mon.haltOnFail = strict, halt
}

// Fault records a fault at the current time: convergence bounds count from
// here, and GARPs are recorded for `expect takeover`.
func (w *World) Fault() { w.mon.fault() }

// LastFault is the time of the last fault.
func (w *World) LastFault() events.Time { return w.mon.lastFault }

func (m *monitor) fault() {
	m.lastFault = m.w.now
	m.settleAt = m.w.now.Add(m.bound())
	m.faultGen++
	m.garps = m.garps[:0]
	m.changes = m.changes[:0]
	m.splitSeen = map[string]bool{}
	gen := m.faultGen
	for _, fn := range m.pendingAfterFault {
		fn(gen)
	}
	m.pendingAfterFault = nil
	m.w.schedule(&item{at: m.settleAt, kind: itHook, fn: func() {
		if gen == m.faultGen {
			m.evaluate()
		}
	}})
}

// settled reports whether the convergence bound has passed since the
// last fault. Never while a one-way drop is in place: with one node
// deaf to another, VRRP has no settled state to check (the split brain
// it leads to is the fault's own).
func (m *monitor) settled() bool { return m.w.now >= m.settleAt && !m.w.dropping() }

func (m *monitor) garp(n *Node, inst string) {
	m.garps = append(m.garps, garpRec{at: m.w.now, node: n, inst: inst})
}

// firstGARP returns the first GARP burst by n for inst since the last fault.
func (m *monitor) firstGARP(n *Node, inst string) (events.Time, bool) {
	for _, g := range m.garps {
		if g.node == n && g.inst == inst {
			return g.at, true
		}
	}
	return 0, false
}

func (m *monitor) topologyChanged() { m.dirty = true }

func (m *monitor) violate(rule, format string, args ...any) {
	v := Violation{At: m.w.now, Rule: rule, Msg: fmt.Sprintf(format, args...)}
	m.violations = append(m.violations, v)
	m.w.logf("VIOLATION %s: %s", rule, v.Msg)
	if m.haltOnFail {
		m.halt = true
	}
}

// maxDelay is the longest one-way delay a packet can take on any segment.
func (m *monitor) maxDelay() time.Duration {
	var d time.Duration
	for _, s := range m.w.segs {
		l := s.Latency + s.Jitter
		if s.Reorder > 0 {
			l += 10 * (s.Latency + s.Jitter)
		}
		if s.Dup > 0 {
			l += s.Latency
		}
		d = max(d, l)
	}
	return d
}

// bound is the protocol's convergence bound for the whole cluster: the
// slowest instance's master-down time plus one interval, its preempt
// delay, its slowest track script's rise/fall time, and link delays.
//
// With preempt_delay, convergence can take two master-down times: when
// the fault made the master leave silently (a sync group's follower, an
// interface flap), a lower-priority node first takes over after its
// master-down time, and only its adverts start the preempting node's
// preempt_delay, after which that node's own master-down timer still has
// to run out (keepalived and RFC 5798 alike).
func (m *monitor) bound() time.Duration {
	var b, slowest time.Duration
	for _, n := range m.w.nodes {
		for i := range n.conf.Instances {
			in := &n.conf.Instances[i]
			slowest = max(slowest, time.Duration(downAdverts(in)+1)*advertInt(in))
		}
	}
	for _, n := range m.w.nodes {
		c := n.conf
		for i := range c.Instances {
			in := &c.Instances[i]
			x := time.Duration(downAdverts(in)+2)*advertInt(in) + in.PreemptDelay.Std()
			if d := in.PreemptDelay.Std(); d > 0 {
				x = max(x, slowest+d+time.Duration(downAdverts(in)+1)*advertInt(in))
			}
			b = max(b, x+c.GlobalDefs.VRRPStartupDelay.Std()+scriptBound(c, in))
		}
	}
	return b + m.duelBound() + m.bfdBound() + 4*m.maxDelay() + 50*time.Millisecond
}

// duelBound is the extra time sync groups may need to settle a duel
// (sim/FINDINGS.md #3): when two nodes' groups have member priorities in
// opposite orders and their slowest members time out together, both go
// MASTER and both step down, in keepalived as in vigil. vigil then holds
// each group's next switch back by a random delay below its longest
// advert interval, so one more master-down time plus that interval
// settles it. Only clusters where two nodes run multi-member sync groups
// get the allowance.
func (m *monitor) duelBound() time.Duration {
	var d time.Duration
	nodes := 0
	for _, n := range m.w.nodes {
		var x time.Duration
		for _, g := range n.conf.SyncGroups {
			if len(g.Group) < 2 {
				continue
			}
			for i := range n.conf.Instances {
				in := &n.conf.Instances[i]
				if sg := syncGroupOf(n.conf, in.Name); sg != nil && sg.Name == g.Name {
					x = max(x, time.Duration(downAdverts(in)+2)*advertInt(in))
				}
			}
		}
		if x > 0 {
			nodes++
			d = max(d, x)
		}
	}
	if nodes < 2 {
		return 0
	}
	return d
}

func advertInt(in *conf.Instance) time.Duration {
	if in.AdvertInt <= 0 {
		return time.Second
	}
	return in.AdvertInt.Std()
}

func downAdverts(in *conf.Instance) int {
	if in.DownTimerAdverts <= 0 {
		return conf.DefaultDownAdverts
	}
	return in.DownTimerAdverts
}

// scriptBound is how long the slowest track script of an instance (or of
// its sync group) takes to change its verdict.
func scriptBound(c *conf.Config, in *conf.Instance) time.Duration {
	refs := in.TrackScripts
	for _, g := range c.SyncGroups {
		for _, name := range g.Group {
			if name == in.Name {
				refs = append(refs[:len(refs):len(refs)], g.TrackScripts...)
			}
		}
	}
	var b time.Duration
	for _, r := range refs {
		for _, s := range c.VRRPScripts {
			if s.Name == r.Name {
				iv := s.Interval.Std()
				if iv <= 0 {
					iv = time.Second
				}
				b = max(b, iv*time.Duration(max(s.Rise, s.Fall, 1)+1)+s.Timeout.Std())
			}
		}
	}
	return b
}

// skew is keepalived's skew time for priority p.
func skew(p int, interval time.Duration) time.Duration {
	return time.Duration(256-p) * interval / 256
}

// masterRef is one running instance in MASTER state on a live link.
type masterRef struct {
	n    *Node
	in   *conf.Instance
	ifc  *Iface
	seg  *Segment
	fam6 bool
}

// evaluate checks the invariants against the current world.
func (m *monitor) evaluate() {
	m.dirty = false
	m.checkSplit()
	if m.strict && m.settled() {
		m.checkStrict()
	}
}

// visible lists the instances of running, unfrozen nodes whose interface
// is up on a lossless segment, in node then config order.
func (m *monitor) visible(onlyMasters bool) []masterRef {
	var out []masterRef
	for _, n := range m.w.nodes {
		if !n.running || n.stalled() {
			continue
		}
		for i := range n.conf.Instances {
			in := &n.conf.Instances[i]
			if onlyMasters && n.state[in.Name] != effects.StateMaster {
				continue
			}
			ifc := n.iface(in.Interface)
			if ifc == nil || !ifc.up || ifc.seg == nil || ifc.seg.Loss > 0 {
				continue
			}
			out = append(out, masterRef{n: n, in: in, ifc: ifc, seg: ifc.seg, fam6: in.Family == 6})
		}
	}
	return out
}

// checkSplit reports two MASTERs for one VRID that can hear each other,
// once the convergence bound has passed since the last fault.
func (m *monitor) checkSplit() {
	if !m.settled() {
		return
	}
	ms := m.visible(true)
	for i := range ms {
		for j := i + 1; j < len(ms); j++ {
			a, b := ms[i], ms[j]
			if a.n == b.n || a.seg != b.seg || a.in.VRID != b.in.VRID || a.fam6 != b.fam6 || !m.w.hear(a.n, b.n) {
				continue
			}
			key := fmt.Sprintf("%s/%d/%s/%s", a.seg.Name, a.in.VRID, a.n.Name, b.n.Name)
			if m.splitSeen[key] {
				continue
			}
			m.splitSeen[key] = true
			m.violate("split-brain", "VRID %d on %s: %s (%s) and %s (%s) are both MASTER %s after the last fault",
				a.in.VRID, a.seg.Name, a.n.Name, a.in.Name, b.n.Name, b.in.Name, m.w.now.Sub(m.lastFault))
		}
	}
}
