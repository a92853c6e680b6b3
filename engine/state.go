package engine

import (
	"encoding/json"
	"errors"

	"github.com/vigil-ha/vigil/engine/bfd"
	"github.com/vigil-ha/vigil/engine/lvs"
	"github.com/vigil-ha/vigil/engine/vrrp"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// stateVersion is bumped when the encoding changes incompatibly.
const stateVersion = 1

type state struct {
	Version int            `json:"version"`
	Config  *conf.Config   `json:"config,omitempty"`
	VRRP    *vrrp.Snapshot `json:"vrrp"`
	LVS     *lvs.Snapshot  `json:"lvs,omitempty"`
	BFD     *bfd.Snapshot  `json:"bfd,omitempty"`
	// Running and Pending are the engine's own (phases.go).
	Running bool          `json:"running,omitempty"`
	Pending *events.Start `json:"pending_start,omitempty"`
}

// MarshalState encodes the whole engine state deterministically (for
// journal snapshots and `replay at`): the loaded configuration and every
// dynamic field, slices in config order.
func (e *Engine) MarshalState() ([]byte, error) {
	return json.Marshal(state{Version: stateVersion, Config: e.vrrp.Config(), VRRP: e.vrrp.Snapshot(), LVS: e.lvs.Snapshot(),
		BFD: e.bfd.Snapshot(), Running: e.running, Pending: e.pending})
}

// RestoreState rebuilds an engine from MarshalState's output; it continues
// exactly as the original would.
func RestoreState(b []byte) (*Engine, error) {
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	if s.Version != stateVersion {
		return nil, errors.New("engine: unsupported state version")
	}
	m, err := vrrp.Restore(s.Config, s.VRRP)
	if err != nil {
		return nil, err
	}
	l, err := lvs.Restore(s.Config, s.LVS)
	if err != nil {
		return nil, err
	}
	bm, err := bfd.Restore(s.Config, s.BFD)
	if err != nil {
		return nil, err
	}
	return &Engine{vrrp: m, lvs: l, bfd: bm, running: s.Running, pending: s.Pending}, nil
}
