package sim

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// checkStrict checks, once the cluster has settled, every group of
// instances sharing a VRID on a segment, per connected component:
// FAULT exactly when the inputs justify it, nothing stuck in INIT, one
// MASTER when anyone is eligible, the MASTER holding its VIPs and the
// neighbour view pointing at it, no one else holding them, and, when every
// member preempts, the MASTER having the highest priority.
func (m *monitor) checkStrict() {
	m.checkStrayVIPs()
	m.checkBFDState()
	vis := m.visible(false)
	done := make([]bool, len(vis))
	for i := range vis {
		if done[i] {
			continue
		}
		// The component of vis[i]: same segment, VRID and family, and
		// reachable (partition sides are equivalence classes).
		var comp []masterRef
		for j := i; j < len(vis); j++ {
			a, b := vis[i], vis[j]
			if !done[j] && a.seg == b.seg && a.in.VRID == b.in.VRID && a.fam6 == b.fam6 && m.w.hear(a.n, b.n) {
				done[j] = true
				comp = append(comp, b)
			}
		}
		m.checkComponent(comp)
	}
}

func (m *monitor) checkComponent(comp []masterRef) {
	var masters []masterRef
	eligible, allPreempt := 0, true
	for _, r := range comp {
		st, ok := r.n.state[r.in.Name]
		want := expectFault(r.n, r.in)
		switch {
		case !ok || st == effects.StateInit:
			m.violateOnce("init", "%s %s is stuck in INIT", r.n.Name, r.in.Name)
		case want && st != effects.StateFault:
			m.violateOnce("fault-state", "%s %s is %s but its tracked inputs have failed", r.n.Name, r.in.Name, st)
		case !want && st == effects.StateFault:
			m.violateOnce("fault-state", "%s %s is FAULT but none of its tracked inputs has failed", r.n.Name, r.in.Name)
		}
		if !want {
			eligible++
		}
		if st == effects.StateMaster {
			masters = append(masters, r)
		}
		if r.in.NoPreempt || syncGroupOf(r.n.conf, r.in.Name) != nil {
			allPreempt = false
		}
	}
	if eligible > 0 && len(masters) == 0 {
		m.violateOnce("no-master", "VRID %d on %s: no MASTER although %d node(s) are eligible",
			comp[0].in.VRID, comp[0].seg.Name, eligible)
	}
	for _, r := range comp {
		isMaster := r.n.state[r.in.Name] == effects.StateMaster
		for _, a := range r.in.VirtualIPAddresses {
			vip := a.Prefix.Addr()
			held := r.n.HasAddr(vip)
			if isMaster && !held {
				m.violateOnce("vip", "%s is MASTER of %s but does not hold %s", r.n.Name, r.in.Name, vip)
			}
			if !isMaster && held {
				m.violateOnce("vip", "%s holds %s but %s is %s", r.n.Name, vip, r.in.Name, r.n.state[r.in.Name])
			}
			if isMaster && len(masters) == 1 && m.soleMaster(r) {
				seg := r.seg
				if a.Dev != "" {
					if ifc := r.n.iface(a.Dev); ifc != nil && ifc.segment() != nil {
						seg = ifc.segment()
					}
				}
				// A rival that left MASTER unheard leaves a stale entry
				// nothing in VRRP can repair: not checked.
				if got := seg.neigh[vip]; got != r.n && !excused(seg, vip, got) {
					m.violateOnce("neighbour", "%s: neighbours send %s to %s, but %s is MASTER",
						seg.Name, vip, nodeName(got), r.n.Name)
				}
			}
		}
	}
	if len(masters) == 1 && allPreempt {
		m.checkPreempt(comp, masters[0])
	}
}

// soleMaster reports whether r is the only MASTER of its VRID on its
// segment across every partition side: the neighbour view is one per
// segment, so it can follow only an undivided segment. A stalled node
// counts: frozen, it is still MASTER and still holds its VIPs.
func (m *monitor) soleMaster(r masterRef) bool {
	for _, n := range m.w.nodes {
		if n == r.n || !n.running {
			continue
		}
		for i := range n.conf.Instances {
			in := &n.conf.Instances[i]
			ifc := n.iface(in.Interface)
			if n.state[in.Name] == effects.StateMaster && in.VRID == r.in.VRID && (in.Family == 6) == r.fam6 &&
				ifc != nil && ifc.up && ifc.seg == r.seg {
				return false
			}
		}
	}
	return true
}

// checkPreempt checks that a preempting group's MASTER has the highest
// priority (the engine's effective priority) among the eligible members.
func (m *monitor) checkPreempt(comp []masterRef, master masterRef) {
	mp := enginePriority(master.n, master.in.Name)
	for _, r := range comp {
		if r.n == master.n || expectFault(r.n, r.in) {
			continue
		}
		if p := enginePriority(r.n, r.in.Name); p > mp {
			m.violateOnce("priority", "%s is MASTER of VRID %d at priority %d, but %s has %d and preemption is on",
				master.n.Name, master.in.VRID, mp, r.n.Name, p)
		}
	}
}

func enginePriority(n *Node, inst string) int {
	for _, s := range n.statuses() {
		if s.Name == inst {
			return s.Priority
		}
	}
	return 0
}

func nodeName(n *Node) string {
	if n == nil {
		return "nobody"
	}
	return n.Name
}

func (m *monitor) violateOnce(rule, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if m.splitSeen[rule+msg] {
		return
	}
	m.splitSeen[rule+msg] = true
	m.violate(rule, "%s", msg)
}

func syncGroupOf(c *conf.Config, inst string) *conf.SyncGroup {
	for i := range c.SyncGroups {
		for _, name := range c.SyncGroups[i].Group {
			if name == inst {
				return &c.SyncGroups[i]
			}
		}
	}
	return nil
}

// expectFault reports whether keepalived's rules put the instance in FAULT
// given the world's inputs: its interface down, a zero-weight tracked
// interface down, a zero-weight track script failing, a zero-weight track
// file non-zero, a zero-weight process below quorum — for the instance or,
// in a sync group, for any member or the group's own trackers.
func expectFault(n *Node, in *conf.Instance) bool {
	g := syncGroupOf(n.conf, in.Name)
	if g == nil {
		return instFault(n, in)
	}
	if trackersFail(n, g.TrackInterfaces, g.TrackScripts, g.TrackFiles, g.TrackProcesses, g.TrackBFDs) {
		return true
	}
	for _, name := range g.Group {
		if other := n.inst[name]; other != nil && instFault(n, other) {
			return true
		}
	}
	return false
}

// tracksBFD reports whether the instance, or its sync group, tracks a BFD
// session.
func tracksBFD(n *Node, in *conf.Instance) bool {
	g := syncGroupOf(n.conf, in.Name)
	if g == nil {
		return len(in.TrackBFDs) > 0
	}
	if len(g.TrackBFDs) > 0 {
		return true
	}
	for _, name := range g.Group {
		if m := n.inst[name]; m != nil && len(m.TrackBFDs) > 0 {
			return true
		}
	}
	return false
}

func instFault(n *Node, in *conf.Instance) bool {
	if ifc := n.iface(in.Interface); !in.DontTrackPrimary && (ifc == nil || !ifc.up) {
		return true
	}
	return trackersFail(n, in.TrackInterfaces, in.TrackScripts, in.TrackFiles, in.TrackProcesses, in.TrackBFDs)
}

func refWeight(r conf.TrackRef, def int) int {
	if r.Weight != nil {
		return *r.Weight
	}
	return def
}

func trackersFail(n *Node, ifs, scripts, files, procs, bfds []conf.TrackRef) bool {
	for _, r := range bfds {
		for _, b := range n.conf.BFDInstances {
			if b.Name == r.Name && refWeight(r, b.Weight) == 0 && !bfdUp(n, b.Name) {
				return true
			}
		}
	}
	for _, r := range ifs {
		if ifc := n.iface(r.Name); refWeight(r, 0) == 0 && (ifc == nil || !ifc.up) {
			return true
		}
	}
	for _, r := range scripts {
		for _, s := range n.conf.VRRPScripts {
			if s.Name == r.Name && refWeight(r, s.Weight) == 0 && n.scriptExit[s.Name] != 0 {
				return true
			}
		}
	}
	for _, r := range files {
		for _, f := range n.conf.TrackFiles {
			if f.Name == r.Name && refWeight(r, f.Weight) == 0 && n.trackFileValue(f) != 0 {
				return true
			}
		}
	}
	for _, r := range procs {
		for _, p := range n.conf.TrackProcesses {
			c := n.processCount(p)
			if p.Name == r.Name && refWeight(r, p.Weight) == 0 &&
				(c < max(p.Quorum, 1) || (p.QuorumMax > 0 && c > p.QuorumMax)) {
				return true
			}
		}
	}
	return false
}

// expectTakeover arms the takeover-bound check before node n goes down
// (crash or graceful stop) in a settled cluster: for every instance n is
// MASTER of, an eligible BACKUP must start its GARP burst within the
// master-down time (crash) or the skew time (graceful) plus link delay.
// Called before the fault is recorded.
func (m *monitor) expectTakeover(n *Node, graceful bool) {
	if !m.strict || !m.settled() || !n.running || n.stalled() {
		return
	}
	type want struct {
		inst     string
		deadline time.Duration
	}
	var wants []want
	for _, r := range m.visible(true) {
		if r.n != n {
			continue
		}
		best, synced, found, bfd := 0, false, false, false
		var bestIn *conf.Instance
		var bestN *Node
		for _, c := range m.visible(false) {
			if c.n == n || c.seg != r.seg || c.in.VRID != r.in.VRID || c.fam6 != r.fam6 ||
				!m.w.hear(n, c.n) || c.n.state[c.in.Name] != effects.StateBackup || expectFault(c.n, c.in) {
				continue
			}
			if p := enginePriority(c.n, c.in.Name); !found || p > best {
				best, bestIn, bestN, found = p, c.in, c.n, true
			}
			synced = synced || syncGroupOf(c.n.conf, c.in.Name) != nil
			bfd = bfd || tracksBFD(c.n, c.in)
		}
		if !found || bfd {
			// With track_bfd, the node going down takes BFD sessions down
			// with it: the backups' priorities and FAULT move too, and the
			// takeover is no longer VRRP's alone.
			continue
		}
		iv := advertInt(bestIn)
		d := skew(best, iv) + m.maxDelay() + 2*time.Millisecond
		// A duplicated or reordered advert sent before the priority-0 one
		// may arrive after it and restart the full master-down timer.
		slow := !graceful || r.seg.Reorder > 0 || r.seg.Dup > 0
		if slow {
			d += time.Duration(downAdverts(bestIn)) * iv
		}
		if synced {
			// Members wait for the slowest of their group.
			d = syncTakeover(bestN, bestIn, !slow) + m.maxDelay() + 2*time.Millisecond
		}
		wants = append(wants, want{inst: bestIn.Name, deadline: d})
	}
	kind := map[bool]string{true: "graceful", false: "crash"}[graceful]
	m.w.afterFault(func(gen int) {
		for _, wt := range wants {
			m.w.after(wt.deadline, func() {
				if gen != m.faultGen {
					return // another fault intervened: the bound no longer applies
				}
				for _, g := range m.garps {
					if g.node != n && g.inst == wt.inst {
						return
					}
				}
				m.violate("takeover", "%s takeover of %s after %s went down: no new master sent GARPs within %s",
					kind, wt.inst, n.Name, wt.deadline)
			})
		}
	})
}

// masterExit notes an instance leaving MASTER (or its node going down
// while MASTER). If the node could not be heard by every other node on the
// segment then (partition, lossy link, crash), the neighbour entries
// pointing at it for the instance's VIPs may stay stale legitimately: the
// new master never learns it should refresh them.
func (m *monitor) masterExit(n *Node, in *conf.Instance, crash bool) {
	if in == nil {
		return
	}
	ifc := n.iface(in.Interface)
	if ifc == nil || ifc.seg == nil {
		return
	}
	seg := ifc.seg
	silent := crash || seg.Loss > 0 || !ifc.up
	for _, o := range seg.ends {
		if o.node != n && !m.w.reachable(n, o.node) {
			silent = true
		}
	}
	for _, a := range in.VirtualIPAddresses {
		vip := a.Prefix.Addr()
		// Heard leaving, but with GARPs perhaps still on the wire (sent
		// as MASTER, say in answer to a rival's advert in the very instant
		// it yielded to a third node): they may land after the winner's,
		// and nothing in VRRP makes the winner answer them (keepalived's
		// vrrp_higher_prio_send_advert, off by default, exists for this;
		// the winner's garp_lower_prio_delay burst, if any, repairs it).
		last, sent := seg.lastNeigh[vip][n]
		onWire := sent && m.w.now <= last.Add(seg.Latency+seg.Jitter)
		switch {
		case silent || onWire:
			// Also when the view does not point at n yet: GARPs n sent
			// while MASTER may still be on the wire and land after its
			// exit, and nothing can tell the new master to answer them.
			if seg.silentExit[vip] == nil {
				seg.silentExit[vip] = map[*Node]events.Time{}
			}
			seg.silentExit[vip][n] = m.w.now
		default:
			delete(seg.silentExit[vip], n) // n was heard leaving this time

		}
	}
}

// syncTakeover bounds the takeover of a sync group member: the group
// moves when its slowest member's timer expires (skew < one interval).
func syncTakeover(n *Node, in *conf.Instance, graceful bool) time.Duration {
	var d time.Duration
	for _, name := range syncGroupOf(n.conf, in.Name).Group {
		if o := n.inst[name]; o != nil {
			iv := advertInt(o)
			x := iv
			if !graceful {
				x += time.Duration(downAdverts(o)) * iv
			}
			d = max(d, x)
		}
	}
	return d
}

// afterFault runs fn once the fault being executed has been recorded.
func (w *World) afterFault(fn func(gen int)) {
	w.mon.pendingAfterFault = append(w.mon.pendingAfterFault, fn)
}

// excused reports whether the neighbour view may point at n for vip
// although n is not MASTER: n left MASTER unheard.
func excused(seg *Segment, vip netip.Addr, n *Node) bool {
	_, ok := seg.silentExit[vip][n]
	return ok
}
