package vrrp

import (
	"errors"
	"slices"
	"sort"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// Snapshot is the machine's dynamic state. With the configuration it
// rebuilds a machine that continues exactly as the original would.
type Snapshot struct {
	Now          events.Time `json:"now"`
	Started      bool        `json:"started,omitempty"`
	Stopped      bool        `json:"stopped,omitempty"`
	Seed         uint64      `json:"seed,omitempty"`
	StartupUntil events.Time `json:"startup_until,omitempty"`
	// Draws is how many numbers the PRNG seeded with Seed has produced.
	Draws     uint64         `json:"draws,omitempty"`
	Instances []instanceDyn  `json:"instances"`
	Groups    []syncGroupDyn `json:"groups,omitempty"`
	Scripts   []scriptDyn    `json:"scripts,omitempty"`
	Files     []fileDyn      `json:"files,omitempty"`
	Procs     []processDyn   `json:"procs,omitempty"`
	BFDs      []bfdDyn       `json:"bfds,omitempty"`
	// Ifaces is sorted by name.
	Ifaces []ifState `json:"ifaces,omitempty"`
	// ReportsJoins and Socks: the receiving sockets (sockets.go).
	ReportsJoins bool      `json:"reports_joins,omitempty"`
	Socks        []sockDyn `json:"socks,omitempty"`
	// Firewall is the nftables table in use when it is not the one the
	// configuration asks for (a reload could not change it).
	Firewall *firewall `json:"firewall,omitempty"`
	// GARPDelays: the GARP/NA delays' queues and schedules, those in use.
	GARPDelays []garpDelayDyn `json:"garp_delays,omitempty"`
	// SyncDaemons is the IPVS sync daemons the engine asked for.
	SyncDaemons []effects.IPVSSyncDaemon `json:"sync_daemons,omitempty"`
	// SyncDaemon is the one daemon of a snapshot from before SyncDaemons,
	// read only.
	SyncDaemon *effects.IPVSSyncDaemon `json:"sync_daemon,omitempty"`
}

// Snapshot returns the dynamic state.
func (m *Machine) Snapshot() *Snapshot {
	s := &Snapshot{Now: m.now, Started: m.started, Stopped: m.stopped, Seed: m.seed, StartupUntil: m.startupUntil, Draws: m.draws}
	for _, i := range m.instances {
		s.Instances = append(s.Instances, i.dyn)
	}
	for _, g := range m.syncGroups {
		s.Groups = append(s.Groups, g.dyn)
	}
	for _, x := range m.scripts {
		s.Scripts = append(s.Scripts, x.dyn)
	}
	for _, x := range m.files {
		s.Files = append(s.Files, x.dyn)
	}
	for _, x := range m.processes {
		s.Procs = append(s.Procs, x.dyn)
	}
	for _, x := range m.bfds {
		s.BFDs = append(s.BFDs, x.dyn)
	}
	names := make([]string, 0, len(m.ifaces))
	for n := range m.ifaces {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s.Ifaces = append(s.Ifaces, *m.ifaces[n])
	}
	s.ReportsJoins = m.reportsJoins
	for _, d := range m.garpDelays {
		if !d.dyn.idle() {
			s.GARPDelays = append(s.GARPDelays, d.dyn)
		}
	}
	s.SyncDaemons = slices.Clone(m.syncd)
	if m.fw != m.fwWant {
		fw := m.fw
		s.Firewall = &fw
	}
	if m.reportsJoins {
		for _, x := range m.sockets {
			s.Socks = append(s.Socks, x.dyn)
		}
	}
	return s
}

// Restore rebuilds a machine from a configuration and a snapshot.
func Restore(cfg *conf.Config, s *Snapshot) (*Machine, error) {
	m := New()
	if s == nil {
		return nil, errors.New("vrrp: nil snapshot")
	}
	for k := range s.Ifaces {
		f := s.Ifaces[k]
		m.ifaces[f.Name] = &f
	}
	if cfg != nil {
		m.compile(cfg)
	}
	if len(s.Instances) != len(m.instances) || len(s.Groups) != len(m.syncGroups) || len(s.Scripts) != len(m.scripts) ||
		len(s.Files) != len(m.files) || len(s.Procs) != len(m.processes) || len(s.BFDs) != len(m.bfds) {
		return nil, errors.New("vrrp: snapshot does not match the configuration")
	}
	for k, i := range m.instances {
		if s.Instances[k].Name != i.name {
			return nil, errors.New("vrrp: snapshot instance " + s.Instances[k].Name + " is not " + i.name)
		}
		i.dyn = s.Instances[k]
	}
	for k, g := range m.syncGroups {
		g.dyn = s.Groups[k]
	}
	for k, x := range m.scripts {
		x.dyn = s.Scripts[k]
	}
	for k, x := range m.files {
		x.dyn = s.Files[k]
	}
	for k, x := range m.processes {
		x.dyn = s.Procs[k]
	}
	for k, x := range m.bfds {
		x.dyn = s.BFDs[k]
	}
	for _, d := range s.Socks {
		if x := m.socketBy[groupPair{d.Interface, d.Group}]; x != nil {
			x.dyn = d
		}
	}
	m.reportsJoins = s.ReportsJoins
	for _, dyn := range s.GARPDelays {
		for _, d := range m.garpDelays {
			if d.name == dyn.Name {
				d.dyn = dyn
			}
		}
	}
	m.syncd = slices.Clone(s.SyncDaemons)
	if s.SyncDaemon != nil && len(m.syncd) == 0 {
		m.syncd = []effects.IPVSSyncDaemon{*s.SyncDaemon}
	}
	m.now, m.started, m.stopped, m.seed, m.startupUntil, m.draws = s.Now, s.Started, s.Stopped, s.Seed, s.StartupUntil, s.Draws
	if s.Firewall != nil {
		m.fw = *s.Firewall
		m.compileFirewallVIPs()
	}
	return m, nil
}

// Status is one instance's externally visible state.
type Status struct {
	Name         string
	State        effects.State
	Priority     int
	BasePriority int
	VRID         int
	Interface    string
	Family       int
	SyncGroup    string
}

// Instances reports every instance in config order.
func (m *Machine) Instances() []Status {
	out := make([]Status, 0, len(m.instances))
	for _, i := range m.instances {
		st := Status{Name: i.name, State: i.dyn.State, Priority: i.dyn.Priority, BasePriority: i.basePrio,
			VRID: int(i.vrid), Interface: i.iface, Family: i.family}
		if g := m.syncGroupOf(i); g != nil {
			st.SyncGroup = g.cfg.Name
		}
		out = append(out, st)
	}
	return out
}
