package vrrp

import (
	"net/netip"
	"slices"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// Timer handles a TimerFired. A key that is not armed, or whose deadline
// is later than now (a timer that was just replaced), is ignored.
func (m *Machine) Timer(ev *events.TimerFired) {
	ref, ok := m.timers[ev.Key]
	if !ok || !m.started || m.stopped {
		return
	}
	if ref.kind == tLink {
		m.linkTimer(ev.Key)
		return
	}
	if ref.kind == tSock {
		if int(ref.idx) < len(m.socks) {
			m.sockTimer(m.socks[ref.idx])
		}
		return
	}
	if ref.kind == tScript {
		s := m.scripts[ref.idx]
		if s.d.RunAt != 0 && m.now >= s.d.RunAt && s.d.Used {
			m.runScript(s)
		}
		return
	}
	i := m.insts[ref.idx]
	var at *events.Time
	switch ref.kind {
	case tAdv:
		at = &i.d.AdvAt
	case tDown:
		at = &i.d.DownAt
	case tGarp2:
		at = &i.d.Garp2At
	case tGarpLP:
		at = &i.d.GarpLPAt
	case tRefresh:
		at = &i.d.RefreshAt
	}
	if *at == 0 || m.now < *at {
		return
	}
	*at = 0
	master := i.d.State == effects.StateMaster
	switch ref.kind {
	case tAdv:
		if master {
			m.sendAdvert(i, i.d.Prio)
			i.d.AdvAt = m.now.Add(i.adv)
			m.o.setTimer(i.kAdv, i.d.AdvAt)
		}
	case tDown:
		if i.d.State == effects.StateBackup {
			why := i.d.DownWhy
			if why == "" {
				why = "master-down-timer"
			}
			m.wantMaster(i, why)
		}
	case tGarp2:
		if master && i.d.VIPSet {
			m.garpBurst(i, i.c.GARPMasterRepeat)
		}
	case tGarpLP:
		if master && i.d.VIPSet {
			m.garpBurst(i, i.c.GARPLowerPrioRepeat)
		}
	case tRefresh:
		if master && i.d.VIPSet {
			m.garpBurst(i, max(i.c.GARPMasterRefreshRepeat, 1))
			i.d.RefreshAt = m.now.Add(i.c.GARPMasterRefresh.Std())
			m.o.setTimer(i.kRefresh, i.d.RefreshAt)
		}
	}
}

// setPrio applies a new effective priority at once: a BACKUP's running
// master-down timer moves by the change in its skew (keepalived).
func (m *Machine) setPrio(i *inst, prio int) {
	if prio == i.d.Prio {
		return
	}
	old := i.msDown()
	from := i.d.Prio
	i.d.Prio = prio
	if !m.started || m.stopped {
		return
	}
	m.o.log("info", i.name, "("+i.name+") Changing effective priority from "+itoa(from)+" to "+itoa(prio))
	if i.d.State == effects.StateBackup && i.d.DownAt != 0 {
		i.d.DownAt = i.d.DownAt.Add(i.msDown() - old)
		m.o.setTimer(i.kDown, i.d.DownAt)
	}
	if i.c.NotifyPriorityChanges && (i.d.State == effects.StateMaster || i.d.State == effects.StateBackup) {
		m.notifyEvent(i, i.d.State.String()+"_PRIORITY", nil)
	}
}

// reeval recomputes an instance's tracking after a tracked object changed;
// trigger names the change (the reason when a fault clears).
func (m *Machine) reeval(i *inst, trigger string) {
	fault, why, prio, _ := m.evalTrack(i)
	if !fault {
		why = trigger
	}
	m.setPrio(i, prio)
	if !m.started || m.stopped {
		return
	}
	switch i.d.State {
	case effects.StateInit:
		m.tryLeaveInit(i)
	case effects.StateBackup, effects.StateMaster, effects.StateFault:
		m.settleFault(i, fault, why)
	}
}

// Address handles an AddressChanged: it keeps each interface's address
// list (primary addresses, leftover VIPs at start) and reacts to VIPs and
// tracked static addresses removed from under us.
func (m *Machine) Address(ev *events.AddressChanged) {
	s := m.iface(ev.Interface)
	k := slices.IndexFunc(s.Addrs, func(p netip.Prefix) bool { return p.Addr() == ev.Prefix.Addr() })
	switch {
	case ev.Added && k < 0:
		s.Addrs = append(s.Addrs, ev.Prefix)
	case !ev.Added && k >= 0:
		s.Addrs = slices.Delete(s.Addrs, k, k+1)
	}
	if !m.started || m.stopped {
		return
	}
	a := ev.Prefix.Addr()
	for _, i := range m.byIface[ev.Interface] {
		if i.c.TrackSrcIP && i.src == a {
			m.reeval(i, "src-ip-restored")
		}
		if ev.Added || i.d.State != effects.StateMaster || !i.d.VIPSet {
			continue
		}
		for k := range i.vips {
			v := &i.vips[k]
			if v.Dev == ev.Interface && v.Prefix.Addr() == a && !v.NoTrack {
				m.removedUnder(i, "VIP "+a.String()+" removed", "vip-removed")
				break
			}
		}
	}
	if ev.Added {
		return
	}
	for _, st := range m.statics {
		if st.addr != nil && st.addr.Prefix.Addr() == a && st.addr.Dev == ev.Interface {
			m.o.add(&effects.AddAddress{Address: *st.addr})
			for _, i := range st.members {
				if i.d.State == effects.StateMaster {
					m.removedUnder(i, "static address "+a.String()+" removed", "static-removed")
				}
			}
		}
	}
}

// Route handles a RouteChanged: a virtual route (not no_track) or a
// tracked static route removed from under a MASTER sends it to BACKUP.
func (m *Machine) Route(ev *events.RouteChanged) {
	if ev.Added || !m.started || m.stopped {
		return
	}
	for _, i := range m.insts {
		if i.d.State != effects.StateMaster || !i.d.VIPSet {
			continue
		}
		for k := range i.routes {
			r := &i.routes[k]
			if !r.NoTrack && sameRoute(r, ev.Dst, ev.Table) {
				m.removedUnder(i, "virtual route "+ev.Dst.String()+" removed", "route-removed")
				break
			}
		}
	}
	for _, st := range m.statics {
		if st.route != nil && sameRoute(st.route, ev.Dst, ev.Table) {
			m.o.add(&effects.AddRoute{Route: *st.route})
			for _, i := range st.members {
				if i.d.State == effects.StateMaster {
					m.removedUnder(i, "static route "+ev.Dst.String()+" removed", "static-removed")
				}
			}
		}
	}
}

// removedUnder: something a MASTER installed was removed by someone else.
// Like keepalived it steps down to BACKUP with a priority-0 advert; its
// master-down timer is its skew time, so if it is still the highest
// priority it becomes MASTER again shortly and reinstalls everything.
func (m *Machine) removedUnder(i *inst, what, why string) {
	m.o.log("info", i.name, "("+i.name+") "+what+" - leaving MASTER")
	m.leaveMaster(i, effects.StateBackup, why, true)
	m.armDown(i, i.skew(), "master-down-timer")
	m.syncBackup(i)
}

// Script handles a track script's result.
func (m *Machine) Script(ev *events.ScriptResult) {
	s := m.scriptBy[ev.Script]
	if s == nil || !s.d.Used || s.d.Disabled {
		return
	}
	if ev.Failed && !s.d.Ran {
		m.disableScript(s, ev.Error)
		return
	}
	// A script that ran before and now cannot start (deleted since)
	// fails, as in keepalived, whose child then exits non-zero.
	s.d.Ran = s.d.Ran || !ev.Failed
	ok := ev.Status == 0 && !ev.TimedOut && !ev.Failed
	wasOK := s.d.OK
	if !s.result(ok) {
		return
	}
	if s.d.OK != wasOK || !s.d.OK {
		verdict := "failed"
		if s.d.OK {
			verdict = "succeeded"
		} else if ev.TimedOut {
			verdict = "timed_out"
		}
		m.o.log("info", "", "VRRP_Script("+s.c.Name+") "+verdict)
	}
	for _, i := range s.users {
		m.reeval(i, "track-script")
	}
}

// disableScript is keepalived's "Disabling track script" at load: a
// script whose first run could not start is never run again (until a
// reload or restart), and the instances and sync groups tracking it drop
// it, weight and fault alike; those waiting for its first result in INIT
// go on.
func (m *Machine) disableScript(s *script, why string) {
	s.d.Disabled = true
	s.d.Init = false
	m.cancel(s.key, &s.d.RunAt)
	msg := "Disabling track script " + s.c.Name + " since not found/accessible"
	if why != "" {
		msg += " (" + why + ")"
	}
	m.o.log("warning", "", msg)
	for _, i := range s.users {
		m.reeval(i, "track-script-disabled")
	}
}

// TrackFile handles a new track_file value (an unreadable file counts 0).
func (m *Machine) TrackFile(ev *events.TrackFileValue) {
	f := m.fileBy[ev.File]
	if f == nil {
		return
	}
	v := ev.Value
	if ev.Failed {
		v = 0
	}
	if v == f.d.Value {
		return
	}
	f.d.Value = v
	for _, i := range f.users {
		m.reeval(i, "track-file")
	}
}

// Process handles a vrrp_track_process count.
func (m *Machine) Process(ev *events.ProcessCount) {
	p := m.procBy[ev.Process]
	if p == nil {
		for _, q := range m.procs {
			if q.c.Process == ev.Process {
				p = q
				break
			}
		}
	}
	if p == nil {
		return
	}
	was, known := p.ok(), p.d.Known
	p.d.Count, p.d.Known = max(ev.Count, 0), true
	if known && p.ok() == was {
		return
	}
	for _, i := range p.users {
		m.reeval(i, "track-process")
	}
}

// BFD handles a BFD session state change.
func (m *Machine) BFD(ev *events.BFDState) {
	b := m.bfdBy[ev.Name]
	if b == nil || b.d.Up == ev.Up {
		return
	}
	b.d.Up = ev.Up
	for _, i := range b.users {
		m.reeval(i, "track-bfd")
	}
}
