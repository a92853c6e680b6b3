package vrrp

import (
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// setState records a transition: state, StateChanged, log line and notify.
func (m *Machine) setState(i *inst, to effects.State, why string) {
	from := i.d.State
	i.d.State = to
	sc := m.o.changes.Get()
	*sc = effects.StateChanged{Instance: i.name, From: from, To: to, Priority: i.d.Prio, Reason: why}
	m.o.add(sc)
	m.o.log("info", i.name, "("+i.name+") Entering "+to.String()+" STATE")
	m.notifyInstance(i, to)
	m.markGroup(i)
}

// armDown (re)arms the master-down timer to fire after d.
func (m *Machine) armDown(i *inst, d time.Duration, why string) {
	at := m.now.Add(d)
	if m.now < m.startupUntil {
		// vrrp_startup_delay: timers run from the end of the delay.
		at = m.startupUntil.Add(d)
	}
	i.d.DownAt, i.d.DownWhy = at, why
	m.o.setTimer(i.kDown, at)
}

func (m *Machine) cancel(key string, at *events.Time) {
	if *at != 0 {
		*at = 0
		m.o.cancelTimer(key)
	}
}

// sendAdvert emits one advert at priority prio.
func (m *Machine) sendAdvert(i *inst, prio int) {
	a := m.o.adverts.Get()
	*a = i.advert
	a.Priority = uint8(prio)
	// The engine names the source (adapters never choose it): the
	// configured one, else the interface's primary address.
	a.Src = m.primary(i)
	m.o.add(a)
	m.o.count(i.name, CountAdvertSent)
	if prio == prioStop {
		m.o.count(i.name, CountPriZeroSent)
	}
}

// toBackup enters BACKUP from INIT or FAULT with a fresh master-down timer.
func (m *Machine) toBackup(i *inst, why string) {
	i.d.Want = effects.StateBackup
	i.d.MasterAdv = i.adv
	i.d.PreemptAt = 0
	m.setState(i, effects.StateBackup, why)
	m.armDown(i, i.msDown(), "master-down-timer")
}

// wantMaster is the decision to become MASTER. A sync group member is held
// in BACKUP until every member wants MASTER; then all switch at once.
func (m *Machine) wantMaster(i *inst, why string) {
	i.d.Want = effects.StateMaster
	g := m.groupOf(i)
	if g == nil || groupState(g) == effects.StateMaster {
		m.becomeMaster(i, why)
		return
	}
	if !m.othersWantMaster(i) {
		if i.d.State != effects.StateBackup {
			m.setState(i, effects.StateBackup, why)
		}
		m.o.log("info", i.name, "("+i.name+") waiting for sync group "+g.c.Name+" to go MASTER")
		m.armDown(i, i.msDown(), "master-down-timer")
		return
	}
	if m.holdBack(g, i) {
		// A duel's backoff (sync.go): decide again when it ends.
		if i.d.State != effects.StateBackup {
			m.setState(i, effects.StateBackup, why)
		}
		return
	}
	m.becomeMaster(i, why)
	for _, o := range g.members {
		if o != i && o.d.State != effects.StateMaster {
			o.d.Want = effects.StateMaster
			m.becomeMaster(o, "sync-group")
		}
	}
}

// becomeMaster enters MASTER: advert first (so an old master releases the
// VIPs before our GARPs), then addresses, routes, rules and GARP/NA.
func (m *Machine) becomeMaster(i *inst, why string) {
	if m.now < m.startupUntil {
		// Still within vrrp_startup_delay: decide again when it ends.
		if i.d.State != effects.StateBackup {
			i.d.MasterAdv = i.adv
			m.setState(i, effects.StateBackup, why)
		}
		m.armDown(i, 0, why)
		return
	}
	m.cancel(i.kDown, &i.d.DownAt)
	i.d.MasterAdv = i.adv
	i.d.PreemptAt = 0
	m.sendAdvert(i, i.d.Prio)
	m.o.count(i.name, CountBecomeMaster)
	m.install(i)
	m.garpBurst(i, i.c.GARPMasterRepeat)
	if d := i.c.GARPMasterDelay.Std(); d > 0 && i.c.GARPMasterRepeat > 0 {
		i.d.Garp2At = m.now.Add(d)
		m.o.setTimer(i.kGarp2, i.d.Garp2At)
	}
	if r := i.c.GARPMasterRefresh.Std(); r > 0 {
		i.d.RefreshAt = m.now.Add(i.c.GARPMasterDelay.Std() + r)
		m.o.setTimer(i.kRefresh, i.d.RefreshAt)
	}
	i.d.AdvAt = m.now.Add(i.adv)
	m.o.setTimer(i.kAdv, i.d.AdvAt)
	m.setState(i, effects.StateMaster, why)
}

// install adds the instance's VIPs, eVIPs, routes and rules.
func (m *Machine) install(i *inst) {
	for k := range i.vips {
		a := m.o.addAddrs.Get()
		a.Instance, a.Address = i.name, i.vips[k]
		m.o.add(a)
	}
	for _, r := range i.routes {
		m.o.add(&effects.AddRoute{Instance: i.name, Route: r})
	}
	for _, r := range i.rules {
		m.o.add(&effects.AddRule{Instance: i.name, Rule: r})
	}
	i.d.VIPSet = true
}

// release removes what install added, in reverse order.
func (m *Machine) release(i *inst) {
	for k := len(i.rules) - 1; k >= 0; k-- {
		m.o.add(&effects.DelRule{Instance: i.name, Rule: i.rules[k]})
	}
	for k := len(i.routes) - 1; k >= 0; k-- {
		m.o.add(&effects.DelRoute{Instance: i.name, Route: i.routes[k]})
	}
	for k := range i.vips {
		a := m.o.delAddrs.Get()
		a.Instance, a.Address = i.name, i.vips[k]
		m.o.add(a)
	}
	i.d.VIPSet = false
}

// garpBurst sends n gratuitous ARPs (IPv4) or unsolicited NAs (IPv6) for
// every VIP and eVIP.
func (m *Machine) garpBurst(i *inst, n int) {
	if n <= 0 {
		return
	}
	for k := range i.vips {
		v := &i.vips[k]
		addr := v.Prefix.Addr()
		if addr.Is4() {
			g := m.o.garps.Get()
			*g = effects.SendGARP{Instance: i.name, Interface: v.Dev, Addr: addr, Count: n, Interval: i.garpInterval(false)}
			m.o.add(g)
		} else {
			na := m.o.nas.Get()
			*na = effects.SendNA{Instance: i.name, Interface: v.Dev, Addr: addr, Count: n, Interval: i.garpInterval(true)}
			m.o.add(na)
		}
	}
}

// leaveMaster leaves MASTER for BACKUP or FAULT. prio0 sends the
// priority-0 advert first (stop, VIP removed, fault with the link up).
// Callers entering BACKUP arm the master-down timer.
func (m *Machine) leaveMaster(i *inst, to effects.State, why string, prio0 bool) {
	if prio0 {
		m.sendAdvert(i, prioStop)
	}
	m.cancel(i.kAdv, &i.d.AdvAt)
	m.cancel(i.kGarp2, &i.d.Garp2At)
	m.cancel(i.kGarpLP, &i.d.GarpLPAt)
	m.cancel(i.kRefresh, &i.d.RefreshAt)
	if i.d.VIPSet {
		m.release(i)
	}
	m.o.count(i.name, CountReleaseMaster)
	if to == effects.StateBackup {
		i.d.Want = effects.StateBackup
		i.d.PreemptAt = 0
	}
	m.setState(i, to, why)
}

// toFault enters FAULT. Only a MASTER whose interface is up tells the
// others with a priority-0 advert.
func (m *Machine) toFault(i *inst, why string) {
	i.d.Want = effects.StateFault
	if i.d.State == effects.StateMaster {
		up := i.iface == "" || m.ifs[i.iface].up()
		m.leaveMaster(i, effects.StateFault, why, up)
		return
	}
	m.cancel(i.kDown, &i.d.DownAt)
	m.setState(i, effects.StateFault, why)
}

// leaveFault goes to BACKUP with the master-down timer restored, or
// straight to MASTER for an address owner.
func (m *Machine) leaveFault(i *inst, why string) {
	if i.owner() {
		i.d.MasterAdv = i.adv
		m.wantMaster(i, "address-owner")
		return
	}
	m.toBackup(i, why)
}

// leaveInit is an instance's first state once started (and its unweighted
// track scripts have reported).
func (m *Machine) leaveInit(i *inst, fault bool, why string) {
	switch {
	case fault:
		i.d.Want = effects.StateFault
		m.setState(i, effects.StateFault, why)
	case i.owner():
		i.d.MasterAdv = i.adv
		m.wantMaster(i, "address-owner")
	default:
		m.toBackup(i, "start")
	}
}
