package e2e

import (
	"fmt"
	"net/netip"
	"strings"
)

// instance describes one vrrp_instance of a test configuration.
type instance struct {
	Name      string // default VI_1
	State     string // default BACKUP
	Interface string // default eth0
	VRID      int    // default 77
	Priority  int
	Version   int    // 2 or 3 (default 2)
	Interval  string // advert_int (default 1)
	AuthPass  string // PASS authentication when set
	AuthType  string // with AuthPass: PASS (default) or AH
	// UnicastSrc and UnicastPeers switch to unicast.
	UnicastSrc   netip.Addr
	UnicastPeers []netip.Addr
	VIPs         []string
	ExcludedVIPs []string // virtual_ipaddress_excluded (the block only when set)
	NoPreempt    bool
	UseVMAC      bool     // use_vmac (default name vrrp.VRID)
	VMACXmitBase bool     // vmac_xmit_base (adverts leave through the base interface)
	Extra        []string // more lines inside the block
}

// syncGroup describes one vrrp_sync_group.
type syncGroup struct {
	Name    string
	Members []string // instance names
}

// conf renders a keepalived.conf with the given instances.
func conf(routerID string, insts ...instance) string {
	return confGroups(routerID, nil, insts...)
}

// confGroups renders a keepalived.conf with sync groups and instances.
func confGroups(routerID string, groups []syncGroup, insts ...instance) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global_defs {\n  router_id %s\n}\n", routerID)
	for _, g := range groups {
		fmt.Fprintf(&b, "vrrp_sync_group %s {\n  group {\n", g.Name)
		for _, m := range g.Members {
			fmt.Fprintf(&b, "    %s\n", m)
		}
		b.WriteString("  }\n}\n")
	}
	for _, i := range insts {
		def := func(s, d string) string {
			if s == "" {
				return d
			}
			return s
		}
		fmt.Fprintf(&b, "vrrp_instance %s {\n", def(i.Name, "VI_1"))
		fmt.Fprintf(&b, "  state %s\n  interface %s\n", def(i.State, "BACKUP"), def(i.Interface, "eth0"))
		vrid := i.VRID
		if vrid == 0 {
			vrid = 77
		}
		ver := i.Version
		if ver == 0 {
			ver = 2
		}
		fmt.Fprintf(&b, "  virtual_router_id %d\n  priority %d\n  version %d\n  advert_int %s\n", vrid, i.Priority, ver, def(i.Interval, "1"))
		if i.AuthPass != "" {
			fmt.Fprintf(&b, "  authentication {\n    auth_type %s\n    auth_pass %s\n  }\n", def(i.AuthType, "PASS"), i.AuthPass)
		}
		if i.UnicastSrc.IsValid() {
			fmt.Fprintf(&b, "  unicast_src_ip %s\n  unicast_peer {\n", i.UnicastSrc)
			for _, p := range i.UnicastPeers {
				fmt.Fprintf(&b, "    %s\n", p)
			}
			b.WriteString("  }\n")
		}
		if i.NoPreempt {
			b.WriteString("  nopreempt\n")
		}
		if i.UseVMAC {
			b.WriteString("  use_vmac\n")
		}
		if i.VMACXmitBase {
			b.WriteString("  vmac_xmit_base\n")
		}
		for _, e := range i.Extra {
			fmt.Fprintf(&b, "  %s\n", e)
		}
		b.WriteString("  virtual_ipaddress {\n")
		for _, v := range i.VIPs {
			fmt.Fprintf(&b, "    %s\n", v)
		}
		b.WriteString("  }\n")
		if len(i.ExcludedVIPs) > 0 {
			b.WriteString("  virtual_ipaddress_excluded {\n")
			for _, v := range i.ExcludedVIPs {
				fmt.Fprintf(&b, "    %s\n", v)
			}
			b.WriteString("  }\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}
