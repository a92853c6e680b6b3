package vrrp

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events/conf"
)

// group is a vrrp_sync_group: its members change state together.
type group struct {
	c       *conf.SyncGroup
	members []*inst
	d       groupDyn
	dirty   bool
}

type groupDyn struct {
	Name  string        `json:"name"`
	State effects.State `json:"state"`
}

func (m *Machine) compileGroups(cfg *conf.Config) {
	old := m.groups
	m.groups = nil
	for k := range cfg.SyncGroups {
		c := &cfg.SyncGroups[k]
		g := &group{c: c, d: groupDyn{Name: c.Name, State: effects.StateInit}}
		for _, n := range c.Group {
			i := m.byName[n]
			if i == nil || i.group >= 0 {
				continue // keepalived ignores unknown members and second groups
			}
			i.group = len(m.groups)
			g.members = append(g.members, i)
		}
		if len(g.members) == 0 {
			continue
		}
		for _, o := range old {
			if o.c.Name == c.Name {
				g.d = o.d
			}
		}
		m.groups = append(m.groups, g)
	}
}

func (m *Machine) groupOf(i *inst) *group {
	if i.group < 0 {
		return nil
	}
	return m.groups[i.group]
}

func (m *Machine) markGroup(i *inst) {
	if g := m.groupOf(i); g != nil && !g.dirty {
		g.dirty = true
		m.dirty = append(m.dirty, g)
	}
}

// groupState derives a sync group's state from its members'.
func groupState(g *group) effects.State {
	st := effects.StateInit
	for _, i := range g.members {
		switch i.d.State {
		case effects.StateFault:
			return effects.StateFault
		case effects.StateMaster:
			st = effects.StateMaster
		case effects.StateBackup:
			if st != effects.StateMaster {
				st = effects.StateBackup
			}
		}
	}
	return st
}

// flushGroups emits the notifications of sync groups whose state changed
// during this Step, after their members' (keepalived's order).
func (m *Machine) flushGroups() {
	for _, g := range m.dirty {
		g.dirty = false
		st := groupState(g)
		if st == g.d.State || st == effects.StateInit {
			continue
		}
		from := g.d.State
		g.d.State = st
		m.o.log("info", "", "VRRP_Group("+g.c.Name+") Syncing instances to "+st.String()+" state")
		sc := m.o.changes.get()
		*sc = effects.StateChanged{Instance: "group/" + g.c.Name, From: from, To: st, Reason: "sync-group"}
		m.o.add(sc)
		m.notifyGroup(g, st.String())
	}
	m.dirty = m.dirty[:0]
}

// othersWantMaster reports whether every other member of i's group wants
// MASTER: only then may the group switch (keepalived prefers BACKUP to
// avoid thrashing).
func (m *Machine) othersWantMaster(i *inst) bool {
	g := m.groupOf(i)
	for _, o := range g.members {
		if o == i {
			continue
		}
		if o.d.State == effects.StateMaster {
			continue
		}
		if o.d.Want != effects.StateMaster || o.d.State != effects.StateBackup {
			return false
		}
	}
	return true
}

// settleFault brings i (and its sync group) in line with the members'
// own fault conditions: one member in fault puts every member in FAULT;
// they leave it together when none is.
func (m *Machine) settleFault(i *inst, fault bool, why string) {
	g := m.groupOf(i)
	if g == nil {
		m.applyFault(i, fault, why)
		return
	}
	if !fault && why == "" {
		why = "sync-group"
	}
	any := false
	for _, o := range g.members {
		if o.d.State == effects.StateInit {
			return // the group waits for every member to leave INIT
		}
		if f, _, _, _ := m.evalTrack(o); f {
			any = true
		}
	}
	m.applyFault(i, any, why)
	for _, o := range g.members {
		if o != i {
			m.applyFault(o, any, "sync-group")
		}
	}
}

func (m *Machine) applyFault(i *inst, fault bool, why string) {
	switch i.d.State {
	case effects.StateBackup, effects.StateMaster:
		if fault {
			m.toFault(i, why)
		}
	case effects.StateFault:
		if !fault {
			m.leaveFault(i, why)
		}
	}
}

// syncBackup moves the other MASTER members of i's group to BACKUP.
func (m *Machine) syncBackup(i *inst) {
	g := m.groupOf(i)
	if g == nil {
		return
	}
	for _, o := range g.members {
		if o != i && o.d.State == effects.StateMaster {
			o.d.Want = effects.StateBackup
			m.leaveMaster(o, effects.StateBackup, "sync-group", false)
			m.armDown(o, o.msDown(), "master-down-timer")
		}
	}
}
