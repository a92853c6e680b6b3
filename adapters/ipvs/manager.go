package ipvs

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
)

// localNode is the forwarding method the kernel reports for a destination
// whose address is local to the director, whatever method was asked for;
// it never triggers an update.
const localNode Method = 1

// Options configures a Manager.
type Options struct {
	// Netns is the path of the network namespace whose IPVS table to
	// manage ("" for the current one). IPVS tables are per namespace.
	Netns string
	// StateFile, when set, is where the Manager records the services it
	// owns, so that a restarted vigil can remove those its new
	// configuration no longer names. Empty keeps the record in memory.
	StateFile string
	// NoModprobe skips loading ip_vs when the kernel lacks the family.
	NoModprobe bool
}

// OpKind names one change made to the kernel table.
type OpKind string

// Changes the Manager makes.
const (
	OpAddService OpKind = "add-service"
	OpSetService OpKind = "set-service"
	OpDelService OpKind = "del-service"
	OpAddDest    OpKind = "add-dest"
	OpSetDest    OpKind = "set-dest"
	OpDelDest    OpKind = "del-dest"
	OpFlush      OpKind = "flush"
)

// Change is one request sent to the kernel, reported for logging and
// tests.
type Change struct {
	Op      OpKind
	Service ServiceKey
	Dest    netip.AddrPort // zero for service operations
}

func (c Change) String() string {
	if c.Dest.IsValid() {
		return string(c.Op) + " " + c.Service.String() + " " + c.Dest.String()
	}
	if c.Op == OpFlush {
		return string(c.Op)
	}
	return string(c.Op) + " " + c.Service.String()
}

// Manager owns vigil's part of one namespace's IPVS table. Its methods are
// safe for concurrent use but serialised: the daemon runs it behind its
// kernel queue so the engine never waits on netlink.
type Manager struct {
	mu    sync.Mutex
	opts  Options
	k     *kernel
	owned map[ServiceKey]bool
	// origTimeouts are the kernel's timeouts before SetTimeouts first
	// changed them (nil until then).
	origTimeouts *Timeouts

	// statsK is Stats' own socket, opened at its first call.
	statsMu sync.Mutex
	statsK  *kernel
	closed  atomic.Bool
}

// Open checks that the kernel offers IPVS (loading ip_vs if allowed) and
// opens the netlink socket. It returns ErrNoIPVS when IPVS is missing.
func Open(opts Options) (*Manager, error) {
	if err := ensureModule(opts.Netns, !opts.NoModprobe); err != nil {
		return nil, err
	}
	k, err := openKernel(opts.Netns)
	if err != nil {
		return nil, err
	}
	m := &Manager{opts: opts, k: k, owned: map[ServiceKey]bool{}}
	if opts.StateFile != "" {
		owned, err := loadState(opts.StateFile)
		if err != nil {
			k.close()
			return nil, err
		}
		for _, key := range owned {
			m.owned[key] = true
		}
	}
	return m, nil
}

// Close releases the netlink socket. It leaves the table as it is.
func (m *Manager) Close() error {
	m.closed.Store(true)
	m.statsMu.Lock()
	if m.statsK != nil {
		m.statsK.close()
		m.statsK = nil
	}
	m.statsMu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.k.close()
	return nil
}

// Read returns the kernel's whole table (every service, owned or not),
// sorted.
func (m *Manager) Read() (Table, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.k.read()
}

// Owned returns the keys of the services the Manager considers its own,
// sorted.
func (m *Manager) Owned() []ServiceKey {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ownedKeys()
}

// Sync makes the kernel table hold exactly the desired services with
// exactly their destinations, and removes the services vigil owned that
// are no longer desired. Services vigil never owned are left alone. At
// start it is the reconciliation with whatever a previous run (or an
// operator) left; afterwards it is idempotent. With flush set (keepalived's
// lvs_flush) the whole table is flushed first.
//
// Sync stops at the first failing request and returns the changes made
// until then; calling it again resumes, since it re-reads the kernel.
func (m *Manager) Sync(desired Table, flush bool) ([]Change, error) {
	for i := range desired {
		if err := desired[i].Validate(); err != nil {
			return nil, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var changes []Change
	if flush {
		if err := m.k.flush(); err != nil {
			return nil, err
		}
		changes = append(changes, Change{Op: OpFlush})
	}
	current, err := m.k.read()
	if err != nil {
		return changes, err
	}
	have := make(map[ServiceKey]*Service, len(current))
	for i := range current {
		have[current[i].Key()] = &current[i]
	}
	want := make(map[ServiceKey]bool, len(desired))
	for i := range desired {
		s := &desired[i]
		if want[s.Key()] {
			return changes, fmt.Errorf("ipvs: service %s desired twice", s.Key())
		}
		want[s.Key()] = true
	}
	// Remove stale owned services first: a service can only be re-created
	// under another key after the old one is gone, and removing first
	// frees its destinations' connections soonest.
	for i := range current {
		s := &current[i]
		if want[s.Key()] || !m.owned[s.Key()] {
			continue
		}
		if err := m.k.delService(s); err != nil {
			return changes, m.saveAfter(err)
		}
		delete(m.owned, s.Key())
		changes = append(changes, Change{Op: OpDelService, Service: s.Key()})
	}
	// Forget owned services that disappeared from the kernel by other
	// hands: they are not ours to remove any more.
	for key := range m.owned {
		if !want[key] && have[key] == nil {
			delete(m.owned, key)
		}
	}
	for i := range desired {
		c, err := m.syncService(&desired[i], have[desired[i].Key()])
		changes = append(changes, c...)
		if err != nil {
			return changes, m.saveAfter(err)
		}
	}
	return changes, m.saveAfter(nil)
}

// SyncService makes one service look as desired (creating it if needed)
// without touching any other.
func (m *Manager) SyncService(s Service) ([]Change, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, err := m.lookup(s.Key())
	if err != nil {
		return nil, err
	}
	c, err := m.syncService(&s, cur)
	return c, m.saveAfter(err)
}

// EnsureService creates a service, or brings its settings up to date,
// and adds or updates the destinations s lists, removing none (the
// incremental form used by per-server effects).
func (m *Manager) EnsureService(s Service) ([]Change, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, err := m.lookup(s.Key())
	if err != nil {
		return nil, err
	}
	if cur != nil {
		// Keep the kernel's destinations that s does not mention.
		s.Dests = slices.Clone(s.Dests) // appended to below: keep the caller's intact
		listed := make(map[netip.AddrPort]bool, len(s.Dests))
		for _, d := range s.Dests {
			listed[d.Key()] = true
		}
		for _, d := range cur.Dests {
			if !listed[d.Key()] {
				s.Dests = append(s.Dests, d)
			}
		}
	}
	c, err := m.syncService(&s, cur)
	return c, m.saveAfter(err)
}

// RemoveService deletes a service and its destinations. Removing a
// service that is not in the kernel is not an error.
func (m *Manager) RemoveService(key ServiceKey) ([]Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, err := m.lookup(key)
	if err != nil {
		return nil, err
	}
	delete(m.owned, key)
	if cur == nil {
		return nil, m.saveAfter(nil)
	}
	if err := m.k.delService(cur); err != nil {
		return nil, m.saveAfter(err)
	}
	return []Change{{Op: OpDelService, Service: key}}, m.saveAfter(nil)
}

// SetDest adds a destination to an existing service, or updates it.
func (m *Manager) SetDest(key ServiceKey, d Dest) ([]Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, err := m.lookup(key)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, fmt.Errorf("ipvs: service %s is not in the kernel", key)
	}
	probe := *cur
	probe.Dests = []Dest{d}
	if err := probe.Validate(); err != nil {
		return nil, err
	}
	for i := range cur.Dests {
		if cur.Dests[i].Key() != d.Key() {
			continue
		}
		if sameKernelDest(&d, &cur.Dests[i]) {
			return nil, nil
		}
		if err := m.k.updateDest(cur, &d); err != nil {
			return nil, err
		}
		return []Change{{Op: OpSetDest, Service: key, Dest: d.Key()}}, nil
	}
	if err := m.k.addDest(cur, &d); err != nil {
		return nil, err
	}
	return []Change{{Op: OpAddDest, Service: key, Dest: d.Key()}}, nil
}

// RemoveDest deletes a destination; a missing one is not an error.
func (m *Manager) RemoveDest(key ServiceKey, dest netip.AddrPort) ([]Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, err := m.lookup(key)
	if err != nil || cur == nil {
		return nil, err
	}
	for i := range cur.Dests {
		if cur.Dests[i].Key() == dest {
			if err := m.k.delDest(cur, &cur.Dests[i]); err != nil {
				return nil, err
			}
			return []Change{{Op: OpDelDest, Service: key, Dest: dest}}, nil
		}
	}
	return nil, nil
}

// Flush empties the whole table, vigil's services and everyone else's
// (keepalived's lvs_flush and lvs_flush_onstop).
func (m *Manager) Flush() ([]Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.k.flush(); err != nil {
		return nil, err
	}
	clear(m.owned)
	return []Change{{Op: OpFlush}}, m.saveAfter(nil)
}

// RemoveOwned deletes every service vigil owns (keepalived's
// lvs_flush_onstop, restricted to vigil's own services).
func (m *Manager) RemoveOwned() ([]Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var changes []Change
	for _, key := range m.ownedKeys() {
		cur, err := m.lookup(key)
		if err != nil {
			return changes, m.saveAfter(err)
		}
		if cur != nil {
			if err := m.k.delService(cur); err != nil {
				return changes, m.saveAfter(err)
			}
			changes = append(changes, Change{Op: OpDelService, Service: key})
		}
		delete(m.owned, key)
	}
	return changes, m.saveAfter(nil)
}

// syncService converges one service; cur is its kernel state or nil.
func (m *Manager) syncService(s *Service, cur *Service) ([]Change, error) {
	key := s.Key()
	var changes []Change
	if cur == nil {
		if err := m.k.addService(s); err != nil {
			return nil, err
		}
		m.owned[key] = true
		changes = append(changes, Change{Op: OpAddService, Service: key})
		cur = &Service{}
	} else {
		// A desired service is vigil's from now on, even if someone else
		// created it: its destinations are managed below.
		m.owned[key] = true
		if !s.sameSettings(cur) {
			if err := m.k.updateService(s); err != nil {
				return changes, err
			}
			changes = append(changes, Change{Op: OpSetService, Service: key})
		}
	}
	have := make(map[netip.AddrPort]*Dest, len(cur.Dests))
	for i := range cur.Dests {
		have[cur.Dests[i].Key()] = &cur.Dests[i]
	}
	want := make(map[netip.AddrPort]bool, len(s.Dests))
	for i := range s.Dests {
		want[s.Dests[i].Key()] = true
	}
	for i := range cur.Dests {
		d := &cur.Dests[i]
		if want[d.Key()] {
			continue
		}
		if err := m.k.delDest(s, d); err != nil {
			return changes, err
		}
		changes = append(changes, Change{Op: OpDelDest, Service: key, Dest: d.Key()})
	}
	for i := range s.Dests {
		d := &s.Dests[i]
		old := have[d.Key()]
		switch {
		case old == nil:
			if err := m.k.addDest(s, d); err != nil {
				return changes, err
			}
			changes = append(changes, Change{Op: OpAddDest, Service: key, Dest: d.Key()})
		case !sameKernelDest(d, old):
			if err := m.k.updateDest(s, d); err != nil {
				return changes, err
			}
			changes = append(changes, Change{Op: OpSetDest, Service: key, Dest: d.Key()})
		}
	}
	return changes, nil
}

// sameKernelDest compares a desired destination with the kernel's.
func sameKernelDest(want, have *Dest) bool {
	if have.Method == localNode {
		h := *have
		h.Method = want.Method
		return sameDest(want, &h)
	}
	return sameDest(want, have)
}

// lookup reads one service (with destinations) from the kernel; nil if
// absent.
func (m *Manager) lookup(key ServiceKey) (*Service, error) {
	return m.k.readService(key)
}

func (m *Manager) ownedKeys() []ServiceKey {
	keys := make([]ServiceKey, 0, len(m.owned))
	for k := range m.owned {
		keys = append(keys, k)
	}
	sortKeys(keys)
	return keys
}

// saveAfter persists the owned set (when a state file is configured) and
// joins a save failure to err.
func (m *Manager) saveAfter(err error) error {
	if m.opts.StateFile == "" {
		return err
	}
	if serr := saveState(m.opts.StateFile, m.ownedKeys()); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}
