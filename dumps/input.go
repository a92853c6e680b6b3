package dumps

import (
	"time"

	"github.com/vigil-ha/vigil/engine/vrrp"
	"github.com/vigil-ha/vigil/events"
)

// Input is everything a dump is made of, taken together on the engine's
// goroutine: the engine's view, the recorder's data, and the clock
// readings that turn the engine's monotonic times into wall-clock times.
type Input struct {
	View    *vrrp.View
	Records Records
	// Mono and Wall are the same instant on the engine's clock and on the
	// wall clock.
	Mono events.Time
	Wall time.Time
	// ScriptUID and ScriptGID are the default script user's ids (the data
	// dump's "Default script uid:gid"); HaveScriptUser is false when
	// they could not be resolved.
	ScriptUID, ScriptGID int
	HaveScriptUser       bool
	// ScriptPath maps a script's first word to the path keepalived shows
	// (it resolves it when checking the script); nil leaves it as
	// written. ResolveScriptPath is keepalived's rule.
	ScriptPath func(string) string
	// Hostname is the Router ID when global_defs sets none (keepalived's
	// default).
	Hostname string
}

// Take builds an Input from the engine's view and a recorder. Call it on
// the engine's goroutine; the result is detached from the recorder.
func Take(v *vrrp.View, r *Recorder, mono events.Time, wall time.Time) *Input {
	names := make([]string, len(v.Instances))
	for k := range v.Instances {
		names[k] = v.Instances[k].Name
	}
	return &Input{View: v, Records: r.Snapshot(names), Mono: mono, Wall: wall}
}

// wall converts an engine time to the wall clock.
func (in *Input) wall(t events.Time) time.Time {
	return in.Wall.Add(t.Sub(in.Mono))
}
