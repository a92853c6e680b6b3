package engine

import (
	"strconv"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// global_defs' startup_script and shutdown_script, as keepalived 2.2.7
// runs them (core/main.c): the startup script runs before anything else
// starts, and VRRP and the checkers start only once it has ended, whatever
// its exit status (a failure is logged), or once its timeout
// (startup_script_timeout, default 10 s) has had it killed (SIGTERM, then
// SIGKILL). The shutdown script runs after VRRP and the checkers have
// stopped (priority-0 adverts sent, addresses and IPVS services removed),
// with shutdown_script_timeout, and keepalived exits when it has ended.
//
// Here: Start with a startup script emits only its RunScript (Phase
// startup) and keeps the Start; the script's ScriptResult starts VRRP and
// LVS then, at the result's time. Stop emits the shutdown script's
// RunScript (Phase shutdown) after every other effect; the driver runs it
// once those have been applied and waits for it. A Stop while the startup
// script runs starts nothing and still runs the shutdown script.

// startupScript is the RunScript of the configured startup or shutdown
// script, nil if none.
func phaseScript(cfg *conf.Config, phase string) *effects.RunScript {
	if cfg == nil {
		return nil
	}
	g := &cfg.GlobalDefs
	s, to := g.StartupScript, g.StartupScriptTimeout
	if phase == effects.PhaseShutdown {
		s, to = g.ShutdownScript, g.ShutdownScriptTimeout
	}
	if s == nil || len(s.Argv) == 0 {
		return nil
	}
	return &effects.RunScript{Script: phase + "_script", Command: s.Argv, Timeout: to.Std(), User: s.User, Group: s.Group, Phase: phase}
}

// start handles Start: VRRP and LVS start now, or when the startup script
// has ended.
func (e *Engine) start(v *events.Start) []effects.Effect {
	m := e.vrrp
	if e.running {
		m.Start(v) // started already: the machines ignore it
		return e.join(m.Effects(), e.lvs.Step(v))
	}
	e.running = true
	if rs := phaseScript(m.Config(), effects.PhaseStartup); rs != nil {
		saved := *v
		e.pending = &saved
		return e.join(m.Effects(), append(e.own[:0], rs))
	}
	return e.startAll(nil, v)
}

// startAll starts the BFD sessions, then VRRP (which sees the sessions'
// states: down), then LVS; own are the engine's effects that come first.
func (e *Engine) startAll(own []effects.Effect, v *events.Start) []effects.Effect {
	m := e.vrrp
	e.bfd.Start(v)
	e.bfdVRRP(v.At)
	m.Start(v)
	return e.assemble(own, e.bfd.Effects(), m.Effects(), e.bfdLVS(v.At, e.lvs.Step(v)))
}

// phaseResult handles the outcome of the startup or shutdown script.
func (e *Engine) phaseResult(v *events.ScriptResult) []effects.Effect {
	m := e.vrrp
	own := e.own[:0]
	what := v.Phase + " script"
	switch {
	case v.Failed:
		own = append(own, &effects.Log{Level: effects.LogError, Message: "Call of " + what + " failed: " + v.Error})
	case v.TimedOut:
		own = append(own, &effects.Log{Level: effects.LogWarning, Message: what + " timed out"})
	case v.Status != 0:
		own = append(own, &effects.Log{Level: effects.LogWarning, Message: what + " script failed, status " + strconv.Itoa(v.Status)})
	}
	e.own = own
	if v.Phase != effects.PhaseStartup || e.pending == nil {
		return e.join(m.Effects(), own)
	}
	start := *e.pending
	start.At = v.At
	e.pending = nil
	return e.startAll(own, &start)
}

// stop handles Stop: VRRP and LVS stop, then the shutdown script runs.
func (e *Engine) stop(v *events.Stop) []effects.Effect {
	m := e.vrrp
	e.bfd.Stop()
	m.Stop(v)
	out := e.assemble(e.bfd.Effects(), m.Effects(), e.lvs.Step(v))
	if !e.running {
		return out
	}
	e.running, e.pending = false, nil
	rs := phaseScript(m.Config(), effects.PhaseShutdown)
	if rs == nil {
		return out
	}
	e.buf = append(append(e.buf[:0:0], out...), rs)
	return e.buf
}
