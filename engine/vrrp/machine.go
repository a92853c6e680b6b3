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

// rxKey finds the instance an advert belongs to.
type rxKey struct {
	iface string
	fam   uint8
	vrid  uint8
}

type timerKind uint8

const (
	tAdv timerKind = iota + 1
	tDown
	tGarp2
	tGarpLP
	tRefresh
	tScript
	tLink
	tSock
)

type timerRef struct {
	kind timerKind
	idx  int32
}

// Machine holds every VRRP instance of the loaded configuration.
type Machine struct {
	cfg      *conf.Config
	insts    []*inst
	byName   map[string]*inst
	rx       map[rxKey]*inst
	timers   map[string]timerRef
	groups   []*group
	scripts  []*script
	scriptBy map[string]*script
	files    []*tfile
	fileBy   map[string]*tfile
	procs    []*tproc
	procBy   map[string]*tproc
	bfds     []*tbfd
	bfdBy    map[string]*tbfd
	statics  []*static
	// socks are the receiving sockets (sockets.go), in groupPairs order.
	socks  []*sock
	sockBy map[groupPair]*sock
	// reportsJoins is Start.ReportsJoins: sockets are tracked state.
	reportsJoins bool
	// delayBy holds the interface_up_down_delays, by interface name.
	delayBy map[string]linkDelay
	// ifs is the world's interfaces as reported; it survives reloads.
	ifs map[string]*ifState
	// byIface lists the instances whose VIPs or adverts use an interface.
	byIface map[string][]*inst
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

	o     out
	dirty []*group
}

// New returns a machine with no configuration.
func New() *Machine {
	return &Machine{ifs: map[string]*ifState{}}
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
	m.o.reset()
	if at > m.now {
		m.now = at
	}
}

// Effects returns the effects produced since Begin, after emitting the
// notifications of sync groups whose state changed.
func (m *Machine) Effects() []effects.Effect {
	m.flushGroups()
	return m.o.list
}

// compile builds the fixed part of the machine from cfg. It emits nothing.
func (m *Machine) compile(cfg *conf.Config) {
	m.cfg = cfg
	m.insts = make([]*inst, 0, len(cfg.Instances))
	m.byName = make(map[string]*inst, len(cfg.Instances))
	m.rx = make(map[rxKey]*inst, len(cfg.Instances))
	m.timers = make(map[string]timerRef, 2*len(cfg.Instances))
	m.byIface = map[string][]*inst{}
	m.vipAddrs = map[netip.Addr]bool{}
	for k := range cfg.Instances {
		c := &cfg.Instances[k]
		if c.Name == "" || m.byName[c.Name] != nil {
			continue
		}
		i := compileInstance(c, len(m.insts))
		m.insts = append(m.insts, i)
		m.byName[i.name] = i
		key := rxKey{i.iface, uint8(i.fam), i.vrid}
		if m.rx[key] == nil {
			m.rx[key] = i
		}
		ref := func(k timerKind) timerRef { return timerRef{k, int32(i.idx)} }
		m.timers[i.kAdv], m.timers[i.kDown], m.timers[i.kGarp2] = ref(tAdv), ref(tDown), ref(tGarp2)
		m.timers[i.kGarpLP], m.timers[i.kRefresh] = ref(tGarpLP), ref(tRefresh)
		m.addIface(i.iface, i)
		for _, v := range i.vips {
			m.vipAddrs[v.Prefix.Addr()] = true
			if v.Dev != i.iface {
				m.addIface(v.Dev, i)
			}
		}
	}
	m.compileSocks()
	m.compileTrackers(cfg)
	m.compileGroups(cfg)
	for _, i := range m.insts {
		m.compileTracks(i)
	}
	m.compileStatics(cfg)
	m.compileDelays(cfg)
	for _, i := range m.insts {
		_, _, i.d.Prio, _ = m.evalTrack(i)
	}
}

func (m *Machine) addIface(name string, i *inst) {
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
	s := m.ifs[name]
	if s == nil {
		s = &ifState{Name: name}
		m.ifs[name] = s
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
		s := &script{c: c, key: "script/" + c.Name, d: newScriptDyn(c)}
		for _, o := range old {
			if o.c.Name == c.Name && !o.d.Disabled {
				s.d = o.d
				s.d.Used = false // set again by the instances that track it
				// keepalived checks every script again at a reload: the
				// first result after it may disable this one.
				s.d.Ran = false
			}
		}
		m.timers[s.key] = timerRef{tScript, int32(len(m.scripts))}
		m.scripts = append(m.scripts, s)
		m.scriptBy[c.Name] = s
	}
	oldFiles := m.files
	m.files, m.fileBy = nil, map[string]*tfile{}
	for k := range cfg.TrackFiles {
		c := &cfg.TrackFiles[k]
		if m.fileBy[c.Name] != nil {
			continue
		}
		f := &tfile{c: c, d: fileDyn{Name: c.Name}}
		if c.InitFile {
			f.d.Value = c.InitValue
		}
		for _, o := range oldFiles {
			if o.c.Name == c.Name {
				f.d = o.d
			}
		}
		m.files = append(m.files, f)
		m.fileBy[c.Name] = f
		if c.File != "" && m.fileBy[c.File] == nil {
			m.fileBy[c.File] = f
		}
	}
	oldProcs := m.procs
	m.procs, m.procBy = nil, map[string]*tproc{}
	for k := range cfg.TrackProcesses {
		c := &cfg.TrackProcesses[k]
		if m.procBy[c.Name] != nil {
			continue
		}
		p := &tproc{c: c, d: procDyn{Name: c.Name}}
		for _, o := range oldProcs {
			if o.c.Name == c.Name {
				p.d = o.d
			}
		}
		m.procs = append(m.procs, p)
		m.procBy[c.Name] = p
	}
	oldBFDs := m.bfds
	m.bfds, m.bfdBy = nil, map[string]*tbfd{}
	for k := range cfg.BFDInstances {
		c := &cfg.BFDInstances[k]
		if m.bfdBy[c.Name] != nil {
			continue
		}
		b := &tbfd{c: c, d: bfdDyn{Name: c.Name}}
		for _, o := range oldBFDs {
			if o.c.Name == c.Name {
				b.d = o.d
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
func (m *Machine) compileTracks(i *inst) {
	c := i.c
	zero, gzero := false, false
	var g *conf.SyncGroup
	if i.group >= 0 {
		grp := m.groups[i.group]
		g = grp.c
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
	kinds := []trackKind{tkIface, tkScript, tkFile, tkProc, tkBFD}
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

func (m *Machine) addTrack(i *inst, kind trackKind, r conf.TrackRef, zero bool) {
	t := trackRef{kind: kind}
	switch kind {
	case tkIface:
		t.name = r.Name
		t.weight, t.rev = refWeight(r, 0, false, zero)
		m.iface(r.Name)
		m.addIface(r.Name, i)
	case tkScript:
		s := m.scriptBy[r.Name]
		if s == nil {
			return
		}
		s.d.Used = true
		s.users = addUser(s.users, i)
		t.idx = indexOf(m.scripts, s)
		t.weight, t.rev = refWeight(r, s.c.Weight, s.c.WeightReverse, zero)
	case tkFile:
		f := m.fileBy[r.Name]
		if f == nil {
			return
		}
		f.users = addUser(f.users, i)
		t.idx = indexOf(m.files, f)
		w := f.c.Weight
		t.weight, t.rev = refWeight(r, w, f.c.WeightReverse, zero)
	case tkProc:
		p := m.procBy[r.Name]
		if p == nil {
			return
		}
		p.users = addUser(p.users, i)
		t.idx = indexOf(m.procs, p)
		t.weight, t.rev = refWeight(r, p.c.Weight, p.c.WeightReverse, zero)
	case tkBFD:
		b := m.bfdBy[r.Name]
		if b == nil {
			return
		}
		b.users = addUser(b.users, i)
		t.idx = indexOf(m.bfds, b)
		t.weight, t.rev = refWeight(r, b.c.Weight, false, zero)
	}
	t.weight = min(max(t.weight, -254), 254)
	i.tracks = append(i.tracks, t)
}

// addUser appends i unless it is already last (an instance's references
// are added together, so that is the only place a duplicate can be).
func addUser(l []*inst, i *inst) []*inst {
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
	groupMembers := func(name string) []*inst {
		if name == "" {
			return nil
		}
		for _, tg := range cfg.TrackGroups {
			if tg.Name != name {
				continue
			}
			var l []*inst
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
