package vrrp

import (
	"slices"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// setState records a transition: state, StateChanged, log line and notify.
func (m *Machine) setState(i *instance, to effects.State, why string) {
	from := i.dyn.State
	i.dyn.State = to
	m.resetRival(i)
	sc := m.out.changes.Get()
	*sc = effects.StateChanged{Instance: i.name, From: from, To: to, Priority: i.dyn.Priority, Reason: why}
	m.out.add(sc)
	m.out.log(effects.LogInfo, i.name, "("+i.name+") Entering "+to.String()+" STATE")
	m.notifyInstance(i, to)
	m.markSyncGroup(i)
	m.syncdApply()
}

// armDown (re)arms the master-down timer to fire after d.
func (m *Machine) armDown(i *instance, d time.Duration, why string) {
	at := m.now.Add(d)
	if m.now < m.startupUntil {
		// vrrp_startup_delay: timers run from the end of the delay.
		at = m.startupUntil.Add(d)
	}
	i.dyn.MasterDownAt, i.dyn.MasterDownWhy = at, why
	m.out.setTimer(i.masterDownKey, at)
}

func (m *Machine) cancel(key string, at *events.Time) {
	if *at != 0 {
		*at = 0
		m.out.cancelTimer(key)
	}
}

// sendAdvert emits one advert at priority prio.
func (m *Machine) sendAdvert(i *instance, prio int) {
	a := m.out.adverts.Get()
	*a = i.advert
	a.Priority = uint8(prio)
	// The engine names the source (adapters never choose it): the
	// configured one, else the interface's primary address.
	a.Src = m.primary(i)
	if m.oldChecksum(i) {
		a.Checksum, a.ChecksumGroup = events.ChecksumOldUnicast, m.checksumGroup()
	}
	m.out.add(a)
	m.out.count(i.name, effects.CounterAdvertSent)
	if prio == prioStop {
		m.out.count(i.name, effects.CounterPriorityZeroSent)
	}
}

// toBackup enters BACKUP from INIT or FAULT with a fresh master-down timer.
func (m *Machine) toBackup(i *instance, why string) {
	i.dyn.Want = effects.StateBackup
	i.dyn.MasterAdvertInt = i.advertInt
	i.dyn.PreemptAt = 0
	m.setState(i, effects.StateBackup, why)
	m.armDown(i, i.masterDownInterval(), "master-down-timer")
}

// wantMaster is the decision to become MASTER. A sync group member is held
// in BACKUP until every member wants MASTER; then all switch at once.
func (m *Machine) wantMaster(i *instance, why string) {
	i.dyn.Want = effects.StateMaster
	g := m.syncGroupOf(i)
	if g == nil || syncGroupState(g) == effects.StateMaster {
		m.becomeMaster(i, why)
		return
	}
	if !m.othersWantMaster(i) {
		if i.dyn.State != effects.StateBackup {
			m.setState(i, effects.StateBackup, why)
		}
		m.out.log(effects.LogInfo, i.name, "("+i.name+") waiting for sync group "+g.cfg.Name+" to go MASTER")
		m.armDown(i, i.masterDownInterval(), "master-down-timer")
		return
	}
	if m.holdBack(g, i) {
		// A duel's backoff (sync.go): decide again when it ends.
		if i.dyn.State != effects.StateBackup {
			m.setState(i, effects.StateBackup, why)
		}
		return
	}
	m.becomeMaster(i, why)
	for _, o := range g.members {
		if o != i && o.dyn.State != effects.StateMaster {
			o.dyn.Want = effects.StateMaster
			m.becomeMaster(o, "sync-group")
		}
	}
}

// becomeMaster enters MASTER: advert first (so an old master releases the
// VIPs before our GARPs), then addresses, routes, rules and GARP/NA.
func (m *Machine) becomeMaster(i *instance, why string) {
	if m.now < m.startupUntil {
		// Still within vrrp_startup_delay: decide again when it ends.
		if i.dyn.State != effects.StateBackup {
			i.dyn.MasterAdvertInt = i.advertInt
			m.setState(i, effects.StateBackup, why)
		}
		m.armDown(i, 0, why)
		return
	}
	m.cancel(i.masterDownKey, &i.dyn.MasterDownAt)
	i.dyn.MasterAdvertInt = i.advertInt
	i.dyn.PreemptAt = 0
	m.sendAdvert(i, i.dyn.Priority)
	m.out.count(i.name, effects.CounterBecomeMaster)
	m.install(i)
	m.garpBurst(i, i.cfg.GARPMasterRepeat)
	if d := i.cfg.GARPMasterDelay.Std(); d > 0 && i.cfg.GARPMasterRepeat > 0 {
		i.dyn.SecondGARPAt = m.now.Add(d)
		m.out.setTimer(i.secondGARPKey, i.dyn.SecondGARPAt)
	}
	if r := i.cfg.GARPMasterRefresh.Std(); r > 0 {
		i.dyn.GARPRefreshAt = m.now.Add(i.cfg.GARPMasterDelay.Std() + r)
		m.out.setTimer(i.garpRefreshKey, i.dyn.GARPRefreshAt)
	}
	if len(i.extraIfs) > 0 {
		i.dyn.GARPExtraAt = m.now.Add(i.cfg.GARPMasterDelay.Std() + i.cfg.GARPExtraIf.Std())
		m.out.setTimer(i.garpExtraKey, i.dyn.GARPExtraAt)
	}
	i.dyn.AdvertAt = m.now.Add(i.advertInt)
	m.out.setTimer(i.advertKey, i.dyn.AdvertAt)
	m.setState(i, effects.StateMaster, why)
}

// install adds the instance's VIPs, eVIPs, routes and rules; a filtering
// instance's addresses enter the drop sets first.
func (m *Machine) install(i *instance) {
	if i.fw {
		m.filterVIPs(i, i.fwVIPs)
	}
	for k := range i.vips {
		a := m.out.addAddrs.Get()
		a.Instance, a.Address = i.name, i.vips[k]
		m.out.add(a)
	}
	for _, r := range i.routes {
		m.out.add(&effects.AddRoute{Instance: i.name, Route: r})
	}
	for _, r := range i.rules {
		m.out.add(&effects.AddRule{Instance: i.name, Rule: r})
	}
	i.dyn.VIPSet = true
}

// release removes what install added, in reverse order: the addresses
// leave the drop sets last.
func (m *Machine) release(i *instance) {
	m.dropQueued(i)
	for k := len(i.rules) - 1; k >= 0; k-- {
		m.out.add(&effects.DelRule{Instance: i.name, Rule: i.rules[k]})
	}
	for k := len(i.routes) - 1; k >= 0; k-- {
		m.out.add(&effects.DelRoute{Instance: i.name, Route: i.routes[k]})
	}
	for k := range i.vips {
		a := m.out.delAddrs.Get()
		a.Instance, a.Address = i.name, i.vips[k]
		m.out.add(a)
	}
	if i.fw {
		m.unfilterVIPs(i, i.fwVIPs)
	}
	i.dyn.VIPSet = false
}

// garpBurst sends n gratuitous ARPs (IPv4) or unsolicited NAs (IPv6) for
// every VIP and eVIP.
func (m *Machine) garpBurst(i *instance, n int) {
	if n <= 0 {
		return
	}
	delayed := false
	for k := range i.vips {
		v := &i.vips[k]
		addr := v.Prefix.Addr()
		if m.delayFor(i, v.Dev, addr.Is6()) != nil {
			delayed = true
		} else if addr.Is4() {
			g := m.out.garps.Get()
			*g = effects.SendGARP{Instance: i.name, Interface: v.Dev, Addr: addr, Count: n}
			m.out.add(g)
		} else {
			na := m.out.nas.Get()
			*na = effects.SendNA{Instance: i.name, Interface: v.Dev, Addr: addr, Count: n}
			m.out.add(na)
		}
	}
	if !delayed {
		return
	}
	// Through a delay, as keepalived's vrrp_send_link_update: n rounds
	// over the addresses, each sending or queuing one packet.
	for range n {
		for k := range i.vips {
			v := &i.vips[k]
			if d := m.delayFor(i, v.Dev, v.Prefix.Addr().Is6()); d != nil {
				m.announce(d, i, v.Dev, v.Prefix.Addr(), n)
			}
		}
	}
}

// garpExtra is one round of garp_extra_if (keepalived's
// vrrp_send_vmac_update): one GARP or NA, for the first address on each
// of the instance's extra interfaces, through the interface's GARP delay
// when it has one.
func (m *Machine) garpExtra(i *instance) {
	done := make([]bool, len(i.extraIfs))
	for k := range i.vips {
		v := &i.vips[k]
		n := slices.Index(i.extraIfs, v.Dev)
		if n < 0 || done[n] {
			continue
		}
		done[n] = true
		addr := v.Prefix.Addr()
		switch {
		case m.delayFor(i, v.Dev, addr.Is6()) != nil:
			m.announce(m.delayFor(i, v.Dev, addr.Is6()), i, v.Dev, addr, 1)
		case addr.Is4():
			g := m.out.garps.Get()
			*g = effects.SendGARP{Instance: i.name, Interface: v.Dev, Addr: addr, Count: 1}
			m.out.add(g)
		default:
			na := m.out.nas.Get()
			*na = effects.SendNA{Instance: i.name, Interface: v.Dev, Addr: addr, Count: 1}
			m.out.add(na)
		}
	}
}

// leaveMaster leaves MASTER for BACKUP or FAULT. prio0 sends the
// priority-0 advert first (stop, VIP removed, fault with the link up).
// Callers entering BACKUP arm the master-down timer.
func (m *Machine) leaveMaster(i *instance, to effects.State, why string, prio0 bool) {
	if prio0 {
		m.sendAdvert(i, prioStop)
	}
	m.cancel(i.advertKey, &i.dyn.AdvertAt)
	m.cancel(i.secondGARPKey, &i.dyn.SecondGARPAt)
	m.cancel(i.lowerPrioGARPKey, &i.dyn.LowerPrioGARPAt)
	m.cancel(i.garpRefreshKey, &i.dyn.GARPRefreshAt)
	m.cancel(i.garpExtraKey, &i.dyn.GARPExtraAt)
	if i.dyn.VIPSet {
		m.release(i)
	}
	m.out.count(i.name, effects.CounterReleaseMaster)
	if to == effects.StateBackup {
		i.dyn.Want = effects.StateBackup
		i.dyn.PreemptAt = 0
	}
	m.setState(i, to, why)
}

// toFault enters FAULT. Only a MASTER whose interface is up tells the
// others with a priority-0 advert.
func (m *Machine) toFault(i *instance, why string) {
	i.dyn.Want = effects.StateFault
	if i.dyn.State == effects.StateMaster {
		up := i.iface == "" || m.ifaces[i.iface].up()
		m.leaveMaster(i, effects.StateFault, why, up)
		return
	}
	m.cancel(i.masterDownKey, &i.dyn.MasterDownAt)
	m.setState(i, effects.StateFault, why)
}

// leaveFault goes to BACKUP with the master-down timer restored, or
// straight to MASTER for an address owner.
func (m *Machine) leaveFault(i *instance, why string) {
	if i.owner() {
		i.dyn.MasterAdvertInt = i.advertInt
		m.wantMaster(i, "address-owner")
		return
	}
	m.toBackup(i, why)
}

// leaveInit is an instance's first state once started (and its unweighted
// track scripts have reported).
func (m *Machine) leaveInit(i *instance, fault bool, why string) {
	switch {
	case fault:
		i.dyn.Want = effects.StateFault
		m.setState(i, effects.StateFault, why)
	case i.owner():
		i.dyn.MasterAdvertInt = i.advertInt
		m.wantMaster(i, "address-owner")
	default:
		m.toBackup(i, "start")
	}
}
