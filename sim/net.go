package sim

import (
	"net/netip"
	"slices"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// sendAdvert puts one VRRP advert on the sender interface's segment. A
// multicast advert reaches every other node on the segment; a unicast one
// reaches the node holding each destination address. Loss, duplication
// and reordering apply per receiver; partitions and down links drop.
func (w *World) sendAdvert(n *Node, e *effects.SendAdvert) {
	ifc := n.iface(e.Interface)
	if ifc == nil || !ifc.linkUp() || ifc.segment() == nil || len(e.Dst) == 0 {
		return
	}
	v6 := e.Dst[0].Is6()
	src := e.Src
	if !src.IsValid() {
		src = ifc.primary(v6)
		if !src.IsValid() && ifc.lower != nil {
			src = ifc.lower.primary(v6) // a VMAC sends from its parent's address
		}
	}
	base := events.AdvertReceived{
		Src: src, TTL: e.TTL, Verdict: events.VerdictOK,
		Length: advertLength(e, v6),
		Advert: events.Advert{Version: e.Version, Type: 1, VRID: e.VRID, Priority: e.Priority,
			CountAddrs: uint8(len(e.Addrs)), AuthType: e.AuthType, Interval: e.Interval,
			Addrs: slices.Clone(e.Addrs), AuthData: e.AuthData},
	}
	if e.Version == 3 {
		base.Advert.AuthType = 0
	}
	seg := ifc.segment()
	if e.Dst[0].IsMulticast() {
		for _, r := range seg.ends {
			if r.node != n {
				w.transmit(ifc, seg, r, &base, e.Dst[0])
			}
		}
		return
	}
	for _, d := range e.Dst {
		for _, r := range seg.ends {
			if r.node != n && r.hasAddr(d) {
				w.transmit(ifc, seg, r, &base, d)
			}
		}
	}
}

// advertLength is the VRRP payload length of the advert.
func advertLength(e *effects.SendAdvert, v6 bool) int {
	alen := 4
	if v6 {
		alen = 16
	}
	if e.Version == 2 {
		return 8 + alen*len(e.Addrs) + 8
	}
	return 8 + alen*len(e.Addrs)
}

// transmit schedules the advert's arrival on interface r.
func (w *World) transmit(from *Iface, seg *Segment, r *Iface, base *events.AdvertReceived, dst netip.Addr) {
	if !w.reachable(from.node, r.node) || w.chance(seg.Loss) {
		return
	}
	d := w.jitterDelay(seg)
	if w.chance(seg.Reorder) {
		// Held back by up to ten times the link delay, so later packets
		// overtake it.
		d += time.Duration(w.rng.Int64N(int64(10*(seg.Latency+seg.Jitter)) + 1))
	} else {
		// Jitter alone does not reorder one sender's packets.
		if from.lastArrival == nil {
			from.lastArrival = map[*Iface]events.Time{}
		}
		d = max(d, from.lastArrival[r].Sub(w.now))
		from.lastArrival[r] = w.now.Add(d)
	}
	w.arrive(r, base, dst, d)
	if w.chance(seg.Dup) {
		w.arrive(r, base, dst, d+time.Duration(w.rng.Int64N(int64(seg.Latency)+1)))
	}
}

func (w *World) arrive(r *Iface, base *events.AdvertReceived, dst netip.Addr, d time.Duration) {
	it := w.newItem()
	it.adv = *base
	it.adv.Interface = r.Name
	it.adv.Dst = dst
	it.at, it.kind, it.node, it.epoch, it.ev, it.iface = w.now.Add(d), itEvent, r.node, anyEpoch, &it.adv, r
	w.schedule(it)
}

// neighBurst starts a gratuitous ARP / unsolicited NA burst: count packets
// interval apart, each sent only if the sender is still up then.
func (w *World) neighBurst(n *Node, inst, iface string, a netip.Addr, count int, interval time.Duration) {
	ifc := n.iface(iface)
	if ifc == nil {
		return
	}
	w.mon.garp(n, inst)
	if seg := ifc.segment(); seg != nil && count > 0 {
		if seg.lastNeigh[a] == nil {
			seg.lastNeigh[a] = map[*Node]events.Time{}
		}
		seg.lastNeigh[a][n] = max(seg.lastNeigh[a][n], w.now.Add(time.Duration(count-1)*interval))
	}
	for k := range count {
		it := w.newItem()
		it.at, it.kind, it.node, it.epoch, it.iface, it.addr = w.now.Add(time.Duration(k)*interval), itNeigh, n, n.epoch, ifc, a
		w.schedule(it)
	}
}

// neighSend puts one GARP/NA on the wire; the segment's neighbour view
// learns it after the link latency. Loss does not apply: the view stands
// for every host on the LAN, and a burst reaches some of them.
func (w *World) neighSend(it *item) {
	ifc := it.iface
	if !ifc.linkUp() || ifc.segment() == nil {
		return
	}
	arr := w.newItem()
	arr.at, arr.kind, arr.node, arr.iface, arr.addr, arr.sent = w.now.Add(w.jitterDelay(ifc.segment())), itNeighArrive, it.node, ifc, it.addr, w.now
	w.schedule(arr)
}

func (w *World) neighArrive(it *item) {
	seg := it.iface.segment()
	if seg == nil || seg.neigh[it.addr] == it.node {
		return
	}
	seg.neigh[it.addr] = it.node
	if at, ok := seg.silentExit[it.addr][it.node]; ok && it.sent > at {
		// The node that left MASTER unheard sends GARPs again: it must
		// be MASTER again, and the entry is checkable again. Its GARPs
		// sent before it left, arriving late, stay excused, even after
		// another node's GARPs arrived in between.
		delete(seg.silentExit[it.addr], it.node)
	}
	w.logf("%s  neighbours: %s is at %s", seg.Name, it.addr, it.node.Name)
	w.mon.topologyChanged()
}
