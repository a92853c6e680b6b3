package bfd

import (
	"errors"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// Snapshot is the machine's dynamic state, sessions in configuration
// order.
type Snapshot struct {
	Now      events.Time `json:"now,omitempty"`
	Started  bool        `json:"started,omitempty"`
	Stopped  bool        `json:"stopped,omitempty"`
	Seed     uint64      `json:"seed,omitempty"`
	Draws    uint64      `json:"draws,omitempty"`
	Sessions []Dyn       `json:"sessions,omitempty"`
}

// Snapshot captures the machine's state.
func (m *Machine) Snapshot() *Snapshot {
	s := &Snapshot{Now: m.now, Started: m.started, Stopped: m.stopped, Seed: m.seed, Draws: m.draws}
	for _, x := range m.sessions {
		s.Sessions = append(s.Sessions, x.dyn)
	}
	return s
}

// Restore rebuilds a machine from cfg and a Snapshot of a machine that had
// cfg loaded; it continues exactly as that machine would. A nil snapshot
// (a state written before BFD ran) gives a machine that has not started.
func Restore(cfg *conf.Config, s *Snapshot) (*Machine, error) {
	m := New()
	m.Load(cfg)
	m.out.reset()
	if s == nil {
		return m, nil
	}
	if len(s.Sessions) != len(m.sessions) {
		return nil, errors.New("bfd: snapshot does not match the configuration")
	}
	m.now, m.started, m.stopped, m.seed, m.draws = s.Now, s.Started, s.Stopped, s.Seed, s.Draws
	for k, x := range m.sessions {
		if s.Sessions[k].Name != x.cfg.Name {
			return nil, errors.New("bfd: snapshot does not match the configuration")
		}
		x.dyn = s.Sessions[k]
	}
	m.reindex()
	return m, nil
}
