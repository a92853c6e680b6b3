package daemon

import (
	"os/user"
	"slices"

	"github.com/vigil-ha/vigil/adapters/script"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events/conf"
)

// scriptDefaults adapts the engine's RunScript and Notify effects to the
// script adapter's identity rules. A script without a user of its own
// reaches the effects with global_defs script_user, which the
// configuration defaults to keepalived_script even when it was not
// written; keepalived then runs such scripts as itself if keepalived_script
// does not exist (unless enable_script_security). The adapter resolves the
// name it is given, so the defaulted name is rewritten here to the
// daemon's own user. (Clearing it would not do: an empty per-script user
// falls back to the notification's first script's user.)
type scriptDefaults struct {
	x *script.Executor
	// from is the defaulted user name to replace by to ("" when there is
	// nothing to rewrite).
	from, to string
}

func newScriptDefaults(x *script.Executor, g *conf.GlobalDefs) *scriptDefaults {
	s := &scriptDefaults{x: x}
	if !g.ScriptUserDefault || g.EnableScriptSecurity || g.ScriptUser == "" {
		return s
	}
	if _, err := user.Lookup(g.ScriptUser); err == nil {
		return s // keepalived_script exists: scripts run as it
	}
	if u, err := user.Current(); err == nil {
		s.from, s.to = g.ScriptUser, u.Username
	}
	return s
}

// Notify implements Scripts.
func (s *scriptDefaults) Notify(n *effects.Notify) {
	if s.from == "" {
		s.x.Notify(n)
		return
	}
	c := *n // the adapter clones what it keeps
	if c.User == s.from {
		c.User = s.to
	}
	if slices.ContainsFunc(c.Users, func(u effects.ScriptCred) bool { return u.User == s.from }) {
		c.Users = slices.Clone(c.Users)
		for k := range c.Users {
			if c.Users[k].User == s.from {
				c.Users[k].User = s.to
			}
		}
	}
	s.x.Notify(&c)
}

// Run implements Scripts.
func (s *scriptDefaults) Run(rs *effects.RunScript) {
	if s.from != "" && rs.User == s.from {
		c := *rs
		c.User = s.to
		s.x.Run(&c)
		return
	}
	s.x.Run(rs)
}

// scriptOptions are the script adapter's settings from global_defs.
func scriptOptions(g *conf.GlobalDefs) script.Options {
	o := script.Options{
		Security:       g.EnableScriptSecurity,
		NotifyFIFO:     g.NotifyFIFO,
		VRRPNotifyFIFO: g.VRRPNotifyFIFO,
		LVSNotifyFIFO:  g.LVSNotifyFIFO,
	}
	if !g.ScriptUserDefault {
		o.ScriptUser, o.ScriptGroup = g.ScriptUser, g.ScriptGroup
	}
	return o
}
