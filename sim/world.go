package sim

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/vigil-ha/vigil/driver"
	"github.com/vigil-ha/vigil/events"
)

// World is a simulated cluster on virtual time. It is not safe for
// concurrent use; a run is a single goroutine.
type World struct {
	backend Backend
	rng     *rand.Rand
	seed    uint64
	now     events.Time
	q       queue

	nodes  []*Node
	byName map[string]*Node
	segs   []*Segment
	segBy  map[string]*Segment

	// out receives the timeline (state changes, neighbour view changes,
	// commands, expect results); nil discards it.
	out io.Writer
	// trace, when set, receives every event and effect.
	trace io.Writer

	mon monitor
	// steps counts engine steps (the swarm's event figure).
	steps uint64
	// rec, when set, observes every engine (see Recorder).
	rec Recorder
	// probe, when set, runs after each queued item (SetProbe).
	probe func()
	// free holds dispatched items for reuse (newItem); timerFired is
	// the reused TimerFired event (without a recorder).
	free       []*item
	timerFired events.TimerFired
	// drops holds the one-way path breaks: packets from node index [0]
	// to node index [1] are lost.
	drops map[[2]int]bool
}

// NewWorld returns an empty world whose random choices all come from seed.
func NewWorld(b Backend, seed uint64) *World {
	w := &World{
		backend: b,
		byName:  map[string]*Node{},
		segBy:   map[string]*Segment{},
	}
	w.Reseed(seed)
	w.mon.init(w)
	return w
}

// Reseed replaces the PRNG; used by the scenario `seed` command before any
// random choice is made.
func (w *World) Reseed(seed uint64) {
	w.seed = seed
	w.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// SetOutput sets the timeline writer (nil: discard).
func (w *World) SetOutput(out io.Writer) { w.out = out }

// SetTrace sets the event/effect trace writer (nil: tracing off).
func (w *World) SetTrace(tr io.Writer) { w.trace = tr }

// Now is the current virtual time.
func (w *World) Now() events.Time { return w.now }

// Nodes lists the nodes in declaration order.
func (w *World) Nodes() []*Node { return w.nodes }

// Node returns the node called name, or nil.
func (w *World) Node(name string) *Node { return w.byName[name] }

// Segment returns the segment called name, or nil.
func (w *World) Segment(name string) *Segment { return w.segBy[name] }

func (w *World) logf(format string, args ...any) {
	if w.out != nil {
		fmt.Fprintf(w.out, "%s  %s\n", stamp(w.now), fmt.Sprintf(format, args...))
	}
}

// stamp formats a virtual time for the timeline: seconds, microseconds.
func stamp(t events.Time) string {
	return fmt.Sprintf("%11.6fs", time.Duration(t).Seconds())
}

// Iface is a node's network interface.
type Iface struct {
	node  *Node
	Name  string
	Index int
	HW    string
	up    bool
	addrs driver.Addresses
	seg   *Segment
	// pos is the interface's 1-based position on its segment.
	pos int
	// lastArrival is, per receiving interface, when the last packet
	// from this interface arrives: links are FIFO unless reordering.
	lastArrival map[*Iface]events.Time
	// lower is a VMAC's parent: a macvlan is on its parent's segment,
	// and carries traffic only while the parent's link is up.
	lower *Iface
}

// segment is the segment the interface's packets go to: its own, or its
// parent's for a VMAC.
func (i *Iface) segment() *Segment {
	if i.lower != nil {
		return i.lower.seg
	}
	return i.seg
}

// linkUp reports whether packets pass: the interface is up, and so is
// its parent for a VMAC.
func (i *Iface) linkUp() bool { return i.up && (i.lower == nil || i.lower.up) }

// Up reports the interface's link state.
func (i *Iface) Up() bool { return i.up }

// Addrs returns the interface's addresses in the order they were added.
func (i *Iface) Addrs() []netip.Prefix { return slices.Clone(i.addrs) }

// primary returns the interface's first address of the family of like
// (IPv6: its link-local address, as VRRPv3 sources adverts from it).
func (i *Iface) primary(v6 bool) netip.Addr {
	for _, p := range i.addrs {
		a := p.Addr()
		if !v6 && a.Is4() {
			return a
		}
		if v6 && a.Is6() && a.IsLinkLocalUnicast() {
			return a
		}
	}
	return netip.Addr{}
}

func (i *Iface) hasAddr(a netip.Addr) bool {
	for _, p := range i.addrs {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

// Segment is an L2 network joining interfaces of several nodes.
type Segment struct {
	Name    string
	index   int
	ends    []*Iface
	Latency time.Duration
	Jitter  time.Duration
	// Loss, Dup and Reorder are percentages applied to VRRP adverts.
	Loss, Dup, Reorder float64
	net4               netip.Prefix
	net6               netip.Prefix
	// neigh is the LAN's neighbour view: which node answers for an
	// address, as the last gratuitous ARP / NA told it.
	neigh map[netip.Addr]*Node
	// silentExit marks neighbour entries that may legitimately stay
	// stale: the nodes they may point at left MASTER while they could not
	// tell the others (partitioned, lossy link, crash), with when they
	// left: their GARPs sent until then may still arrive and stay excused.
	silentExit map[netip.Addr]map[*Node]events.Time
	// lastNeigh is, per address and node, when the node's latest GARP/NA
	// for it is (or was) due to leave: until one link delay after that,
	// such a packet may still land in the neighbour view.
	lastNeigh map[netip.Addr]map[*Node]events.Time
}

// Neighbour returns the node the segment's neighbour view points at for
// addr, or nil.
func (s *Segment) Neighbour(addr netip.Addr) *Node { return s.neigh[addr] }

// Ends returns the interfaces attached to the segment.
func (s *Segment) Ends() []*Iface { return s.ends }

// SegmentOpts are a segment's link properties.
type SegmentOpts struct {
	Latency, Jitter    time.Duration
	Loss, Dup, Reorder float64
	// Net4, Net6 override the ranges addresses are assigned from.
	Net4, Net6 netip.Prefix
}

// AddSegment joins the named interfaces ("node:iface") in one L2 segment.
// Interfaces without addresses get one per family, in attachment order,
// from the segment's range: 10.0.N.0/24 and fd00:0:0:N::/64 for the N-th
// segment declared (from 0), hosts .1, .2, ... in the order listed.
func (w *World) AddSegment(name string, ends []string, o SegmentOpts) error {
	if _, dup := w.segBy[name]; dup {
		return fmt.Errorf("segment %s declared twice", name)
	}
	idx := len(w.segs)
	s := &Segment{Name: name, index: idx, Latency: o.Latency, Jitter: o.Jitter,
		Loss: o.Loss, Dup: o.Dup, Reorder: o.Reorder, neigh: map[netip.Addr]*Node{},
		net4: o.Net4, net6: o.Net6, silentExit: map[netip.Addr]map[*Node]events.Time{},
		lastNeigh: map[netip.Addr]map[*Node]events.Time{}}
	if !s.net4.IsValid() {
		s.net4 = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(idx), 0}), 24)
	}
	if !s.net6.IsValid() {
		s.net6 = netip.PrefixFrom(netip.AddrFrom16([16]byte{0: 0xfd, 7: byte(idx)}), 64)
	}
	for _, e := range ends {
		nn, in, ok := cutColon(e)
		if !ok {
			return fmt.Errorf("segment %s: %q is not NODE:IFACE", name, e)
		}
		n := w.byName[nn]
		if n == nil {
			return fmt.Errorf("segment %s: unknown node %q", name, nn)
		}
		ifc := n.ensureIface(in)
		if ifc.seg != nil {
			return fmt.Errorf("segment %s: %s is already on segment %s", name, e, ifc.seg.Name)
		}
		ifc.seg = s
		s.ends = append(s.ends, ifc)
		ifc.pos = len(s.ends)
		if ifc.primary(false) == (netip.Addr{}) {
			ifc.addrs = append(ifc.addrs, hostIn(s.net4, ifc.pos))
		}
		if !hasGlobal6(ifc) {
			ifc.addrs = append(ifc.addrs, hostIn(s.net6, ifc.pos))
		}
	}
	w.segs = append(w.segs, s)
	w.segBy[name] = s
	return nil
}

func cutColon(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i], s[i+1:], i > 0 && i < len(s)-1
		}
	}
	return "", "", false
}

func hasGlobal6(i *Iface) bool {
	for _, p := range i.addrs {
		if p.Addr().Is6() && !p.Addr().IsLinkLocalUnicast() {
			return true
		}
	}
	return false
}

// hostIn returns host number h of prefix p, with p's length.
func hostIn(p netip.Prefix, h int) netip.Prefix {
	b := p.Masked().Addr().AsSlice()
	b[len(b)-1] += byte(h)
	b[len(b)-2] += byte(h >> 8)
	a, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(a, p.Bits())
}

// reachable reports whether a packet can go from node a to node b: the
// partition, if any, puts them on the same side, and no one-way drop
// takes a's packets to b.
func (w *World) reachable(a, b *Node) bool {
	if len(w.drops) > 0 && w.drops[[2]int{a.index, b.index}] {
		return false
	}
	return a.part == 0 || b.part == 0 || a.part == b.part
}

// hear reports whether nodes a and b hear each other.
func (w *World) hear(a, b *Node) bool { return w.reachable(a, b) && w.reachable(b, a) }

// jitterDelay draws one packet's one-way delay on s.
func (w *World) jitterDelay(s *Segment) time.Duration {
	d := s.Latency
	if s.Jitter > 0 {
		d += time.Duration(w.rng.Int64N(int64(s.Jitter) + 1))
	}
	return d
}

// chance reports true with probability pct percent (no draw when pct is 0,
// so adding a lossless segment does not perturb other random choices).
func (w *World) chance(pct float64) bool {
	if pct <= 0 {
		return false
	}
	return w.rng.Float64()*100 < pct
}

func (w *World) schedule(it *item) { w.q.push(it) }

// after schedules fn to run d from now.
func (w *World) after(d time.Duration, fn func()) {
	w.schedule(&item{at: w.now.Add(d), kind: itHook, fn: fn})
}
