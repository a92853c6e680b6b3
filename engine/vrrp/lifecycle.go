package vrrp

import (
	"maps"
	"net/netip"
	"slices"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// Start begins running the loaded configuration.
func (m *Machine) Start(ev *events.Start) {
	if m.cfg == nil || (m.started && !m.stopped) {
		return
	}
	if m.stopped {
		// Started again after a Stop: every instance begins afresh.
		for _, i := range m.instances {
			i.dyn = instanceDyn{Name: i.name, State: effects.StateInit, Want: effects.StateBackup, Priority: i.basePrio, MasterAdvertInt: i.advertInt}
		}
		for _, g := range m.syncGroups {
			g.dyn = syncGroupDyn{Name: g.cfg.Name, State: effects.StateInit}
		}
		for _, s := range m.scripts {
			if s.dyn.Disabled {
				// Checked again, as keepalived does when it starts.
				d := newScriptDyn(s.cfg)
				d.Used = s.dyn.Used
				s.dyn = d
			}
		}
	}
	m.started, m.stopped, m.seed = true, false, ev.Seed
	m.reportsJoins = ev.ReportsJoins
	m.startupUntil = m.now.Add(m.cfg.GlobalDefs.VRRPStartupDelay.Std())
	m.fw = m.fwWant
	m.compileFirewallVIPs()
	m.removeFirewall()
	for _, s := range m.statics {
		if s.addr != nil {
			m.out.add(&effects.AddAddress{Address: *s.addr})
		} else {
			m.out.add(&effects.AddRoute{Route: *s.route})
		}
	}
	for _, r := range m.cfg.StaticRules {
		m.out.add(&effects.AddRule{Rule: r})
	}
	m.joinGroups(nil)
	m.promoteSecondaries(false)
	for _, i := range m.instances {
		m.startInstance(i)
	}
	m.syncdApply() // the backup daemon, before any instance leaves INIT
	for _, i := range m.instances {
		m.tryLeaveInit(i)
	}
	m.startScripts()
}

// groupPair is an (interface, multicast group) the instances receive on;
// unicast instances use an invalid group (the adapter's unicast socket).
type groupPair struct {
	iface string
	group netip.Addr
}

// groupPairs lists the pairs of the instances, each once, in order.
func groupPairs(insts []*instance) []groupPair {
	var l []groupPair
	seen := make(map[groupPair]bool, 4)
	for _, i := range insts {
		p := i.pair()
		if !seen[p] {
			seen[p] = true
			l = append(l, p)
		}
	}
	return l
}

func pairSet(l []groupPair) map[groupPair]bool {
	s := make(map[groupPair]bool, len(l))
	for _, p := range l {
		s[p] = true
	}
	return s
}

// joinGroups emits JoinGroup for each pair of the instances that is not
// in skip (those joined already), in config order.
func (m *Machine) joinGroups(skip []groupPair) {
	done := pairSet(skip)
	if m.reportsJoins {
		for _, s := range m.sockets {
			if !done[s.pair] {
				m.join(s)
			}
		}
		return
	}
	for _, p := range groupPairs(m.instances) {
		if !done[p] {
			m.out.add(m.joinEffect(p))
		}
	}
}

// leaveGroups emits LeaveGroup for each pair of old, in order, that is
// not in keep. It comes before the instances stop: leaving a group only
// stops reception (priority-0 adverts still go out), and a VMAC's
// membership must go before the VMAC does.
func (m *Machine) leaveGroups(old, keep []groupPair) {
	kept := pairSet(keep)
	for _, p := range old {
		if !kept[p] {
			m.out.add(&effects.LeaveGroup{Interface: p.iface, Group: p.group})
		}
	}
}

// startInstance prepares an instance entering service: it removes VIPs
// left over from a previous run (whatever state it will reach) and creates
// its VMAC, then its addresses' VMACs. It stays in INIT until tryLeaveInit.
func (m *Machine) startInstance(i *instance) {
	for k := range i.vips {
		v := &i.vips[k]
		if m.ifaces[v.Dev].has(v.Prefix.Addr()) {
			a := m.out.delAddrs.Get()
			a.Instance, a.Address = i.name, *v
			m.out.add(a)
		}
	}
	if i.vmac != "" {
		m.out.add(&effects.CreateVMAC{Instance: i.name, Name: i.vmac, Parent: i.iface, MAC: i.vmacMAC})
		m.vmacFirewall(i, i.vmac, true)
	}
	for _, d := range i.addrVMACs {
		m.out.add(&effects.CreateVMAC{Instance: i.name, Name: d.name, Parent: d.parent, MAC: d.mac})
		m.vmacFirewall(i, d.name, true)
	}
	_, _, prio, _ := m.evalTrack(i)
	i.dyn.Priority = prio
}

func hex2(b uint8) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

// tryLeaveInit moves an instance (with its whole sync group) out of INIT
// once no unweighted track script or process is still to report.
func (m *Machine) tryLeaveInit(i *instance) {
	if i.dyn.State != effects.StateInit {
		return
	}
	g := m.syncGroupOf(i)
	if g == nil {
		fault, why, _, pending := m.evalTrack(i)
		if !pending {
			m.leaveInit(i, fault, why)
		}
		return
	}
	anyFault := false
	for _, o := range g.members {
		f, _, _, pending := m.evalTrack(o)
		if pending {
			return
		}
		anyFault = anyFault || f
	}
	for _, o := range g.members {
		if o.dyn.State != effects.StateInit {
			continue
		}
		f, why, _, _ := m.evalTrack(o)
		if anyFault && !f {
			why = "sync-group"
		}
		m.leaveInit(o, anyFault, why)
	}
}

func (m *Machine) startScripts() {
	for _, s := range m.scripts {
		if s.dyn.Used && s.dyn.RunAt == 0 && !s.dyn.Disabled {
			m.runScript(s)
		}
	}
}

func (m *Machine) runScript(s *script) {
	r := m.out.runs.Get()
	to := s.cfg.Timeout.Std()
	if to <= 0 {
		to = s.interval()
	}
	*r = effects.RunScript{Script: s.cfg.Name, Command: s.cfg.Script.Argv, Timeout: to, User: s.cfg.Script.User, Group: s.cfg.Script.Group}
	if r.User == "" {
		r.User, r.Group = m.cfg.GlobalDefs.ScriptUser, m.cfg.GlobalDefs.ScriptGroup
	}
	m.out.add(r)
	s.dyn.RunAt = m.now.Add(s.interval())
	m.out.setTimer(s.timerKey, s.dyn.RunAt)
}

// Stop is a graceful shutdown: masters send a priority-0 advert and
// release their addresses (unless keep), every instance reports STOP.
func (m *Machine) Stop(ev *events.Stop) {
	if !m.started || m.stopped {
		return
	}
	m.leaveGroups(groupPairs(m.instances), nil)
	m.leaveSocks()
	for _, i := range m.instances {
		m.stopInstance(i, effects.StateStop, "stop", ev.KeepAddresses)
	}
	for _, s := range m.scripts {
		m.cancel(s.timerKey, &s.dyn.RunAt)
	}
	m.settleLinks(true, false)
	m.promoteSecondaries(true)
	if !ev.KeepAddresses {
		for _, r := range slices.Backward(m.cfg.StaticRules) {
			m.out.add(&effects.DelRule{Rule: r})
		}
		for _, s := range slices.Backward(m.statics) {
			if s.addr != nil {
				m.out.add(&effects.DelAddress{Address: *s.addr})
			} else {
				m.out.add(&effects.DelRoute{Route: *s.route})
			}
		}
	}
	m.removeFirewall()
	m.stopped = true
	m.syncdApply() // the daemons that follow no instance
}

// stopInstance takes an instance out of service (STOP at shutdown, DELETED
// when a reload removes it).
func (m *Machine) stopInstance(i *instance, to effects.State, why string, keep bool) {
	switch i.dyn.State {
	case effects.StateStop, effects.StateDeleted:
		return
	case effects.StateMaster:
		if i.iface == "" || m.ifaces[i.iface].up() {
			m.sendAdvert(i, prioStop)
		}
		if !keep && i.dyn.VIPSet {
			m.release(i)
		}
	}
	m.cancel(i.advertKey, &i.dyn.AdvertAt)
	m.cancel(i.masterDownKey, &i.dyn.MasterDownAt)
	m.cancel(i.secondGARPKey, &i.dyn.SecondGARPAt)
	m.cancel(i.lowerPrioGARPKey, &i.dyn.LowerPrioGARPAt)
	m.cancel(i.garpRefreshKey, &i.dyn.GARPRefreshAt)
	m.cancel(i.garpExtraKey, &i.dyn.GARPExtraAt)
	m.setState(i, to, why)
	if i.vmac != "" {
		m.out.add(&effects.DeleteVMAC{Instance: i.name, Name: i.vmac})
		m.vmacFirewall(i, i.vmac, false)
	}
	for _, d := range i.addrVMACs {
		m.out.add(&effects.DeleteVMAC{Instance: i.name, Name: d.name})
		m.vmacFirewall(i, d.name, false)
	}
}

// promoteSecondaries applies the instances' promote_secondaries as
// keepalived does: at start (and at a reload) each interface an instance
// with the keyword runs on gets the sysctl turned on, unless it was on
// already; at stop (or when a reload drops the last such instance) the
// engine turns off what it turned on. A VMAC instance is left out
// (keepalived ignores the keyword there: VMACs always have it).
func (m *Machine) promoteSecondaries(stop bool) {
	want := map[string]bool{}
	if !stop {
		for _, i := range m.instances {
			if !i.cfg.PromoteSecondaries || i.cfg.UseVMAC || i.iface == "" || want[i.iface] {
				continue
			}
			want[i.iface] = true
			s := m.iface(i.iface)
			if !s.Promote && !s.PromoteSet {
				s.PromoteSet = true
				m.out.add(&effects.SetPromoteSecondaries{Interface: i.iface, On: true})
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(m.ifaces)) {
		if s := m.ifaces[name]; s.PromoteSet && !want[name] {
			s.PromoteSet = false
			m.out.add(&effects.SetPromoteSecondaries{Interface: name, On: false})
		}
	}
}
