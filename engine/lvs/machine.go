package lvs

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// timerPrefix starts the key of every timer this package sets; the engine
// steps the LVS part with the TimerFired events whose key has it.
const timerPrefix = "lvs/"

// IsTimerKey reports whether key is a checker's timer (no VRRP or BFD
// timer key starts with "lvs/"), so that callers can skip the other
// machines' lookups: at 10,000 checks a second they add up.
func IsTimerKey(key string) bool { return strings.HasPrefix(key, timerPrefix) }

// ifAddr is one address on one interface, as AddressChanged reports it.
type ifAddr struct {
	Iface string     `json:"if"`
	Addr  netip.Addr `json:"addr"`
}

// Machine holds every virtual server of the loaded configuration.
type Machine struct {
	cfg   *conf.Config
	model *compiled

	// addrs is the host's addresses (for ha_suspend), addrCount how many
	// interfaces hold each. Both survive reloads.
	addrs     map[ifAddr]bool
	addrCount map[netip.Addr]int

	now     events.Time
	started bool
	stopped bool
	seed    uint64
	// reconcile is set by Start: the Step's table goes out as one
	// ReconcileIPVS instead of SetIPVS additions. It lasts one Step.
	reconcile bool
	// timeoutsLast is a SetIPVSTimeouts that goes out after the Step's
	// table changes (a Stop's restore). It lasts one Step.
	timeoutsLast *effects.SetIPVSTimeouts

	out outbox
	// scratch is desired's reusable buffer.
	scratch []dest
}

// New returns a machine with no configuration.
func New() *Machine {
	return &Machine{model: compile(nil), addrs: map[ifAddr]bool{}, addrCount: map[netip.Addr]int{}}
}

// Config returns the loaded configuration (nil before Load).
func (m *Machine) Config() *conf.Config { return m.cfg }

// Begin starts a Step at time at: the previous Step's effects are released
// and time advances (never backwards).
func (m *Machine) Begin(at events.Time) {
	m.out.reset()
	m.reconcile, m.timeoutsLast = false, nil
	if at > m.now {
		m.now = at
	}
}

// Effects returns the effects of the Step begun by Begin: those produced
// so far, then the IPVS table changes (after a Start, the one
// ReconcileIPVS), then the notifications.
func (m *Machine) Effects() []effects.Effect {
	if m.reconcile {
		m.reconcile = false
		m.reconcileTable()
	}
	for _, v := range m.model.vservers {
		if v.dirty {
			m.syncTable(v)
		}
	}
	if m.timeoutsLast != nil {
		m.out.add(m.timeoutsLast)
		m.timeoutsLast = nil
	}
	m.out.list = append(m.out.list, m.out.notes...)
	return m.out.list
}

func (m *Machine) running() bool { return m.started && !m.stopped }

// Load takes a configuration: the first one, or a reload while running.
func (m *Machine) Load(cfg *conf.Config) {
	if cfg == nil {
		return
	}
	cp := compile(cfg)
	for _, w := range cp.warnings {
		m.out.log(effects.LogWarning, "", w)
	}
	if !m.running() {
		// Not running (before Start, or stopped with --dont-release-ipvs):
		// only the applied table carries over, so that Table reports what
		// the kernel still holds until the next Start reconciles it.
		old := make(map[string]*vserver, len(m.model.vservers))
		for _, v := range m.model.vservers {
			old[v.id] = v
		}
		for _, v := range cp.vservers {
			if o := old[v.id]; o != nil {
				v.dyn.Services, v.dyn.Dests = o.dyn.Services, o.dyn.Dests
			}
		}
		m.cfg, m.model = cfg, cp
		return
	}
	if t := reloadTimeouts(m.cfg, cfg); t != nil {
		m.out.add(t)
	}
	m.reload(cfg, cp)
}

// Start begins checking and programs the IPVS table: with virtual
// servers, the Step emits one ReconcileIPVS carrying the whole desired
// table (flushed first with lvs_flush), since nothing tells the engine
// what the kernel holds at a start (a previous run stopped with
// --dont-release-ipvs, one that crashed, an operator's ipvsadm).
func (m *Machine) Start(ev *events.Start) {
	if m.cfg == nil || m.running() {
		return
	}
	if m.stopped {
		// Started again after a Stop: everything begins afresh; the
		// reconciliation replaces the applied table.
		m.model = compile(m.cfg)
	}
	m.started, m.stopped, m.seed = true, false, ev.Seed
	m.reconcile = len(m.model.vservers) > 0
	if t := timeouts(m.cfg); t != nil {
		m.out.add(t) // before the table, as keepalived's start_check
	}
	for _, v := range m.model.vservers {
		m.initVS(v, true)
	}
}

// reconcileTable takes every virtual server's desired table as its
// applied one and emits it whole as a ReconcileIPVS.
func (m *Machine) reconcileTable() {
	for _, v := range m.model.vservers {
		v.dirty, v.servicesDirty = false, false
		v.dyn.Services = slices.Clone(v.services)
		v.dyn.Dests = append(v.dyn.Dests[:0], m.desired(v)...)
	}
	m.out.add(&effects.ReconcileIPVS{Flush: m.cfg.GlobalDefs.LVSFlush, Services: m.Table()})
}

// flush emits an IPVS flush and forgets the applied table.
func (m *Machine) flush() {
	s := m.out.ipvs.Get()
	s.Op = effects.IPVSFlush
	m.out.add(s)
	for _, v := range m.model.vservers {
		v.dyn.Services, v.dyn.Dests = nil, nil
	}
}

// Stop shuts down: checkers stop, and unless the event keeps IPVS the
// table is cleared as lvs_flush_on_stop says, with the omega notifications.
func (m *Machine) Stop(ev *events.Stop) {
	if !m.running() {
		return
	}
	m.stopped = true
	if timeouts(m.cfg) != nil {
		m.timeoutsLast = &effects.SetIPVSTimeouts{} // restored after the table
	}
	for _, v := range m.model.vservers {
		for _, r := range v.reals {
			for _, ck := range r.checkers {
				m.disarm(ck)
			}
		}
	}
	if ev.KeepIPVS {
		// --dont-release-ipvs: keepalived skips clear_services entirely.
		return
	}
	switch m.cfg.GlobalDefs.LVSFlushOnStop {
	case "RS": // lvs_flush_on_stop without argument: flush everything
		m.flush()
		for _, v := range m.model.vservers {
			m.quorumOnStop(v, true)
		}
	case "VS": // remove the services, whose destinations go with them
		for _, v := range m.model.vservers {
			m.quorumOnStop(v, true)
			m.diff(v, nil, nil)
		}
	default:
		for _, v := range m.model.vservers {
			m.clearVS(v, true)
		}
	}
}

// clearVS removes a virtual server from the table as keepalived's
// clear_service_vs does without lvs_flush_on_stop: each destination, then
// the services. Real servers that were alive go down, with notifications
// when not stopping or when omega is set.
func (m *Machine) clearVS(v *vserver, stopping bool) {
	m.diff(v, v.dyn.Services, nil)
	for _, r := range v.reals {
		if r.dyn.Alive {
			r.dyn.Alive = false
			if !stopping || v.cfg.Omega {
				m.notifyRS(r)
				m.mailRS(r, shutBody(stopping))
			}
		}
	}
	m.quorumOnStop(v, stopping)
	m.diff(v, nil, nil)
	v.dirty = false
}

// shutBody is the body of the alert of a real server taken out of a
// virtual server (keepalived's clear_service_rs).
func shutBody(stopping bool) string {
	if stopping {
		return "=> Shutting down <="
	}
	return "=> Removing <="
}

// Timer handles a TimerFired whose key starts with TimerPrefix.
func (m *Machine) Timer(ev *events.TimerFired) {
	ck := m.model.byTimer[ev.Key]
	if ck == nil || !m.running() || ck.dyn.Due == 0 || m.now < ck.dyn.Due {
		return // not ours, or stale: a re-armed or cancelled timer
	}
	ck.dyn.Due = 0
	if ck.dyn.Pending {
		// The adapter never answered: a hung check is a failed check.
		ck.dyn.Pending = false
		m.out.count(ck.rs.vs.id, effects.CounterCheckNoResult)
		m.epilog(ck, false, "no result", 0, false)
		return
	}
	if !m.enabled(ck) {
		// Suspended (ha_suspend): keepalived's thread keeps ticking.
		m.arm(ck, m.now.Add(ck.cfg.DelayLoop.Std()))
		return
	}
	r := m.out.runs.Get()
	r.VirtualServer, r.RealServer, r.Checker, r.Type = ck.rs.vs.id, ck.rs.id, ck.idx, ck.cfg.Type
	r.Addr, r.Port, r.Timeout, r.Spec = ck.addr, ck.port, ck.timeout, ck.cfg
	m.out.add(r)
	ck.dyn.Pending = true
	m.arm(ck, m.now.Add(ck.timeout+watchdogGrace))
}

// Check handles a CheckResult.
func (m *Machine) Check(ev *events.CheckResult) {
	ck := m.model.byCheck[checkRef{ev.VirtualServer, ev.RealServer, ev.Checker}]
	if ck == nil {
		m.out.count("lvs", effects.CounterCheckResultUnknown)
		return
	}
	if !m.running() {
		return
	}
	if ck.polled {
		if !ck.dyn.Pending {
			m.out.count(ck.rs.vs.id, effects.CounterCheckResultStale)
			return
		}
		ck.dyn.Pending = false
		m.epilog(ck, ev.OK, ev.Message, ev.Weight, ev.Dynamic)
		return
	}
	// Event driven (FILE_CHECK): no retries, no schedule.
	m.dynamicWeight(ck, ev.OK, ev.Weight, ev.Dynamic)
	m.verdict(ck, ev.OK, ev.Message, false)
}

// BFD handles a BFD session's state for the BFD_CHECK checkers naming it.
func (m *Machine) BFD(ev *events.BFDState) {
	if !m.running() {
		return
	}
	for _, v := range m.model.vservers {
		for _, r := range v.reals {
			for _, ck := range r.checkers {
				if ck.cfg.Type == conf.CheckBFD && ck.cfg.BFD != nil && ck.cfg.BFD.Name == ev.Name {
					msg := "BFD " + ev.Name + " down"
					if ev.Up {
						msg = "BFD " + ev.Name + " up"
					}
					m.verdict(ck, ev.Up, msg, false)
				}
			}
		}
	}
}

// Address tracks the host's addresses, for ha_suspend.
func (m *Machine) Address(ev *events.AddressChanged) {
	a := ev.Prefix.Addr()
	if !a.IsValid() {
		return
	}
	k := ifAddr{ev.Interface, a}
	if m.addrs[k] == ev.Added {
		return
	}
	if ev.Added {
		m.addrs[k] = true
		m.addrCount[a]++
	} else {
		delete(m.addrs, k)
		if m.addrCount[a]--; m.addrCount[a] <= 0 {
			delete(m.addrCount, a)
		}
	}
	if !m.running() {
		return
	}
	for _, v := range m.model.vservers {
		if v.haAddr != a {
			continue
		}
		// keepalived logs the change of every checker; the next tick of
		// each checker runs (or skips) the check.
		if ev.Added && m.addrCount[a] == 1 {
			m.out.log(effects.LogInfo, v.id, "Activating healthcheckers for VS "+v.logName)
		} else if !ev.Added && m.addrCount[a] == 0 {
			m.out.log(effects.LogInfo, v.id, "Suspending healthcheckers for VS "+v.logName)
		}
	}
}

// enabled reports whether a checker runs its checks (ha_suspend).
func (m *Machine) enabled(ck *checker) bool {
	v := ck.rs.vs
	return !v.haAddr.IsValid() || m.addrCount[v.haAddr] > 0
}

// IsTimer reports whether key is one of this package's timer keys.
func IsTimer(key string) bool { return strings.HasPrefix(key, timerPrefix) }

// Step applies one event and returns the effects it produces (owned by
// the machine until the next Step, as engine.Step's). Events the LVS part
// has no use for — including timers that are not its own — return nil
// without touching the state.
func (m *Machine) Step(ev events.Event) []effects.Effect {
	switch v := ev.(type) {
	case *events.ConfigLoaded:
		if v == nil {
			return nil
		}
		m.Begin(v.At)
		m.Load(v.Config)
	case *events.Start:
		if v == nil {
			return nil
		}
		m.Begin(v.At)
		m.Start(v)
	case *events.Stop:
		if v == nil {
			return nil
		}
		m.Begin(v.At)
		m.Stop(v)
	case *events.TimerFired:
		if v == nil || !IsTimer(v.Key) {
			return nil
		}
		m.Begin(v.At)
		m.Timer(v)
	case *events.CheckResult:
		if v == nil {
			return nil
		}
		m.Begin(v.At)
		m.Check(v)
	case *events.AddressChanged:
		if v == nil {
			return nil
		}
		m.Begin(v.At)
		m.Address(v)
	case *events.BFDState:
		if v == nil {
			return nil
		}
		m.Begin(v.At)
		m.BFD(v)
	case *events.TrackFileValue:
		if v == nil {
			return nil
		}
		m.Begin(v.At)
		m.TrackFile(v)
	default:
		return nil
	}
	return m.Effects()
}

// TimerInfo is what one of the machine's timer keys stands for: the
// schedule of checker Checker (its index in the real server's
// configuration) of real server RealServer of virtual server
// VirtualServer, all by their IDs.
type TimerInfo struct {
	VirtualServer string
	RealServer    string
	Checker       int
}

// TimerInfo reports what key stands for, from the loaded configuration's
// checkers; false for a key that is not one of their timers. It changes
// nothing.
func (m *Machine) TimerInfo(key string) (TimerInfo, bool) {
	ck := m.model.byTimer[key]
	if ck == nil {
		return TimerInfo{}, false
	}
	return TimerInfo{VirtualServer: ck.rs.vs.id, RealServer: ck.rs.id, Checker: ck.idx}, true
}
