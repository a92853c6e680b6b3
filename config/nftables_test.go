package config

import (
	"strings"
	"testing"
)

// TestNFTablesKeywords: the nftables settings as keepalived 2.2.7 (built
// with nftables only) reads them: `nftables` names the table (default
// "keepalived") and resets nftables_priority; a second `nftables` is
// ignored with a warning; vrrp_iptables warns and means the default
// table; a name of 256 bytes or more is refused.
func TestNFTablesKeywords(t *testing.T) {
	for _, tc := range []struct {
		name, global string
		table        string
		prio         *int
		ifindex      bool
		counters     bool
		diag         string
	}{
		{name: "none", global: "router_id x"},
		{name: "default", global: "nftables", table: "keepalived"},
		{name: "named", global: "nftables vg\n nftables_priority -7\n nftables_ifindex\n nftables_counters", table: "vg",
			prio: ptr(-7), ifindex: true, counters: true},
		{name: "priority reset", global: "nftables_priority 3\n nftables vg", table: "vg"},
		{name: "twice", global: "nftables a\n nftables b", table: "a", diag: "nftables already specified - ignoring"},
		{name: "iptables", global: "vrrp_iptables IN OUT", table: "keepalived", diag: "iptables not supported, using nftables instead"},
		{name: "too long", global: "nftables " + strings.Repeat("x", 256), diag: "nftables table name too long - ignoring"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags, err := LoadString("nft.conf", "global_defs {\n "+tc.global+"\n}\n", Options{ConfigID: "t"})
			if err != nil {
				t.Fatalf("load: %v\n%s", err, list(diags))
			}
			g := &cfg.GlobalDefs
			if g.NFTables != tc.table || g.NFTablesIfindex != tc.ifindex || g.NFTablesCounters != tc.counters ||
				(g.NFTablesPriority == nil) != (tc.prio == nil) || (tc.prio != nil && *g.NFTablesPriority != *tc.prio) {
				t.Errorf("got table %q prio %v ifindex %t counters %t", g.NFTables, g.NFTablesPriority, g.NFTablesIfindex, g.NFTablesCounters)
			}
			if d := list(diags); tc.diag != "" && !strings.Contains(d, tc.diag) {
				t.Errorf("diagnostics %q lack %q", d, tc.diag)
			}
			for _, o := range g.Other {
				if strings.HasPrefix(o.Key, "nftables") && !strings.HasPrefix(o.Key, "nftables_ipvs") || o.Key == "vrrp_iptables" {
					t.Errorf("%s kept in Other: it is typed", o.Key)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
