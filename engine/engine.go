package engine

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine/bfd"
	"github.com/vigil-ha/vigil/engine/lvs"
	"github.com/vigil-ha/vigil/engine/vrrp"
	"github.com/vigil-ha/vigil/events"
)

// Engine is the whole reducer state.
type Engine struct {
	vrrp *vrrp.Machine
	lvs  *lvs.Machine
	bfd  *bfd.Machine
	// buf joins the BFD, VRRP and LVS effects of a Step that has several;
	// own holds the engine's own (phases.go); lvsBuf keeps the LVS part's
	// effects while it is stepped again with BFD states (bfdLVS).
	buf, own, lvsBuf []effects.Effect
	// running is set from Start to Stop; pending is the Start waiting
	// for the startup script to end (phases.go).
	running bool
	pending *events.Start
}

// InstanceStatus is one VRRP instance as Instances reports it.
type InstanceStatus struct {
	Name  string
	State effects.State
	// Priority is the effective priority; BasePriority the configured one.
	Priority     int
	BasePriority int
	VRID         int
	Interface    string
	Family       int
	SyncGroup    string
}

// New returns an empty engine; it is advanced only by Step, with the
// events in the order the package comment gives.
func New() *Engine {
	return &Engine{vrrp: vrrp.New(), lvs: lvs.New(), bfd: bfd.New()}
}

// Step applies one event and returns the effects it produces, in their
// meaningful order. The returned slice and the effects it points to are
// owned by the engine and valid until the next Step (callers that keep
// them use effects.Clone). Step never panics on any input; events it has
// no use for produce nothing.
func (e *Engine) Step(ev events.Event) []effects.Effect {
	m := e.vrrp
	if ev == nil {
		m.Begin(0)
		e.bfd.Begin(0)
		return m.Effects()
	}
	m.Begin(ev.EventTime())
	e.bfd.Begin(ev.EventTime())
	switch v := ev.(type) {
	case *events.ConfigLoaded:
		if v != nil {
			m.Load(v.Config)
			e.bfd.Load(v.Config)
		}
	case *events.Start:
		if v != nil {
			return e.start(v)
		}
	case *events.Stop:
		if v != nil {
			return e.stop(v)
		}
	case *events.AdvertReceived:
		if v != nil {
			m.Advert(v)
		}
	case *events.TimerFired:
		if v != nil && bfd.IsTimer(v.Key) {
			e.bfd.Timer(v)
		} else if v != nil {
			m.Timer(v)
		}
	case *events.BFDReceived:
		if v != nil {
			e.bfd.Receive(v)
		}
	case *events.LinkChanged:
		if v != nil {
			m.Link(v)
		}
	case *events.AddressChanged:
		if v != nil {
			m.Address(v)
		}
	case *events.RouteChanged:
		if v != nil {
			m.Route(v)
		}
	case *events.RuleChanged:
		if v != nil {
			m.Rule(v)
		}
	case *events.ScriptResult:
		if v != nil && v.Phase != "" {
			return e.phaseResult(v)
		}
		if v != nil {
			m.Script(v)
		}
	case *events.TrackFileValue:
		if v != nil {
			m.TrackFile(v)
		}
	case *events.ProcessCount:
		if v != nil {
			m.Process(v)
		}
	case *events.BFDState:
		if v != nil {
			m.BFD(v)
		}
	case *events.GroupJoined:
		if v != nil {
			m.Joined(v)
		}
	}
	// The LVS part sees the events it has a use for (configuration,
	// start and stop, its own timers, check results, addresses, BFD); its
	// effects follow VRRP's, which follow BFD's.
	e.bfdVRRP(ev.EventTime())
	return e.assemble(e.bfd.Effects(), m.Effects(), e.bfdLVS(ev.EventTime(), e.lvs.Step(ev)))
}

// bfdVRRP hands the BFD sessions' changes of this step to track_bfd.
func (e *Engine) bfdVRRP(at events.Time) {
	for _, c := range e.bfd.Changes() {
		if c.VRRP {
			e.vrrp.BFD(&events.BFDState{Header: events.Header{At: at}, Name: c.Name, Up: c.Up})
		}
	}
}

// bfdLVS hands the BFD sessions' changes of this step to BFD_CHECK and
// returns the LVS part's effects: prior (those of the event itself), then
// those of the changes.
func (e *Engine) bfdLVS(at events.Time, prior []effects.Effect) []effects.Effect {
	n := 0
	for _, c := range e.bfd.Changes() {
		if c.Checker {
			n++
		}
	}
	if n == 0 {
		return prior
	}
	e.lvsBuf = append(e.lvsBuf[:0], prior...)
	e.lvs.Begin(at)
	for _, c := range e.bfd.Changes() {
		if c.Checker {
			e.lvs.BFD(&events.BFDState{Header: events.Header{At: at}, Name: c.Name, Up: c.Up})
		}
	}
	e.lvsBuf = append(e.lvsBuf, e.lvs.Effects()...)
	return e.lvsBuf
}

// assemble returns the parts in order, in a buffer the engine reuses
// (a lone non-empty part is returned as it is).
func (e *Engine) assemble(parts ...[]effects.Effect) []effects.Effect {
	var only []effects.Effect
	n := 0
	for _, p := range parts {
		if len(p) > 0 {
			only = p
			n++
		}
	}
	if n <= 1 {
		return only
	}
	e.buf = e.buf[:0]
	for _, p := range parts {
		e.buf = append(e.buf, p...)
	}
	return e.buf
}

// join returns a followed by b, in a buffer the engine reuses.
func (e *Engine) join(a, b []effects.Effect) []effects.Effect {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	e.buf = append(append(e.buf[:0], a...), b...)
	return e.buf
}

// Instances reports every VRRP instance in config order.
func (e *Engine) Instances() []InstanceStatus {
	st := e.vrrp.Instances()
	out := make([]InstanceStatus, len(st))
	for k, s := range st {
		out[k] = InstanceStatus(s)
	}
	return out
}

// Receivers reports, for every receiving socket, the VRIDs the engine
// accepts adverts for there and what it requires of them first (version,
// TTL 255): the network adapter's packet filters are built from it, and
// must be rebuilt after each ConfigLoaded. Read-only.
func (e *Engine) Receivers() []effects.Receiver { return e.vrrp.Receivers() }

// BFDSession is one BFD session as BFDSessions reports it.
type BFDSession = bfd.Status

// BFDSessions reports every BFD session (bfd_instance) in config order.
func (e *Engine) BFDSessions() []BFDSession { return e.bfd.Status() }
