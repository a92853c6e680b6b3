package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	osuser "os/user"
	"sort"

	"github.com/vigil-ha/vigil/adapters/netlink"
	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/config/diag"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// LoadConfig reads and validates the configuration and wraps it in a
// ConfigLoaded event whose Digest is the sha256 of every file read (in
// name order: the iproute2 files that named routing tables and realms
// too), so a journal says exactly which text was running.
func LoadConfig(path, configID string) (*events.ConfigLoaded, diag.List, error) {
	files := map[string][]byte{}
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(name)
		if err == nil {
			files[name] = b
		}
		return b, err
	}
	cfg, diags, err := config.Load(path, config.Options{ConfigID: configID, ReadFile: read, VRFTable: vrfTable, Links: links, Host: host})
	if err != nil {
		return nil, diags, fmt.Errorf("load %s: %w", path, err)
	}
	return &events.ConfigLoaded{Config: cfg, Digest: digest(files)}, diags, nil
}

// host is the host's name and the daemon's user, for keepalived's
// load-time defaults (router_id, and the sender and HELO name of email
// alerts): journaled with the configuration, so a replay elsewhere sends
// the same alerts.
func host() (name, user string) {
	name, _ = os.Hostname()
	if u, err := osuser.Current(); err == nil {
		user = u.Username
	}
	return name, user
}

// vrfTable resolves a route's `vrf NAME` at load, as keepalived does, so
// the journaled configuration carries the table.
func vrfTable(name string) (int, error) {
	t, err := netlink.VRFTable(name)
	if errors.Is(err, netlink.ErrNotVRF) {
		return 0, fmt.Errorf("%s: %w", name, config.ErrNotVRF)
	}
	return t, err
}

// links lists the host's interfaces at load, so VMAC names avoid the
// names in use and reuse the VMACs already there, as keepalived does; the
// journaled configuration carries the names.
func links() ([]config.Link, error) {
	ls, err := netlink.Links()
	if err != nil {
		return nil, err
	}
	out := make([]config.Link, len(ls))
	for k, l := range ls {
		out[k] = config.Link{Name: l.Name, Macvlan: l.Macvlan, Parent: l.Parent, MAC: l.MAC}
	}
	return out, nil
}

func digest(files map[string][]byte) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(files[n]))
		h.Write(files[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkSupported refuses configurations vigil cannot run safely.
func checkSupported(cfg *conf.Config) error {
	if ns := cfg.GlobalDefs.NetNamespace; ns != "" {
		// Running in the wrong namespace would manage the host's
		// addresses: refuse rather than guess. Start vigil with
		// `ip netns exec NAME` instead.
		return fmt.Errorf("net_namespace %s: %w (run vigil under `ip netns exec %s`)", ns, ErrUnsupportedConfig, ns)
	}
	return nil
}

// IPVSNamespace is the network namespace whose IPVS table the
// configuration's virtual servers go to (global_defs net_namespace_ipvs),
// as a path: /var/run/netns/NAME, or with no NAME the default namespace
// (init's, /proc/1/ns/net), as keepalived resolves it; "" for vigil's own
// namespace when the keyword is absent.
func IPVSNamespace(cfg *conf.Config) string {
	ns := cfg.GlobalDefs.NetNamespaceIPVS
	switch {
	case ns == nil:
		return ""
	case *ns == "":
		return "/proc/1/ns/net"
	}
	return "/var/run/netns/" + *ns
}

// checkReloadable refuses a reload that changes what keepalived cannot
// change at a reload either (it then keeps the running configuration):
// the IPVS namespace.
func checkReloadable(old, cfg *conf.Config) error {
	if old == nil {
		return nil
	}
	if a, b := IPVSNamespace(old), IPVSNamespace(cfg); a != b {
		return fmt.Errorf("%w: net_namespace_ipvs cannot change at a reload (%q to %q); restart vigil", ErrUnsupportedConfig, a, b)
	}
	return nil
}

// withoutVRRP returns cfg without its VRRP parts, for keepalived -C
// (checkers only). track_file blocks stay: FILE_CHECK reads them.
func withoutVRRP(cfg *conf.Config) *conf.Config {
	c := *cfg
	c.Instances, c.SyncGroups, c.VRRPScripts = nil, nil, nil
	c.TrackProcesses = nil
	c.StaticAddresses, c.StaticRoutes, c.StaticRules = nil, nil, nil
	return &c
}

// withoutLVS returns cfg without its virtual servers, for keepalived -P
// (VRRP only): no checker runs and the IPVS table is not touched.
func withoutLVS(cfg *conf.Config) *conf.Config {
	c := *cfg
	c.VirtualServers, c.VirtualServerGroups, c.SSL = nil, nil, nil
	return &c
}

// needRules reports whether the monitor must watch policy rules: only
// with virtual_rules, whose leftovers from a crashed run the engine
// deletes at start.
func needRules(cfg *conf.Config) bool {
	for k := range cfg.Instances {
		if len(cfg.Instances[k].VirtualRules) > 0 {
			return true
		}
	}
	return false
}

// needRoutes reports whether the monitor must watch routes: only when
// routes are configured (a large routing table is costly to mirror).
func needRoutes(cfg *conf.Config) bool {
	if len(cfg.StaticRoutes) > 0 {
		return true
	}
	for k := range cfg.Instances {
		if len(cfg.Instances[k].VirtualRoutes) > 0 {
			return true
		}
	}
	return false
}
