package lvs

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events/conf"
)

// IPVS connection timeouts (global_defs lvs_timeouts), as keepalived's
// checker sets them: at a start with virtual servers the configured ones
// are set (each one not configured keeps or regains the kernel's value
// from before vigil changed any); at a reload that changes them they are
// set again the same way, or all restored when the new configuration has
// none; at a stop they are restored, --dont-release-ipvs or not (keepalived
// restores them whenever its IPVS side stops). The executor remembers the
// kernel's original values; a zero field in the effect means "the
// original".

// timeouts returns the effect that sets cfg's timeouts, or nil when cfg
// sets none or has no virtual servers (keepalived then runs no checker).
func timeouts(cfg *conf.Config) *effects.SetIPVSTimeouts {
	if cfg == nil || len(cfg.VirtualServers) == 0 || cfg.GlobalDefs.LVSTimeouts == nil {
		return nil
	}
	t := cfg.GlobalDefs.LVSTimeouts
	e := &effects.SetIPVSTimeouts{}
	if t.TCP != nil {
		e.TCP = t.TCP.Std()
	}
	if t.TCPFin != nil {
		e.TCPFin = t.TCPFin.Std()
	}
	if t.UDP != nil {
		e.UDP = t.UDP.Std()
	}
	if *e == (effects.SetIPVSTimeouts{}) {
		return nil
	}
	return e
}

// reloadTimeouts is the timeouts effect of a reload from old to cfg, or
// nil when the timeouts in force do not change.
func reloadTimeouts(old, cfg *conf.Config) *effects.SetIPVSTimeouts {
	prev, next := timeouts(old), timeouts(cfg)
	switch {
	case prev == nil && next == nil:
		return nil
	case prev != nil && next != nil && *prev == *next:
		return nil
	case next == nil:
		return &effects.SetIPVSTimeouts{} // restore the kernel's own
	}
	return next
}
