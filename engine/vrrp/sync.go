package vrrp

import (
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
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
	// DuelUntil, when set, ends the window after the group was forced out
	// of MASTER by a higher-priority advert in which its next switch to
	// MASTER is held back by a random delay (forcedOut, holdBack).
	DuelUntil events.Time `json:"duel_until,omitempty"`
	// HoldUntil is the end of that delay, once drawn.
	HoldUntil events.Time `json:"hold_until,omitempty"`
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

// groupState derives a sync group's state from its members'. A group
// whose members have all stopped is STOP (keepalived's notify_shutdown
// reports the groups after their instances).
func groupState(g *group) effects.State {
	st := effects.StateInit
	stopped := 0
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
		case effects.StateStop:
			stopped++
		}
	}
	if stopped > 0 && stopped == len(g.members) {
		return effects.StateStop
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
		sc := m.o.changes.Get()
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

// Sync groups whose members' priorities are inverted between two nodes
// (a: VI_1 200, VI_2 100; b: VI_1 100, VI_2 200) can duel forever, in
// keepalived as in RFC-faithful code (sim/FINDINGS.md #3): when both
// groups' slowest members time out within one link delay of each other,
// both go MASTER, each hears a higher priority on one member and the whole
// group steps down, both re-arm the same master-down times from adverts
// that crossed, and the round repeats with the same timing.
//
// vigil deliberately deviates from keepalived to break the symmetry: a
// sync group forced out of MASTER by a higher-priority advert (forcedOut)
// holds back its next switch to MASTER, if it comes within twice its
// slowest member's master-down interval (the silent re-election a duel
// leads to; a priority-0 advert, a master leaving, closes the window), by
// a delay drawn uniformly from [0, its longest advert interval) with the
// machine's seeded PRNG (holdBack). Different nodes
// draw from different seeds, so the group whose hold ends first goes
// MASTER alone: its adverts reach the other group's members while their
// hold still runs, and every member hearing a higher priority stops
// wanting MASTER, so the other group stays BACKUP (it switches only when
// every member wants MASTER). A new tie (the holds ending within a link
// delay, odds about 2 x delay / advert_int) just starts another round, so
// the duel ends with probability one, after one extra round almost always.
// The draw and both deadlines are state (snapshotted), so the same events
// give the same effects. Nothing else changes: a group not forced out, or
// switching after the window (its preempting rival kept advertising),
// takes over with keepalived's exact timing.

// forcedOut records that i's group left MASTER because i heard a
// higher-priority advert.
func (m *Machine) forcedOut(i *inst) {
	g := m.groupOf(i)
	if g == nil || len(g.members) < 2 {
		return // one instance cannot duel: the higher priority just wins
	}
	var slowest time.Duration
	for _, o := range g.members {
		slowest = max(slowest, o.msDown())
	}
	g.d.DuelUntil, g.d.HoldUntil = m.now.Add(2*slowest), 0
}

// holdBack reports whether g, about to switch to MASTER because its member
// i wants to, must wait for its duel backoff; i's master-down timer is
// then armed for the end of the hold.
func (m *Machine) holdBack(g *group, i *inst) bool {
	if g.d.HoldUntil == 0 && g.d.DuelUntil != 0 && m.now <= g.d.DuelUntil {
		var span time.Duration
		for _, o := range g.members {
			span = max(span, o.adv)
		}
		us := uint64(span / time.Microsecond)
		if d := time.Duration(m.rand()%max(us, 1)) * time.Microsecond; d > 0 {
			g.d.HoldUntil = m.now.Add(d)
			m.o.log("info", "", "VRRP_Group("+g.c.Name+") was forced out of MASTER: holding back "+d.String()+" before switching to MASTER")
		}
	}
	g.d.DuelUntil = 0
	if g.d.HoldUntil > m.now {
		m.armDown(i, g.d.HoldUntil.Sub(m.now), "sync-group-backoff")
		return true
	}
	g.d.HoldUntil = 0
	return false
}
