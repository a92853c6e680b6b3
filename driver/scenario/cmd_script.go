package scenario

import (
	"fmt"
	"strconv"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

var scriptSpec = spec{steps: true, args: []arg{
	{key: "name", kind: value, required: true, hint: "name=SCRIPT"},
	{key: "status", kind: value, required: true, hint: "status=N|timeout|fail"},
	{key: "phase", kind: value, hint: "phase=startup|shutdown"},
}}

// cmdScript delivers a track script's ScriptResult: its exit status, or
// timeout (killed after its timeout), or fail (it could not be run). With
// phase=, the result is the startup or shutdown script's.
//
// Syntax:
//
//	script name=SCRIPT status=N|timeout|fail [phase=startup|shutdown] [only=(Kind, ...)]
//
// Example:
//
//	script name=chk_nginx status=1 only=(StateChanged)
func (h *Harness) cmdScript(a *params) error {
	ev := &events.ScriptResult{Script: a.Str("name", ""), Phase: a.Str("phase", "")}
	switch ev.Phase {
	case "", effects.PhaseStartup, effects.PhaseShutdown:
	default:
		return fmt.Errorf("%s: phase: %q is not startup or shutdown", a.cmd, ev.Phase)
	}
	switch st := a.Str("status", ""); st {
	case "timeout":
		ev.TimedOut = true
	case "fail":
		ev.Failed = true
	default:
		n, err := strconv.Atoi(st)
		if err != nil || n < 0 || n > 255 {
			return fmt.Errorf("%s: status: %q is not an exit status (0-255), timeout or fail", a.cmd, st)
		}
		ev.Status = n
	}
	if err := a.Err(); err != nil {
		return err
	}
	return h.Step(ev)
}
