package config

import (
	"net/netip"

	"github.com/vigil-ha/vigil/events/conf"
)

var netipZero netip.Addr

// finishSyncGroups resolves sync group members: each must be an instance,
// and an instance may be in one group only.
func (p *parser) finishSyncGroups() {
	for _, sst := range p.syncs {
		sg := &p.cfg.SyncGroups[sst.idx]
		members := sg.Group[:0:0]
		for _, m := range sst.members {
			name := m.name()
			st, ok := p.instBy[name]
			if !ok {
				p.errorf(m, "vrrp_sync_group %s: vrrp_instance %s not found", sg.Name, name)
				continue
			}
			in := &p.cfg.Instances[st.idx]
			if in.SyncGroup != "" {
				p.errorf(m, "vrrp_sync_group %s: vrrp_instance %s is already in sync group %s", sg.Name, name, in.SyncGroup)
				continue
			}
			in.SyncGroup = sg.Name
			members = append(members, name)
		}
		sg.Group = members
		// keepalived: the group's smtp_alert, else smtp_alert_vrrp, else
		// smtp_alert, else off.
		g := &p.cfg.GlobalDefs
		sg.SMTPAlert = orBool(sst.smtpAlert, orBool(g.SMTPAlertVRRP, orBool(g.SMTPAlert, false)))
		switch len(members) {
		case 0:
			p.warnf(sst.n, "sync group %s has no vrrp instances", sg.Name)
		case 1:
			p.warnf(sst.n, "sync group %s has only one vrrp instance - this probably isn't what you want", sg.Name)
		}
	}
}

// lookup describes one kind of tracked object.
type lookup struct {
	kw      string
	what    string
	defined map[string]*node
	drop    string
	weight  func(name string) int
}

func (p *parser) lookups() []lookup {
	scriptW := map[string]int{}
	for _, s := range p.cfg.VRRPScripts {
		scriptW[s.Name] = s.Weight
	}
	fileW := map[string]int{}
	for _, f := range p.cfg.TrackFiles {
		fileW[f.Name] = f.Weight
	}
	procW := map[string]int{}
	for _, t := range p.cfg.TrackProcesses {
		procW[t.Name] = t.Weight
	}
	bfdW := map[string]int{}
	for _, b := range p.cfg.BFDInstances {
		bfdW[b.Name] = b.Weight
	}
	return []lookup{
		{"track_script", "vrrp_script", p.scripts, "script:", func(n string) int { return scriptW[n] }},
		{"track_file", "track_file", p.files, "file:", func(n string) int { return fileW[n] }},
		{"track_process", "vrrp_track_process", p.processes, "process:", func(n string) int { return procW[n] }},
		{"track_bfd", "bfd_instance", p.bfds, "bfd:", func(n string) int { return bfdW[n] }},
	}
}

// resolve drops references to objects that do not exist: an error when the
// name was never defined, a warning when the block was removed for an
// earlier reported reason (keepalived ignores the reference). nodes runs
// parallel to refs and is filtered with it.
func (p *parser) resolve(owner string, refs []conf.TrackRef, nodes *[]*node, l lookup) []conf.TrackRef {
	out, outN := refs[:0], (*nodes)[:0]
	for i, r := range refs {
		n := (*nodes)[i]
		if _, ok := l.defined[r.Name]; !ok || p.dropped[l.drop+r.Name] {
			if p.dropped[l.drop+r.Name] {
				p.warnf(n, "(%s) %s %s was removed - ignoring it", owner, l.what, r.Name)
			} else {
				p.errorf(n, "(%s) %s %s not found", owner, l.what, r.Name)
			}
			continue
		}
		out, outN = append(out, r), append(outN, n)
	}
	*nodes = outN
	return out
}

// checkTracking resolves track_* references and applies keepalived's rule
// that members of a sync group (without sync_group_tracking_weight) and
// address owners (priority 255) cannot have weighted tracking.
func (p *parser) checkTracking() {
	ls := p.lookups()
	for _, sst := range p.syncs {
		sg := &p.cfg.SyncGroups[sst.idx]
		sg.TrackScripts = p.resolve(sg.Name, sg.TrackScripts, &sst.refN[refScript], ls[refScript])
		sg.TrackFiles = p.resolve(sg.Name, sg.TrackFiles, &sst.refN[refFile], ls[refFile])
		sg.TrackProcesses = p.resolve(sg.Name, sg.TrackProcesses, &sst.refN[refProcess], ls[refProcess])
		sg.TrackBFDs = p.resolve(sg.Name, sg.TrackBFDs, &sst.refN[refBFD], ls[refBFD])
	}
	for _, sst := range p.syncs {
		p.checkGroupOwnerWeights(sst, ls)
	}
	groupWeight := map[string]bool{}
	for _, sg := range p.cfg.SyncGroups {
		groupWeight[sg.Name] = sg.SyncGroupTrackingWeight
	}
	for _, st := range p.insts {
		in := &p.cfg.Instances[st.idx]
		in.TrackScripts = p.resolve(in.Name, in.TrackScripts, &st.refN[refScript], ls[refScript])
		in.TrackFiles = p.resolve(in.Name, in.TrackFiles, &st.refN[refFile], ls[refFile])
		in.TrackProcesses = p.resolve(in.Name, in.TrackProcesses, &st.refN[refProcess], ls[refProcess])
		in.TrackBFDs = p.resolve(in.Name, in.TrackBFDs, &st.refN[refBFD], ls[refBFD])

		sync := in.SyncGroup != "" && !groupWeight[in.SyncGroup]
		owner := in.Priority == conf.OwnerPriority
		if !sync && !owner {
			continue
		}
		why := "address owner (priority 255)"
		if sync {
			why = "sync group " + in.SyncGroup
		}
		eff := func(r conf.TrackRef, l lookup) int {
			if r.Weight != nil {
				return *r.Weight
			}
			return l.weight(r.Name)
		}
		zero := 0
		ifs := in.TrackInterfaces[:0]
		for i, r := range in.TrackInterfaces {
			n := st.refN[refInterface][i]
			if r.Weight != nil && *r.Weight != 0 {
				if sync {
					p.warnf(n, "(%s) ignoring weight of tracked interface %s due to %s", in.Name, r.Name, why)
					r.Weight = &zero
				} else {
					p.warnf(n, "(%s) ignoring tracked interface %s due to %s", in.Name, r.Name, why)
					continue
				}
			}
			ifs = append(ifs, r)
		}
		in.TrackInterfaces = ifs
		dropWeighted := func(refs []conf.TrackRef, nodes []*node, l lookup) []conf.TrackRef {
			out := refs[:0]
			for i, r := range refs {
				n := nodes[i]
				w := eff(r, l)
				if l.kw == "track_file" && r.Weight == nil && w == 1 {
					p.warnf(n, "(%s) ignoring default weight of tracked file %s due to %s - specify weight 0", in.Name, r.Name, why)
					r.Weight = &zero
				} else if w != 0 {
					p.warnf(n, "(%s) ignoring %s %s with weight %d due to %s", in.Name, l.what, r.Name, w, why)
					continue
				}
				out = append(out, r)
			}
			return out
		}
		in.TrackScripts = dropWeighted(in.TrackScripts, st.refN[refScript], ls[refScript])
		in.TrackFiles = dropWeighted(in.TrackFiles, st.refN[refFile], ls[refFile])
		in.TrackProcesses = dropWeighted(in.TrackProcesses, st.refN[refProcess], ls[refProcess])
		in.TrackBFDs = dropWeighted(in.TrackBFDs, st.refN[refBFD], ls[refBFD])
	}
}

// checkGroupOwnerWeights applies keepalived's rule for a sync group's own
// tracking: its weights apply to every member (whatever
// sync_group_tracking_weight says, which is about the members' own
// tracking), except when a member is an address owner (priority 255),
// whose priority cannot move: then each weighted entry is kept with
// weight 0, so it faults the group instead.
func (p *parser) checkGroupOwnerWeights(sst *syncState, ls []lookup) {
	sg := &p.cfg.SyncGroups[sst.idx]
	owner := ""
	for _, name := range sg.Group {
		if st, ok := p.instBy[name]; ok && p.cfg.Instances[st.idx].Priority == conf.OwnerPriority {
			owner = name
			break
		}
	}
	if owner == "" {
		return
	}
	zero := 0
	for i := range sg.TrackInterfaces {
		if r := &sg.TrackInterfaces[i]; r.Weight != nil && *r.Weight != 0 {
			p.warnf(sst.refN[refInterface][i], "(%s) cannot have weighted track_interface %s with member %s having priority 255 - using weight 0", sg.Name, r.Name, owner)
			r.Weight = &zero
		}
	}
	lists := []*[]conf.TrackRef{&sg.TrackScripts, &sg.TrackFiles, &sg.TrackProcesses, &sg.TrackBFDs}
	for k, refs := range lists {
		l := ls[k] // lookups are in refScript, refFile, refProcess, refBFD order
		for i := range *refs {
			r := &(*refs)[i]
			w := l.weight(r.Name)
			if r.Weight != nil {
				w = *r.Weight
			}
			if w != 0 {
				p.warnf(sst.refN[k][i], "(%s) cannot have weighted %s %s with member %s having priority 255 - using weight 0", sg.Name, l.kw, r.Name, owner)
				r.Weight = &zero
			}
		}
	}
}

// vridKey is what two instances must share to collide on a VRID.
type vridKey struct {
	iface  string
	family int
	vrid   int
}

// checkDuplicateVRIDs reports instances that would share a VRID on the
// same interface and address family: for multicast, with the same
// destination group; for unicast, with the same source and a common peer
// (keepalived's exceptions). Buckets are keyed by interface, family and
// VRID, so this is linear in the number of instances; iteration follows
// config order, never map order.
func (p *parser) checkDuplicateVRIDs() {
	buckets := make(map[vridKey][]int, len(p.insts))
	for i, st := range p.insts {
		in := &p.cfg.Instances[st.idx]
		if in.VRID == 0 {
			continue
		}
		k := vridKey{in.Interface, in.Family, in.VRID}
		for _, j := range buckets[k] {
			o := &p.cfg.Instances[p.insts[j].idx]
			if !vridConflict(in, o) {
				continue
			}
			where := in.Interface
			if where == "" {
				where = "(no interface)"
			}
			p.errorf(st.n, "(%s) VRID %d with IPv%d on interface %s is already used by vrrp_instance %s at %s:%d",
				in.Name, in.VRID, in.Family, where, o.Name, o.Pos.File, o.Pos.Line)
			break
		}
		buckets[k] = append(buckets[k], i)
	}
}

func vridConflict(a, b *conf.Instance) bool {
	ua, ub := len(a.UnicastPeers) > 0, len(b.UnicastPeers) > 0
	if ua != ub {
		return false
	}
	if !ua {
		return a.McastDstIP == b.McastDstIP
	}
	if srcOf(a) != srcOf(b) {
		return false
	}
	for _, x := range a.UnicastPeers {
		for _, y := range b.UnicastPeers {
			if x.Addr == y.Addr {
				return true
			}
		}
	}
	return false
}

func srcOf(in *conf.Instance) netip.Addr {
	if in.UnicastSrcIP.IsValid() {
		return in.UnicastSrcIP
	}
	return in.McastSrcIP
}

// checkStatic resolves track_group references of static addresses, routes
// and rules, and the instances track groups name.
func (p *parser) checkStatic() {
	for _, tg := range p.cfg.TrackGroups {
		b := p.groups[tg.Name]
		for _, c := range b.block {
			for _, g := range c.block {
				if _, ok := p.instBy[g.name()]; !ok {
					p.errorf(g, "track_group %s: vrrp_instance %s not found", tg.Name, g.name())
				}
			}
		}
	}
	for _, ref := range p.trackGroupRefs {
		if _, ok := p.groups[ref.name]; !ok {
			p.errorf(ref.n, "track_group %s not found", ref.name)
		}
	}
}

// checkScriptsUsed warns about vrrp_scripts nothing tracks, as keepalived
// does (it will not run them).
func (p *parser) checkScriptsUsed() {
	used := map[string]bool{}
	for _, in := range p.cfg.Instances {
		for _, r := range in.TrackScripts {
			used[r.Name] = true
		}
	}
	for _, sg := range p.cfg.SyncGroups {
		for _, r := range sg.TrackScripts {
			used[r.Name] = true
		}
	}
	for _, s := range p.cfg.VRRPScripts {
		if !used[s.Name] {
			p.warnf(p.scripts[s.Name], "vrrp_script %s is not used by any vrrp_instance or sync group", s.Name)
		}
	}
}

// fillScriptUsers gives every script without its own user the global
// script_user/script_group.
func (p *parser) fillScriptUsers() {
	g := &p.cfg.GlobalDefs
	fill := func(s *conf.Script) {
		if s != nil && s.User == "" {
			s.User, s.Group = g.ScriptUser, g.ScriptGroup
		}
	}
	notifies := func(n *conf.Notifies) {
		for _, s := range []*conf.Script{n.Master, n.Backup, n.Fault, n.Stop, n.Deleted, n.Notify, n.MasterRxLowerPri} {
			fill(s)
		}
	}
	fill(g.StartupScript)
	fill(g.ShutdownScript)
	for _, f := range []*conf.NotifyFIFO{g.NotifyFIFO, g.VRRPNotifyFIFO, g.LVSNotifyFIFO} {
		if f != nil {
			fill(f.Script)
		}
	}
	for i := range p.cfg.VRRPScripts {
		fill(&p.cfg.VRRPScripts[i].Script)
	}
	for i := range p.cfg.SyncGroups {
		notifies(&p.cfg.SyncGroups[i].Notify)
	}
	for i := range p.cfg.Instances {
		notifies(&p.cfg.Instances[i].Notify)
	}
	for i := range p.cfg.VirtualServers {
		vs := &p.cfg.VirtualServers[i]
		fill(vs.QuorumUp)
		fill(vs.QuorumDown)
		for j := range vs.RealServers {
			rs := &vs.RealServers[j]
			fill(rs.NotifyUp)
			fill(rs.NotifyDown)
			for k := range rs.Checkers {
				if m := rs.Checkers[k].Misc; m != nil {
					fill(&m.Path)
				}
			}
		}
	}
}
