// Package harness binds the simulator to vigil's real engine and
// configuration loader: every simulated node runs engine.Engine on a
// keepalived.conf parsed by package config.
package harness

import (
	"fmt"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/config/diag"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
	"github.com/vigil-ha/vigil/sim"
)

// Backend returns the simulator backend running vigil's engine.
func Backend() sim.Backend {
	return sim.Backend{
		NewEngine: func() sim.Engine { return realEngine{engine.New()} },
		LoadFile: func(path string) (*conf.Config, []string, error) {
			return loaded(config.Load(path, config.Options{}))
		},
		LoadString: func(name, text string) (*conf.Config, []string, error) {
			return loaded(config.LoadString(name, text, config.Options{}))
		},
	}
}

// loaded turns the config loader's diagnostics into printable warnings, or
// an error that lists them.
func loaded(cfg *conf.Config, ds diag.List, err error) (*conf.Config, []string, error) {
	var lines []string
	for _, d := range ds {
		lines = append(lines, d.String())
	}
	if err != nil {
		if len(lines) > 0 {
			return nil, nil, fmt.Errorf("%w: %s", err, lines[0])
		}
		return nil, nil, err
	}
	return cfg, lines, nil
}

// realEngine adapts engine.Engine to sim.Engine.
type realEngine struct{ e *engine.Engine }

func (r realEngine) Step(ev events.Event) []effects.Effect { return r.e.Step(ev) }

func (r realEngine) Instances() []sim.InstanceStatus {
	st := r.e.Instances()
	out := make([]sim.InstanceStatus, len(st))
	for i, s := range st {
		out[i] = sim.InstanceStatus(s)
	}
	return out
}

// MarshalState exposes the engine's state, for journal snapshots (`vigil
// sim --journal`).
func (r realEngine) MarshalState() ([]byte, error) { return r.e.MarshalState() }
