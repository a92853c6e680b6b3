package vrrp

import (
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
		for _, i := range m.insts {
			i.d = instDyn{Name: i.name, State: effects.StateInit, Want: effects.StateBackup, Prio: i.base, MasterAdv: i.adv}
		}
		for _, g := range m.groups {
			g.d = groupDyn{Name: g.c.Name, State: effects.StateInit}
		}
		for _, s := range m.scripts {
			if s.d.Disabled {
				// Checked again, as keepalived does when it starts.
				d := newScriptDyn(s.c)
				d.Used = s.d.Used
				s.d = d
			}
		}
	}
	m.started, m.stopped, m.seed = true, false, ev.Seed
	m.reportsJoins = ev.ReportsJoins
	m.startupUntil = m.now.Add(m.cfg.GlobalDefs.VRRPStartupDelay.Std())
	for _, s := range m.statics {
		if s.addr != nil {
			m.o.add(&effects.AddAddress{Address: *s.addr})
		} else {
			m.o.add(&effects.AddRoute{Route: *s.route})
		}
	}
	for _, r := range m.cfg.StaticRules {
		m.o.add(&effects.AddRule{Rule: r})
	}
	m.joinGroups(nil)
	for _, i := range m.insts {
		m.startInstance(i)
	}
	for _, i := range m.insts {
		m.tryLeaveInit(i)
	}
	m.startScripts()
}

// groupPair is an (interface, multicast group) the instances receive on;
// unicast instances use an invalid group (the adapter's unicast socket).
type groupPair struct {
	ifc string
	g   netip.Addr
}

// groupPairs lists the pairs of insts, each once, in order.
func groupPairs(insts []*inst) []groupPair {
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
		for _, s := range m.socks {
			if !done[s.p] {
				m.join(s)
			}
		}
		return
	}
	for _, p := range groupPairs(m.insts) {
		if !done[p] {
			m.o.add(m.joinEffect(p))
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
			m.o.add(&effects.LeaveGroup{Interface: p.ifc, Group: p.g})
		}
	}
}

// startInstance prepares an instance entering service: it removes VIPs
// left over from a previous run (whatever state it will reach) and creates
// its VMAC. It stays in INIT until tryLeaveInit.
func (m *Machine) startInstance(i *inst) {
	for k := range i.vips {
		v := &i.vips[k]
		if m.ifs[v.Dev].has(v.Prefix.Addr()) {
			a := m.o.delAddrs.Get()
			a.Instance, a.Address = i.name, *v
			m.o.add(a)
		}
	}
	if i.vmac != "" {
		mac := i.c.VMACAddr
		if mac == "" {
			mac = "00:00:5e:00:01:" + hex2(i.vrid)
			if i.fam == 6 {
				mac = "00:00:5e:00:02:" + hex2(i.vrid)
			}
		}
		m.o.add(&effects.CreateVMAC{Instance: i.name, Name: i.vmac, Parent: i.iface, MAC: mac})
	}
	_, _, prio, _ := m.evalTrack(i)
	i.d.Prio = prio
}

func hex2(b uint8) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

// tryLeaveInit moves an instance (with its whole sync group) out of INIT
// once no unweighted track script or process is still to report.
func (m *Machine) tryLeaveInit(i *inst) {
	if i.d.State != effects.StateInit {
		return
	}
	g := m.groupOf(i)
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
		if o.d.State != effects.StateInit {
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
		if s.d.Used && s.d.RunAt == 0 && !s.d.Disabled {
			m.runScript(s)
		}
	}
}

func (m *Machine) runScript(s *script) {
	r := m.o.runs.Get()
	to := s.c.Timeout.Std()
	if to <= 0 {
		to = s.interval()
	}
	*r = effects.RunScript{Script: s.c.Name, Command: s.c.Script.Argv, Timeout: to, User: s.c.Script.User, Group: s.c.Script.Group}
	if r.User == "" {
		r.User, r.Group = m.cfg.GlobalDefs.ScriptUser, m.cfg.GlobalDefs.ScriptGroup
	}
	m.o.add(r)
	s.d.RunAt = m.now.Add(s.interval())
	m.o.setTimer(s.key, s.d.RunAt)
}

// Stop is a graceful shutdown: masters send a priority-0 advert and
// release their addresses (unless keep), every instance reports STOP.
func (m *Machine) Stop(ev *events.Stop) {
	if !m.started || m.stopped {
		return
	}
	m.leaveGroups(groupPairs(m.insts), nil)
	m.leaveSocks()
	for _, i := range m.insts {
		m.stopInstance(i, effects.StateStop, "stop", ev.KeepAddresses)
	}
	for _, s := range m.scripts {
		m.cancel(s.key, &s.d.RunAt)
	}
	m.settleLinks(true, false)
	if !ev.KeepAddresses {
		for _, r := range slices.Backward(m.cfg.StaticRules) {
			m.o.add(&effects.DelRule{Rule: r})
		}
		for _, s := range slices.Backward(m.statics) {
			if s.addr != nil {
				m.o.add(&effects.DelAddress{Address: *s.addr})
			} else {
				m.o.add(&effects.DelRoute{Route: *s.route})
			}
		}
	}
	m.stopped = true
}

// stopInstance takes an instance out of service (STOP at shutdown, DELETED
// when a reload removes it).
func (m *Machine) stopInstance(i *inst, to effects.State, why string, keep bool) {
	switch i.d.State {
	case effects.StateStop, effects.StateDeleted:
		return
	case effects.StateMaster:
		if i.iface == "" || m.ifs[i.iface].up() {
			m.sendAdvert(i, prioStop)
		}
		if !keep && i.d.VIPSet {
			m.release(i)
		}
	}
	m.cancel(i.kAdv, &i.d.AdvAt)
	m.cancel(i.kDown, &i.d.DownAt)
	m.cancel(i.kGarp2, &i.d.Garp2At)
	m.cancel(i.kGarpLP, &i.d.GarpLPAt)
	m.cancel(i.kRefresh, &i.d.RefreshAt)
	m.setState(i, to, why)
	if i.vmac != "" {
		m.o.add(&effects.DeleteVMAC{Instance: i.name, Name: i.vmac})
	}
}
