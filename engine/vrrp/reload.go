package vrrp

import (
	"encoding/json"
	"slices"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events/conf"
)

// Load applies a configuration: the first one, or a reload. On reload an
// instance that keeps its name, interface, family, VRID, version and VMACs
// (its own and its addresses') keeps its state (no flap, no VIP churn, no notify); addresses added to or
// removed from a MASTER are applied; a changed priority takes effect as
// tracking changes do. Removed instances go to DELETED.
func (m *Machine) Load(cfg *conf.Config) {
	if cfg == nil {
		return
	}
	if m.cfg == nil || !m.started || m.stopped {
		m.compile(cfg)
		return
	}
	// The sync daemon follows once the reload is done.
	m.reloading = true
	defer func() {
		m.reloading = false
		m.syncdApply()
	}()
	// Instances that go away leave first, while the old sync groups exist.
	want := make(map[string]*conf.Instance, len(cfg.Instances))
	for k := range cfg.Instances {
		if c := &cfg.Instances[k]; want[c.Name] == nil {
			want[c.Name] = c
		}
	}
	// Groups no instance of the new configuration uses are left first
	// (see leaveGroups).
	next := make([]*instance, 0, len(cfg.Instances))
	for k := range cfg.Instances {
		if c := &cfg.Instances[k]; want[c.Name] == c {
			next = append(next, compileInstance(c, 0))
		}
	}
	oldJoined := groupPairs(m.instances)
	oldAH := make(map[groupPair][]effects.AuthKey, len(oldJoined))
	for _, p := range oldJoined {
		oldAH[p] = m.joinEffect(p).AH
	}
	m.leaveGroups(oldJoined, groupPairs(next))
	groupWas := make(map[string]effects.State, len(m.syncGroups))
	for _, g := range m.syncGroups {
		groupWas[g.dyn.Name] = g.dyn.State
	}
	old := make(map[string]*instance, len(m.instances))
	for _, o := range m.instances {
		if c := want[o.name]; c != nil && compatible(o, compileInstance(c, 0)) {
			old[o.name] = o
			continue
		}
		m.stopInstance(o, effects.StateDeleted, "deleted", false)
	}
	m.flushSyncGroups()
	m.compile(cfg)
	m.firewallReloaded()
	kept := make(map[*instance]*instance, len(old))
	for _, n := range m.instances {
		if o := old[n.name]; o != nil {
			kept[n] = o
		}
	}
	m.joinGroups(oldJoined)
	m.rekey(oldJoined, oldAH)
	stateWas := make(map[*instance]effects.State, len(kept))
	for _, n := range m.instances {
		o := kept[n]
		if o == nil {
			m.startInstance(n)
			continue
		}
		n.dyn = o.dyn
		stateWas[n] = o.dyn.State
		if n.dyn.State == effects.StateMaster && n.dyn.VIPSet {
			m.diffInstalled(o, n)
		}
		if n.advertInt != o.advertInt && n.dyn.State == effects.StateMaster && n.dyn.AdvertAt != 0 {
			n.dyn.AdvertAt = m.now.Add(n.advertInt)
			m.out.setTimer(n.advertKey, n.dyn.AdvertAt)
		}
		if n.dyn.State == effects.StateMaster || n.dyn.State == effects.StateBackup {
			n.dyn.MasterAdvertInt = o.dyn.MasterAdvertInt
			if n.version == 2 || n.dyn.State == effects.StateMaster {
				n.dyn.MasterAdvertInt = n.advertInt
			}
		}
		if n.advertInt != o.advertInt && n.dyn.State == effects.StateBackup && n.dyn.MasterDownAt != 0 {
			// A new advert_int restarts a BACKUP's master-down timer
			// from the new interval, as keepalived's reload does; the
			// old timer could run for the old interval's three adverts
			// (sim/FINDINGS.md #4). A VRRPv3 backup learns the master's
			// interval again from its next advert.
			n.dyn.MasterAdvertInt = n.advertInt
			m.armDown(n, n.masterDownInterval(), "master-down-timer")
		}
	}
	for _, n := range m.instances {
		if kept[n] == nil {
			m.tryLeaveInit(n)
		} else {
			m.reevaluate(n, "reload")
		}
	}
	m.settleLinks(false, true)
	m.promoteSecondaries(false)
	for _, s := range m.scripts {
		if !s.dyn.Used && s.dyn.RunAt != 0 {
			m.cancel(s.timerKey, &s.dyn.RunAt)
		}
	}
	m.startScripts()
	if cfg.GlobalDefs.FIFOWriteVRRPStatesOnReload {
		m.fifoStates(groupWas, stateWas)
	}
}

// fifoStates is fifo_write_vrrp_states_on_reload: the notify FIFO is told
// the state of every sync group, and of every instance other than a
// MASTER, that the reload left as it was (a changed state was notified in
// full already), groups first, as keepalived 2.2.7 does (it leaves out a
// MASTER instance: seen in TestFIFOStatesOnReloadParity).
func (m *Machine) fifoStates(groupWas map[string]effects.State, stateWas map[*instance]effects.State) {
	for _, g := range m.syncGroups {
		if was, ok := groupWas[g.dyn.Name]; ok && was == g.dyn.State {
			m.out.add(&effects.Notify{Type: "GROUP", Name: g.dyn.Name, State: g.dyn.State.String(),
				FIFOLine: `GROUP "` + g.dyn.Name + `" ` + g.dyn.State.String() + " 0"})
		}
	}
	for _, i := range m.instances {
		if was, ok := stateWas[i]; ok && was == i.dyn.State && i.dyn.State != effects.StateMaster {
			st, p := i.dyn.State.String(), i.dyn.Priority
			m.out.add(&effects.Notify{Type: "INSTANCE", Name: i.name, State: st, Priority: p,
				FIFOLine: `INSTANCE "` + i.name + `" ` + st + " " + itoa(p)})
		}
	}
}

func compatible(o, n *instance) bool {
	return o.iface == n.iface && o.family == n.family && o.vrid == n.vrid && o.version == n.version && o.vmac == n.vmac && o.vmacMAC == n.vmacMAC && slices.Equal(o.addrVMACs, n.addrVMACs) && o.unicast == n.unicast
}

// diffInstalled applies a reload's changes to what a MASTER has installed.
// The drop sets change as keepalived changes them: all of an instance's
// addresses leave them when it turns accept on, and enter them when it
// turns it off, before the addresses change; otherwise removed addresses
// leave them after they are deleted, and new ones enter them before they
// are added.
func (m *Machine) diffInstalled(o, n *instance) {
	switch {
	case o.fw && !n.fw:
		m.unfilterVIPs(n, o.fwVIPs)
	case !o.fw && n.fw:
		m.filterVIPs(n, n.fwVIPs)
	}
	for _, a := range o.vips {
		if !containsJSON(n.vips, a) {
			m.out.add(&effects.DelAddress{Instance: n.name, Address: a})
		}
	}
	if o.fw && n.fw {
		m.unfilterVIPs(n, firewallDiff(o.fwVIPs, n.fwVIPs))
		m.filterVIPs(n, firewallDiff(n.fwVIPs, o.fwVIPs))
	}
	for _, r := range o.routes {
		if !containsJSON(n.routes, r) {
			m.out.add(&effects.DelRoute{Instance: n.name, Route: r})
		}
	}
	for _, r := range o.rules {
		if !containsJSON(n.rules, r) {
			m.out.add(&effects.DelRule{Instance: n.name, Rule: r})
		}
	}
	var added []conf.Address
	for _, a := range n.vips {
		if !containsJSON(o.vips, a) {
			m.out.add(&effects.AddAddress{Instance: n.name, Address: a})
			added = append(added, a)
		}
	}
	for _, r := range n.routes {
		if !containsJSON(o.routes, r) {
			m.out.add(&effects.AddRoute{Instance: n.name, Route: r})
		}
	}
	for _, r := range n.rules {
		if !containsJSON(o.rules, r) {
			m.out.add(&effects.AddRule{Instance: n.name, Rule: r})
		}
	}
	if len(added) > 0 && n.cfg.GARPMasterRepeat > 0 {
		saved := n.vips
		n.vips = added
		m.garpBurst(n, n.cfg.GARPMasterRepeat)
		n.vips = saved
	}
}

// containsJSON compares configuration values by their JSON form (they
// hold slices, so == does not apply); reloads are rare, so cost is fine.
func containsJSON[T any](l []T, v T) bool {
	b, _ := json.Marshal(v)
	for _, x := range l {
		c, _ := json.Marshal(x)
		if string(b) == string(c) {
			return true
		}
	}
	return false
}

// rekey joins again the kept sockets whose IPSEC-AH keys a reload changed
// (a new auth_pass, an AH instance added or removed), so the adapter
// verifies with the new keys: a LeaveGroup and a JoinGroup, the socket's
// state unchanged (it stays joined; the join's answer is not waited for).
func (m *Machine) rekey(kept []groupPair, oldAH map[groupPair][]effects.AuthKey) {
	for _, p := range kept {
		if m.socketBy[p] == nil {
			continue // left: not in the new configuration
		}
		j := m.joinEffect(p)
		if slices.Equal(j.AH, oldAH[p]) {
			continue
		}
		m.out.add(&effects.LeaveGroup{Interface: p.iface, Group: p.group})
		m.out.add(j)
	}
}
