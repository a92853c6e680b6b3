// Package vrrp is vigil's pure VRRP reducer: every VRRP instance of a
// configuration, its tracking, sync groups, GARP schedule and
// notifications, advanced one event at a time. It follows RFC 5798 (v3)
// and RFC 3768 (v2) as keepalived implements them; see the package's
// scenario files under engine/testdata for each behaviour.
//
// The machine never reads a clock or does I/O: time arrives with events,
// and everything it wants done is returned as effects.
package vrrp

import (
	"net/netip"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// vridKey finds the instance an advert belongs to.
type vridKey struct {
	iface  string
	family uint8
	vrid   uint8
}

// Machine holds every VRRP instance of the loaded configuration.
type Machine struct {
	cfg        *conf.Config
	instances  []*instance
	byName     map[string]*instance
	byVRID     map[vridKey]*instance
	timers     map[string]timerRef
	syncGroups []*syncGroup
	scripts    []*script
	scriptBy   map[string]*script
	files      []*trackedFile
	fileBy     map[string]*trackedFile
	processes  []*trackedProcess
	processBy  map[string]*trackedProcess
	bfds       []*trackedBFD
	bfdBy      map[string]*trackedBFD
	statics    []*static
	// sockets are the receiving sockets (sockets.go), in groupPairs order.
	sockets  []*sock
	socketBy map[groupPair]*sock
	// reportsJoins is Start.ReportsJoins: sockets are tracked state.
	reportsJoins bool
	// linkDelays holds the interface_up_down_delays, by interface name.
	linkDelays map[string]linkDelay
	// ifaces is the world's interfaces as reported; it survives reloads.
	ifaces map[string]*ifState
	// byIface lists the instances whose VIPs or adverts use an interface.
	byIface map[string][]*instance
	// garpDelays are the GARP/NA delays (garpdelay.go), garp_groups
	// first; garpDelayBy indexes them by interface.
	garpDelays  []*garpDelay
	garpDelayBy map[string]*garpDelay
	// vipAddrs holds every configured VIP/eVIP, so they are never taken as
	// an interface's primary address.
	vipAddrs map[netip.Addr]bool

	now          events.Time
	started      bool
	stopped      bool
	seed         uint64
	startupUntil events.Time
	// draws counts the numbers drawn from the seed (rand): with the seed
	// it is the whole PRNG state, so a restored snapshot continues the
	// same sequence.
	draws uint64

	// fw is the nftables table in use, fwWant the one the loaded
	// configuration asks for (firewall.go).
	fw, fwWant firewall

	// syncd is the IPVS sync daemons the engine has asked the kernel to
	// run (lvssync.go), the master's first; reloading defers their
	// changes to the end of a reload.
	syncd     []effects.IPVSSyncDaemon
	reloading bool

	out             outbox
	dirtySyncGroups []*syncGroup
}

// New returns a machine with no configuration.
func New() *Machine {
	return &Machine{ifaces: map[string]*ifState{}}
}

// rand returns the next number of the machine's PRNG: splitmix64 seeded
// with Start.Seed, whose state is seed + draws*γ. It depends only on the
// seed and how many numbers were drawn before, never on a clock.
func (m *Machine) rand() uint64 {
	m.draws++
	x := m.seed + m.draws*0x9e3779b97f4a7c15
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Config returns the loaded configuration (nil before ConfigLoaded).
func (m *Machine) Config() *conf.Config { return m.cfg }

// Begin starts a Step at time at: effects of the previous Step are
// released and time advances (never backwards).
func (m *Machine) Begin(at events.Time) {
	m.out.reset()
	if at > m.now {
		m.now = at
	}
}

// Effects returns the effects produced since Begin, after emitting the
// notifications of sync groups whose state changed.
func (m *Machine) Effects() []effects.Effect {
	m.flushSyncGroups()
	return m.out.list
}

// compile builds the fixed part of the machine from cfg. It emits nothing.
func (m *Machine) compile(cfg *conf.Config) {
	m.cfg = cfg
	m.instances = make([]*instance, 0, len(cfg.Instances))
	m.byName = make(map[string]*instance, len(cfg.Instances))
	m.byVRID = make(map[vridKey]*instance, len(cfg.Instances))
	m.timers = make(map[string]timerRef, 2*len(cfg.Instances))
	m.byIface = map[string][]*instance{}
	m.vipAddrs = map[netip.Addr]bool{}
	for k := range cfg.Instances {
		c := &cfg.Instances[k]
		if c.Name == "" || m.byName[c.Name] != nil {
			continue
		}
		i := compileInstance(c, len(m.instances))
		m.instances = append(m.instances, i)
		m.byName[i.name] = i
		key := vridKey{i.iface, uint8(i.family), i.vrid}
		if m.byVRID[key] == nil {
			m.byVRID[key] = i
		}
		// An instance receiving on its VMAC (use_vmac without
		// vmac_xmit_base) gets its adverts from the VMAC's socket: they
		// arrive named by the VMAC, not by the parent interface.
		if rx := i.pair().iface; rx != i.iface {
			if k := (vridKey{rx, uint8(i.family), i.vrid}); m.byVRID[k] == nil {
				m.byVRID[k] = i
			}
		}
		ref := func(k effects.TimerKind) timerRef { return timerRef{kind: k, idx: int32(i.idx)} }
		m.timers[i.advertKey] = ref(effects.TimerAdvert)
		m.timers[i.masterDownKey] = ref(effects.TimerMasterDown)
		m.timers[i.secondGARPKey] = ref(effects.TimerSecondGARP)
		m.timers[i.lowerPrioGARPKey] = ref(effects.TimerLowerPrioGARP)
		m.timers[i.garpRefreshKey] = ref(effects.TimerGARPRefresh)
		m.timers[i.garpExtraKey] = ref(effects.TimerGARPExtraIf)
		m.addIface(i.iface, i)
		for _, v := range i.vips {
			m.vipAddrs[v.Prefix.Addr()] = true
			if v.Dev != i.iface {
				m.addIface(v.Dev, i)
			}
		}
	}
	m.compileFirewall(cfg)
	m.compileSocks()
	m.compileTrackers(cfg)
	m.compileSyncGroups(cfg)
	for _, i := range m.instances {
		m.compileTracks(i)
	}
	m.compileStatics(cfg)
	m.compileDelays(cfg)
	m.compileGARPDelays(cfg)
	for _, i := range m.instances {
		_, _, i.dyn.Priority, _ = m.evalTrack(i)
	}
}

func (m *Machine) addIface(name string, i *instance) {
	if name == "" {
		return
	}
	l := m.byIface[name]
	if len(l) > 0 && l[len(l)-1] == i {
		return
	}
	m.byIface[name] = append(l, i)
}

func (m *Machine) iface(name string) *ifState {
	s := m.ifaces[name]
	if s == nil {
		s = &ifState{Name: name}
		m.ifaces[name] = s
	}
	return s
}

func (m *Machine) compileTrackers(cfg *conf.Config) {
	old := m.scripts
	m.scripts, m.scriptBy = nil, map[string]*script{}
	for k := range cfg.VRRPScripts {
		c := &cfg.VRRPScripts[k]
		if m.scriptBy[c.Name] != nil {
			continue
		}
		s := &script{cfg: c, timerKey: "script/" + c.Name, dyn: newScriptDyn(c)}
		for _, o := range old {
			if o.cfg.Name == c.Name && !o.dyn.Disabled {
				s.dyn = o.dyn
				s.dyn.Used = false // set again by the instances that track it
				// keepalived checks every script again at a reload: the
				// first result after it may disable this one.
				s.dyn.Ran = false
			}
		}
		m.timers[s.timerKey] = timerRef{kind: effects.TimerTrackScript, idx: int32(len(m.scripts))}
		m.scripts = append(m.scripts, s)
		m.scriptBy[c.Name] = s
	}
	oldFiles := m.files
	m.files, m.fileBy = nil, map[string]*trackedFile{}
	for k := range cfg.TrackFiles {
		c := &cfg.TrackFiles[k]
		if m.fileBy[c.Name] != nil {
			continue
		}
		f := &trackedFile{cfg: c, dyn: fileDyn{Name: c.Name}}
		if c.InitFile {
			f.dyn.Value = c.InitValue
		}
		for _, o := range oldFiles {
			if o.cfg.Name == c.Name {
				f.dyn = o.dyn
			}
		}
		m.files = append(m.files, f)
		m.fileBy[c.Name] = f
		if c.File != "" && m.fileBy[c.File] == nil {
			m.fileBy[c.File] = f
		}
	}
	oldProcs := m.processes
	m.processes, m.processBy = nil, map[string]*trackedProcess{}
	for k := range cfg.TrackProcesses {
		c := &cfg.TrackProcesses[k]
		if m.processBy[c.Name] != nil {
			continue
		}
		p := &trackedProcess{cfg: c, dyn: processDyn{Name: c.Name}}
		for _, o := range oldProcs {
			if o.cfg.Name == c.Name {
				p.dyn = o.dyn
			}
		}
		m.processes = append(m.processes, p)
		m.processBy[c.Name] = p
	}
	oldBFDs := m.bfds
	m.bfds, m.bfdBy = nil, map[string]*trackedBFD{}
	for k := range cfg.BFDInstances {
		c := &cfg.BFDInstances[k]
		if m.bfdBy[c.Name] != nil {
			continue
		}
		b := &trackedBFD{cfg: c, dyn: bfdDyn{Name: c.Name}}
		for _, o := range oldBFDs {
			if o.cfg.Name == c.Name {
				b.dyn = o.dyn
			}
		}
		m.bfds = append(m.bfds, b)
		m.bfdBy[c.Name] = b
	}
}

// compileTracks resolves an instance's track lines, and its sync group's.
// As in keepalived, the members' own tracking is unweighted unless
// sync_group_tracking_weight (the parser has already dropped or zeroed
// weighted entries), while the group's own tracking keeps its weights,
// applied to every member, unless a member is an address owner.
func (m *Machine) compileTracks(i *instance) {
	c := i.cfg
	zero, gzero := false, false
	var g *conf.SyncGroup
	if i.syncGroupIdx >= 0 {
		grp := m.syncGroups[i.syncGroupIdx]
		g = grp.cfg
		zero = !g.SyncGroupTrackingWeight
		for _, o := range grp.members {
			gzero = gzero || o.owner()
		}
	}
	lists := [][]conf.TrackRef{c.TrackInterfaces, c.TrackScripts, c.TrackFiles, c.TrackProcesses, c.TrackBFDs}
	var glists [][]conf.TrackRef
	if g != nil {
		glists = [][]conf.TrackRef{g.TrackInterfaces, g.TrackScripts, g.TrackFiles, g.TrackProcesses, g.TrackBFDs}
	}
	kinds := []trackKind{trackKindInterface, trackKindScript, trackKindFile, trackKindProcess, trackKindBFD}
	for n, kind := range kinds {
		for _, r := range lists[n] {
			m.addTrack(i, kind, r, zero)
		}
		if glists != nil {
			for _, r := range glists[n] {
				m.addTrack(i, kind, r, gzero)
			}
		}
	}
}

func (m *Machine) addTrack(i *instance, kind trackKind, r conf.TrackRef, zero bool) {
	t := trackRef{kind: kind}
	switch kind {
	case trackKindInterface:
		t.name = r.Name
		t.weight, t.reverse = refWeight(r, 0, false, zero)
		m.iface(r.Name)
		m.addIface(r.Name, i)
	case trackKindScript:
		s := m.scriptBy[r.Name]
		if s == nil {
			return
		}
		s.dyn.Used = true
		s.users = addUser(s.users, i)
		t.idx = indexOf(m.scripts, s)
		t.weight, t.reverse = refWeight(r, s.cfg.Weight, s.cfg.WeightReverse, zero)
	case trackKindFile:
		f := m.fileBy[r.Name]
		if f == nil {
			return
		}
		f.users = addUser(f.users, i)
		t.idx = indexOf(m.files, f)
		w := f.cfg.Weight
		t.weight, t.reverse = refWeight(r, w, f.cfg.WeightReverse, zero)
	case trackKindProcess:
		p := m.processBy[r.Name]
		if p == nil {
			return
		}
		p.users = addUser(p.users, i)
		t.idx = indexOf(m.processes, p)
		t.weight, t.reverse = refWeight(r, p.cfg.Weight, p.cfg.WeightReverse, zero)
	case trackKindBFD:
		b := m.bfdBy[r.Name]
		if b == nil {
			return
		}
		b.users = addUser(b.users, i)
		t.idx = indexOf(m.bfds, b)
		t.weight, t.reverse = refWeight(r, b.cfg.Weight, false, zero)
	}
	t.weight = min(max(t.weight, -254), 254)
	i.tracks = append(i.tracks, t)
}

// addUser appends i unless it is already last (an instance's references
// are added together, so that is the only place a duplicate can be).
func addUser(l []*instance, i *instance) []*instance {
	if len(l) > 0 && l[len(l)-1] == i {
		return l
	}
	return append(l, i)
}

func indexOf[T comparable](s []T, v T) int {
	for k, x := range s {
		if x == v {
			return k
		}
	}
	return -1
}

func (m *Machine) compileStatics(cfg *conf.Config) {
	m.statics = nil
	groupMembers := func(name string) []*instance {
		if name == "" {
			return nil
		}
		for _, tg := range cfg.TrackGroups {
			if tg.Name != name {
				continue
			}
			var l []*instance
			for _, n := range tg.Group {
				if i := m.byName[n]; i != nil {
					l = append(l, i)
				}
			}
			return l
		}
		return nil
	}
	for k := range cfg.StaticAddresses {
		// A static address without dev goes on default_interface
		// (keepalived's default eth0): resolved here, once, so the
		// daemon, the simulator and the journal all see the device.
		a := cfg.StaticAddresses[k]
		if a.Dev == "" {
			a.Dev = cfg.GlobalDefs.DefaultInterface
			if a.Dev == "" {
				a.Dev = conf.DefaultInterface
			}
		}
		m.statics = append(m.statics, &static{addr: &a, members: groupMembers(a.TrackGroup)})
	}
	for k := range cfg.StaticRoutes {
		r := &cfg.StaticRoutes[k]
		m.statics = append(m.statics, &static{route: r, members: groupMembers(r.TrackGroup)})
	}
}

// sameRoute reports whether a route event is about route r (table 0 and
// 254 are both the main table).
func sameRoute(r *conf.Route, dst netip.Prefix, table int) bool {
	norm := func(t int) int {
		if t == 0 {
			return 254
		}
		return t
	}
	return r.Dst == dst && norm(r.Table) == norm(table)
}
