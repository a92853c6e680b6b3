package engine

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine/lvs"
	"github.com/vigil-ha/vigil/engine/vrrp"
	"github.com/vigil-ha/vigil/events"
)

// Engine is the whole reducer state.
type Engine struct {
	vrrp *vrrp.Machine
	lvs  *lvs.Machine
	// buf joins the VRRP and LVS effects of a Step that has both; own
	// holds the engine's own (phases.go).
	buf, own []effects.Effect
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
	return &Engine{vrrp: vrrp.New(), lvs: lvs.New()}
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
		return m.Effects()
	}
	m.Begin(ev.EventTime())
	switch v := ev.(type) {
	case *events.ConfigLoaded:
		if v != nil {
			m.Load(v.Config)
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
		if v != nil {
			m.Timer(v)
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
	// effects follow VRRP's.
	return e.join(m.Effects(), e.lvs.Step(ev))
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
