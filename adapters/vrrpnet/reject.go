package vrrpnet

import (
	"net/netip"
	"sync"
	"time"

	"github.com/vigil-ha/vigil/events"
)

// rejects tallies the packets a socket's decoder rejected, by cause
// (VRID and verdict), between two flushes. Adding to an existing cause
// allocates nothing: a flood of junk costs a map lookup per packet.
type rejects struct {
	mu sync.Mutex
	by map[rejectKey]*rejectTally
}

type rejectKey struct {
	vrid    uint8
	verdict events.Verdict
}

// rejectTally is one cause's count since the last flush (n) and since
// the last report (logged), with the last packet's facts for the event.
type rejectTally struct {
	n, unlogged uint64
	loggedAt    time.Time
	src, dst    netip.Addr
	ttl         uint8
	version     uint8
	length      int
}

// add tallies ev, a rejected packet.
func (r *rejects) add(ev *events.AdvertReceived) {
	k := rejectKey{ev.Advert.VRID, ev.Verdict}
	r.mu.Lock()
	t := r.by[k]
	if t == nil {
		if r.by == nil {
			r.by = map[rejectKey]*rejectTally{}
		}
		t = &rejectTally{}
		r.by[k] = t
	}
	t.n++
	t.src, t.dst, t.ttl, t.version, t.length = ev.Src, ev.Dst, ev.TTL, ev.Advert.Version, ev.Length
	r.mu.Unlock()
}

// flush appends to batch one event per cause with packets since the last
// flush (Count: how many), and to reports the causes due a report (none
// in the last every).
func (r *rejects) flush(c *Conn, clock func() events.Time, now time.Time, every time.Duration,
	batch []*events.AdvertReceived, reports []Rejected) ([]*events.AdvertReceived, []Rejected) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.by) == 0 {
		return batch, reports
	}
	at := clock()
	for k, t := range r.by {
		if t.n > 0 {
			ev := &events.AdvertReceived{Interface: c.ifname, Src: t.src, Dst: t.dst, TTL: t.ttl,
				Verdict: k.verdict, Length: t.length, Count: int(min(t.n, 1<<31-1))}
			ev.At = at
			ev.Advert.VRID, ev.Advert.Version = k.vrid, t.version
			batch = append(batch, ev)
			t.unlogged += t.n
			t.n = 0
		}
		if t.unlogged > 0 && now.Sub(t.loggedAt) >= every {
			reports = append(reports, Rejected{Interface: c.ifname, Family: c.family, VRID: k.vrid,
				Verdict: k.verdict, Count: t.unlogged, Src: t.src})
			t.unlogged, t.loggedAt = 0, now
		}
	}
	return batch, reports
}
