package vrrp

import (
	"net/netip"
	"slices"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// Timer handles a TimerFired. A key that is not armed, or whose deadline
// is later than now (a timer that was just replaced), is ignored.
func (m *Machine) Timer(ev *events.TimerFired) {
	ref, ok := m.timers[ev.Key]
	if !ok || !m.started || m.stopped {
		return
	}
	if ref.kind == effects.TimerLinkDelay {
		m.linkTimer(ref.iface)
		return
	}
	if ref.kind == effects.TimerSocketRetry {
		if int(ref.idx) < len(m.sockets) {
			m.sockTimer(m.sockets[ref.idx])
		}
		return
	}
	if ref.kind == effects.TimerGARPDelay {
		if int(ref.idx) < len(m.garpDelays) {
			m.garpDelayTimer(m.garpDelays[ref.idx], ref.iface == "na")
		}
		return
	}
	if ref.kind == effects.TimerTrackScript {
		s := m.scripts[ref.idx]
		if s.dyn.RunAt != 0 && m.now >= s.dyn.RunAt && s.dyn.Used {
			m.runScript(s)
		}
		return
	}
	i := m.instances[ref.idx]
	var at *events.Time
	switch ref.kind {
	case effects.TimerAdvert:
		at = &i.dyn.AdvertAt
	case effects.TimerMasterDown:
		at = &i.dyn.MasterDownAt
	case effects.TimerSecondGARP:
		at = &i.dyn.SecondGARPAt
	case effects.TimerLowerPrioGARP:
		at = &i.dyn.LowerPrioGARPAt
	case effects.TimerGARPRefresh:
		at = &i.dyn.GARPRefreshAt
	case effects.TimerGARPExtraIf:
		at = &i.dyn.GARPExtraAt
	}
	if *at == 0 || m.now < *at {
		return
	}
	due := *at
	*at = 0
	master := i.dyn.State == effects.StateMaster
	switch ref.kind {
	case effects.TimerAdvert:
		if master {
			m.sendAdvert(i, i.dyn.Priority)
			// The next advert is due one interval after this one was
			// due, not after it fired: a timer served late (a busy
			// host, thousands of instances due at once) must not push
			// every later advert back, or the mean interval drifts
			// (keepalived's does, ~1 % at advert_int 0.1 here). More
			// than an interval late, the schedule restarts from now.
			next := due.Add(i.advertInt)
			if next <= m.now {
				next = m.now.Add(i.advertInt)
			}
			i.dyn.AdvertAt = next
			m.out.setTimer(i.advertKey, i.dyn.AdvertAt)
		}
	case effects.TimerMasterDown:
		if i.dyn.State == effects.StateBackup {
			why := i.dyn.MasterDownWhy
			if why == "" {
				why = "master-down-timer"
			}
			m.wantMaster(i, why)
		}
	case effects.TimerSecondGARP:
		if master && i.dyn.VIPSet {
			m.garpBurst(i, i.cfg.GARPMasterRepeat)
		}
	case effects.TimerLowerPrioGARP:
		if master && i.dyn.VIPSet {
			m.garpBurst(i, i.cfg.GARPLowerPrioRepeat)
		}
	case effects.TimerGARPRefresh:
		if master && i.dyn.VIPSet {
			m.garpBurst(i, max(i.cfg.GARPMasterRefreshRepeat, 1))
			i.dyn.GARPRefreshAt = m.now.Add(i.cfg.GARPMasterRefresh.Std())
			m.out.setTimer(i.garpRefreshKey, i.dyn.GARPRefreshAt)
		}
	case effects.TimerGARPExtraIf:
		if master && i.dyn.VIPSet {
			m.garpExtra(i)
			i.dyn.GARPExtraAt = m.now.Add(i.cfg.GARPExtraIf.Std())
			m.out.setTimer(i.garpExtraKey, i.dyn.GARPExtraAt)
		}
	}
}

// setPrio applies a new effective priority at once: a BACKUP's running
// master-down timer moves by the change in its skew (keepalived).
func (m *Machine) setPrio(i *instance, prio int) {
	if prio == i.dyn.Priority {
		return
	}
	old := i.masterDownInterval()
	from := i.dyn.Priority
	i.dyn.Priority = prio
	if !m.started || m.stopped {
		return
	}
	m.out.log(effects.LogInfo, i.name, "("+i.name+") Changing effective priority from "+itoa(from)+" to "+itoa(prio))
	if i.dyn.State == effects.StateBackup && i.dyn.MasterDownAt != 0 {
		i.dyn.MasterDownAt = i.dyn.MasterDownAt.Add(i.masterDownInterval() - old)
		m.out.setTimer(i.masterDownKey, i.dyn.MasterDownAt)
	}
	if i.cfg.NotifyPriorityChanges && (i.dyn.State == effects.StateMaster || i.dyn.State == effects.StateBackup) {
		m.notifyEvent(i, i.dyn.State.String()+"_PRIORITY", nil)
	}
}

// reevaluate recomputes an instance's tracking after a tracked object changed;
// trigger names the change (the reason when a fault clears).
func (m *Machine) reevaluate(i *instance, trigger string) {
	fault, why, prio, _ := m.evalTrack(i)
	if !fault {
		why = trigger
	}
	m.setPrio(i, prio)
	if !m.started || m.stopped {
		return
	}
	switch i.dyn.State {
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
		if i.cfg.TrackSrcIP && i.src == a {
			m.reevaluate(i, "src-ip-restored")
		}
		if ev.Added || i.dyn.State != effects.StateMaster || !i.dyn.VIPSet {
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
			m.out.add(&effects.AddAddress{Address: *st.addr})
			for _, i := range st.members {
				if i.dyn.State == effects.StateMaster {
					m.removedUnder(i, "static address "+a.String()+" removed", "static-removed")
				}
			}
		}
	}
}

// Route handles a RouteChanged: a virtual route (not no_track) or a
// tracked static route removed from under a MASTER sends it to BACKUP.
func (m *Machine) Route(ev *events.RouteChanged) {
	if ev.Added && !m.started && !m.stopped {
		m.staleRoute(ev)
		return
	}
	if ev.Added || !m.started || m.stopped {
		return
	}
	for _, i := range m.instances {
		if i.dyn.State != effects.StateMaster || !i.dyn.VIPSet {
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
			m.out.add(&effects.AddRoute{Route: *st.route})
			for _, i := range st.members {
				if i.dyn.State == effects.StateMaster {
					m.removedUnder(i, "static route "+ev.Dst.String()+" removed", "static-removed")
				}
			}
		}
	}
}

// staleRoute: a route in the kernel's snapshot, before Start, that is one
// of an instance's virtual routes was left by a previous run (one that
// crashed): it is deleted, as the VIPs are at Start, whatever state the
// instance will reach; a MASTER adds it again. (keepalived 2.2.7 deletes
// its stale VIPs and rules at start but leaves its routes.)
func (m *Machine) staleRoute(ev *events.RouteChanged) {
	for _, i := range m.instances {
		for k := range i.routes {
			if r := &i.routes[k]; sameRoute(r, ev.Dst, ev.Table) {
				m.out.add(&effects.DelRoute{Instance: i.name, Route: *r})
			}
		}
	}
}

// Rule handles a RuleChanged. Only the kernel's snapshot, before Start,
// matters: an instance's virtual rule found there was left by a previous
// run and is deleted, as keepalived does at start.
func (m *Machine) Rule(ev *events.RuleChanged) {
	if !ev.Added || m.started || m.stopped {
		return
	}
	for _, i := range m.instances {
		for k := range i.rules {
			if r := &i.rules[k]; sameRule(r, ev) {
				m.out.add(&effects.DelRule{Instance: i.name, Rule: *r})
			}
		}
	}
}

// sameRule reports whether a kernel rule is the configured lookup rule r
// (selectors, table and, when r has one, preference).
func sameRule(r *conf.Rule, ev *events.RuleChanged) bool {
	if r.Action != "" || r.Not || r.FwMark != "" || r.IIf != "" || r.OIf != "" {
		return false // the snapshot does not report these selectors
	}
	table := r.Table
	if table == 0 {
		table = 254
	}
	return r.From == ev.From && r.To == ev.To && table == ev.Table && (r.Priority == 0 || r.Priority == ev.Priority)
}

// removedUnder: something a MASTER installed was removed by someone else.
// Like keepalived it steps down to BACKUP with a priority-0 advert; its
// master-down timer is its skew time, so if it is still the highest
// priority it becomes MASTER again shortly and reinstalls everything.
func (m *Machine) removedUnder(i *instance, what, why string) {
	m.out.log(effects.LogInfo, i.name, "("+i.name+") "+what+" - leaving MASTER")
	m.leaveMaster(i, effects.StateBackup, why, true)
	m.armDown(i, i.skew(), "master-down-timer")
	m.syncBackup(i)
}

// Script handles a track script's result.
func (m *Machine) Script(ev *events.ScriptResult) {
	s := m.scriptBy[ev.Script]
	if s == nil || !s.dyn.Used || s.dyn.Disabled {
		return
	}
	if ev.Failed && !s.dyn.Ran {
		m.disableScript(s, ev.Error)
		return
	}
	// A script that ran before and now cannot start (deleted since)
	// fails, as in keepalived, whose child then exits non-zero.
	s.dyn.Ran = s.dyn.Ran || !ev.Failed
	ok := ev.Status == 0 && !ev.TimedOut && !ev.Failed
	wasOK := s.dyn.OK
	if !s.result(ok) {
		return
	}
	if s.dyn.OK != wasOK || !s.dyn.OK {
		verdict := "failed"
		if s.dyn.OK {
			verdict = "succeeded"
		} else if ev.TimedOut {
			verdict = "timed_out"
		}
		m.out.log(effects.LogInfo, "", "VRRP_Script("+s.cfg.Name+") "+verdict)
	}
	for _, i := range s.users {
		m.reevaluate(i, "track-script")
	}
}

// disableScript is keepalived's "Disabling track script" at load: a
// script whose first run could not start is never run again (until a
// reload or restart), and the instances and sync groups tracking it drop
// it, weight and fault alike; those waiting for its first result in INIT
// go on.
func (m *Machine) disableScript(s *script, why string) {
	s.dyn.Disabled = true
	s.dyn.Init = false
	m.cancel(s.timerKey, &s.dyn.RunAt)
	msg := "Disabling track script " + s.cfg.Name + " since not found/accessible"
	if why != "" {
		msg += " (" + why + ")"
	}
	m.out.log(effects.LogWarning, "", msg)
	for _, i := range s.users {
		m.reevaluate(i, "track-script-disabled")
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
	if v == f.dyn.Value {
		return
	}
	f.dyn.Value = v
	for _, i := range f.users {
		m.reevaluate(i, "track-file")
	}
}

// Process handles a vrrp_track_process count.
func (m *Machine) Process(ev *events.ProcessCount) {
	p := m.processBy[ev.Process]
	if p == nil {
		for _, q := range m.processes {
			if q.cfg.Process == ev.Process {
				p = q
				break
			}
		}
	}
	if p == nil {
		return
	}
	was, known := p.ok(), p.dyn.Known
	p.dyn.Count, p.dyn.Known = max(ev.Count, 0), true
	if known && p.ok() == was {
		return
	}
	for _, i := range p.users {
		m.reevaluate(i, "track-process")
	}
}

// BFD handles a BFD session state change.
func (m *Machine) BFD(ev *events.BFDState) {
	b := m.bfdBy[ev.Name]
	if b == nil || b.dyn.Up == ev.Up {
		return
	}
	b.dyn.Up = ev.Up
	for _, i := range b.users {
		m.reevaluate(i, "track-bfd")
	}
}
