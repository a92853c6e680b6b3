package vrrp

import (
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// syncGroup is a vrrp_sync_group: its members change state together.
type syncGroup struct {
	cfg     *conf.SyncGroup
	members []*instance
	dyn     syncGroupDyn
	dirty   bool
}

type syncGroupDyn struct {
	Name  string        `json:"name"`
	State effects.State `json:"state"`
	// LastMail is the state the group's last email alert announced
	// (as instanceDyn.LastMail).
	LastMail effects.State `json:"last_mail,omitempty"`
	// DuelUntil, when set, ends the window after the group was forced out
	// of MASTER by a higher-priority advert in which its next switch to
	// MASTER is held back by a random delay (forcedOut, holdBack).
	DuelUntil events.Time `json:"duel_until,omitempty"`
	// HoldUntil is the end of that delay, once drawn.
	HoldUntil events.Time `json:"hold_until,omitempty"`
}

func (m *Machine) compileSyncGroups(cfg *conf.Config) {
	old := m.syncGroups
	m.syncGroups = nil
	for k := range cfg.SyncGroups {
		c := &cfg.SyncGroups[k]
		g := &syncGroup{cfg: c, dyn: syncGroupDyn{Name: c.Name, State: effects.StateInit}}
		for _, n := range c.Group {
			i := m.byName[n]
			if i == nil || i.syncGroupIdx >= 0 {
				continue // keepalived ignores unknown members and second groups
			}
			i.syncGroupIdx = len(m.syncGroups)
			g.members = append(g.members, i)
		}
		if len(g.members) == 0 {
			continue
		}
		for _, o := range old {
			if o.cfg.Name == c.Name {
				g.dyn = o.dyn
			}
		}
		m.syncGroups = append(m.syncGroups, g)
	}
}

func (m *Machine) syncGroupOf(i *instance) *syncGroup {
	if i.syncGroupIdx < 0 {
		return nil
	}
	return m.syncGroups[i.syncGroupIdx]
}

func (m *Machine) markSyncGroup(i *instance) {
	if g := m.syncGroupOf(i); g != nil && !g.dirty {
		g.dirty = true
		m.dirtySyncGroups = append(m.dirtySyncGroups, g)
	}
}

// syncGroupState derives a sync group's state from its members'. A group
// whose members have all stopped is STOP (keepalived's notify_shutdown
// reports the groups after their instances).
func syncGroupState(g *syncGroup) effects.State {
	st := effects.StateInit
	stopped := 0
	for _, i := range g.members {
		switch i.dyn.State {
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

// flushSyncGroups emits the notifications of sync groups whose state changed
// during this Step, after their members' (keepalived's order).
func (m *Machine) flushSyncGroups() {
	for _, g := range m.dirtySyncGroups {
		g.dirty = false
		st := syncGroupState(g)
		if st == g.dyn.State || st == effects.StateInit {
			continue
		}
		from := g.dyn.State
		g.dyn.State = st
		m.out.log(effects.LogInfo, "", "VRRP_Group("+g.cfg.Name+") Syncing instances to "+st.String()+" state")
		sc := m.out.changes.Get()
		*sc = effects.StateChanged{Instance: "group/" + g.cfg.Name, From: from, To: st, Reason: "sync-group"}
		m.out.add(sc)
		m.notifySyncGroup(g, st.String())
	}
	m.dirtySyncGroups = m.dirtySyncGroups[:0]
}

// othersWantMaster reports whether every other member of i's group wants
// MASTER: only then may the group switch (keepalived prefers BACKUP to
// avoid thrashing).
func (m *Machine) othersWantMaster(i *instance) bool {
	g := m.syncGroupOf(i)
	for _, o := range g.members {
		if o == i {
			continue
		}
		if o.dyn.State == effects.StateMaster {
			continue
		}
		if o.dyn.Want != effects.StateMaster || o.dyn.State != effects.StateBackup {
			return false
		}
	}
	return true
}

// settleFault brings i (and its sync group) in line with the members'
// own fault conditions: one member in fault puts every member in FAULT;
// they leave it together when none is.
func (m *Machine) settleFault(i *instance, fault bool, why string) {
	g := m.syncGroupOf(i)
	if g == nil {
		m.applyFault(i, fault, why)
		return
	}
	if !fault && why == "" {
		why = "sync-group"
	}
	any := false
	for _, o := range g.members {
		if o.dyn.State == effects.StateInit {
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

func (m *Machine) applyFault(i *instance, fault bool, why string) {
	switch i.dyn.State {
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
func (m *Machine) syncBackup(i *instance) {
	g := m.syncGroupOf(i)
	if g == nil {
		return
	}
	for _, o := range g.members {
		if o != i && o.dyn.State == effects.StateMaster {
			o.dyn.Want = effects.StateBackup
			m.leaveMaster(o, effects.StateBackup, "sync-group", false)
			m.armDown(o, o.masterDownInterval(), "master-down-timer")
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
func (m *Machine) forcedOut(i *instance) {
	g := m.syncGroupOf(i)
	if g == nil || len(g.members) < 2 {
		return // one instance cannot duel: the higher priority just wins
	}
	var slowest time.Duration
	for _, o := range g.members {
		slowest = max(slowest, o.masterDownInterval())
	}
	g.dyn.DuelUntil, g.dyn.HoldUntil = m.now.Add(2*slowest), 0
}

// inverted reports whether a member of g heard a lower priority than its
// own during the duel window (since the window opened, less the slowest
// master-down interval, for adverts that crossed in the round that forced
// the group out): the rival outranks the group on one member and is
// outranked on another, so the two groups can duel. A group outranked on
// every member (a higher-priority node that preempted it, then crashed)
// takes over with keepalived's exact timing.
func (m *Machine) inverted(g *syncGroup) bool {
	var slowest time.Duration
	for _, o := range g.members {
		slowest = max(slowest, o.masterDownInterval())
	}
	since := g.dyn.DuelUntil.Add(-3 * slowest)
	for _, o := range g.members {
		if o.dyn.LowerSeenAt != 0 && o.dyn.LowerSeenAt >= since {
			return true
		}
	}
	return false
}

// holdBack reports whether g, about to switch to MASTER because its member
// i wants to, must wait for its duel backoff; i's master-down timer is
// then armed for the end of the hold.
func (m *Machine) holdBack(g *syncGroup, i *instance) bool {
	if g.dyn.HoldUntil == 0 && g.dyn.DuelUntil != 0 && m.now <= g.dyn.DuelUntil && m.inverted(g) {
		var span time.Duration
		for _, o := range g.members {
			span = max(span, o.advertInt)
		}
		us := uint64(span / time.Microsecond)
		if d := time.Duration(m.rand()%max(us, 1)) * time.Microsecond; d > 0 {
			g.dyn.HoldUntil = m.now.Add(d)
			m.out.log(effects.LogInfo, "", "VRRP_Group("+g.cfg.Name+") was forced out of MASTER: holding back "+d.String()+" before switching to MASTER")
		}
	}
	g.dyn.DuelUntil = 0
	if g.dyn.HoldUntil > m.now {
		m.armDown(i, g.dyn.HoldUntil.Sub(m.now), "sync-group-backoff")
		return true
	}
	g.dyn.HoldUntil = 0
	return false
}
