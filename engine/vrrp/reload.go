package vrrp

import (
	"encoding/json"
	"slices"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events/conf"
)

// Load applies a configuration: the first one, or a reload. On reload an
// instance that keeps its name, interface, family, VRID, version and VMAC
// keeps its state (no flap, no VIP churn, no notify); addresses added to or
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
	// Instances that go away leave first, while the old sync groups exist.
	want := make(map[string]*conf.Instance, len(cfg.Instances))
	for k := range cfg.Instances {
		if c := &cfg.Instances[k]; want[c.Name] == nil {
			want[c.Name] = c
		}
	}
	// Groups no instance of the new configuration uses are left first
	// (see leaveGroups).
	next := make([]*inst, 0, len(cfg.Instances))
	for k := range cfg.Instances {
		if c := &cfg.Instances[k]; want[c.Name] == c {
			next = append(next, compileInstance(c, 0))
		}
	}
	oldJoined := groupPairs(m.insts)
	oldAH := make(map[groupPair][]effects.AuthKey, len(oldJoined))
	for _, p := range oldJoined {
		oldAH[p] = m.joinEffect(p).AH
	}
	m.leaveGroups(oldJoined, groupPairs(next))
	old := make(map[string]*inst, len(m.insts))
	for _, o := range m.insts {
		if c := want[o.name]; c != nil && compatible(o, compileInstance(c, 0)) {
			old[o.name] = o
			continue
		}
		m.stopInstance(o, effects.StateDeleted, "deleted", false)
	}
	m.flushGroups()
	m.compile(cfg)
	kept := make(map[*inst]*inst, len(old))
	for _, n := range m.insts {
		if o := old[n.name]; o != nil {
			kept[n] = o
		}
	}
	m.joinGroups(oldJoined)
	m.rekey(oldJoined, oldAH)
	for _, n := range m.insts {
		o := kept[n]
		if o == nil {
			m.startInstance(n)
			continue
		}
		n.d = o.d
		if n.d.State == effects.StateMaster && n.d.VIPSet {
			m.diffInstalled(o, n)
		}
		if n.adv != o.adv && n.d.State == effects.StateMaster && n.d.AdvAt != 0 {
			n.d.AdvAt = m.now.Add(n.adv)
			m.o.setTimer(n.kAdv, n.d.AdvAt)
		}
		if n.d.State == effects.StateMaster || n.d.State == effects.StateBackup {
			n.d.MasterAdv = o.d.MasterAdv
			if n.ver == 2 || n.d.State == effects.StateMaster {
				n.d.MasterAdv = n.adv
			}
		}
		if n.adv != o.adv && n.d.State == effects.StateBackup && n.d.DownAt != 0 {
			// A new advert_int restarts a BACKUP's master-down timer
			// from the new interval, as keepalived's reload does; the
			// old timer could run for the old interval's three adverts
			// (sim/FINDINGS.md #4). A VRRPv3 backup learns the master's
			// interval again from its next advert.
			n.d.MasterAdv = n.adv
			m.armDown(n, n.msDown(), "master-down-timer")
		}
	}
	for _, n := range m.insts {
		if kept[n] == nil {
			m.tryLeaveInit(n)
		} else {
			m.reeval(n, "reload")
		}
	}
	m.settleLinks(false, true)
	for _, s := range m.scripts {
		if !s.d.Used && s.d.RunAt != 0 {
			m.cancel(s.key, &s.d.RunAt)
		}
	}
	m.startScripts()
}

func compatible(o, n *inst) bool {
	return o.iface == n.iface && o.fam == n.fam && o.vrid == n.vrid && o.ver == n.ver && o.vmac == n.vmac && o.uni == n.uni
}

// diffInstalled applies a reload's changes to what a MASTER has installed.
func (m *Machine) diffInstalled(o, n *inst) {
	for _, a := range o.vips {
		if !containsJSON(n.vips, a) {
			m.o.add(&effects.DelAddress{Instance: n.name, Address: a})
		}
	}
	for _, r := range o.routes {
		if !containsJSON(n.routes, r) {
			m.o.add(&effects.DelRoute{Instance: n.name, Route: r})
		}
	}
	for _, r := range o.rules {
		if !containsJSON(n.rules, r) {
			m.o.add(&effects.DelRule{Instance: n.name, Rule: r})
		}
	}
	var added []conf.Address
	for _, a := range n.vips {
		if !containsJSON(o.vips, a) {
			m.o.add(&effects.AddAddress{Instance: n.name, Address: a})
			added = append(added, a)
		}
	}
	for _, r := range n.routes {
		if !containsJSON(o.routes, r) {
			m.o.add(&effects.AddRoute{Instance: n.name, Route: r})
		}
	}
	for _, r := range n.rules {
		if !containsJSON(o.rules, r) {
			m.o.add(&effects.AddRule{Instance: n.name, Rule: r})
		}
	}
	if len(added) > 0 && n.c.GARPMasterRepeat > 0 {
		saved := n.vips
		n.vips = added
		m.garpBurst(n, n.c.GARPMasterRepeat)
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
		if m.sockBy[p] == nil {
			continue // left: not in the new configuration
		}
		j := m.joinEffect(p)
		if slices.Equal(j.AH, oldAH[p]) {
			continue
		}
		m.o.add(&effects.LeaveGroup{Interface: p.ifc, Group: p.g})
		m.o.add(j)
	}
}
