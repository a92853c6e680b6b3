package sim

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// Engine is the part of vigil's engine the simulator drives: the reducer
// and a view of its VRRP instances.
type Engine interface {
	// Step applies one event. The effects are valid until the next Step.
	Step(ev events.Event) []effects.Effect
	// Instances reports every VRRP instance's current status.
	Instances() []InstanceStatus
}

// InstanceStatus is one VRRP instance as the engine reports it.
type InstanceStatus struct {
	Name         string
	State        effects.State
	Priority     int
	BasePriority int
	VRID         int
	Interface    string
	Family       int
	SyncGroup    string
}

// Backend supplies what the simulator needs from the rest of vigil.
type Backend struct {
	// NewEngine returns a fresh engine for a node (re)start.
	NewEngine func() Engine
	// LoadFile parses a keepalived.conf file; warnings are returned as
	// printable lines.
	LoadFile func(path string) (*conf.Config, []string, error)
	// LoadString parses configuration text; name is used in diagnostics.
	LoadString func(name, text string) (*conf.Config, []string, error)
}
