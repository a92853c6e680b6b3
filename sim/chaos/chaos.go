// Package chaos is `vigil sim chaos`: it builds a simulated world from the
// keepalived.conf files of a real cluster and breaks it.
//
// The world: one simulated node per file; the segments inferred as `vigil
// check` infers them (package cluster: the same interface name on every
// node is one segment, unless a topology file says otherwise); each
// node's unicast_src_ip, mcast_src_ip and topology addresses on its
// interfaces; track scripts, track files and tracked processes as inputs
// the run sets. The virtual routers are those the cluster lint finds.
//
// Then two passes:
//
//   - the failure matrix (Matrix): every single fault — a node crash and
//     restart, a link down and up, a track script failing and recovering,
//     a tracked process going away and back, a partition isolating a node
//     of a segment — applied to the settled cluster, with who ends MASTER
//     of each virtual router, how long its VIPs had no answering node,
//     and the invariants checked throughout;
//   - random schedules (Random): the swarm's fault kinds at the swarm's
//     random times over the cluster's own nodes, links and inputs, one
//     schedule per seed, the swarm's invariants checked continuously; a
//     failing schedule is shrunk and written as a scenario file that
//     `vigil sim FILE` reproduces.
//
// Every run is a scenario text executed by package sim exactly as `vigil
// sim FILE` executes it, so what chaos reports, the written file replays.
package chaos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/cluster"
	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/events/conf"
	"github.com/vigil-ha/vigil/sim"
)

// Latency is the one-way delay of every simulated segment.
const Latency = 200 * time.Microsecond

// Node is one node of the cluster.
type Node struct {
	// Name is the node's name in the scenarios (a word); LintName is its
	// name for the topology file, as `vigil check` names it (router_id,
	// else the file's path).
	Name, LintName string
	// File is the configuration's path as given; Ref is the name the
	// scenarios load it by (a copy in the work directory, else File's
	// absolute path).
	File, Ref string
	Config    *conf.Config
	text      []byte
	// ifaces are the node's interfaces, in config order, with the
	// addresses the node has on each.
	ifaces []nodeIface
}

type nodeIface struct {
	name    string
	segment string
	addrs   []netip.Addr
}

// Router is a virtual router: one VRID on one segment, the instances of
// the nodes in it, and its virtual addresses.
type Router struct {
	Label   string   `json:"router"`
	VRID    int      `json:"vrid"`
	Family  int      `json:"family"`
	Segment string   `json:"segment"`
	Members []Member `json:"members"`
	VIPs    []VIP    `json:"vips"`
	// downInt is the slowest member's master-down interval without skew;
	// advInt its advert interval.
	downInt, advInt time.Duration
}

// Member is one node's instance in a virtual router.
type Member struct {
	Node     string `json:"node"`
	Instance string `json:"instance"`
}

// VIP is a virtual address and the segment its neighbours are on.
type VIP struct {
	Addr    netip.Addr `json:"addr"`
	Segment string     `json:"segment"`
}

// Cluster is the user's cluster as the simulator runs it.
type Cluster struct {
	Nodes   []*Node
	Routers []Router
	// Segments are the inferred segments, in order of first appearance.
	Segments []sim.ChaosSegment
	// Inputs is what random schedules may perturb.
	Inputs sim.ChaosInputs
	// Warnings are what the simulation cannot model as the real cluster
	// would run (printed before the results).
	Warnings []string
	// Dir is the work directory: config copies and scenario files.
	Dir string
}

// Load reads the configurations (one node each) and infers the world:
// segments and routers as the cluster lint does, with topo (nil: none).
// The configurations are copied into dir, which the scenarios are
// written to and run from.
func Load(files []string, topo *cluster.Topology, b sim.Backend, dir string) (*Cluster, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("no configuration files")
	}
	c := &Cluster{Dir: dir}
	var lint []cluster.Node
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		cfg, src, ds, err := config.LoadWithSource(f, config.Options{})
		if err != nil {
			if len(ds) > 0 {
				return nil, fmt.Errorf("%s: %w: %s", f, err, ds[0])
			}
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		n := &Node{File: f, Config: cfg, text: text, LintName: cfg.GlobalDefs.RouterID}
		c.Nodes = append(c.Nodes, n)
		lint = append(lint, cluster.Node{Config: cfg, Source: src})
	}
	c.nameNodes()
	for i, n := range c.Nodes {
		lint[i].Name = n.LintName
	}
	rep := cluster.Lint(lint, topo)
	for _, f := range rep.Findings {
		// What the topology file says that matches nothing.
		if f.Check == cluster.CheckTopologyUnknown || f.Check == cluster.CheckTopologyUnusedIf {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Message))
		}
	}
	if err := c.copyConfigs(b); err != nil {
		return nil, err
	}
	c.interfaces(topo)
	c.routers(rep)
	c.inputs()
	return c, nil
}

// nameNodes names each node as `vigil check` does (router_id, else the
// path; a name two files share falls back to the path), and gives it a
// scenario name: that name if it is a plain word, else n1, n2, ...
func (c *Cluster) nameNodes() {
	uses := map[string]int{}
	for _, n := range c.Nodes {
		if n.LintName == "" {
			n.LintName = n.File
		}
		uses[n.LintName]++
	}
	taken := map[string]bool{}
	for i, n := range c.Nodes {
		if uses[n.LintName] > 1 {
			n.LintName = n.File
		}
		n.Name = n.LintName
		if !isWord(n.Name) || taken[n.Name] {
			n.Name = fmt.Sprintf("n%d", i+1)
		}
		taken[n.Name] = true
	}
}

// isWord reports whether s can name a node or segment in a scenario.
func isWord(s string) bool {
	if s == "" || s == "none" || s == "nobody" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// copyConfigs copies each configuration into the work directory as
// NODE.conf; when the copy does not load to the same model (a relative
// include), the scenarios load the original by its absolute path.
func (c *Cluster) copyConfigs(b sim.Backend) error {
	for _, n := range c.Nodes {
		ref := n.Name + ".conf"
		path := filepath.Join(c.Dir, ref)
		if err := os.WriteFile(path, n.text, 0o644); err != nil {
			return fmt.Errorf("copy config: %w", err)
		}
		n.Ref = ref
		cp, _, err := b.LoadFile(path)
		if err == nil && sameModel(cp, n.Config) {
			continue
		}
		abs, aerr := filepath.Abs(n.File)
		if aerr != nil {
			return fmt.Errorf("config %s: %w", n.File, aerr)
		}
		if strings.ContainsAny(abs, " \t") {
			return fmt.Errorf("config %s: its copy does not load alike (an include?) and its path has blanks", n.File)
		}
		n.Ref = abs
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s: its copy in %s does not load alike (a relative include?): scenarios load %s itself", n.File, c.Dir, abs))
	}
	return nil
}

func sameModel(a, b *conf.Config) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// interfaces lists each node's interfaces (the instances' interfaces,
// tracked interfaces, VIP devices), their segments and the addresses the
// node has on them: unicast_src_ip and mcast_src_ip on the instance's
// interface; a topology address on the interface of the node's first
// unicast instance of its family, else of its first instance.
func (c *Cluster) interfaces(topo *cluster.Topology) {
	for _, n := range c.Nodes {
		add := func(name string) *nodeIface {
			if name == "" {
				return nil
			}
			for i := range n.ifaces {
				if n.ifaces[i].name == name {
					return &n.ifaces[i]
				}
			}
			n.ifaces = append(n.ifaces, nodeIface{name: name, segment: topo.Segment(n.LintName, name)})
			return &n.ifaces[len(n.ifaces)-1]
		}
		addAddr := func(ifc *nodeIface, a netip.Addr) {
			a = a.Unmap().WithZone("")
			if ifc != nil && a.IsValid() && !slices.Contains(ifc.addrs, a) {
				ifc.addrs = append(ifc.addrs, a)
			}
		}
		cfg := n.Config
		for i := range cfg.Instances {
			in := &cfg.Instances[i]
			ifc := add(in.Interface)
			addAddr(ifc, in.UnicastSrcIP)
			addAddr(ifc, in.McastSrcIP)
			for _, t := range in.TrackInterfaces {
				add(t.Name)
			}
			for _, a := range in.VirtualIPAddresses {
				add(a.Dev)
			}
		}
		for _, g := range cfg.SyncGroups {
			for _, t := range g.TrackInterfaces {
				add(t.Name)
			}
		}
		for _, a := range topo.Addresses(n.LintName) {
			var target string
			for i := range cfg.Instances {
				in := &cfg.Instances[i]
				if target == "" && len(in.UnicastPeers) > 0 && in.UnicastPeers[0].Addr.Is4() == a.Is4() {
					target = in.Interface
				}
			}
			if target == "" && len(cfg.Instances) > 0 {
				target = cfg.Instances[0].Interface
			}
			addAddr(add(target), a)
		}
	}
	for _, n := range c.Nodes {
		for _, ifc := range n.ifaces {
			k := slices.IndexFunc(c.Segments, func(s sim.ChaosSegment) bool { return s.Name == ifc.segment })
			if k < 0 {
				c.Segments = append(c.Segments, sim.ChaosSegment{Name: ifc.segment})
				k = len(c.Segments) - 1
			}
			if !slices.Contains(c.Segments[k].Nodes, n.Name) {
				c.Segments[k].Nodes = append(c.Segments[k].Nodes, n.Name)
			}
		}
	}
	// Unicast peers must be some node's address, or their adverts go
	// nowhere in the simulation.
	for _, n := range c.Nodes {
		for i := range n.Config.Instances {
			in := &n.Config.Instances[i]
			for _, p := range in.UnicastPeers {
				if c.owner(p.Addr) == nil {
					c.Warnings = append(c.Warnings, fmt.Sprintf("%s/%s: unicast_peer %s is no node's address (no unicast_src_ip names it): its adverts go nowhere; say which node has it with `address NODE %s` in a --topology file",
						n.Name, in.Name, p.Addr, p.Addr))
				}
			}
		}
	}
}

// owner returns the node that has address a, or nil.
func (c *Cluster) owner(a netip.Addr) *Node {
	a = a.Unmap().WithZone("")
	for _, n := range c.Nodes {
		for _, ifc := range n.ifaces {
			if slices.Contains(ifc.addrs, a) {
				return n
			}
		}
	}
	return nil
}

func (c *Cluster) byLintName(name string) *Node {
	for _, n := range c.Nodes {
		if n.LintName == name {
			return n
		}
	}
	return nil
}

// routers turns the lint's virtual routers into the simulation's.
func (c *Cluster) routers(rep cluster.Report) {
	for _, ri := range rep.Routers {
		r := Router{VRID: ri.VRID, Family: ri.Family, Segment: strings.Join(ri.Segments, ",")}
		var names []string
		for _, s := range ri.Instances {
			n := c.byLintName(s.Node)
			if n == nil {
				continue
			}
			r.Members = append(r.Members, Member{Node: n.Name, Instance: s.Instance})
			if !slices.Contains(names, s.Instance) {
				names = append(names, s.Instance)
			}
			in := instance(n.Config, s.Instance)
			if in == nil {
				continue
			}
			iv := in.AdvertInt.Std()
			if iv <= 0 {
				iv = time.Second
			}
			down := in.DownTimerAdverts
			if down <= 0 {
				down = conf.DefaultDownAdverts
			}
			r.downInt = max(r.downInt, time.Duration(down)*iv)
			r.advInt = max(r.advInt, iv)
			for _, a := range in.VirtualIPAddresses {
				dev := a.Dev
				if dev == "" {
					dev = in.Interface
				}
				v := VIP{Addr: a.Prefix.Addr(), Segment: segOf(n, dev)}
				if !slices.Contains(r.VIPs, v) {
					r.VIPs = append(r.VIPs, v)
				}
			}
		}
		if len(r.Members) == 0 {
			continue
		}
		r.Label = fmt.Sprintf("%s VRID %d", strings.Join(names, "/"), r.VRID)
		if r.Family == 6 {
			r.Label += " IPv6"
		}
		if r.Segment != "" {
			r.Label += " on " + r.Segment
		}
		c.Routers = append(c.Routers, r)
	}
}

func segOf(n *Node, iface string) string {
	for _, i := range n.ifaces {
		if i.name == iface {
			return i.segment
		}
	}
	return iface
}

func instance(cfg *conf.Config, name string) *conf.Instance {
	for i := range cfg.Instances {
		if cfg.Instances[i].Name == name {
			return &cfg.Instances[i]
		}
	}
	return nil
}

// inputs lists what random schedules perturb: the nodes' links, segments,
// the scripts, track files and processes their instances or sync groups
// track, and their VIPs.
func (c *Cluster) inputs() {
	in := &c.Inputs
	in.Segments = c.Segments
	for _, n := range c.Nodes {
		in.Nodes = append(in.Nodes, n.Name)
		in.Configs = append(in.Configs, n.Ref)
		for _, ifc := range n.ifaces {
			in.Links = append(in.Links, n.Name+":"+ifc.name)
		}
		used := map[string]bool{}
		note := func(kind string, refs []conf.TrackRef) {
			for _, r := range refs {
				used[kind+"\x00"+r.Name] = true
			}
		}
		for i := range n.Config.Instances {
			x := &n.Config.Instances[i]
			note("s", x.TrackScripts)
			note("f", x.TrackFiles)
			note("p", x.TrackProcesses)
			for _, a := range x.VirtualIPAddresses {
				if v := (sim.ChaosInput{Node: n.Name, Name: a.Prefix.Addr().String()}); !slices.Contains(in.VIPs, v) {
					in.VIPs = append(in.VIPs, v)
				}
			}
		}
		for _, g := range n.Config.SyncGroups {
			note("s", g.TrackScripts)
			note("f", g.TrackFiles)
			note("p", g.TrackProcesses)
		}
		for _, s := range n.Config.VRRPScripts {
			if used["s\x00"+s.Name] {
				in.Scripts = append(in.Scripts, sim.ChaosInput{Node: n.Name, Name: s.Name})
			}
		}
		for _, f := range n.Config.TrackFiles {
			if used["f\x00"+f.Name] {
				in.Files = append(in.Files, sim.ChaosInput{Node: n.Name, Name: f.Name})
			}
		}
		for _, p := range n.Config.TrackProcesses {
			if used["p\x00"+p.Name] {
				in.Procs = append(in.Procs, sim.ChaosInput{Node: n.Name, Name: p.Name, Quorum: p.Quorum, QuorumMax: p.QuorumMax})
			}
		}
	}
}

// Header is the scenario text declaring the nodes (with their addresses)
// and the segments.
func (c *Cluster) Header() string {
	var b strings.Builder
	for _, n := range c.Nodes {
		fmt.Fprintf(&b, "node %s config=%s", n.Name, n.Ref)
		for _, ifc := range n.ifaces {
			if len(ifc.addrs) == 0 {
				continue
			}
			var ps []string
			for _, a := range ifc.addrs {
				bits := 24
				if a.Is6() {
					bits = 64
				}
				ps = append(ps, netip.PrefixFrom(a, bits).String())
			}
			fmt.Fprintf(&b, " %s=%s", ifc.name, strings.Join(ps, ","))
		}
		b.WriteString("\n")
	}
	for _, s := range c.Segments {
		fmt.Fprintf(&b, "segment %s", s.Name)
		for _, n := range c.Nodes {
			for _, ifc := range n.ifaces {
				if ifc.segment == s.Name {
					fmt.Fprintf(&b, " %s:%s", n.Name, ifc.name)
				}
			}
		}
		fmt.Fprintf(&b, " latency=%s\n", strings.ReplaceAll(Latency.String(), "µ", "u"))
	}
	return b.String()
}

// startAll is the command starting every node.
func (c *Cluster) startAll() string {
	var names []string
	for _, n := range c.Nodes {
		names = append(names, n.Name)
	}
	return "start " + strings.Join(names, " ")
}
