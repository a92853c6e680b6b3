package sim

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// BFD in the simulator: the engine's SendBFD effects travel to the node
// holding the destination address, and arrive as the events.BFDReceived
// adapters/bfdnet's readers produce (source and port, destination,
// interface, TTL as sent, multihop by port, the packet's fields with
// verdict OK). Every rule (session lookup, checks, timers) stays in the
// engine.

// bfdPortBase is the first port of the range the daemon's BFD sender
// binds in (RFC 5881 §4: 49152-65535); a simulated node's sender uses
// bfdPortBase plus its index.
const bfdPortBase = 49152

// bfdView is the simulator's view of one of a node's BFD sessions: its
// state as the engine's BFDStateChanged effects said, and the detection
// bound the bfd-detect invariant holds it to.
type bfdView struct {
	cfg   *conf.BFDInstance
	state uint8
	// leftUp is when the session last fell from Up (0: never).
	leftUp events.Time
	// minRx is the largest min_rx this incarnation was configured with
	// (a reload that lowers it keeps the old value while it polls).
	minRx time.Duration
	// deadline is the latest time the session may still be Up or Init:
	// the last packet the engine accepted plus the detection time that
	// packet implies (RFC 5880 §6.8.4). 0: none running.
	deadline events.Time
	detect   time.Duration
	flagged  bool
}

// bfdViews builds the views of cfg's sessions, keeping those of old whose
// neighbour, source and mode are unchanged (the engine keeps them too).
func bfdViews(cfg *conf.Config, old map[string]*bfdView) map[string]*bfdView {
	if cfg == nil || len(cfg.BFDInstances) == 0 {
		return nil
	}
	vs := map[string]*bfdView{}
	for k := range cfg.BFDInstances {
		c := &cfg.BFDInstances[k]
		if _, dup := vs[c.Name]; dup || !c.Neighbor.IsValid() {
			continue
		}
		v := &bfdView{cfg: c, state: events.BFDAdminDown, minRx: c.MinRx.Std()}
		if o := old[c.Name]; o != nil && o.cfg.Neighbor == c.Neighbor && o.cfg.Source == c.Source && o.cfg.Multihop == c.Multihop {
			*v = *o
			v.cfg, v.minRx = c, max(o.minRx, c.MinRx.Std())
		}
		vs[c.Name] = v
	}
	return vs
}

// listensBFD reports whether the node has BFD sockets open for the port:
// the daemon opens them for a configuration with a bfd_instance, the
// multihop port only for a multihop one.
func listensBFD(n *Node, multihop bool) bool {
	for k := range n.conf.BFDInstances {
		if !multihop || n.conf.BFDInstances[k].Multihop {
			return true
		}
	}
	return false
}

// bfdSource is the address the kernel sends from to dst out of ifc: an
// address of ifc whose prefix holds dst, else its first global address of
// the family.
func bfdSource(ifc *Iface, dst netip.Addr) netip.Addr {
	var first netip.Addr
	for _, p := range ifc.addrs {
		a := p.Addr()
		if a.Is4() != dst.Is4() {
			continue
		}
		if p.Masked().Contains(dst) {
			return a
		}
		if !first.IsValid() && !a.IsLinkLocalUnicast() {
			first = a
		}
	}
	return first
}

// sendBFD carries one BFD control packet. Single hop: to the node on one
// of the sender's segments that holds the destination. Multihop: also to
// any node of the world holding it (routed: one hop more, one TTL less,
// both links' delays). Loss, one-way drops and partitions apply; a
// receiver without BFD sockets drops it.
func (w *World) sendBFD(n *Node, e *effects.SendBFD) {
	dst := e.Dst.Unmap()
	for _, ifc := range n.ifaces {
		seg := ifc.segment()
		if !ifc.linkUp() || seg == nil {
			continue
		}
		for _, r := range seg.ends {
			if r.node != n && r.hasAddr(dst) {
				w.bfdTransmit(n, ifc, r, e, dst, e.TTL, 0)
				return
			}
		}
	}
	if !e.Multihop {
		return
	}
	var out *Iface
	for _, ifc := range n.ifaces {
		if ifc.linkUp() && ifc.segment() != nil {
			out = ifc
			break
		}
	}
	if out == nil || e.TTL < 2 {
		return
	}
	for _, o := range w.nodes {
		if o == n {
			continue
		}
		for _, r := range o.ifaces {
			if r.segment() != nil && r.hasAddr(dst) {
				w.bfdTransmit(n, out, r, e, dst, e.TTL-1, w.jitterDelay(out.segment()))
				return
			}
		}
	}
}

// bfdTransmit schedules the packet's arrival on r after extra plus r's
// link delay (FIFO with the sender's other packets to r).
func (w *World) bfdTransmit(n *Node, from, r *Iface, e *effects.SendBFD, dst netip.Addr, ttl uint8, extra time.Duration) {
	seg := r.segment()
	if !r.linkUp() || !listensBFD(r.node, e.Multihop) || !w.reachable(n, r.node) || w.chance(seg.Loss) {
		return
	}
	src := e.Src.Unmap()
	if !src.IsValid() {
		src = bfdSource(from, dst)
	}
	d := extra + w.jitterDelay(seg)
	if from.lastArrival == nil {
		from.lastArrival = map[*Iface]events.Time{}
	}
	d = max(d, from.lastArrival[r].Sub(w.now))
	from.lastArrival[r] = w.now.Add(d)
	ev := &events.BFDReceived{Src: src, Dst: dst, SrcPort: uint16(bfdPortBase + n.index), Ifindex: r.Index,
		TTL: ttl, Multihop: e.Multihop, Verdict: events.BFDVerdictOK, Packet: e.Packet}
	it := w.newItem()
	it.at, it.kind, it.node, it.epoch, it.ev, it.iface = w.now.Add(d), itEvent, r.node, anyEpoch, ev, r
	w.schedule(it)
}

// bfdChanged records a session's transition.
func (w *World) bfdChanged(n *Node, e *effects.BFDStateChanged) {
	if v := n.bfd[e.Session]; v != nil {
		if v.state == events.BFDUp && e.To != events.BFDUp {
			v.leftUp = w.now
		}
		v.state = e.To
		if e.To == events.BFDDown || e.To == events.BFDAdminDown {
			v.deadline, v.flagged = 0, false
		}
	}
	w.logf("%s  bfd %s %s -> %s  (%s)", n.Name, e.Session, events.BFDStateName(e.From), events.BFDStateName(e.To), e.Reason)
	w.mon.topologyChanged()
}

// bfdAccepted notes, after a step of a received packet, the detection
// bound the packet sets if the engine accepted it (it counted no
// discard): the neighbour's Detect Mult times the greater of our
// Required Min RX and its Desired Min TX (RFC 5880 §6.8.4), from now.
// The session is found as the engine finds it by address.
func (w *World) bfdAccepted(n *Node, ev *events.BFDReceived, effs []effects.Effect) {
	for _, e := range effs {
		if c, ok := e.(*effects.Count); ok && c.Counter == effects.CounterBFDDiscarded {
			return
		}
	}
	src, dst := ev.Src.Unmap(), ev.Dst.Unmap()
	for k := range n.conf.BFDInstances {
		c := &n.conf.BFDInstances[k]
		v := n.bfd[c.Name]
		if v == nil || v.cfg != c || c.Neighbor != src || c.Multihop != ev.Multihop || (c.Source.IsValid() && c.Source != dst) {
			continue
		}
		p := &ev.Packet
		dt := time.Duration(p.DetectMult) * max(v.minRx, time.Duration(p.DesiredMinTx)*time.Microsecond)
		if dt > 0 {
			v.deadline, v.detect, v.flagged = w.now.Add(dt), dt, false
		}
		return
	}
}

// checkBFDDetect is the bfd-detect invariant, checked before each step of
// a node: a session Up or Init whose detection bound has passed should
// have gone Down by now. A node frozen across the bound gets until its
// thaw (its timers fire then).
func (m *monitor) checkBFDDetect(n *Node) {
	for _, c := range n.conf.BFDInstances {
		v := n.bfd[c.Name]
		if v == nil || v.flagged || v.deadline == 0 || (v.state != events.BFDUp && v.state != events.BFDInit) {
			continue
		}
		// A stall's end may not be processed yet when other items of
		// its instant are: the node is thawed from stalledUntil on.
		if m.w.now > max(v.deadline, n.thawAt, n.stalledUntil) {
			v.flagged = true
			m.violate("bfd-detect", "%s bfd %s is still %s %s after the last packet it accepted; detection time %s",
				n.Name, c.Name, events.BFDStateName(v.state), m.w.now.Sub(v.deadline.Add(-v.detect)), v.detect)
		}
	}
}

// bfdExpectUp reports whether n's session c should be Up in a settled
// world: single hop, its neighbour address held by a running, unfrozen
// node on a lossless segment both can send on, the path open both ways,
// and a session there pointing back. known is false where the simulator
// makes no claim (multihop, a lossy segment).
func (w *World) bfdExpectUp(n *Node, c *conf.BFDInstance) (up, known bool) {
	if c.Multihop {
		return false, false
	}
	dst := c.Neighbor.Unmap()
	for _, ifc := range n.ifaces {
		seg := ifc.segment()
		if !ifc.linkUp() || seg == nil {
			continue
		}
		for _, r := range seg.ends {
			if r.node == n || !r.hasAddr(dst) {
				continue
			}
			if seg.Loss > 0 {
				return false, false
			}
			p := r.node
			if !r.linkUp() || !p.running || p.stalled() || !w.reachable(n, p) || !w.reachable(p, n) {
				return false, true
			}
			src := c.Source.Unmap()
			if !src.IsValid() {
				src = bfdSource(ifc, dst)
			}
			for k := range p.conf.BFDInstances {
				pc := &p.conf.BFDInstances[k]
				if pc.Neighbor.Unmap() == src && !pc.Multihop && (!pc.Source.IsValid() || pc.Source.Unmap() == dst) {
					return !(c.Passive && pc.Passive), true
				}
			}
			return false, true
		}
	}
	return false, true
}

// checkBFDState is the settled world's BFD invariant: every session the
// world says should be Up is Up, and no other is.
func (m *monitor) checkBFDState() {
	for _, n := range m.w.nodes {
		if !n.running || n.stalled() {
			continue
		}
		for k := range n.conf.BFDInstances {
			c := &n.conf.BFDInstances[k]
			v := n.bfd[c.Name]
			want, known := m.w.bfdExpectUp(n, c)
			if v == nil || !known {
				continue
			}
			if got := v.state == events.BFDUp; got != want {
				m.violateOnce("bfd-state", "%s bfd %s is %s, but its path to %s is %s", n.Name, c.Name,
					events.BFDStateName(v.state), c.Neighbor, map[bool]string{true: "open", false: "broken"}[want])
			}
		}
	}
}

// bfdUp is whether track_bfd should see n's session name up: what the
// world says once settled, else (no claim possible) the engine's state.
func bfdUp(n *Node, name string) bool {
	v := n.bfd[name]
	if v == nil {
		return false
	}
	if up, known := n.w.bfdExpectUp(n, v.cfg); known {
		return up
	}
	return v.state == events.BFDUp
}

// bfdBound is how long BFD sessions may take to settle after a fault:
// the handshake at idle_tx and the slowest detection time, for the
// slowest session of the cluster.
func (m *monitor) bfdBound() time.Duration {
	var d time.Duration
	for _, n := range m.w.nodes {
		for _, c := range n.conf.BFDInstances {
			iv := max(c.IdleTx.Std(), c.MinRx.Std(), c.MinTx.Std(), time.Millisecond)
			d = max(d, time.Duration(max(c.Multiplier, 1)+3)*iv)
		}
	}
	return d
}

// Drop makes packets from node a to node b (every kind: VRRP, BFD) get
// lost, or stop getting lost (undo): a one-way path break.
func (w *World) Drop(a, b *Node, drop bool) {
	k := [2]int{a.index, b.index}
	if drop {
		if w.drops == nil {
			w.drops = map[[2]int]bool{}
		}
		w.drops[k] = true
	} else {
		delete(w.drops, k)
	}
	w.mon.topologyChanged()
}

// dropping reports whether a one-way drop is in place somewhere.
func (w *World) dropping() bool { return len(w.drops) > 0 }

// BFDState returns the state (events.BFDUp, ...) of node n's session name
// as the engine's effects last said, and whether n has such a session.
func (n *Node) BFDState(name string) (uint8, bool) {
	v := n.bfd[name]
	if v == nil {
		return 0, false
	}
	return v.state, true
}

func bfdStateByName(s string) (uint8, error) {
	for st := events.BFDAdminDown; st <= events.BFDUp; st++ {
		if strings.EqualFold(events.BFDStateName(st), s) {
			return st, nil
		}
	}
	return 0, fmt.Errorf("unknown BFD state %q (AdminDown, Down, Init, Up)", s)
}
