// Package cluster lints the keepalived configurations of several nodes
// together: it works out which VRRP instances on which nodes form one
// virtual router, and reports the settings those nodes must agree on and
// do not, the priority layouts that cannot settle, and the collisions
// between virtual routers, each finding naming every node's file:line.
//
// It is pure: Lint reads models that package config has loaded (and,
// optionally, a Topology) and returns findings; it reads no file and
// looks at no host.
//
// # Virtual routers
//
// Two instances on different nodes are one virtual router when they have
// the same VRID and address family and
//
//   - both multicast on the same segment (the interface's name, unless the
//     Topology maps it to a named segment); or
//   - one unicasts to an address the other node has (its unicast_src_ip or
//     mcast_src_ip on any instance, or an address line of the Topology); or
//   - one of them unicasts, neither could be linked to any instance by
//     address, and they are on the same segment (the lint cannot tell
//     them apart: see the "vrid-reused" check).
//
// Unicast instances linked to different peers by address are different
// virtual routers even on one segment, and may reuse a VRID: unicast
// adverts reach only the listed peers. They collide only through a VMAC
// ("vmac-collision").
//
// # Severity
//
// A finding is an error when the virtual router cannot work at all: the
// nodes drop each other's adverts (version, advert_int under VRRPv2,
// authentication, unicast against multicast, a peer left out, a
// different multicast group), so every node becomes MASTER; two routers
// answer with one MAC; one master is elected for two sets of addresses;
// sync groups duel forever. Anything else that works, but not as the
// configuration reads, is a warning that says what happens.
package cluster

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/config/diag"
	"github.com/vigil-ha/vigil/engine/vrrp"
	"github.com/vigil-ha/vigil/events/conf"
)

// Node is one node's loaded configuration.
type Node struct {
	// Name names the node in messages and in the Topology.
	Name   string
	Config *conf.Config
	// Source places the statements (config.LoadWithSource); nil falls
	// back to the blocks' positions the model keeps.
	Source *config.Source
}

// Checks, the Check of a Finding.
const (
	CheckModeMix          = "mode-mix"           // unicast against multicast
	CheckVersion          = "version"            // VRRP versions differ
	CheckAdvertInt        = "advert-int"         // advert_int differs
	CheckAuthType         = "auth-type"          // authentication type differs
	CheckAuthPass         = "auth-pass"          // authentication password differs
	CheckMcastGroup       = "mcast-group"        // mcast_dst_ip differs
	CheckVIPs             = "vip-differs"        // virtual_ipaddress sets differ
	CheckVIPsExcluded     = "vip-excluded"       // virtual_ipaddress_excluded sets differ
	CheckVRIDReused       = "vrid-reused"        // one VRID, disjoint address sets
	CheckPeerMissing      = "peer-missing"       // a unicast node does not list another
	CheckPeerUnknown      = "peer-unknown"       // a unicast peer is no node's address
	CheckMasterTie        = "master-tie"         // state MASTER with equal priorities
	CheckOwners           = "owners"             // several priority 255
	CheckNopreempt        = "nopreempt"          // nopreempt on some nodes only
	CheckPreemptDelay     = "preempt-delay"      // preempt_delay differs
	CheckTrackAbove       = "track-above-master" // a backup's tracks lift it above the master
	CheckTrackNoHandover  = "track-no-handover"  // the master's tracks can never hand over
	CheckSyncInversion    = "sync-inversion"     // sync group priorities invert across nodes
	CheckSyncMembership   = "sync-membership"    // grouped on one node, not on another
	CheckVMACCollision    = "vmac-collision"     // two routers, one MAC, one segment
	CheckTopologyUnknown  = "topology-node"      // the topology names no checked node
	CheckTopologyUnusedIf = "topology-interface" // the topology maps an interface no instance uses
)

// Site is one node's side of a finding.
type Site struct {
	Node     string `json:"node"`
	Instance string `json:"instance,omitempty"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col,omitempty"`
	// Keyword is what the site shows; Default is set when the instance
	// does not write it (the site is then the vrrp_instance statement,
	// and Value keepalived's default or the global_defs value).
	Keyword string `json:"keyword,omitempty"`
	Default bool   `json:"default,omitempty"`
	// Value is the node's value of what the finding compares.
	Value string `json:"value,omitempty"`
}

// ref is how a message names a site: node/instance (file:line).
func (s Site) ref() string {
	who := s.Node
	if s.Instance != "" {
		who += "/" + s.Instance
	}
	where := fmt.Sprintf("%s:%d", s.File, s.Line)
	if s.Default {
		where += ", not set"
	}
	return who + " (" + where + ")"
}

// valueRef is ref with the value first: node/instance VALUE (file:line).
func (s Site) valueRef() string {
	who := s.Node
	if s.Instance != "" {
		who += "/" + s.Instance
	}
	where := fmt.Sprintf("%s:%d", s.File, s.Line)
	if s.Default {
		where += ", not set"
	}
	return who + " " + s.Value + " (" + where + ")"
}

// Router identifies the virtual router a finding is about.
type Router struct {
	VRID     int      `json:"vrid"`
	Family   int      `json:"family"`
	Segments []string `json:"segments,omitempty"`
	// Unicast and Multicast say how its instances send adverts.
	Unicast   bool `json:"unicast,omitempty"`
	Multicast bool `json:"multicast,omitempty"`
	// Nodes are the nodes with an instance in it, in command-line order.
	Nodes []string `json:"nodes"`
}

// Label names the router in a message: "VRID 51 IPv4 on eth0".
func (r *Router) Label() string {
	s := fmt.Sprintf("VRID %d IPv%d", r.VRID, r.Family)
	if r.Unicast && !r.Multicast {
		s += " unicast"
	}
	if len(r.Segments) > 0 {
		s += " on " + strings.Join(r.Segments, ", ")
	}
	return s
}

// Finding is one cross-node problem. File, Line and Col are its first
// site's, where the diagnostic is printed: the node that differs from
// the others when there is one.
type Finding struct {
	Check    string        `json:"check"`
	Severity diag.Severity `json:"severity"`
	Keyword  string        `json:"keyword"`
	File     string        `json:"file"`
	Line     int           `json:"line"`
	Col      int           `json:"col,omitempty"`
	Message  string        `json:"message"`
	Router   *Router       `json:"router,omitempty"`
	Sites    []Site        `json:"sites"`
}

// Diagnostic is the finding as `vigil check` prints it.
func (f Finding) Diagnostic() diag.Diagnostic {
	return diag.Diagnostic{File: f.File, Line: f.Line, Col: f.Col, Keyword: f.Keyword, Severity: f.Severity, Message: f.Message}
}

// member is one instance of one node.
type member struct {
	node    *nodeInfo
	in      *conf.Instance
	src     *config.InstanceSource
	segment string
	unicast bool
	// linked is set when an address links it to another node's instance.
	linked bool
	// fallback is set when it joined its router by segment alone.
	fallback bool
	r        *router
}

type nodeInfo struct {
	idx   int
	name  string
	cfg   *conf.Config
	src   *config.Source
	addrs []addrOf
	// byName are its members by instance name.
	byName map[string]*member
	// views are the engine's views of its instances (see view).
	views map[string]*vrrp.InstanceView
}

// addrOf is an address a node has, and where that is said.
type addrOf struct {
	addr netip.Addr
	site Site
}

func (n *nodeInfo) has(a netip.Addr) (addrOf, bool) {
	a = a.Unmap().WithZone("")
	for _, x := range n.addrs {
		if x.addr == a {
			return x, true
		}
	}
	return addrOf{}, false
}

type router struct {
	id      Router
	members []*member
	nodes   int // distinct nodes
	// fallback is set when a member joined by segment alone.
	fallback bool
}

// Report is what Lint found: the virtual routers, and the findings.
type Report struct {
	// Routers are every virtual router found, those of one node
	// included, in order of first appearance (node order, then config
	// order).
	Routers []RouterInstances `json:"routers"`
	// Findings are in the order the checks run: per virtual router,
	// then VMACs, sync groups and the topology file.
	Findings []Finding `json:"findings"`
}

// RouterInstances is a virtual router and the instances in it.
type RouterInstances struct {
	Router
	// Instances are the vrrp_instance statements, Value the segment.
	Instances []Site `json:"instances"`
}

// Shared counts the routers with instances on several nodes.
func (r Report) Shared() int {
	n := 0
	for _, x := range r.Routers {
		if len(x.Nodes) > 1 {
			n++
		}
	}
	return n
}

// Lint checks nodes (in their order) together; topo may be nil.
func Lint(nodes []Node, topo *Topology) Report {
	l := &linter{topo: topo}
	l.build(nodes)
	l.group()
	for _, r := range l.routers {
		if r.nodes < 2 {
			continue
		}
		l.checkRouter(r)
	}
	l.checkVMACs()
	l.checkSyncGroups()
	l.checkTopology()
	rep := Report{Routers: []RouterInstances{}, Findings: l.out}
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	for _, r := range l.routers {
		ri := RouterInstances{Router: r.id}
		for _, m := range r.members {
			s := m.site("vrrp_instance", m.segment)
			if m.src != nil {
				s.File, s.Line, s.Col = m.src.Block.File, m.src.Block.Line, m.src.Block.Col
			}
			s.Default = false
			ri.Instances = append(ri.Instances, s)
		}
		rep.Routers = append(rep.Routers, ri)
	}
	return rep
}

type linter struct {
	topo    *Topology
	nodes   []*nodeInfo
	members []*member
	routers []*router
	out     []Finding
}

func (l *linter) build(nodes []Node) {
	for k, n := range nodes {
		ni := &nodeInfo{idx: k, name: n.Name, cfg: n.Config, src: n.Source, byName: map[string]*member{}}
		l.nodes = append(l.nodes, ni)
		if n.Config == nil {
			continue
		}
		for i := range n.Config.Instances {
			in := &n.Config.Instances[i]
			m := &member{node: ni, in: in, unicast: len(in.UnicastPeers) > 0}
			if n.Source != nil {
				m.src = n.Source.Instances[in.Name]
			}
			m.segment = l.topo.Segment(n.Name, in.Interface)
			if _, dup := ni.byName[in.Name]; !dup {
				ni.byName[in.Name] = m
			}
			if in.VRID == 0 || in.Family == 0 {
				continue // not a usable instance (its file reported why)
			}
			l.members = append(l.members, m)
			for _, kw := range []string{"unicast_src_ip", "mcast_src_ip"} {
				a := in.UnicastSrcIP
				if kw == "mcast_src_ip" {
					a = in.McastSrcIP
				}
				if !a.IsValid() {
					continue
				}
				a = a.Unmap().WithZone("")
				if _, ok := ni.has(a); !ok {
					ni.addrs = append(ni.addrs, addrOf{addr: a, site: m.site(kw, a.String())})
				}
			}
		}
	}
	if l.topo != nil {
		for _, ta := range l.topo.adds {
			for _, ni := range l.nodes {
				if ni.name != ta.node {
					continue
				}
				if _, ok := ni.has(ta.addr); !ok {
					ni.addrs = append(ni.addrs, addrOf{addr: ta.addr, site: Site{Node: ni.name, File: l.topo.File,
						Line: ta.line, Col: ta.col, Keyword: "address", Value: ta.addr.String()}})
				}
			}
		}
	}
}

// links reports whether unicast member u sends to an address of v's node.
func links(u, v *member) bool {
	if !u.unicast {
		return false
	}
	for _, p := range u.in.UnicastPeers {
		if _, ok := v.node.has(p.Addr); ok {
			return true
		}
	}
	return false
}

// group forms the virtual routers (see the package documentation).
func (l *linter) group() {
	parent := make([]int, len(l.members))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int) {
		ra, rb := find(a), find(b)
		if ra != rb {
			if ra < rb {
				parent[rb] = ra
			} else {
				parent[ra] = rb
			}
		}
	}
	type key struct{ vrid, family int }
	buckets := map[key][]int{}
	var order []key
	for i, m := range l.members {
		k := key{m.in.VRID, m.in.Family}
		if _, ok := buckets[k]; !ok {
			order = append(order, k)
		}
		buckets[k] = append(buckets[k], i)
	}
	for _, k := range order {
		b := buckets[k]
		for x := 0; x < len(b); x++ {
			for y := x + 1; y < len(b); y++ {
				mx, my := l.members[b[x]], l.members[b[y]]
				if mx.node == my.node {
					continue
				}
				switch {
				case !mx.unicast && !my.unicast:
					if mx.segment != "" && mx.segment == my.segment {
						union(b[x], b[y])
					}
				case links(mx, my) || links(my, mx):
					mx.linked, my.linked = true, true
					union(b[x], b[y])
				}
			}
		}
		// An instance no address links, and that could be one of a
		// unicast router, joins the instances on its segment.
		for x := 0; x < len(b); x++ {
			for y := 0; y < len(b); y++ {
				mx, my := l.members[b[x]], l.members[b[y]]
				if x == y || mx.node == my.node || mx.linked || mx.segment == "" || mx.segment != my.segment {
					continue
				}
				if !mx.unicast && !my.unicast {
					continue // joined above
				}
				if find(b[x]) != find(b[y]) {
					mx.fallback = true
					union(b[x], b[y])
				}
			}
		}
	}
	byRoot := map[int]*router{}
	for i, m := range l.members {
		root := find(i)
		r := byRoot[root]
		if r == nil {
			r = &router{id: Router{VRID: m.in.VRID, Family: m.in.Family}}
			byRoot[root] = r
			l.routers = append(l.routers, r)
		}
		m.r = r
		r.members = append(r.members, m)
		r.fallback = r.fallback || m.fallback
		if m.unicast {
			r.id.Unicast = true
		} else {
			r.id.Multicast = true
		}
		if m.segment != "" && !contains(r.id.Segments, m.segment) {
			r.id.Segments = append(r.id.Segments, m.segment)
		}
		if !contains(r.id.Nodes, m.node.name) {
			r.id.Nodes = append(r.id.Nodes, m.node.name)
			r.nodes++
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// globalKeyword is the global_defs keyword that gives an instance keyword
// its default.
var globalKeyword = map[string]string{
	"version":  "vrrp_version",
	"priority": "vrrp_priority",
}

// site returns the member's site for keyword: the statement that sets it
// in the instance, else the global_defs one that gives its default, else
// the vrrp_instance statement (Default set).
func (m *member) site(keyword, value string) Site {
	s := Site{Node: m.node.name, Instance: m.in.Name, Keyword: keyword, Value: value}
	var p config.Place
	found := false
	if m.src != nil {
		p, found = m.src.Keyword(keyword)
		if !found && m.node.src != nil {
			gk := globalKeyword[keyword]
			if keyword == "mcast_dst_ip" {
				gk = fmt.Sprintf("vrrp_mcast_group%d", m.in.Family)
			}
			if g, ok := m.node.src.Globals[gk]; ok && gk != "" {
				p, found = g, true
				s.Keyword = gk
			}
		}
	} else {
		p = config.Place{File: m.in.Pos.File, Line: m.in.Pos.Line}
	}
	s.File, s.Line, s.Col, s.Default = p.File, p.Line, p.Col, !found
	return s
}

// addrSite is the site of an address entry of an address block.
func (m *member) addrSite(block string, a netip.Addr) Site {
	s := m.site(block, a.String())
	if m.src != nil {
		p := m.src.Addr(block, a)
		s.File, s.Line, s.Col = p.File, p.Line, p.Col
	}
	return s
}

// who is node/instance.
func (m *member) who() string { return m.node.name + "/" + m.in.Name }

// add records a finding; primary indexes the site it is printed at.
func (l *linter) add(check string, sev diag.Severity, keyword string, r *router, sites []Site, primary int, format string, args ...any) {
	f := Finding{Check: check, Severity: sev, Keyword: keyword, Sites: sites, Message: fmt.Sprintf(format, args...)}
	if r != nil {
		id := r.id
		f.Router = &id
		f.Message = r.id.Label() + ": " + f.Message
	}
	if primary >= 0 && primary < len(sites) {
		p := sites[primary]
		f.File, f.Line, f.Col = p.File, p.Line, p.Col
	}
	l.out = append(l.out, f)
}
