package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// clusterSpec is a randomly generated cluster: what every node runs.
type clusterSpec struct {
	nodes     []string
	instances []genInstance
	// prio[node][instance] is each node's configured priority.
	prio    [][]int
	nopre   [][]bool
	scripts []genScript
	files   []genFile
	procs   []genProc
	// syncPairs groups instance i with i+1 in a sync group.
	sync    bool
	eth1    bool // a second segment and track_interface eth1
	latency time.Duration
	jitter  time.Duration
	dup     float64
	reorder float64
	// bfd, when set, runs BFD sessions (drawn from a stream of their
	// own: see genBFD).
	bfd *genBFDSpec
}

type genInstance struct {
	name      string
	vrid      int
	version   int
	interval  time.Duration
	v6        bool
	unicast   bool
	preDelay  time.Duration
	useScript int // index into scripts, -1: none
	useFile   int
	useProc   int // index into procs, -1: none
}

// genProc is a vrrp_track_process block.
type genProc struct {
	name, process string
	weight        int
	reverse       bool
	quorum, qmax  int
}

// nodeConf is what a node's configuration sets that a reload may change.
type nodeConf struct {
	prio     []int
	nopre    []bool
	has      []bool // the instance is configured
	interval []time.Duration
	sweight  []int // per vrrp_script
}

func (nc nodeConf) clone() nodeConf {
	return nodeConf{prio: slices.Clone(nc.prio), nopre: slices.Clone(nc.nopre), has: slices.Clone(nc.has),
		interval: slices.Clone(nc.interval), sweight: slices.Clone(nc.sweight)}
}

// initial is node n's configuration at the start.
func (c *clusterSpec) initial(n int) nodeConf {
	nc := nodeConf{prio: slices.Clone(c.prio[n]), nopre: slices.Clone(c.nopre[n])}
	for _, in := range c.instances {
		nc.has = append(nc.has, true)
		nc.interval = append(nc.interval, in.interval)
	}
	for _, sc := range c.scripts {
		nc.sweight = append(nc.sweight, sc.weight)
	}
	return nc
}

// Reload kinds: what an operator changes before a SIGHUP.
const (
	opSame     = iota // the same file again
	opPrio            // one instance's priority
	opRemove          // drop an instance
	opAdd             // add an instance back
	opNopre           // toggle nopreempt
	opWeight          // a vrrp_script's weight
	opInterval        // an instance's advert_int, on every node at once
)

// reloadOp is one reload: applied, at rendering, to the configuration the
// node has then (so that a shrunk schedule stays coherent).
type reloadOp struct {
	kind int
	node int // -1: every node
	k    int // instance or script
	val  int // priority, weight, or interval in ms
}

func (op *reloadOp) apply(nc *nodeConf) {
	switch op.kind {
	case opPrio:
		nc.prio[op.k] = op.val
	case opRemove:
		n := 0
		for _, h := range nc.has {
			if h {
				n++
			}
		}
		if n > 1 { // keep at least one instance
			nc.has[op.k] = false
		}
	case opAdd:
		nc.has[op.k] = true
	case opNopre:
		nc.nopre[op.k] = !nc.nopre[op.k]
	case opWeight:
		nc.sweight[op.k] = op.val
	case opInterval:
		nc.interval[op.k] = time.Duration(op.val) * time.Millisecond
	}
}

type genScript struct {
	name       string
	weight     int
	rise, fall int
	interval   time.Duration
}

type genFile struct {
	name   string
	weight int
}

// genCluster draws a cluster: 2–5 nodes, 1–3 instances (VRRPv2 or v3,
// IPv4 or IPv6, multicast or unicast), priorities, preemption settings,
// sync groups and trackers (scripts, a track file, tracked processes).
func genCluster(r *rand.Rand) *clusterSpec {
	c := &clusterSpec{}
	nn := 2 + r.IntN(4)
	for i := range nn {
		c.nodes = append(c.nodes, string(rune('a'+i)))
	}
	c.latency = time.Duration(50+r.IntN(2000)) * time.Microsecond
	if r.IntN(3) == 0 {
		c.jitter = time.Duration(r.IntN(1000)) * time.Microsecond
	}
	if r.IntN(4) == 0 {
		c.dup = float64(r.IntN(10))
	}
	if r.IntN(4) == 0 {
		c.reorder = float64(r.IntN(10))
	}
	for i := range 1 + r.IntN(2) {
		s := genScript{name: fmt.Sprintf("chk_%d", i+1), rise: 1 + r.IntN(2), fall: 1 + r.IntN(2),
			interval: time.Duration(1+r.IntN(2)) * time.Second}
		switch r.IntN(3) {
		case 0:
			s.weight = 0 // failure means FAULT
		case 1:
			s.weight = -(10 + r.IntN(60))
		default:
			s.weight = 10 + r.IntN(60)
		}
		c.scripts = append(c.scripts, s)
	}
	c.files = append(c.files, genFile{name: "tf_1", weight: []int{-1, 1, 2}[r.IntN(3)]})
	for i := range r.IntN(3) {
		p := genProc{name: fmt.Sprintf("tp_%d", i+1), process: fmt.Sprintf("daemon%d", i+1), quorum: 1 + r.IntN(3)}
		if r.IntN(2) == 0 {
			p.qmax = p.quorum + r.IntN(3)
		}
		switch r.IntN(3) {
		case 0:
			p.weight = 0
		case 1:
			p.weight = -(10 + r.IntN(60))
		default:
			p.weight = 10 + r.IntN(60)
		}
		p.reverse = p.weight != 0 && r.IntN(4) == 0
		c.procs = append(c.procs, p)
	}
	ni := 1 + r.IntN(3)
	c.sync = ni > 1 && r.IntN(3) == 0
	c.eth1 = r.IntN(3) == 0
	for i := range ni {
		in := genInstance{name: fmt.Sprintf("VI_%d", i+1), vrid: 10 + i*7 + r.IntN(7), useScript: -1, useFile: -1, useProc: -1}
		in.version = 2 + r.IntN(2)
		in.interval = time.Second
		if in.version == 3 {
			in.interval = []time.Duration{time.Second, time.Second, 500 * time.Millisecond, 200 * time.Millisecond}[r.IntN(4)]
			in.v6 = r.IntN(4) == 0
		}
		in.unicast = !in.v6 && r.IntN(4) == 0
		if r.IntN(4) == 0 {
			in.preDelay = time.Duration(1+r.IntN(5)) * time.Second
		}
		if r.IntN(2) == 0 {
			in.useScript = r.IntN(len(c.scripts))
		}
		if r.IntN(3) == 0 {
			in.useFile = 0
		}
		if len(c.procs) > 0 && r.IntN(2) == 0 {
			in.useProc = r.IntN(len(c.procs))
		}
		c.instances = append(c.instances, in)
	}
	for range nn {
		var ps []int
		var np []bool
		for range ni {
			p := 50 + r.IntN(200)
			if r.IntN(20) == 0 {
				p = 255 // address owner
			}
			ps = append(ps, p)
			np = append(np, r.IntN(4) == 0)
		}
		c.prio = append(c.prio, ps)
		c.nopre = append(c.nopre, np)
	}
	// Distinct priorities per instance: equal priorities are resolved by
	// address, which the configs do not control.
	for k := range ni {
		seen := map[int]bool{}
		for n := range nn {
			for seen[c.prio[n][k]] {
				c.prio[n][k] = 1 + (c.prio[n][k]+37)%254
			}
			seen[c.prio[n][k]] = true
		}
	}
	return c
}

// vip returns instance k's virtual address.
func (c *clusterSpec) vip(k int) string {
	if c.instances[k].v6 {
		return fmt.Sprintf("fd00::%d/64", 100+k)
	}
	return fmt.Sprintf("10.0.0.%d/24", 100+k)
}

// config renders node n's keepalived.conf as nc sets it.
func (c *clusterSpec) config(n int, nc nodeConf) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global_defs {\n    router_id %s\n}\n", c.nodes[n])
	for i, s := range c.scripts {
		fmt.Fprintf(&b, "vrrp_script %s {\n    script \"/usr/local/bin/%s\"\n    interval %d\n    weight %d\n    rise %d\n    fall %d\n}\n",
			s.name, s.name, int(s.interval/time.Second), nc.sweight[i], s.rise, s.fall)
	}
	for _, f := range c.files {
		fmt.Fprintf(&b, "track_file %s {\n    file \"/run/vigil/%s\"\n    weight %d\n}\n", f.name, f.name, f.weight)
	}
	for _, p := range c.procs {
		fmt.Fprintf(&b, "vrrp_track_process %s {\n    process %s\n    weight %d", p.name, p.process, p.weight)
		if p.reverse {
			b.WriteString(" reverse")
		}
		fmt.Fprintf(&b, "\n    quorum %d\n", p.quorum)
		if p.qmax > 0 {
			fmt.Fprintf(&b, "    quorum_max %d\n", p.qmax)
		}
		b.WriteString("}\n")
	}
	if c.bfd != nil {
		c.bfd.sessions(&b, n)
	}
	var members []string
	for k, in := range c.instances {
		if nc.has[k] {
			members = append(members, in.name)
		}
	}
	if c.sync && len(members) > 1 {
		b.WriteString("vrrp_sync_group G1 {\n    group {\n")
		for _, name := range members {
			fmt.Fprintf(&b, "        %s\n", name)
		}
		b.WriteString("    }\n}\n")
	}
	for k, in := range c.instances {
		if !nc.has[k] {
			continue
		}
		fmt.Fprintf(&b, "vrrp_instance %s {\n    state BACKUP\n    interface eth0\n    virtual_router_id %d\n    priority %d\n",
			in.name, in.vrid, nc.prio[k])
		fmt.Fprintf(&b, "    version %d\n    advert_int %s\n", in.version, trimFloat(nc.interval[k].Seconds()))
		if nc.nopre[k] {
			b.WriteString("    nopreempt\n")
		}
		if in.preDelay > 0 {
			fmt.Fprintf(&b, "    preempt_delay %d\n", int(in.preDelay/time.Second))
		}
		if in.unicast {
			b.WriteString("    unicast_peer {\n")
			for p := range c.nodes {
				if p != n {
					fmt.Fprintf(&b, "        10.0.0.%d\n", p+1)
				}
			}
			b.WriteString("    }\n")
		}
		fmt.Fprintf(&b, "    virtual_ipaddress {\n        %s\n    }\n", c.vip(k))
		if in.useScript >= 0 {
			fmt.Fprintf(&b, "    track_script {\n        %s\n    }\n", c.scripts[in.useScript].name)
		}
		if in.useFile >= 0 {
			fmt.Fprintf(&b, "    track_file {\n        %s\n    }\n", c.files[in.useFile].name)
		}
		if in.useProc >= 0 {
			fmt.Fprintf(&b, "    track_process {\n        %s\n    }\n", c.procs[in.useProc].name)
		}
		if c.eth1 && k == 0 {
			b.WriteString("    track_interface {\n        eth1\n    }\n")
		}
		if c.bfd != nil && k == 0 {
			c.bfd.track(&b, n)
		}
		b.WriteString("}\n")
	}
	return b.String()
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// fault is one generated fault: its command and, for faults that end,
// the command that ends it; both are dropped or kept together when
// shrinking.
type fault struct {
	at, end time.Duration
	cmd     string
	undo    string
	// op, for a reload, is the change; cmd is rendered from it.
	op *reloadOp
}

// genFaults draws a fault schedule over duration d: faults at random gaps,
// each lasting a random time, on nodes not already under a fault.
func genFaults(r *rand.Rand, c *clusterSpec, d time.Duration) []fault {
	var fs []fault
	busy := make([]time.Duration, len(c.nodes))
	var netBusy time.Duration
	// What the nodes' configurations are as the schedule goes, to draw
	// sensible reloads, and the priorities ever given to each instance
	// (new ones stay distinct whatever a shrink drops).
	cur := make([]nodeConf, len(c.nodes))
	used := make([]map[int]bool, len(c.instances))
	for k := range used {
		used[k] = map[int]bool{}
		for n := range c.nodes {
			used[k][c.prio[n][k]] = true
		}
	}
	for n := range cur {
		cur[n] = c.initial(n)
	}
	t := 10 * time.Second
	for {
		t += time.Duration(2+r.IntN(40)) * time.Second
		if t >= d {
			break
		}
		n := r.IntN(len(c.nodes))
		if busy[n] > t {
			continue
		}
		name := c.nodes[n]
		dur := time.Duration(1+r.IntN(30)) * time.Second
		f := fault{at: t, end: t + dur}
		switch r.IntN(14) {
		case 0:
			f.cmd, f.undo = "kill "+name, "restart "+name
		case 1:
			f.cmd, f.undo = "stop "+name, "restart "+name
		case 2:
			f.cmd, f.undo = "restart "+name, ""
		case 3:
			f.cmd = fmt.Sprintf("stall %s %s", name, time.Duration(1+r.IntN(8))*500*time.Millisecond)
		case 4:
			f.cmd, f.undo = "link-down "+name+":eth0", "link-up "+name+":eth0"
		case 5:
			if netBusy > t {
				continue
			}
			side := []string{}
			other := []string{}
			for i, nm := range c.nodes {
				if i == n || r.IntN(3) == 0 {
					side = append(side, nm)
				} else {
					other = append(other, nm)
				}
			}
			if len(other) == 0 {
				continue
			}
			f.cmd, f.undo = "partition "+strings.Join(side, ",")+" | "+strings.Join(other, ","), "heal"
			netBusy = f.end
		case 6:
			s := c.scripts[r.IntN(len(c.scripts))].name
			f.cmd, f.undo = fmt.Sprintf("script %s %s exit=1", name, s), fmt.Sprintf("script %s %s exit=0", name, s)
		case 7:
			f.cmd, f.undo = fmt.Sprintf("track-file %s tf_1 value=%d", name, r.IntN(41)-20),
				fmt.Sprintf("track-file %s tf_1 value=0", name)
		case 8:
			if !c.eth1 {
				continue
			}
			f.cmd, f.undo = "link-down "+name+":eth1", "link-up "+name+":eth1"
		case 9:
			f.cmd = fmt.Sprintf("del-addr %s %s", name, strings.Split(c.vip(r.IntN(len(c.instances))), "/")[0])
		case 10:
			if netBusy > t {
				continue
			}
			f.cmd, f.undo = fmt.Sprintf("loss lan %d", 10+r.IntN(60)), "loss lan 0"
			netBusy = f.end
		case 11:
			if len(c.procs) == 0 {
				continue
			}
			p := c.procs[r.IntN(len(c.procs))]
			f.cmd = fmt.Sprintf("process %s %s count=%d", name, p.name, r.IntN(max(p.quorum, p.qmax)+3))
			f.undo = fmt.Sprintf("process %s %s count=%d", name, p.name, max(p.quorum, 1))
		case 12:
			f.op = genReload(r, c, cur[n], n, used)
			f.op.apply(&cur[n])
			f.end = t
		case 13:
			// advert_int changes on every node at the same time (VRRPv2
			// drops adverts with another interval).
			idle := true
			for _, b := range busy {
				idle = idle && b <= t
			}
			if !idle {
				continue
			}
			k := r.IntN(len(c.instances))
			iv := []int{1000, 2000}
			if c.instances[k].version == 3 {
				iv = []int{1000, 500, 200, 2000}
			}
			f.op = &reloadOp{kind: opInterval, node: -1, k: k, val: iv[r.IntN(len(iv))]}
			for i := range cur {
				f.op.apply(&cur[i])
				busy[i] = t + time.Second
			}
			f.end = t
		}
		if f.undo == "" {
			f.end = t
		}
		busy[n] = f.end + time.Second
		fs = append(fs, f)
	}
	return fs
}

// genReload draws a reload of node n, whose configuration is nc: the same
// file, or one change an operator makes.
func genReload(r *rand.Rand, c *clusterSpec, nc nodeConf, n int, used []map[int]bool) *reloadOp {
	op := &reloadOp{node: n, k: r.IntN(len(c.instances))}
	kind := r.IntN(6)
	if c.sync && (kind == 2 || kind == 5) {
		// A sync group must list the same instances on every node: with
		// one node's group changed, the others' groups wait forever for
		// a member that node still masters (keepalived alike), so an
		// instance is never added or removed in a sync-group cluster.
		kind = 1
	}
	switch kind {
	case 0:
		op.kind = opSame
	case 1:
		op.kind = opPrio
		p := 1 + r.IntN(254)
		for used[op.k][p] {
			p = 1 + (p+37)%254
		}
		used[op.k][p] = true
		op.val = p
	case 2:
		op.kind = opRemove
		if !nc.has[op.k] {
			op.kind = opAdd
		}
	case 3:
		op.kind = opNopre
	case 4:
		op.kind = opWeight
		op.k = r.IntN(len(c.scripts))
		switch r.IntN(3) {
		case 0:
			op.val = 0
		case 1:
			op.val = -(10 + r.IntN(60))
		default:
			op.val = 10 + r.IntN(60)
		}
	default:
		// Add back an instance the node lacks, else drop one.
		op.kind = opRemove
		for k, h := range nc.has {
			if !h {
				op.kind, op.k = opAdd, k
				break
			}
		}
	}
	return op
}

// scenarioText renders a cluster and a fault schedule as a scenario that
// `vigil sim` runs: the reproducer a failing swarm seed prints.
func scenarioText(seed uint64, c *clusterSpec, fs []fault, d time.Duration) string {
	type step struct {
		at  time.Duration
		cmd string
		op  *reloadOp
	}
	var steps []step
	for _, f := range fs {
		steps = append(steps, step{f.at, f.cmd, f.op})
		if f.undo != "" {
			steps = append(steps, step{f.end, f.undo, nil})
		}
	}
	slices.SortStableFunc(steps, func(x, y step) int { return int(x.at - y.at) })
	// Configurations: each node's initial one, then one per distinct text
	// a reload installs (an unchanged file keeps its name).
	var confs strings.Builder
	names := map[string]string{}
	cur := make([]nodeConf, len(c.nodes))
	count := make([]int, len(c.nodes))
	define := func(n int, name string) string {
		text := c.config(n, cur[n])
		if nm, ok := names[text]; ok {
			return nm
		}
		if name == "" {
			count[n]++
			name = fmt.Sprintf("%s.r%d.conf", c.nodes[n], count[n])
		}
		names[text] = name
		fmt.Fprintf(&confs, "config %s <<EOF\n%sEOF\n", name, text)
		return name
	}
	for n := range c.nodes {
		cur[n] = c.initial(n)
		define(n, c.nodes[n]+".conf")
	}
	var body strings.Builder
	var now time.Duration
	for _, s := range steps {
		if s.at >= d {
			break
		}
		if s.at > now {
			fmt.Fprintf(&body, "run %s\n", fmtDur(s.at-now))
			now = s.at
		}
		if s.op != nil {
			for n := range c.nodes {
				if s.op.node == n || s.op.node < 0 {
					s.op.apply(&cur[n])
					fmt.Fprintf(&body, "reload %s config=%s\n", c.nodes[n], define(n, ""))
				}
			}
			continue
		}
		body.WriteString(s.cmd + "\n")
	}
	if d > now {
		fmt.Fprintf(&body, "run %s\n", fmtDur(d-now))
	}
	body.WriteString("expect no-violations\n")

	var b strings.Builder
	fmt.Fprintf(&b, "# vigil sim swarm --seed %d\nseed %d\n", seed, seed)
	b.WriteString(confs.String())
	for _, nm := range c.nodes {
		fmt.Fprintf(&b, "node %s config=%s.conf\n", nm, nm)
	}
	var ends []string
	for _, nm := range c.nodes {
		ends = append(ends, nm+":eth0")
	}
	fmt.Fprintf(&b, "segment lan %s latency=%s", strings.Join(ends, " "), fmtDur(c.latency))
	if c.jitter > 0 {
		fmt.Fprintf(&b, " jitter=%s", fmtDur(c.jitter))
	}
	if c.dup > 0 {
		fmt.Fprintf(&b, " dup=%g", c.dup)
	}
	if c.reorder > 0 {
		fmt.Fprintf(&b, " reorder=%g", c.reorder)
	}
	b.WriteString("\n")
	if c.eth1 {
		for i := range ends {
			ends[i] = c.nodes[i] + ":eth1"
		}
		fmt.Fprintf(&b, "segment lan2 %s latency=%s\n", strings.Join(ends, " "), fmtDur(c.latency))
	}
	b.WriteString("invariants on\nstart " + strings.Join(c.nodes, " ") + "\n")
	b.WriteString(body.String())
	return b.String()
}

// fmtDur prints a duration in ASCII ("528us", not "528µs").
func fmtDur(d time.Duration) string {
	return strings.ReplaceAll(d.String(), "µ", "u")
}
