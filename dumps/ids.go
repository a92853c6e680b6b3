package dumps

import (
	"os"
	"os/user"
	"strconv"

	"github.com/vigil-ha/vigil/events/conf"
)

// ids resolves a user and group as keepalived prints them: numeric ids;
// an unset or unknown user is the daemon's own, an unset group the user's
// primary group.
func (in *Input) ids(name, group string) (int, int) {
	uid, gid := os.Getuid(), os.Getgid()
	if name != "" {
		if u, err := user.Lookup(name); err == nil {
			uid, _ = strconv.Atoi(u.Uid)
			gid, _ = strconv.Atoi(u.Gid)
		} else if n, err := strconv.Atoi(name); err == nil {
			uid = n
		}
	}
	if group != "" {
		if g, err := user.LookupGroup(group); err == nil {
			gid, _ = strconv.Atoi(g.Gid)
		} else if n, err := strconv.Atoi(group); err == nil {
			gid = n
		}
	}
	return uid, gid
}

// ResolveScriptUser fills the Input's default script user from global_defs
// the way keepalived chooses it: script_user if configured, else
// keepalived_script if that user exists, else the daemon's own user.
func (in *Input) ResolveScriptUser(g *conf.GlobalDefs) {
	name, group := g.ScriptUser, g.ScriptGroup
	if name == "" {
		name = "keepalived_script"
		if _, err := user.Lookup(name); err != nil {
			name = ""
		}
	}
	in.ScriptUID, in.ScriptGID = in.ids(name, group)
	in.HaveScriptUser = true
}
