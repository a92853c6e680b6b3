package script

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// DefaultScriptUser is the user keepalived runs scripts as when no
// script_user is configured, if that user exists.
const DefaultScriptUser = "keepalived_script"

// Identity is the resolved user and group a script runs as.
type Identity struct {
	// Name is the user name, for messages ("" when it is vigil's own
	// identity by default).
	Name string
	UID  uint32
	GID  uint32
	// Groups are the supplementary groups set before exec. keepalived
	// (2.2.7) replaces them with the script's group alone, unless the
	// group was written ":name" or ":" to ask for the user's own list.
	Groups []uint32
}

// Self is vigil's own effective identity.
func Self() Identity {
	uid, gid := uint32(os.Geteuid()), uint32(os.Getegid())
	return Identity{UID: uid, GID: gid, Groups: []uint32{gid}}
}

// String prints the identity as keepalived logs it, uid:gid.
func (id Identity) String() string {
	return strconv.FormatUint(uint64(id.UID), 10) + ":" + strconv.FormatUint(uint64(id.GID), 10)
}

// IsSelf reports whether running as id needs no change of user or group.
func (id Identity) IsSelf() bool {
	return id.UID == uint32(os.Geteuid()) && id.GID == uint32(os.Getegid())
}

// credential is the SysProcAttr credential for id, or nil when no switch is
// needed or possible (an unprivileged vigil cannot call setgroups).
func (id Identity) credential() *syscall.Credential {
	if os.Geteuid() != 0 && id.IsSelf() {
		return nil
	}
	return &syscall.Credential{Uid: id.UID, Gid: id.GID, Groups: id.Groups}
}

// LookupIdentity resolves a configured "username [groupname]" as keepalived
// does: the user's uid and primary gid; a group name replaces the gid; a
// group written ":" or ":name" also sets the user's supplementary groups.
func LookupIdentity(userName, groupName string) (Identity, error) {
	u, err := user.Lookup(userName)
	if err != nil {
		return Identity{}, fmt.Errorf("script user %q: %w", userName, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return Identity{}, fmt.Errorf("script user %q: %w", userName, err)
	}
	id := Identity{Name: userName, UID: uint32(uid), GID: uint32(gid)}
	supplementary := strings.HasPrefix(groupName, ":")
	groupName = strings.TrimPrefix(groupName, ":")
	if groupName != "" {
		g, err := user.LookupGroup(groupName)
		if err != nil {
			return Identity{}, fmt.Errorf("script group %q: %w", groupName, err)
		}
		ggid, err := strconv.ParseUint(g.Gid, 10, 32)
		if err != nil {
			return Identity{}, fmt.Errorf("script group %q: %w", groupName, err)
		}
		id.GID = uint32(ggid)
	}
	id.Groups = []uint32{id.GID}
	if supplementary {
		ids, err := u.GroupIds()
		if err != nil {
			return Identity{}, fmt.Errorf("supplementary groups of %q: %w", userName, err)
		}
		id.Groups = id.Groups[:0]
		for _, s := range ids {
			if g, err := strconv.ParseUint(s, 10, 32); err == nil {
				id.Groups = append(id.Groups, uint32(g))
			}
		}
	}
	return id, nil
}

// DefaultIdentity is the identity for scripts with no user of their own:
// script_user (and script_group) when configured, else keepalived_script
// when that user exists, else vigil's own identity. As in keepalived, with
// enable_script_security a missing keepalived_script user is an error
// rather than a silent fall back to root.
func DefaultIdentity(scriptUser, scriptGroup string, security bool) (Identity, error) {
	if scriptUser != "" {
		return LookupIdentity(scriptUser, scriptGroup)
	}
	id, err := LookupIdentity(DefaultScriptUser, "")
	if err == nil {
		return id, nil
	}
	if security {
		return Identity{}, fmt.Errorf("unable to set default user %s for scripts (enable_script_security refuses to fall back to uid %d): %w",
			DefaultScriptUser, os.Geteuid(), err)
	}
	return Self(), nil
}
