package vrrp

import (
	"maps"
	"slices"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// linkDelay is an interface_up_down_delays line: a link change of the
// interface takes effect only once it has lasted the delay.
type linkDelay struct {
	down, up time.Duration
}

func linkTimerKey(name string) string { return "link/" + name + "/delay" }

// compileDelays reads interface_up_down_delays and registers the timer
// of every interface with a delay or a change still pending (one armed
// before a reload, or before a snapshot was taken).
func (m *Machine) compileDelays(cfg *conf.Config) {
	m.linkDelays = map[string]linkDelay{}
	for _, d := range cfg.InterfaceUpDownDelays {
		if d.Interface != "" && (d.Down > 0 || d.Up > 0) {
			m.linkDelays[d.Interface] = linkDelay{down: d.Down.Std(), up: d.Up.Std()} // the last line wins
			m.timers[linkTimerKey(d.Interface)] = timerRef{kind: effects.TimerLinkDelay, iface: d.Interface}
		}
	}
	for name, s := range m.ifaces {
		if s.PendingAt != 0 {
			m.timers[linkTimerKey(name)] = timerRef{kind: effects.TimerLinkDelay, iface: name}
		}
	}
}

// linkDelayFor is how long a change of interface name to up (or down)
// must last before it takes effect. A VMAC interface has its parent's
// delays. Like keepalived, no delay may reach (down_timer_adverts - 1)
// advert intervals of an instance on the interface, or a backup could
// take over before that instance enters FAULT: the limit uses the faster
// of the instance's own interval and the one a VRRPv3 master advertises,
// and the up delay follows the down delay down only when they were equal.
func (m *Machine) linkDelayFor(name string, up bool) time.Duration {
	l, ok := m.linkDelays[name]
	base := name
	if !ok {
		for _, i := range m.instances {
			if i.vmac != "" && i.vmac == name {
				base = i.iface
				l, ok = m.linkDelays[base]
				break
			}
		}
	}
	if !ok {
		return 0
	}
	down, upd := l.down, l.up
	for _, i := range m.instances {
		if i.iface != base {
			continue
		}
		if i.downAdverts <= 1 {
			return 0
		}
		adv := i.advertInt
		if i.dyn.MasterAdvertInt > 0 && i.dyn.MasterAdvertInt < adv {
			adv = i.dyn.MasterAdvertInt
		}
		if lim := conf.UpDownDelayLimit(i.downAdverts, adv); down > lim {
			if upd == down {
				upd = lim
			}
			down = lim
		}
	}
	if up {
		return upd
	}
	return down
}

// Link handles a LinkChanged. An interface is up when present, IFF_UP and
// IFF_RUNNING. With interface_up_down_delays (keepalived's debouncing) a
// change waits for its delay: one back to the state the instances know
// cancels it, as if the interface had never changed; one in the pending
// direction leaves it running. The delays apply only once started and to
// an interface seen up before: the initial snapshot, a first report and a
// deleted interface act at once.
func (m *Machine) Link(ev *events.LinkChanged) {
	s := m.iface(ev.Interface)
	up := ev.Present && ev.Up && ev.Running
	if ev.MTU > 0 {
		s.MTU = ev.MTU
	}
	if ev.Present {
		s.Promote = ev.PromoteSecondaries
	}
	if m.reportsJoins {
		m.sockLink(s.Name, ev.Present, ev.Up && ev.Running, !s.Gone)
	} else if ev.Present && s.Gone && m.started && !m.stopped {
		m.rejoin(s.Name)
	}
	s.Gone = !ev.Present
	if s.PendingAt != 0 {
		if up == s.PendingUp && ev.Present {
			return
		}
		m.cancel(linkTimerKey(s.Name), &s.PendingAt)
		s.PendingUp = false
		if ev.Present {
			m.out.log(effects.LogInfo, "", "Delay timer for "+s.Name+" cancelled")
		}
	}
	if !ev.Present {
		s.SeenUp = false
	}
	if s.Known && s.Up == up {
		return
	}
	if d := m.linkDelayFor(s.Name, up); d > 0 && s.Known && s.SeenUp && ev.Present && m.started && !m.stopped {
		s.PendingAt, s.PendingUp = m.now.Add(d), up
		key := linkTimerKey(s.Name)
		m.timers[key] = timerRef{kind: effects.TimerLinkDelay, iface: s.Name}
		m.out.setTimer(key, s.PendingAt)
		state := "down"
		if up {
			state = "up"
		}
		m.out.log(effects.LogInfo, "", s.Name+" is "+state+" - acting on it in "+d.String()+" unless it changes back")
		return
	}
	m.applyLink(s, up)
}

// applyLink makes an interface's new state the one the instances see and
// re-evaluates those that use or track it.
func (m *Machine) applyLink(s *ifState, up bool) {
	was := s.up()
	s.Known, s.Up = true, up
	if up {
		s.SeenUp = true
	}
	if s.up() == was {
		return
	}
	trigger := "interface-up"
	if !up {
		trigger = "interface-down"
	}
	for _, i := range m.byIface[s.Name] {
		m.reevaluate(i, trigger)
	}
}

// linkTimer applies the pending change of interface name, whose delay
// timer fired.
func (m *Machine) linkTimer(name string) {
	s := m.ifaces[name]
	if s == nil || s.PendingAt == 0 || m.now < s.PendingAt {
		return
	}
	up := s.PendingUp
	s.PendingAt, s.PendingUp = 0, false
	m.applyLink(s, up)
}

// settleLinks ends pending link changes at once, in interface-name
// order. At Stop (all, !apply) every one, silently: nothing runs any more
// and a later Start evaluates everything afresh. After a reload (apply)
// those of interfaces that have no delay any more.
func (m *Machine) settleLinks(all, apply bool) {
	for _, name := range slices.Sorted(maps.Keys(m.ifaces)) {
		s := m.ifaces[name]
		if s.PendingAt == 0 || (!all && m.linkDelayFor(name, s.PendingUp) > 0) {
			continue
		}
		up := s.PendingUp
		m.cancel(linkTimerKey(name), &s.PendingAt)
		s.PendingUp = false
		if apply {
			m.applyLink(s, up)
		} else {
			s.Known, s.Up = true, up
			s.SeenUp = s.SeenUp || up
		}
	}
}

// rejoin emits JoinGroup again for the groups received on an interface
// recreated after a deletion: the daemon closes a deleted interface's
// sockets, and the new interface is a new ifindex anyway. Before Start
// there is nothing to rejoin (Start joins every group), and an interface
// never reported is assumed present, so only a reported deletion counts.
func (m *Machine) rejoin(name string) {
	for _, p := range groupPairs(m.instances) {
		if p.iface == name {
			m.out.add(m.joinEffect(p))
		}
	}
}
