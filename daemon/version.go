package daemon

import "strings"

// Version is vigil's version string; release builds set it with
// -ldflags "-X github.com/vigil-ha/vigil/daemon.Version=...".
var Version = "vigil 0.1.0-dev (keepalived 2.2.7 compatible)"

// VersionNumber is the version number in Version ("0.1.0-dev"), the
// Debian package's version (dist.BuildDeb).
func VersionNumber() string {
	f := strings.Fields(Version)
	if len(f) >= 2 && f[0] == "vigil" {
		return f[1]
	}
	if len(f) >= 1 {
		return f[0]
	}
	return ""
}
