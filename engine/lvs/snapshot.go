package lvs

import (
	"cmp"
	"errors"
	"slices"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// Snapshot is the machine's dynamic state. With the configuration it
// rebuilds a machine that continues exactly as the original would.
type Snapshot struct {
	Now     events.Time `json:"now"`
	Started bool        `json:"started,omitempty"`
	Stopped bool        `json:"stopped,omitempty"`
	Seed    uint64      `json:"seed,omitempty"`
	// VirtualServers are in configuration order.
	VirtualServers []vsSnap `json:"virtual_servers,omitempty"`
	// Addrs is the host's addresses, sorted.
	Addrs []ifAddr `json:"addrs,omitempty"`
}

type vsSnap struct {
	vsDyn
	RealServers []rsSnap `json:"real_servers,omitempty"`
}

type rsSnap struct {
	rsDyn
	Checkers []checkerDyn `json:"checkers,omitempty"`
}

// Snapshot returns the dynamic state.
func (m *Machine) Snapshot() *Snapshot {
	s := &Snapshot{Now: m.now, Started: m.started, Stopped: m.stopped, Seed: m.seed}
	for _, v := range m.model.vservers {
		vs := vsSnap{vsDyn: v.dyn}
		vs.Services = slices.Clone(v.dyn.Services)
		vs.Dests = slices.Clone(v.dyn.Dests)
		for _, r := range v.reals {
			rs := rsSnap{rsDyn: r.dyn}
			for _, ck := range r.checkers {
				rs.Checkers = append(rs.Checkers, ck.dyn)
			}
			vs.RealServers = append(vs.RealServers, rs)
		}
		s.VirtualServers = append(s.VirtualServers, vs)
	}
	for a := range m.addrs {
		s.Addrs = append(s.Addrs, a)
	}
	slices.SortFunc(s.Addrs, func(a, b ifAddr) int {
		return cmp.Or(cmp.Compare(a.Iface, b.Iface), a.Addr.Compare(b.Addr))
	})
	return s
}

// Restore rebuilds a machine from its configuration and a Snapshot.
func Restore(cfg *conf.Config, s *Snapshot) (*Machine, error) {
	m := New()
	if cfg != nil {
		m.cfg, m.model = cfg, compile(cfg)
	}
	if s == nil {
		return m, nil // a state from before the LVS part: not started
	}
	m.now, m.started, m.stopped, m.seed = s.Now, s.Started, s.Stopped, s.Seed
	if len(s.VirtualServers) != len(m.model.vservers) {
		return nil, errors.New("lvs: snapshot does not match the configuration")
	}
	for k, v := range m.model.vservers {
		vs := &s.VirtualServers[k]
		if vs.ID != v.id || len(vs.RealServers) != len(v.reals) {
			return nil, errors.New("lvs: snapshot does not match virtual server " + v.id)
		}
		v.dyn = vs.vsDyn
		for j, r := range v.reals {
			rs := &vs.RealServers[j]
			if rs.ID != r.id || len(rs.Checkers) != len(r.checkers) {
				return nil, errors.New("lvs: snapshot does not match real server " + r.id + " of " + v.id)
			}
			r.dyn = rs.rsDyn
			for n, ck := range r.checkers {
				ck.dyn = rs.Checkers[n]
			}
		}
	}
	for _, a := range s.Addrs {
		m.addrs[a] = true
		m.addrCount[a.Addr]++
	}
	return m, nil
}

// VSStatus is one virtual server as Status reports it.
type VSStatus struct {
	ID       string
	Name     string // keepalived's format: "[10.0.0.1]:tcp:80"
	QuorumUp bool
	SorryOn  bool
	// LiveWeight is the sum of the alive real servers' weights.
	LiveWeight  int
	RealServers []RSStatus
}

// RSStatus is one real server of a VSStatus.
type RSStatus struct {
	ID       string
	Alive    bool
	Weight   int
	Checkers []CheckerStatus
}

// CheckerStatus is one checker of an RSStatus.
type CheckerStatus struct {
	Type    string
	Up      bool
	HasRun  bool
	RetryIt int
	// Next is when the checker's timer fires next (0: not armed).
	Next events.Time
	// Pending is set while a RunCheck awaits its CheckResult.
	Pending bool
}

// Status reports every virtual server in configuration order.
func (m *Machine) Status() []VSStatus {
	out := make([]VSStatus, 0, len(m.model.vservers))
	for _, v := range m.model.vservers {
		vs := VSStatus{ID: v.id, Name: v.logName, QuorumUp: v.dyn.QuorumUp, SorryOn: v.dyn.SorryOn, LiveWeight: liveWeight(v)}
		for _, r := range v.reals {
			rs := RSStatus{ID: r.id, Alive: r.dyn.Alive, Weight: realWeight(r.dyn.Weight)}
			for _, ck := range r.checkers {
				rs.Checkers = append(rs.Checkers, CheckerStatus{Type: ck.cfg.Type, Up: ck.dyn.Up, HasRun: ck.dyn.HasRun,
					RetryIt: ck.dyn.RetryIt, Next: ck.dyn.Due, Pending: ck.dyn.Pending})
			}
			vs.RealServers = append(vs.RealServers, rs)
		}
		out = append(out, vs)
	}
	return out
}
