package daemon

// Version is vigil's version string; release builds set it with
// -ldflags "-X github.com/vigil-ha/vigil/daemon.Version=...".
var Version = "vigil 0.1.0-dev (keepalived 2.2.7 compatible)"
