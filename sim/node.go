package sim

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vigil-ha/vigil/driver"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// Delays of the simulated kernel and executors.
const (
	// scriptDelay is how long a track script takes to run.
	scriptDelay = 2 * time.Millisecond
)

// anyEpoch marks items (packets in flight) that any incarnation of the
// receiving node may take.
const anyEpoch = ^uint32(0)

// Node is a simulated host running one vigil engine.
type Node struct {
	Name  string
	index int
	w     *World

	confName string
	conf     *conf.Config
	inst     map[string]*conf.Instance

	ifaces []*Iface

	eng     Engine
	epoch   uint32
	running bool
	// part is the node's side of the current partition (0: none).
	part int

	stalledUntil events.Time
	held         []*item
	// thawAt is when the node last thawed from a stall.
	thawAt events.Time
	// bfd is the node's BFD sessions as the simulator sees them.
	bfd map[string]*bfdView

	// timers are the armed timers' queued items, by key.
	timers map[string]*item

	scriptExit map[string]int
	trackFile  map[string]int64
	procCount  map[string]int

	// dropped is the node's nftables drop sets: each filtered address
	// (with its interface, for a link-local one) and the table it is in.
	// Like addresses, it survives a crash; Start's RemoveFirewall clears
	// what a crashed run left.
	dropped map[effects.FirewallVIP]string
	// firewall: the node's engine uses a firewall table (it emitted a
	// firewall effect), so the no_accept invariant applies to it.
	firewall bool

	// state is each instance's state as the last StateChanged said.
	state map[string]effects.State
	// prevInst is the previous configuration's instances during a reload.
	prevInst map[string]*conf.Instance
	// cache is the engine's instance view as of world step cacheAt+1
	// (see statuses).
	cache   []InstanceStatus
	cacheAt uint64
}

// statuses is the running engine's instance view, cached until the world
// steps any engine again (the invariants ask for it per instance).
func (n *Node) statuses() []InstanceStatus {
	if n.cache == nil || n.cacheAt != n.w.steps {
		n.cache, n.cacheAt = n.eng.Instances(), n.w.steps
	}
	return n.cache
}

// IfaceSpec declares an interface and its addresses on a node.
type IfaceSpec struct {
	Name  string
	Addrs []netip.Prefix
}

// AddNode declares a node running cfg (confName names it in output).
// Interfaces named by the configuration are created up and without
// addresses unless ifaces declares them; segments attach more.
func (w *World) AddNode(name string, cfg *conf.Config, confName string, ifaces []IfaceSpec) error {
	if _, dup := w.byName[name]; dup {
		return fmt.Errorf("node %s declared twice", name)
	}
	n := &Node{Name: name, index: len(w.nodes), w: w,
		scriptExit: map[string]int{}, trackFile: map[string]int64{}, procCount: map[string]int{},
		state: map[string]effects.State{}}
	for _, s := range ifaces {
		ifc := n.ensureIface(s.Name)
		ifc.addrs = append(ifc.addrs, s.Addrs...)
	}
	n.setConfig(cfg, confName)
	w.nodes = append(w.nodes, n)
	w.byName[name] = n
	return nil
}

// setConfig installs cfg and creates the interfaces it names.
func (n *Node) setConfig(cfg *conf.Config, confName string) {
	n.conf, n.confName = cfg, confName
	n.inst = map[string]*conf.Instance{}
	for i := range cfg.Instances {
		in := &cfg.Instances[i]
		n.inst[in.Name] = in
		if in.Interface != "" {
			n.ensureIface(in.Interface)
		}
		for _, t := range in.TrackInterfaces {
			n.ensureIface(t.Name)
		}
	}
	for _, g := range cfg.SyncGroups {
		for _, t := range g.TrackInterfaces {
			n.ensureIface(t.Name)
		}
	}
}

// ensureIface returns the interface called name, creating it (up, with a
// link-local IPv6 address) if needed.
func (n *Node) ensureIface(name string) *Iface {
	if i := n.iface(name); i != nil {
		return i
	}
	idx := len(n.ifaces) + 2 // 1 is lo
	ll := netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 13: byte(n.index + 1), 15: byte(idx)})
	i := &Iface{node: n, Name: name, Index: idx, up: true,
		HW:    fmt.Sprintf("02:00:00:00:%02x:%02x", n.index+1, idx),
		addrs: []netip.Prefix{netip.PrefixFrom(ll, 64)}}
	n.ifaces = append(n.ifaces, i)
	return i
}

func (n *Node) iface(name string) *Iface {
	for _, i := range n.ifaces {
		if i.Name == name {
			return i
		}
	}
	return nil
}

// Running reports whether the node's engine is running.
func (n *Node) Running() bool { return n.running }

// Ifaces lists the node's interfaces.
func (n *Node) Ifaces() []*Iface { return n.ifaces }

// Iface returns the interface called name, or nil.
func (n *Node) Iface(name string) *Iface { return n.iface(name) }

// Instances returns the engine's instance view (nil when not running).
func (n *Node) Instances() []InstanceStatus {
	if !n.running {
		return nil
	}
	return n.eng.Instances()
}

// HasAddr reports whether any interface of the node holds a.
func (n *Node) HasAddr(a netip.Addr) bool {
	for _, i := range n.ifaces {
		if i.hasAddr(a) {
			return true
		}
	}
	return false
}

// Filtered reports whether a is in one of the node's nftables drop sets
// (AddFirewallVIPs: no_accept).
func (n *Node) Filtered(a netip.Addr) bool {
	for v := range n.dropped {
		if v.Addr == a {
			return true
		}
	}
	return false
}

func (n *Node) stalled() bool { return n.stalledUntil > n.w.now }

// Start boots the node's engine: ConfigLoaded, the interface and address
// snapshot (including addresses left over from a crash), Start, then the
// current values of its track files and tracked processes.
func (w *World) Start(n *Node) error {
	if n.running {
		return fmt.Errorf("start %s: already running", n.Name)
	}
	n.epoch++
	n.eng = w.backend.NewEngine()
	n.running = true
	n.timers = map[string]*item{}
	n.state = map[string]effects.State{}
	n.held, n.stalledUntil, n.thawAt = nil, 0, 0
	n.bfd = bfdViews(n.conf, nil)
	if w.rec != nil {
		if err := w.rec.Started(n.Name, w.now, n.eng); err != nil {
			n.running, n.eng = false, nil
			return fmt.Errorf("start %s: %w", n.Name, err)
		}
	}
	var kernel []events.Event
	for _, i := range n.ifaces {
		kernel = append(kernel, linkEvent(i))
		for _, p := range i.addrs {
			kernel = append(kernel, &events.AddressChanged{Interface: i.Name, Prefix: p, Added: true})
		}
	}
	for _, ev := range driver.Boot(&events.ConfigLoaded{Config: n.conf, Digest: n.confName}, kernel, w.rng.Uint64()) {
		w.step(n, ev)
	}
	w.sendTrackers(n)
	w.mon.topologyChanged()
	return nil
}

// sendTrackers reports the current value of every track file and process
// the node's configuration names, as the adapters do at start and reload.
func (w *World) sendTrackers(n *Node) {
	for _, tf := range n.conf.TrackFiles {
		if n.running {
			w.step(n, &events.TrackFileValue{File: tf.Name, Value: n.trackFileValue(tf)})
		}
	}
	for _, tp := range n.conf.TrackProcesses {
		if n.running {
			w.step(n, &events.ProcessCount{Process: tp.Name, Count: n.processCount(tp)})
		}
	}
}

func (n *Node) trackFileValue(tf conf.TrackFile) int64 {
	if v, ok := n.trackFile[tf.Name]; ok {
		return v
	}
	if tf.InitFile {
		return tf.InitValue
	}
	return 0
}

func (n *Node) processCount(tp conf.TrackProcess) int {
	if v, ok := n.procCount[tp.Name]; ok {
		return v
	}
	return max(tp.Quorum, 1)
}

func linkEvent(i *Iface) *events.LinkChanged {
	return &events.LinkChanged{Interface: i.Name, Index: i.Index, Present: true,
		Up: i.up, Running: i.up, MTU: 1500, HWAddr: i.HW}
}

// Follow runs node n from a recorded event stream instead of its own
// start: the first call gives n a fresh engine, and each call steps one
// recorded event at its recorded time, executing the effects against the
// world as every step does, but without delivering what the world queues
// meanwhile (the recording holds those events already). It returns the
// effects, cloned. It checks that a simulated node reacts to a journal
// exactly as the node that wrote it did.
func (w *World) Follow(n *Node, ev events.Event) []effects.Effect {
	if !n.running {
		n.epoch++
		n.eng, n.running = w.backend.NewEngine(), true
		n.timers, n.state = map[string]*item{}, map[string]effects.State{}
		n.bfd = bfdViews(n.conf, nil)
	}
	w.now = max(w.now, ev.EventTime())
	effs := w.step(n, ev)
	out := make([]effects.Effect, len(effs))
	for k, e := range effs {
		out[k] = effects.Clone(e)
	}
	return out
}

// Stop shuts the node down gracefully (SIGTERM).
func (w *World) Stop(n *Node) error {
	if !n.running {
		return fmt.Errorf("stop %s: not running", n.Name)
	}
	if n.stalled() {
		// A frozen process handles SIGTERM when it thaws; keep it simple
		// and thaw it first, delivering what it was holding.
		w.thaw(n)
	}
	w.step(n, &events.Stop{})
	w.halt(n)
	return nil
}

// Kill crashes the node: it sends nothing more and keeps its addresses.
func (w *World) Kill(n *Node) error {
	if !n.running {
		return fmt.Errorf("kill %s: not running", n.Name)
	}
	w.halt(n)
	return nil
}

func (w *World) halt(n *Node) {
	for i := range n.conf.Instances {
		if in := &n.conf.Instances[i]; n.state[in.Name] == effects.StateMaster {
			w.mon.masterExit(n, in, true)
		}
	}
	if w.rec != nil {
		w.rec.Halted(n.Name, w.now)
	}
	n.running = false
	n.eng = nil
	n.cache = nil
	n.epoch++
	n.timers = nil
	n.held, n.stalledUntil = nil, 0
	n.state = map[string]effects.State{}
	n.bfd = nil
	w.mon.topologyChanged()
}

// Restart stops the node gracefully if it runs, then starts a new engine.
func (w *World) Restart(n *Node) error {
	if n.running {
		if err := w.Stop(n); err != nil {
			return err
		}
	}
	return w.Start(n)
}

// Stall freezes the node for d: events for it queue up and are all
// delivered when it thaws, as to a paused VM.
func (w *World) Stall(n *Node, d time.Duration) error {
	if !n.running {
		return fmt.Errorf("stall %s: not running", n.Name)
	}
	n.stalledUntil = w.now.Add(d)
	w.schedule(&item{at: n.stalledUntil, kind: itStallEnd, node: n, epoch: n.epoch})
	w.mon.topologyChanged()
	return nil
}

func (w *World) thaw(n *Node) {
	n.stalledUntil, n.thawAt = 0, w.now
	held := n.held
	n.held = nil
	for _, it := range held {
		w.dispatch(it)
	}
	w.mon.fault()
	w.mon.topologyChanged()
}

// Reload delivers a new configuration to a running node (SIGHUP); a node
// that is not running just gets the configuration for its next start.
func (w *World) Reload(n *Node, cfg *conf.Config, confName string) {
	same := n.running && sameConfig(n.conf, cfg)
	prev := n.inst
	n.setConfig(cfg, confName)
	if !n.running {
		return
	}
	// Instances the new configuration drops go to DELETED during the
	// reload: their StateChanged is looked up in the old configuration.
	n.prevInst = prev
	defer func() { n.prevInst = nil }()
	if same {
		w.mon.watchReload(n)
		defer w.mon.endReload(n)
	}
	for _, i := range n.ifaces {
		if i.seg == nil && len(i.addrs) == 1 {
			// A newly named interface appears to the engine.
			w.step(n, linkEvent(i))
		}
	}
	n.bfd = bfdViews(cfg, n.bfd)
	w.step(n, &events.ConfigLoaded{Config: cfg, Digest: confName})
	w.sendTrackers(n)
}

// SetLink takes an interface down or up; the engine hears it from the
// link monitor at once.
func (w *World) SetLink(i *Iface, up bool) {
	i.up = up
	if i.node.running {
		w.deliverNow(i.node, linkEvent(i))
	}
	w.mon.topologyChanged()
}

// DelAddr removes an address from a node behind the engine's back (`ip
// addr del`); the engine hears it from netlink. Deleting an address the
// node does not hold does nothing, as `ip addr del` would fail.
func (w *World) DelAddr(n *Node, a netip.Addr) error {
	for _, i := range n.ifaces {
		for _, p := range i.addrs {
			if p.Addr() == a && i.addrs.Apply(p, false) {
				w.echoAddr(n, i, p, false)
				return nil
			}
		}
	}
	w.logf("%s does not hold %s; del-addr ignored", n.Name, a)
	return nil
}

// SetScript sets the exit status the node's track script returns from now.
func (w *World) SetScript(n *Node, script string, exit int) { n.scriptExit[script] = exit }

// SetTrackFile writes a value to one of the node's track files.
func (w *World) SetTrackFile(n *Node, name string, v int64) {
	n.trackFile[name] = v
	if n.running {
		w.deliverNow(n, &events.TrackFileValue{File: name, Value: v})
	}
}

// SetProcess sets how many processes match one of the node's
// vrrp_track_process blocks.
func (w *World) SetProcess(n *Node, name string, count int) {
	n.procCount[name] = count
	if n.running {
		w.deliverNow(n, &events.ProcessCount{Process: name, Count: count})
	}
}

// deliverNow hands ev to the node through the queue at the current time,
// so a stalled node holds it like any other input.
func (w *World) deliverNow(n *Node, ev events.Event) {
	w.schedule(&item{at: w.now, kind: itEvent, node: n, epoch: n.epoch, ev: ev})
}

// Partition splits the nodes into groups that cannot reach each other;
// nodes in no group reach everyone.
func (w *World) Partition(groups [][]*Node) {
	for _, n := range w.nodes {
		n.part = 0
	}
	for g, ns := range groups {
		for _, n := range ns {
			n.part = g + 1
		}
	}
	w.mon.topologyChanged()
}

// Heal ends the partition.
func (w *World) Heal() { w.Partition(nil) }

// SetLoss changes a segment's advert loss percentage.
func (w *World) SetLoss(s *Segment, pct float64) {
	s.Loss = pct
	w.mon.topologyChanged()
}
