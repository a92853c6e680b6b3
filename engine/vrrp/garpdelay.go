package vrrp

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// GARP/NA delays (vrrp_garp_interval, vrrp_gna_interval, garp_group), as
// keepalived applies them: a delay is a rate limit shared by every
// announcement sent on a physical interface (a VMAC's parent for a VMAC),
// or on all the interfaces of one garp_group, whatever the instance. Two
// gratuitous ARPs (or two unsolicited NAs) sent through one delay are at
// least its interval apart. An announcement that cannot go at once waits
// in the delay's queue; the queue is served one packet per interval, in
// turn (an address with several repeats left goes back to the end after
// each packet). An address already queued is not queued twice: asking for
// more repeats raises its count, up to the repeat asked for. An instance
// leaving MASTER drops its queued announcements.
//
// Each interface named in a garp_group uses that group's delay; every
// other interface that carries VIPs uses one of its own with the global
// intervals. A delay whose interval for a family is zero does not hold
// that family back: such announcements go out as one SendGARP/SendNA with
// all their repeats, as they do without any delay.

// garpDelay is one delay: a garp_group, or an interface with the global
// intervals.
type garpDelay struct {
	// name is the interfaces it covers, comma-separated (in the timer
	// keys and TimerInfo).
	name    string
	arp, na time.Duration
	arpKey  string
	naKey   string
	dyn     garpDelayDyn
}

// garpDelayDyn is a delay's dynamic state.
type garpDelayDyn struct {
	Name string `json:"name"`
	// NextARP and NextNA: when the next packet of each kind may go.
	NextARP events.Time `json:"next_arp,omitempty"`
	NextNA  events.Time `json:"next_na,omitempty"`
	// ARPAt and NAAt: the deadlines of the armed timers (0: none).
	ARPAt events.Time `json:"arp_at,omitempty"`
	NAAt  events.Time `json:"na_at,omitempty"`
	// ARPQueue and NAQueue: the announcements waiting, in turn.
	ARPQueue []pendingAnnounce `json:"arp_queue,omitempty"`
	NAQueue  []pendingAnnounce `json:"na_queue,omitempty"`
}

// pendingAnnounce is an address waiting in a delay's queue.
type pendingAnnounce struct {
	Instance  string     `json:"instance"`
	Interface string     `json:"interface"`
	Addr      netip.Addr `json:"addr"`
	// Pending is how many packets are still to go.
	Pending int `json:"pending"`
}

// idle reports whether the delay holds nothing: no schedule, no queue
// (its state then needs no snapshot).
func (d *garpDelayDyn) idle() bool {
	return d.NextARP == 0 && d.NextNA == 0 && d.ARPAt == 0 && d.NAAt == 0 && len(d.ARPQueue) == 0 && len(d.NAQueue) == 0
}

// side is one family's half of a delay.
type side struct {
	interval time.Duration
	key      string
	next, at *events.Time
	queue    *[]pendingAnnounce
}

func (d *garpDelay) side(v6 bool) side {
	if v6 {
		return side{d.na, d.naKey, &d.dyn.NextNA, &d.dyn.NAAt, &d.dyn.NAQueue}
	}
	return side{d.arp, d.arpKey, &d.dyn.NextARP, &d.dyn.ARPAt, &d.dyn.ARPQueue}
}

// compileGARPDelays builds the delays of cfg, keeping the state of those
// that remain (same interfaces) with their queued announcements of
// instances that remain, and registers their timers.
func (m *Machine) compileGARPDelays(cfg *conf.Config) {
	old := make(map[string]*garpDelay, len(m.garpDelays))
	for _, d := range m.garpDelays {
		old[d.name] = d
	}
	m.garpDelays, m.garpDelayBy = nil, map[string]*garpDelay{}
	add := func(ifaces []string, arp, na time.Duration) {
		var free []string
		for _, n := range ifaces {
			if m.garpDelayBy[n] == nil && !slices.Contains(free, n) {
				free = append(free, n) // an interface in two groups: the first wins
			}
		}
		if len(free) == 0 {
			return
		}
		name := strings.Join(free, ",")
		d := &garpDelay{name: name, arp: arp, na: na,
			arpKey: "garp/" + name + "/arp", naKey: "garp/" + name + "/na", dyn: garpDelayDyn{Name: name}}
		if o := old[name]; o != nil {
			d.dyn = o.dyn
			d.dyn.ARPQueue = m.keepQueued(d.dyn.ARPQueue)
			d.dyn.NAQueue = m.keepQueued(d.dyn.NAQueue)
		}
		m.garpDelays = append(m.garpDelays, d)
		for _, n := range free {
			m.garpDelayBy[n] = d
		}
		m.timers[d.arpKey] = timerRef{kind: effects.TimerGARPDelay, idx: int32(len(m.garpDelays) - 1)}
		m.timers[d.naKey] = timerRef{kind: effects.TimerGARPDelay, idx: int32(len(m.garpDelays) - 1), iface: "na"}
	}
	for k := range cfg.GARPGroups {
		g := &cfg.GARPGroups[k]
		ifaces := g.Interfaces
		if g.Interface != "" {
			ifaces = []string{g.Interface}
		}
		add(ifaces, g.Interval.Std(), g.GNAInterval.Std())
	}
	arp, na := cfg.GlobalDefs.VRRPGARPInterval.Std(), cfg.GlobalDefs.VRRPGNAInterval.Std()
	if arp == 0 && na == 0 {
		return
	}
	for _, i := range m.instances {
		for k := range i.vips {
			if b := i.baseIface(i.vips[k].Dev); b != "" && m.garpDelayBy[b] == nil {
				add([]string{b}, arp, na)
			}
		}
	}
}

// keepQueued drops the queued announcements of instances that no longer
// exist.
func (m *Machine) keepQueued(q []pendingAnnounce) []pendingAnnounce {
	out := q[:0]
	for _, p := range q {
		if m.byName[p.Instance] != nil {
			out = append(out, p)
		}
	}
	return out
}

// baseIface is the physical interface an address on dev is announced
// through: a VMAC's parent, else dev.
func (i *instance) baseIface(dev string) string {
	if dev != "" && dev == i.vmac {
		return i.iface
	}
	for _, v := range i.addrVMACs {
		if v.name == dev {
			return v.parent
		}
	}
	return dev
}

// delayFor is the delay that holds back announcements of dev's family
// v6, or nil when they are not delayed.
func (m *Machine) delayFor(i *instance, dev string, v6 bool) *garpDelay {
	d := m.garpDelayBy[i.baseIface(dev)]
	if d == nil || d.side(v6).interval == 0 {
		return nil
	}
	return d
}

// announce sends one packet of a burst through delay d, or queues it, as
// keepalived's send_gratuitous_arp and ndisc_send_unsolicited_na do: rep
// is the burst's repeat count.
func (m *Machine) announce(d *garpDelay, i *instance, dev string, addr netip.Addr, rep int) {
	s := d.side(addr.Is6())
	for k := range *s.queue {
		p := &(*s.queue)[k]
		if p.Instance == i.name && p.Interface == dev && p.Addr == addr {
			if p.Pending < rep {
				p.Pending++
			}
			return
		}
	}
	if *s.next == 0 || m.now >= *s.next {
		m.sendOne(i.name, dev, addr)
		*s.next = m.now + events.Time(s.interval)
		return
	}
	*s.queue = append(*s.queue, pendingAnnounce{Instance: i.name, Interface: dev, Addr: addr, Pending: 1})
	if *s.at == 0 {
		*s.at = *s.next
		m.out.setTimer(s.key, *s.at)
	}
}

// sendOne emits a single gratuitous ARP or unsolicited NA.
func (m *Machine) sendOne(inst, dev string, addr netip.Addr) {
	if addr.Is4() {
		g := m.out.garps.Get()
		*g = effects.SendGARP{Instance: inst, Interface: dev, Addr: addr, Count: 1}
		m.out.add(g)
		return
	}
	na := m.out.nas.Get()
	*na = effects.SendNA{Instance: inst, Interface: dev, Addr: addr, Count: 1}
	m.out.add(na)
}

// garpDelayTimer serves a delay's queue: the packet at its head goes, and
// the timer is armed again for the next one.
func (m *Machine) garpDelayTimer(d *garpDelay, v6 bool) {
	s := d.side(v6)
	if *s.at == 0 || m.now < *s.at {
		return
	}
	*s.at = 0
	for len(*s.queue) > 0 && m.now >= *s.next {
		p := (*s.queue)[0]
		*s.queue = append((*s.queue)[:0], (*s.queue)[1:]...)
		m.sendOne(p.Instance, p.Interface, p.Addr)
		*s.next = m.now + events.Time(s.interval)
		if p.Pending--; p.Pending > 0 {
			*s.queue = append(*s.queue, p)
		}
	}
	if len(*s.queue) > 0 {
		*s.at = *s.next
		m.out.setTimer(s.key, *s.at)
	}
}

// dropQueued removes an instance's queued announcements from every delay
// (keepalived's vrrp_remove_delayed_arp, when it leaves MASTER); a queue
// left empty has its timer cancelled.
func (m *Machine) dropQueued(i *instance) {
	for _, d := range m.garpDelays {
		for _, v6 := range []bool{false, true} {
			s := d.side(v6)
			out := (*s.queue)[:0]
			for _, p := range *s.queue {
				if p.Instance != i.name {
					out = append(out, p)
				}
			}
			*s.queue = out
			if len(out) == 0 {
				m.cancel(s.key, s.at)
			}
		}
	}
}
