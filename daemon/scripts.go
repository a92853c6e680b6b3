package daemon

import (
	"github.com/vigil-ha/vigil/adapters/script"
	"github.com/vigil-ha/vigil/events/conf"
)

// scriptOptions are the script adapter's settings from global_defs. An
// unconfigured script_user stays empty: the adapter applies keepalived's
// default (keepalived_script if it exists, else vigil's own user).
func scriptOptions(g *conf.GlobalDefs) script.Options {
	return script.Options{
		Security:       g.EnableScriptSecurity,
		NotifyFIFO:     g.NotifyFIFO,
		VRRPNotifyFIFO: g.VRRPNotifyFIFO,
		LVSNotifyFIFO:  g.LVSNotifyFIFO,
		ScriptUser:     g.ScriptUser,
		ScriptGroup:    g.ScriptGroup,
	}
}
