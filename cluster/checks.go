package cluster

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-ha/vigil/config/diag"
	"github.com/vigil-ha/vigil/engine/vrrp"
	"github.com/vigil-ha/vigil/events/conf"
)

// checkRouter runs the checks of one virtual router shared by several
// nodes.
func (l *linter) checkRouter(r *router) {
	if l.checkModeMix(r) {
		// Adverts do not cross between the two halves: the unicast
		// checks below would only repeat it.
	} else if r.id.Unicast {
		l.checkPeers(r)
	} else {
		l.checkMcastGroup(r)
	}
	if !l.checkVersion(r) {
		l.checkAdvertInt(r)
		l.checkAuth(r)
	}
	if l.checkVIPs(r) {
		// Two routers under one VRID: their priorities are not meant
		// to be compared.
		return
	}
	l.checkPriorities(r)
	l.checkPreempt(r)
	l.checkTracks(r)
}

// valGroup is the members sharing one value.
type valGroup struct {
	val string
	ms  []*member
}

// groupBy splits ms by value, in order of first appearance.
func groupBy(ms []*member, f func(*member) string) []valGroup {
	var gs []valGroup
	for _, m := range ms {
		v := f(m)
		found := false
		for k := range gs {
			if gs[k].val == v {
				gs[k].ms = append(gs[k].ms, m)
				found = true
				break
			}
		}
		if !found {
			gs = append(gs, valGroup{val: v, ms: []*member{m}})
		}
	}
	return gs
}

// differs reports a setting whose value differs across the router's
// members: one site per member (in order), printed at the first member
// outside the largest group (the first group on a tie).
func (l *linter) differs(r *router, check string, sev diag.Severity, keyword string, ms []*member,
	value func(*member) string, consequence string) bool {
	return l.differsNoted(r, check, sev, keyword, ms, value, nil, consequence)
}

// differsNoted is differs with a note added to some members' values in
// the message (why a value is not what the file says).
func (l *linter) differsNoted(r *router, check string, sev diag.Severity, keyword string, ms []*member,
	value, note func(*member) string, consequence string) bool {
	gs := groupBy(ms, value)
	if len(gs) < 2 {
		return false
	}
	major := 0
	for k := range gs {
		if len(gs[k].ms) > len(gs[major].ms) {
			major = k
		}
	}
	sites := make([]Site, len(ms))
	primary := -1
	refs := make([]string, len(ms))
	for k, m := range ms {
		sites[k] = m.site(keyword, value(m))
		refs[k] = sites[k].valueRef()
		if note != nil {
			if n := note(m); n != "" {
				refs[k] = strings.TrimSuffix(refs[k], ")") + "; " + n + ")"
			}
		}
		if primary < 0 && value(m) != gs[major].val {
			primary = k
		}
	}
	l.add(check, sev, keyword, r, sites, primary, "%s differs: %s; %s", keyword, strings.Join(refs, ", "), consequence)
	return true
}

func (l *linter) checkModeMix(r *router) bool {
	if !r.id.Unicast || !r.id.Multicast {
		return false
	}
	var uni, multi []string
	var ss []Site
	primary := -1
	// The minority mode is the odd one out.
	nu := 0
	for _, m := range r.members {
		if m.unicast {
			nu++
		}
	}
	oddUnicast := nu*2 <= len(r.members)
	for _, m := range r.members {
		var s Site
		if m.unicast {
			s = m.site("unicast_peer", "unicast")
			uni = append(uni, s.ref())
		} else {
			s = m.site("interface", "multicast")
			multi = append(multi, s.ref())
		}
		if primary < 0 && m.unicast == oddUnicast {
			primary = len(ss)
		}
		ss = append(ss, s)
	}
	l.add(CheckModeMix, diag.Error, "unicast_peer", r, ss, primary,
		"unicast on %s, multicast on %s: a unicast instance drops multicast adverts and a multicast one drops unicast adverts, so neither side hears the other and both become MASTER",
		strings.Join(uni, ", "), strings.Join(multi, ", "))
	return true
}

func (l *linter) checkVersion(r *router) bool {
	return l.differs(r, CheckVersion, diag.Error, "version", r.members,
		func(m *member) string { return strconv.Itoa(m.in.Version) },
		"a node drops every advert of the other VRRP version, so the nodes do not hear each other and each becomes MASTER")
}

func (l *linter) checkAdvertInt(r *router) {
	v2 := r.members[0].in.Version == 2
	sev, why := diag.Warning, "a VRRPv3 backup adopts the master's interval, so the router works, but how fast a master failure is detected depends on which node is master"
	if v2 {
		sev, why = diag.Error, "VRRPv2 drops adverts whose interval is not its own (RFC 3768), so the nodes do not hear each other and each becomes MASTER"
	}
	l.differs(r, CheckAdvertInt, sev, "advert_int", r.members,
		func(m *member) string { return m.in.AdvertInt.Std().String() }, why)
}

func (l *linter) checkAuth(r *router) {
	if r.members[0].in.Version != 2 {
		return // VRRPv3 has no authentication (the parser drops it)
	}
	authType := func(m *member) string {
		if m.in.AuthType == "" {
			return "none"
		}
		return m.in.AuthType
	}
	if l.differs(r, CheckAuthType, diag.Error, "auth_type", r.members, authType,
		"a node drops every advert whose authentication type is not its own, so the nodes do not hear each other and each becomes MASTER") {
		return
	}
	if r.members[0].in.AuthType == "" {
		return
	}
	// Never print a password: name each distinct one by its rank.
	var seen []string
	l.differs(r, CheckAuthPass, diag.Error, "auth_pass", r.members, func(m *member) string {
		for k, p := range seen {
			if p == m.in.AuthPass {
				return "password #" + strconv.Itoa(k+1)
			}
		}
		seen = append(seen, m.in.AuthPass)
		return "password #" + strconv.Itoa(len(seen))
	}, "a node drops every advert that does not carry its own password (an authentication failure), so the nodes do not hear each other and each becomes MASTER")
}

func (l *linter) checkMcastGroup(r *router) {
	l.differs(r, CheckMcastGroup, diag.Error, "mcast_dst_ip", r.members,
		func(m *member) string { return m.in.McastDstIP.String() },
		"a node joins only its own group, so it does not receive the adverts sent to the other group and the nodes each become MASTER")
}

// addrSet is a set of addresses in a canonical order.
type addrSet []netip.Addr

func setOf(l []conf.Address) addrSet {
	var s addrSet
	for _, a := range l {
		x := a.Prefix.Addr().Unmap().WithZone("")
		dup := false
		for _, y := range s {
			dup = dup || y == x
		}
		if !dup {
			s = append(s, x)
		}
	}
	sort.Slice(s, func(i, j int) bool { return s[i].Less(s[j]) })
	return s
}

func (s addrSet) String() string {
	if len(s) == 0 {
		return "none"
	}
	parts := make([]string, len(s))
	for k, a := range s {
		parts[k] = a.String()
	}
	return strings.Join(parts, " ")
}

func (s addrSet) has(a netip.Addr) bool {
	for _, x := range s {
		if x == a {
			return true
		}
	}
	return false
}

func (s addrSet) meets(t addrSet) bool {
	for _, a := range s {
		if t.has(a) {
			return true
		}
	}
	return false
}

// checkVIPs compares the address sets; it reports whether the VRID is
// used for disjoint sets (two routers).
func (l *linter) checkVIPs(r *router) bool {
	sets := map[*member]addrSet{}
	for _, m := range r.members {
		sets[m] = setOf(m.in.VirtualIPAddresses)
	}
	gs := groupBy(r.members, func(m *member) string { return sets[m].String() })
	if len(gs) > 1 && l.disjoint(r, gs, sets) {
		return true
	}
	if len(gs) > 1 {
		l.missingAddrs(r, CheckVIPs, "virtual_ipaddress", sets,
			"the addresses served change with the master, and every advert from a node with other addresses counts an address-list error")
	}
	ex := map[*member]addrSet{}
	for _, m := range r.members {
		ex[m] = setOf(m.in.VirtualIPAddressesExcluded)
	}
	if len(groupBy(r.members, func(m *member) string { return ex[m].String() })) > 1 {
		l.missingAddrs(r, CheckVIPsExcluded, "virtual_ipaddress_excluded", ex,
			"the addresses served change with the master")
	}
	return false
}

// disjoint reports groups of members whose address sets share nothing:
// one VRID used for two sets of addresses.
func (l *linter) disjoint(r *router, gs []valGroup, sets map[*member]addrSet) bool {
	found := false
	for x := range gs {
		for y := x + 1; y < len(gs); y++ {
			a, b := sets[gs[x].ms[0]], sets[gs[y].ms[0]]
			if len(a) > 0 && len(b) > 0 && !a.meets(b) {
				found = true
			}
		}
	}
	if !found {
		return false
	}
	var sites []Site
	var parts []string
	primary := -1
	for k, g := range gs {
		var refs []string
		for _, m := range g.ms {
			s := m.site("virtual_ipaddress", g.val)
			if primary < 0 && k > 0 {
				primary = len(sites)
			}
			sites = append(sites, s)
			refs = append(refs, s.ref())
		}
		parts = append(parts, strings.Join(refs, ", ")+" serve "+g.val)
	}
	sev := diag.Error
	msg := "the VRID is used for different addresses: %s; these nodes elect one master among them all, so only its addresses are served: give each set of addresses its own VRID"
	if r.fallback {
		sev = diag.Warning
		msg += " (if these are separate unicast routers, say which address each node has - unicast_src_ip, or an address line in a topology file - and the lint will tell them apart)"
	}
	l.add(CheckVRIDReused, sev, "virtual_ipaddress", r, sites, primary, msg, strings.Join(parts, "; "))
	return true
}

// missingAddrs reports the addresses of block that some members have and
// others lack.
func (l *linter) missingAddrs(r *router, check, block string, sets map[*member]addrSet, consequence string) {
	var all addrSet
	for _, m := range r.members {
		for _, a := range sets[m] {
			if !all.has(a) {
				all = append(all, a)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Less(all[j]) })
	var sites []Site
	var parts []string
	primary := -1
	for _, a := range all {
		var have, lack []string
		var ss []Site
		first := -1
		for _, m := range r.members {
			if sets[m].has(a) {
				s := m.addrSite(block, a)
				ss = append(ss, s)
				have = append(have, s.ref())
			} else {
				s := m.site(block, "lacks "+a.String())
				if first < 0 {
					first = len(ss)
				}
				ss = append(ss, s)
				lack = append(lack, s.ref())
			}
		}
		if len(lack) == 0 {
			continue
		}
		if primary < 0 {
			primary = len(sites) + first
		}
		sites = append(sites, ss...)
		parts = append(parts, fmt.Sprintf("%s is on %s but not on %s", a, strings.Join(have, ", "), strings.Join(lack, ", ")))
	}
	l.add(check, diag.Warning, block, r, sites, primary, "%s differs: %s; %s", block, strings.Join(parts, "; "), consequence)
}

// checkPeers checks that the unicast nodes of a router list each other.
func (l *linter) checkPeers(r *router) {
	for _, u := range r.members {
		if !u.unicast {
			continue
		}
		for _, v := range r.members {
			if v.node == u.node || !v.unicast || len(v.node.addrs) == 0 {
				continue
			}
			listed := false
			for _, p := range u.in.UnicastPeers {
				if _, ok := v.node.has(p.Addr); ok {
					listed = true
				}
			}
			if listed {
				continue
			}
			us := u.site("unicast_peer", peerList(u.in))
			sites := []Site{us}
			var vrefs []string
			for _, a := range v.node.addrs {
				s := a.site
				if s.Keyword == "address" {
					s.Instance = ""
				}
				sites = append(sites, s)
				vrefs = append(vrefs, fmt.Sprintf("%s (%s at %s:%d)", a.addr, s.Keyword, s.File, s.Line))
			}
			l.add(CheckPeerMissing, diag.Error, "unicast_peer", r, sites, 0,
				"%s (%s:%d) sends its adverts to %s but not to %s's address %s: %s never receives %s's adverts, so both become MASTER",
				u.who(), us.File, us.Line, peerList(u.in), v.node.name, strings.Join(vrefs, " or "), v.node.name, u.node.name)
		}
		// A peer that is no node's address.
		verifiable := true
		for _, v := range r.members {
			if v.node != u.node && len(v.node.addrs) == 0 {
				verifiable = false
			}
		}
		if !verifiable {
			continue
		}
		for _, p := range u.in.UnicastPeers {
			known := false
			for _, n := range l.nodes {
				if _, ok := n.has(p.Addr); ok {
					known = true
				}
			}
			if known {
				continue
			}
			s := u.addrSite("unicast_peer", p.Addr.Unmap().WithZone(""))
			l.add(CheckPeerUnknown, diag.Warning, "unicast_peer", r, []Site{s}, 0,
				"%s sends its adverts to %s, which is no checked node's address (unicast_src_ip, mcast_src_ip or a topology address line): a node left out of the check, a stale entry or a typo; with unicast_fault_no_peer or check_unicast_src it matters which",
				u.who(), p.Addr)
		}
	}
}

func peerList(in *conf.Instance) string {
	parts := make([]string, len(in.UnicastPeers))
	for k, p := range in.UnicastPeers {
		parts[k] = p.Addr.String()
	}
	return strings.Join(parts, " ")
}

// checkPriorities reports MASTER states that the address tie-break
// decides, and several address owners.
func (l *linter) checkPriorities(r *router) {
	var owners []*member
	for _, m := range r.members {
		if m.in.Priority == conf.OwnerPriority {
			owners = append(owners, m)
		}
	}
	if distinctNodes(owners) > 1 {
		var sites []Site
		var refs []string
		for _, m := range owners {
			s := m.site("priority", "255")
			sites, refs = append(sites, s), append(refs, s.ref())
		}
		l.add(CheckOwners, diag.Warning, "priority", r, sites, 1,
			"%s %s have priority 255 (the address owner): each takes the master role at once on start, without waiting to hear a master, and the higher primary address then wins; only one node can own the addresses - give the others a lower priority",
			strings.Join(refs, ", "), allOf(len(refs)))
	}
	masters := map[int][]*member{}
	var prios []int
	for _, m := range r.members {
		if m.in.State != "MASTER" || m.in.Priority == conf.OwnerPriority {
			continue
		}
		if _, ok := masters[m.in.Priority]; !ok {
			prios = append(prios, m.in.Priority)
		}
		masters[m.in.Priority] = append(masters[m.in.Priority], m)
	}
	for _, p := range prios {
		ms := masters[p]
		if distinctNodes(ms) < 2 {
			continue
		}
		var sites []Site
		var refs []string
		for _, m := range ms {
			s := m.site("state", "MASTER, priority "+strconv.Itoa(p))
			sites, refs = append(sites, s), append(refs, s.ref())
		}
		l.add(CheckMasterTie, diag.Warning, "state", r, sites, 1,
			"%s %s start as MASTER with priority %d: they send adverts at once and the node with the higher primary address stays MASTER, so the address, not the configuration, decides the master; after a failover neither preempts the other (an equal priority does not) - give the intended master a higher priority",
			strings.Join(refs, ", "), allOf(len(refs)), p)
	}
}

// allOf is "both" for two, else "all".
func allOf(n int) string {
	if n == 2 {
		return "both"
	}
	return "all"
}

func distinctNodes(ms []*member) int {
	seen := map[*nodeInfo]bool{}
	for _, m := range ms {
		seen[m.node] = true
	}
	return len(seen)
}

// checkPreempt reports nopreempt on some nodes only and preempt_delay
// differences among the preempting nodes.
func (l *linter) checkPreempt(r *router) {
	// cleared notes a keyword the file writes and keepalived cleared.
	cleared := func(m *member, kw string) string {
		if m.src == nil {
			return ""
		}
		p, ok := m.src.Keywords[kw]
		if !ok {
			return ""
		}
		why := "state MASTER"
		if m.in.Priority == conf.OwnerPriority {
			why = "priority 255"
		}
		return fmt.Sprintf("its %s at %s:%d is cleared by %s", kw, p.File, p.Line, why)
	}
	// Preemption matters only on a node that can outrank another.
	canPreempt := func(m *member) bool {
		hi := reachOf(m).hi
		for _, o := range r.members {
			if o.node != m.node && hi > o.in.Priority {
				return true
			}
		}
		return false
	}
	var sites []Site
	var with, without []string
	primary := -1
	for _, m := range r.members {
		switch {
		case m.in.NoPreempt:
			s := m.site("nopreempt", "nopreempt")
			sites, with = append(sites, s), append(with, s.ref())
		case canPreempt(m):
			s := m.site("priority", "preempts, priority "+strconv.Itoa(m.in.Priority))
			ref := s.ref()
			if n := cleared(m, "nopreempt"); n != "" {
				ref = strings.TrimSuffix(ref, ")") + "; " + n + ")"
			}
			if primary < 0 {
				primary = len(sites)
			}
			sites, without = append(sites, s), append(without, ref)
		}
	}
	if len(with) > 0 && len(without) > 0 {
		l.add(CheckNopreempt, diag.Warning, "nopreempt", r, sites, primary,
			"nopreempt is in effect on %s but not on %s, which takes the master role back from a lower-priority master as soon as it is up (a failback) - what the nopreempt on the other nodes says is not wanted; set nopreempt, with state BACKUP, on every node",
			strings.Join(with, ", "), strings.Join(without, ", "))
	}
	var pre []*member
	for _, m := range r.members {
		if !m.in.NoPreempt && canPreempt(m) {
			pre = append(pre, m)
		}
	}
	if distinctNodes(pre) > 1 {
		l.differsNoted(r, CheckPreemptDelay, diag.Warning, "preempt_delay", pre,
			func(m *member) string { return m.in.PreemptDelay.Std().String() },
			func(m *member) string {
				if m.in.PreemptDelay == 0 {
					return cleared(m, "preempt_delay")
				}
				return ""
			},
			"a returning higher-priority node waits its own preempt_delay before taking the master role back, so how long the failback waits depends on which node returns")
	}
}

// contrib is one tracked object's possible effect on a priority.
type contrib struct {
	what  string
	delta int
	site  Site
}

// trackContribs lists the weighted tracked objects of an instance and
// the delta each adds to its priority in its weighted state. Which
// objects apply, with which weight and direction, is what the engine
// compiles (a VRRP machine loaded with the node's configuration: the
// members of a sync group track unweighted unless
// sync_group_tracking_weight, the group's own tracking is weighted unless
// a member is an address owner, weights are clamped to ±254); the delta
// is engine/vrrp's evaluate: the weight when a positive-weight object is
// up or a negative one down, negated by reverse. A track_file counts with
// value 1 (its value multiplies its weight at run time).
func trackContribs(m *member) []contrib {
	iv := m.node.view(m.in.Name)
	if iv == nil {
		return nil
	}
	var out []contrib
	for _, t := range iv.Tracks {
		w := t.Weight
		if t.Reverse {
			w = -w
		}
		if w == 0 {
			continue
		}
		kind := "track_" + t.Kind
		out = append(out, contrib{what: kind + " " + t.Name, delta: w, site: m.trackSite(kind, t.Name, fmt.Sprintf("%s %+d", t.Name, w))})
	}
	return out
}

// view is the engine's view of the node's instance name (nil if the
// engine does not run it).
func (n *nodeInfo) view(name string) *vrrp.InstanceView {
	if n.views == nil {
		n.views = map[string]*vrrp.InstanceView{}
		if n.cfg != nil {
			m := vrrp.New()
			m.Load(n.cfg)
			v := m.View()
			for k := range v.Instances {
				n.views[v.Instances[k].Name] = &v.Instances[k]
			}
		}
	}
	return n.views[name]
}

// trackSite is where the instance's (or else its sync group's) track
// block names a tracked object.
func (m *member) trackSite(kind, name, value string) Site {
	s := m.site(kind, value)
	if m.src != nil {
		if p, ok := m.src.Tracks[kind][name]; ok {
			s.File, s.Line, s.Col, s.Default = p.File, p.Line, p.Col, false
			return s
		}
	}
	if g := m.in.SyncGroup; g != "" && m.node.src != nil && m.node.src.SyncGroups[g] != nil {
		gs := m.node.src.SyncGroups[g]
		p, ok := gs.Tracks[kind][name]
		if !ok {
			p = gs.Block
		}
		s.File, s.Line, s.Col, s.Default = p.File, p.Line, p.Col, false
	}
	return s
}

// reach is the range of priorities a member's weighted tracking can move
// it over.
type reach struct {
	base, lo, hi int
	up, down     []contrib
}

func reachOf(m *member) reach {
	rc := reach{base: m.in.Priority, lo: m.in.Priority, hi: m.in.Priority}
	if m.in.Priority == conf.OwnerPriority {
		return rc // an owner's priority does not move
	}
	for _, c := range trackContribs(m) {
		if c.delta > 0 {
			rc.hi += c.delta
			rc.up = append(rc.up, c)
		} else {
			rc.lo += c.delta
			rc.down = append(rc.down, c)
		}
	}
	rc.hi = min(max(rc.hi, 1), conf.OwnerPriority-1)
	rc.lo = min(max(rc.lo, 1), conf.OwnerPriority-1)
	return rc
}

func contribList(cs []contrib) string {
	parts := make([]string, len(cs))
	for k, c := range cs {
		parts[k] = fmt.Sprintf("%s %+d at %s:%d", c.what, c.delta, c.site.File, c.site.Line)
	}
	return strings.Join(parts, ", ")
}

// checkTracks compares the priorities the tracking weights can reach
// with the master's: a backup lifted above a healthy master, and a master
// whose weights can never hand over.
func (l *linter) checkTracks(r *router) {
	top := 0
	for _, m := range r.members {
		top = max(top, m.in.Priority)
	}
	var masters, backups []*member
	for _, m := range r.members {
		if m.in.Priority == top {
			masters = append(masters, m)
		} else if !m.in.NoPreempt {
			backups = append(backups, m)
		}
	}
	if len(masters) != 1 || len(backups) == 0 {
		return // no one intended master, or no backup that preempts
	}
	mm := masters[0]
	ms := mm.site("priority", strconv.Itoa(top))
	for _, b := range backups {
		rc := reachOf(b)
		if rc.hi <= top {
			continue
		}
		bs := b.site("priority", strconv.Itoa(rc.base))
		sites := []Site{bs}
		for _, c := range rc.up {
			sites = append(sites, c.site)
		}
		sites = append(sites, ms)
		l.add(CheckTrackAbove, diag.Warning, rc.up[0].site.Keyword, r, sites, 1,
			"%s has priority %d (%s:%d) but its positive track weights lift it to %d (%s), above the %d of %s (%s:%d): while those objects are up, %s preempts a fully healthy %s and takes the master role",
			b.who(), rc.base, bs.File, bs.Line, rc.hi, contribList(rc.up), top, mm.who(), ms.File, ms.Line, b.node.name, mm.node.name)
	}
	mr := reachOf(mm)
	if len(mr.down) == 0 {
		return
	}
	best, bestM := 0, (*member)(nil)
	for _, b := range backups {
		if h := reachOf(b).hi; h > best {
			best, bestM = h, b
		}
	}
	if mr.lo < best {
		return
	}
	bs := bestM.site("priority", strconv.Itoa(bestM.in.Priority))
	sites := []Site{ms}
	for _, c := range mr.down {
		sites = append(sites, c.site)
	}
	sites = append(sites, bs)
	l.add(CheckTrackNoHandover, diag.Warning, mr.down[0].site.Keyword, r, sites, 1,
		"%s (priority %d) falls at most to %d with every weighted tracked object failed (%s), never below the %d that %s (%s:%d) reaches at most: its track weights can never hand the master role over (a backup takes over only from a lower priority); make the weights exceed the priority gap, or use weight 0 (fault)",
		mm.who(), top, mr.lo, contribList(mr.down), best, bestM.who(), bs.File, bs.Line)
}

// checkVMACs reports virtual routers on one segment that would answer
// with one MAC address.
func (l *linter) checkVMACs() {
	type key struct{ segment, mac string }
	users := map[key][]*member{}
	var order []key
	for _, r := range l.routers {
		for _, m := range r.members {
			if !m.in.UseVMAC || m.segment == "" {
				continue
			}
			k := key{m.segment, vmacOf(m.in)}
			if _, ok := users[k]; !ok {
				order = append(order, k)
			}
			users[k] = append(users[k], m)
		}
	}
	for _, k := range order {
		ms := users[k]
		var routers []*router
		for _, m := range ms {
			found := false
			for _, r := range routers {
				found = found || r == m.r
			}
			if !found {
				routers = append(routers, m.r)
			}
		}
		if len(routers) < 2 {
			continue
		}
		var sites []Site
		var parts []string
		primary := 0
		for n, r := range routers {
			if n == 1 {
				primary = len(sites)
			}
			var refs []string
			for _, m := range ms {
				if m.r == r {
					s := m.site("use_vmac", k.mac)
					sites = append(sites, s)
					refs = append(refs, s.ref())
				}
			}
			parts = append(parts, strings.Join(refs, ", "))
		}
		l.add(CheckVMACCollision, diag.Error, "use_vmac", nil, sites, primary,
			"virtual MAC %s on segment %s is used by different virtual routers: one on %s; the switch learns the MAC where its last frame came from, so traffic for one router's addresses reaches the other's master: give them different VRIDs (or VMAC addresses)",
			k.mac, k.segment, strings.Join(parts, "; another on "))
	}
}

// vmacOf is the MAC address an instance with use_vmac answers with:
// 00:00:5e:00:01:VRID (IPv4) or 00:00:5e:00:02:VRID (IPv6), or the one
// use_vmac gives (five octets take the VRID as the sixth).
func vmacOf(in *conf.Instance) string {
	if in.VMACAddr != "" {
		parts := strings.Split(strings.ToLower(in.VMACAddr), ":")
		if len(parts) == 5 {
			parts = append(parts, fmt.Sprintf("%02x", in.VRID))
		}
		for k, p := range parts {
			if len(p) == 1 {
				parts[k] = "0" + p
			}
		}
		return strings.Join(parts, ":")
	}
	f := 1
	if in.Family == 6 {
		f = 2
	}
	return fmt.Sprintf("00:00:5e:00:%02x:%02x", f, in.VRID)
}
