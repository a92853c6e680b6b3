package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// TestVMACFirewall: vigil with a use_vmac instance (IPv4, with an IPv6
// eVIP) and no firewall keyword creates table "keepalived" as keepalived
// does, its VMAC in the IGMP/MLD objects of both families (map vmac_map
// to its parent; ip6 set vmac_set), after removing a table of that name a
// crashed run left. SIGKILLed and restarted, it starts from a clean table
// again (one element per family); stopped, it leaves no table and no
// VMAC.
func TestVMACFirewall(t *testing.T) {
	lab.Require(t, "nft")
	l := lab.New(t, 1)
	n := l.Nodes[0]
	n.MustExec("nft", "add", "table", "ip6", "keepalived")
	n.MustExec("nft", "add", "set", "ip6", "keepalived", "junk", "{ type ipv6_addr; }")
	cfg := conf("vmacfw", instance{State: "MASTER", Priority: 150, UseVMAC: true, VIPs: []string{lab.VIP4.String() + "/24"},
		ExcludedVIPs: []string{"fd77::177/64"}})

	// vmacIn reports whether the ruleset has the VMAC in the map of both
	// families and in the ip6 set, exactly once each.
	vmacIn := func() (string, bool) {
		out, _ := n.Exec("nft", "list", "ruleset")
		return out, !strings.Contains(out, "junk") &&
			strings.Count(out, `"vrrp.77" : "eth0"`) == 2 &&
			strings.Contains(out, `elements = { "vrrp.77" }`) &&
			strings.Contains(out, `ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map drop`) &&
			strings.Contains(out, `icmpv6 type mld2-listener-report meta oifkind "macvlan" dup to ip6 daddr device oif map @vmac_map drop`) &&
			strings.Contains(out, `icmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set drop`)
	}
	p := n.StartVigil(t, cfg)
	if _, ok := lab.WaitFor(10*time.Second, func() bool { _, ok := vmacIn(); return ok }); !ok {
		out, _ := vmacIn()
		t.Fatalf("the VMAC's IGMP/MLD objects are not as keepalived's:\n%s", out)
	}

	p.Crash()
	p = n.StartVigil(t, cfg)
	lab.MustWait(t, 10*time.Second, "the VIP on the VMAC after the restart", func() bool {
		ps, err := n.Addresses("vrrp.77")
		return err == nil && len(ps) > 0 && ps[0].Addr() == lab.VIP4
	})
	if out, ok := vmacIn(); !ok {
		t.Fatalf("after a crash and a restart:\n%s", out)
	}

	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if out, _ := n.Exec("nft", "list", "tables"); strings.TrimSpace(out) != "" {
		t.Errorf("tables left after stop: %s", out)
	}
	if out, err := n.Exec("ip", "link", "show", "vrrp.77"); err == nil {
		t.Errorf("VMAC left after stop: %s", out)
	}
}
