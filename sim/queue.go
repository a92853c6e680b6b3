package sim

import (
	"net/netip"

	"github.com/vigil-ha/vigil/events"
)

// itemKind says what a queued item does when its time comes.
type itemKind uint8

const (
	// itEvent delivers ev to node (an advert, a netlink echo, a script
	// result, ...).
	itEvent itemKind = iota
	// itTimer fires node's timer key if generation gen is still armed.
	itTimer
	// itNeigh sends one gratuitous ARP / unsolicited NA packet for addr
	// from iface: it updates the segment's neighbour view after latency.
	itNeigh
	// itNeighArrive is such a packet reaching the segment's neighbour view.
	itNeighArrive
	// itStallEnd releases the events a stalled node was holding.
	itStallEnd
	// itHook runs fn (scheduled world actions, invariant checks).
	itHook
)

// item is one scheduled happening. Items for a node carry the node's
// incarnation epoch: a restart or crash invalidates what the previous
// incarnation had pending.
type item struct {
	at    events.Time
	seq   uint64
	kind  itemKind
	node  *Node
	epoch uint32
	ev    events.Event
	key   string
	iface *Iface
	addr  netip.Addr
	// sent is when a GARP/NA left its node (itNeighArrive).
	sent events.Time
	fn   func()
	// pooled items go back to the world's free list once dispatched,
	// unless held (a stalled node keeps them for its thaw).
	pooled, held bool
	// index is the item's position in the queue's heap (-1: not queued).
	index int
	// adv is the event of a pooled advert arrival (ev points at it).
	adv events.AdvertReceived
}

// newItem returns a zeroed item from the free list, marked pooled. Only
// the hot paths (advert arrivals, timers) use it; a recorder may keep
// events, so with one nothing is pooled.
func (w *World) newItem() *item {
	if w.rec != nil {
		return &item{}
	}
	if n := len(w.free); n > 0 {
		it := w.free[n-1]
		w.free = w.free[:n-1]
		*it = item{pooled: true}
		return it
	}
	return &item{pooled: true}
}

// recycle returns a dispatched item to the free list.
func (w *World) recycle(it *item) {
	if it.pooled && !it.held {
		it.ev, it.node, it.iface, it.fn = nil, nil, nil, nil
		w.free = append(w.free, it)
	}
}

// queue is a binary min-heap of items ordered by (at, seq): equal times
// keep insertion order, which makes the schedule deterministic. The keys
// sit in the heap's array, so comparisons do not chase the item pointers.
type queue struct {
	items []entry
	seq   uint64
}

type entry struct {
	at  events.Time
	seq uint64
	it  *item
}

func (q *queue) less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (q *queue) swap(i, j int) {
	q.items[i], q.items[j] = q.items[j], q.items[i]
	q.items[i].it.index = i
	q.items[j].it.index = j
}

func (q *queue) push(it *item) {
	q.seq++
	it.seq = q.seq
	it.index = len(q.items)
	q.items = append(q.items, entry{at: it.at, seq: it.seq, it: it})
	q.up(it.index)
}

// move gives a queued item a new time and a new place in the insertion
// order, as if it were pushed again now.
func (q *queue) move(it *item, at events.Time) {
	q.seq++
	it.seq = q.seq
	it.at = at
	q.items[it.index].at, q.items[it.index].seq = at, it.seq
	q.fix(it.index)
}

// remove takes a queued item out of the queue.
func (q *queue) remove(it *item) {
	i, n := it.index, len(q.items)-1
	if i != n {
		q.swap(i, n)
	}
	q.items[n] = entry{}
	q.items = q.items[:n]
	it.index = -1
	if i != n {
		q.fix(i)
	}
}

func (q *queue) fix(i int) {
	if !q.down(i) {
		q.up(i)
	}
}

func (q *queue) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.swap(i, p)
		i = p
	}
}

// down sifts item i down; it reports whether the item moved.
func (q *queue) down(i0 int) bool {
	i, n := i0, len(q.items)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			break
		}
		q.swap(i, m)
		i = m
	}
	return i > i0
}

// peek returns the earliest item without removing it, or nil.
func (q *queue) peek() *item {
	if len(q.items) == 0 {
		return nil
	}
	return q.items[0].it
}

func (q *queue) pop() *item {
	top := q.items[0].it
	q.remove(top)
	return top
}
