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
	Checkers []chkDyn `json:"checkers,omitempty"`
}

// Snapshot returns the dynamic state.
func (m *Machine) Snapshot() *Snapshot {
	s := &Snapshot{Now: m.now, Started: m.started, Stopped: m.stopped, Seed: m.seed}
	for _, v := range m.cp.vss {
		vs := vsSnap{vsDyn: v.d}
		vs.Svcs = slices.Clone(v.d.Svcs)
		vs.Dests = slices.Clone(v.d.Dests)
		for _, r := range v.rss {
			rs := rsSnap{rsDyn: r.d}
			for _, ck := range r.checks {
				rs.Checkers = append(rs.Checkers, ck.d)
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
		m.cfg, m.cp = cfg, compile(cfg)
	}
	if s == nil {
		return m, nil // a state from before the LVS part: not started
	}
	m.now, m.started, m.stopped, m.seed = s.Now, s.Started, s.Stopped, s.Seed
	if len(s.VirtualServers) != len(m.cp.vss) {
		return nil, errors.New("lvs: snapshot does not match the configuration")
	}
	for k, v := range m.cp.vss {
		vs := &s.VirtualServers[k]
		if vs.ID != v.id || len(vs.RealServers) != len(v.rss) {
			return nil, errors.New("lvs: snapshot does not match virtual server " + v.id)
		}
		v.d = vs.vsDyn
		for j, r := range v.rss {
			rs := &vs.RealServers[j]
			if rs.ID != r.id || len(rs.Checkers) != len(r.checks) {
				return nil, errors.New("lvs: snapshot does not match real server " + r.id + " of " + v.id)
			}
			r.d = rs.rsDyn
			for n, ck := range r.checks {
				ck.d = rs.Checkers[n]
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
	out := make([]VSStatus, 0, len(m.cp.vss))
	for _, v := range m.cp.vss {
		vs := VSStatus{ID: v.id, Name: v.fmt, QuorumUp: v.d.QuorumUp, SorryOn: v.d.SorryOn, LiveWeight: liveWeight(v)}
		for _, r := range v.rss {
			rs := RSStatus{ID: r.id, Alive: r.d.Alive, Weight: realWeight(r.d.Weight)}
			for _, ck := range r.checks {
				rs.Checkers = append(rs.Checkers, CheckerStatus{Type: ck.c.Type, Up: ck.d.Up, HasRun: ck.d.HasRun,
					RetryIt: ck.d.RetryIt, Next: ck.d.Due, Pending: ck.d.Pending})
			}
			vs.RealServers = append(vs.RealServers, rs)
		}
		out = append(out, vs)
	}
	return out
}
