package nftfw

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/lab"
)

// requireLab skips unless root with nft and keepalived.
func requireLab(t *testing.T) {
	t.Helper()
	lab.Require(t, "nft")
	if _, err := exec.LookPath("keepalived"); err != nil {
		t.Skip("nftfw: keepalived not installed: nothing to compare the ruleset with")
	}
}

// executorIn returns an executor working in node n's namespace.
func executorIn(t *testing.T, n *lab.Node) *Executor {
	t.Helper()
	f, err := os.Open("/var/run/netns/" + n.NS)
	if err != nil {
		t.Fatalf("open netns: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return New(Options{NetNS: int(f.Fd()), IfIndex: func(name string) (int, error) {
		out, err := n.Exec("cat", "/sys/class/net/"+name+"/ifindex")
		if err != nil {
			return 0, fmt.Errorf("%s: %w", out, err)
		}
		return strconv.Atoi(strings.TrimSpace(out))
	}})
}

// ruleset returns `nft -j list ruleset` in the node, normalized for a
// structural comparison: no metainfo, no handles, counters zeroed, set
// elements sorted; each object keyed by what it is (rules by their
// position in their chain).
func ruleset(t *testing.T, n *lab.Node) map[string]any {
	t.Helper()
	out, err := n.Exec("nft", "-j", "list", "ruleset")
	if err != nil {
		t.Fatalf("nft list ruleset: %v: %s", err, out)
	}
	var doc struct {
		Nftables []map[string]map[string]any `json:"nftables"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("nft json: %v\n%s", err, out)
	}
	res := map[string]any{}
	pos := map[string]int{}
	for _, item := range doc.Nftables {
		for kind, obj := range item {
			if kind == "metainfo" {
				continue
			}
			normalize(obj)
			key := fmt.Sprintf("%s %v %v", kind, obj["family"], obj["name"])
			switch kind {
			case "set", "chain":
				key = fmt.Sprintf("%s %v %v %v", kind, obj["family"], obj["table"], obj["name"])
			case "rule":
				c := fmt.Sprintf("%v %v %v", obj["family"], obj["table"], obj["chain"])
				key = fmt.Sprintf("rule %s #%d", c, pos[c])
				pos[c]++
			}
			res[key] = obj
		}
	}
	return res
}

func normalize(v any) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "handle")
		if c, ok := x["counter"].(map[string]any); ok {
			c["packets"], c["bytes"] = 0.0, 0.0
		}
		if el, ok := x["elem"].([]any); ok {
			sort.Slice(el, func(i, j int) bool { return fmt.Sprint(el[i]) < fmt.Sprint(el[j]) })
		}
		for _, y := range x {
			normalize(y)
		}
	case []any:
		for _, y := range x {
			normalize(y)
		}
	}
}

func diffRulesets(want, got map[string]any) string {
	var b strings.Builder
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	var ks []string
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		if !reflect.DeepEqual(want[k], got[k]) {
			w, _ := json.Marshal(want[k])
			g, _ := json.Marshal(got[k])
			fmt.Fprintf(&b, "%s:\n  keepalived %s\n  vigil      %s\n", k, w, g)
		}
	}
	return b.String()
}

// TestRulesetMatchesKeepalived runs keepalived 2.2.7 as MASTER with
// no_accept / strict instances in one lab namespace and applies the
// effects vigil's engine emits for the same configuration in another,
// then compares `nft -j list ruleset` of both structurally (tables, sets
// and their types, flags and elements, chains with hooks, priorities and
// policies, rules expression by expression; not handles nor counter
// values). Then vigil's sets empty and its tables go.
func TestRulesetMatchesKeepalived(t *testing.T) {
	requireLab(t)
	a := netip.MustParseAddr
	for _, tc := range []struct {
		name   string
		global string
		v6opts string
		table  effects.FirewallTable
		ll     effects.FirewallVIP
	}{
		{name: "named-counters-priority", global: "nftables vgt\n nftables_priority 5\n nftables_counters\n vrrp_strict",
			table: effects.FirewallTable{Name: "vgt", Priority: 5, Counters: true},
			ll:    effects.FirewallVIP{Addr: a("fe80::77:100"), Interface: "eth0"}},
		{name: "default-by-name", global: "", v6opts: "dont_track_primary\n no_accept",
			table: effects.FirewallTable{Name: "keepalived", Priority: -1},
			ll:    effects.FirewallVIP{Addr: a("fe80::77:100"), Interface: "eth0", ByName: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := lab.New(t, 2)
			conf := fmt.Sprintf(`global_defs {
 %s
}
vrrp_instance V4 {
 state MASTER
 interface eth0
 virtual_router_id 51
 priority 150
 advert_int 1
 no_accept
 virtual_ipaddress {
  10.77.0.100/24
  10.77.0.101/24
 }
}
vrrp_instance V6 {
 state MASTER
 interface eth0
 %s
 virtual_router_id 52
 priority 150
 advert_int 1
 virtual_ipaddress {
  fd77::100/64
  fe80::77:100/64
 }
}
`, tc.global, tc.v6opts)
			k := l.Nodes[0].StartKeepalived(t, conf)
			lab.MustWait(t, 10*time.Second, "keepalived's drop sets", func() bool {
				out, _ := l.Nodes[0].Exec("nft", "list", "ruleset")
				return strings.Contains(out, "10.77.0.101") && strings.Contains(out, "fe80::77:100")
			})
			want := ruleset(t, l.Nodes[0])
			k.Stop(10 * time.Second)
			if len(want) < 15 {
				t.Fatalf("keepalived's ruleset has %d objects, expected two tables with their sets, chains and rules", len(want))
			}
			t.Logf("comparing %d objects", len(want))

			x := executorIn(t, l.Nodes[1])
			v4 := []effects.FirewallVIP{{Addr: a("10.77.0.100")}, {Addr: a("10.77.0.101")}}
			v6 := []effects.FirewallVIP{{Addr: a("fd77::100")}, tc.ll}
			for _, e := range []effects.Effect{
				&effects.RemoveFirewall{Table: tc.table.Name},
				&effects.AddFirewallVIPs{Instance: "V4", Table: tc.table, VIPs: v4},
				&effects.AddFirewallVIPs{Instance: "V6", Table: tc.table, VIPs: v6},
			} {
				if err := x.Apply(e); err != nil {
					t.Fatalf("%v: %v", e.EffectKind(), err)
				}
			}
			got := ruleset(t, l.Nodes[1])
			if d := diffRulesets(want, got); d != "" {
				t.Errorf("rulesets differ:\n%s", d)
			}

			// Leaving MASTER: the sets empty, the table stays.
			for _, e := range []effects.Effect{
				&effects.DelFirewallVIPs{Instance: "V4", Table: tc.table, VIPs: v4},
				&effects.DelFirewallVIPs{Instance: "V6", Table: tc.table, VIPs: v6},
				// Deleting again is no error.
				&effects.DelFirewallVIPs{Instance: "V6", Table: tc.table, VIPs: v6},
			} {
				if err := x.Apply(e); err != nil {
					t.Fatalf("%v: %v", e.EffectKind(), err)
				}
			}
			out, _ := l.Nodes[1].Exec("nft", "list", "ruleset")
			if strings.Contains(out, "10.77.0.10") || strings.Contains(out, "fd77::100") || strings.Contains(out, "fe80::77:100") {
				t.Errorf("addresses left in the sets:\n%s", out)
			}
			if !strings.Contains(out, "table ip "+tc.table.Name) || !strings.Contains(out, "table ip6 "+tc.table.Name) {
				t.Errorf("tables gone with the addresses:\n%s", out)
			}
			if err := x.Apply(&effects.RemoveFirewall{Table: tc.table.Name}); err != nil {
				t.Fatal(err)
			}
			if out, _ := l.Nodes[1].Exec("nft", "list", "tables"); strings.TrimSpace(out) != "" {
				t.Errorf("tables left after RemoveFirewall: %s", out)
			}
		})
	}
}

// TestRemoveLeftovers: a table of the same name left by a crashed run
// (whatever is in it) is removed at start, and only that one.
func TestRemoveLeftovers(t *testing.T) {
	lab.Require(t, "nft")
	l := lab.New(t, 1)
	n := l.Nodes[0]
	for _, c := range [][]string{
		{"nft", "add", "table", "ip", "keepalived"},
		{"nft", "add", "set", "ip", "keepalived", "junk", "{ type ipv4_addr; }"},
		{"nft", "add", "table", "ip6", "keepalived"},
		{"nft", "add", "table", "ip", "other"},
	} {
		n.MustExec(c...)
	}
	x := executorIn(t, n)
	if err := x.Apply(&effects.RemoveFirewall{Table: "keepalived"}); err != nil {
		t.Fatal(err)
	}
	out := n.MustExec("nft", "list", "tables")
	if strings.TrimSpace(out) != "table ip other" {
		t.Errorf("tables after RemoveFirewall: %q, want only table ip other", out)
	}
}

// TestTableRecreated: a table flushed away behind vigil's back is created
// again at the next addition.
func TestTableRecreated(t *testing.T) {
	lab.Require(t, "nft")
	l := lab.New(t, 1)
	n := l.Nodes[0]
	x := executorIn(t, n)
	tab := effects.FirewallTable{Name: "keepalived", Priority: -1}
	add := func(addr string) {
		t.Helper()
		if err := x.Apply(&effects.AddFirewallVIPs{Instance: "VI_1", Table: tab,
			VIPs: []effects.FirewallVIP{{Addr: netip.MustParseAddr(addr)}}}); err != nil {
			t.Fatal(err)
		}
	}
	add("10.77.0.100")
	n.MustExec("nft", "flush", "ruleset")
	add("10.77.0.101")
	out := n.MustExec("nft", "list", "ruleset")
	if !strings.Contains(out, "10.77.0.101") || !strings.Contains(out, "ip daddr @vips drop") {
		t.Errorf("table not recreated:\n%s", out)
	}
}

// TestVMACRulesetMatchesKeepalived: keepalived 2.2.7 with use_vmac
// instances (V4: IPv4 with an IPv6 eVIP and no_accept, so its VMAC is in
// both families' IGMP/MLD objects and its VIPs in the drop sets; V6: an
// IPv6 VMAC), against the effects vigil's engine emits for the same
// configuration (engine/testdata/keepalived/nftables-vmac.txt: the VMACs'
// at start, the VIPs' on becoming MASTER), applied in another namespace
// with VMACs of the same names; `nft -j list ruleset` of both compared
// structurally. Then the VMACs go (deleted first, as the engine orders
// it) and leave the map and set; the objects stay until the table goes.
func TestVMACRulesetMatchesKeepalived(t *testing.T) {
	requireLab(t)
	a := netip.MustParseAddr
	for _, tc := range []struct {
		name   string
		global string
		table  effects.FirewallTable
	}{
		{name: "default", table: effects.FirewallTable{Name: "keepalived", Priority: -1}},
		{name: "named-counters-priority", global: "nftables vgt\n nftables_priority 5\n nftables_counters",
			table: effects.FirewallTable{Name: "vgt", Priority: 5, Counters: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := lab.New(t, 2)
			conf := fmt.Sprintf(`global_defs {
 %s
}
vrrp_instance V4 {
 state MASTER
 interface eth0
 use_vmac
 virtual_router_id 51
 priority 150
 advert_int 1
 no_accept
 virtual_ipaddress {
  10.77.0.100/24
 }
 virtual_ipaddress_excluded {
  fd77::110/64
 }
}
vrrp_instance V6 {
 state MASTER
 interface eth0
 use_vmac
 virtual_router_id 52
 priority 150
 advert_int 1
 virtual_ipaddress {
  fd77::100/64
 }
}
`, tc.global)
			k := l.Nodes[0].StartKeepalived(t, conf)
			lab.MustWait(t, 10*time.Second, "keepalived's VMAC objects and drop sets", func() bool {
				out, _ := l.Nodes[0].Exec("nft", "list", "ruleset")
				return strings.Contains(out, "10.77.0.100") && strings.Contains(out, "fd77::110") &&
					strings.Contains(out, `"vrrp.52"`)
			})
			want := ruleset(t, l.Nodes[0])
			k.Stop(10 * time.Second)
			if len(want) < 20 {
				t.Fatalf("keepalived's ruleset has %d objects, expected two tables with their VMAC and VIP objects", len(want))
			}
			t.Logf("comparing %d objects", len(want))

			n := l.Nodes[1]
			for _, v := range []struct{ name, mac string }{{"vrrp.51", "00:00:5e:00:01:33"}, {"vrrp.52", "00:00:5e:00:02:34"}} {
				n.MustExec("ip", "link", "add", v.name, "link", "eth0", "address", v.mac, "type", "macvlan", "mode", "private")
				n.MustExec("ip", "link", "set", v.name, "up")
			}
			x := executorIn(t, n)
			vm4 := effects.FirewallVMAC{VMAC: "vrrp.51", Parent: "eth0", IPv4: true, IPv6: true}
			vm6 := effects.FirewallVMAC{VMAC: "vrrp.52", Parent: "eth0", IPv6: true}
			for _, e := range []effects.Effect{
				&effects.RemoveFirewall{Table: tc.table.Name},
				&effects.AddFirewallVMAC{Instance: "V4", Table: tc.table, FirewallVMAC: vm4},
				&effects.AddFirewallVMAC{Instance: "V6", Table: tc.table, FirewallVMAC: vm6},
				&effects.AddFirewallVIPs{Instance: "V4", Table: tc.table, VIPs: []effects.FirewallVIP{{Addr: a("10.77.0.100")}, {Addr: a("fd77::110")}}},
			} {
				if err := x.Apply(e); err != nil {
					t.Fatalf("%v: %v", e.EffectKind(), err)
				}
			}
			got := ruleset(t, n)
			if d := diffRulesets(want, got); d != "" {
				t.Errorf("rulesets differ:\n%s", d)
			}

			// The VMACs are deleted, then leave the map and set (by the
			// indexes they were added with); deleting again is no error.
			for _, name := range []string{"vrrp.51", "vrrp.52"} {
				n.MustExec("ip", "link", "del", name)
			}
			for _, e := range []effects.Effect{
				&effects.DelFirewallVMAC{Instance: "V4", Table: tc.table, FirewallVMAC: vm4},
				&effects.DelFirewallVMAC{Instance: "V6", Table: tc.table, FirewallVMAC: vm6},
				&effects.DelFirewallVMAC{Instance: "V6", Table: tc.table, FirewallVMAC: vm6},
			} {
				if err := x.Apply(e); err != nil {
					t.Fatalf("%v: %v", e.EffectKind(), err)
				}
			}
			out := n.MustExec("nft", "-j", "list", "ruleset")
			if strings.Contains(out, `"elem"`) && !strings.Contains(out, `"nd-neighbor-solicit"`) {
				t.Errorf("elements left:\n%s", out)
			}
			for _, fam := range []string{"ip", "ip6"} {
				m := n.MustExec("nft", "list", "map", fam, tc.table.Name, "vmac_map")
				if strings.Contains(m, "elements") {
					t.Errorf("%s vmac_map not emptied:\n%s", fam, m)
				}
			}
			if s := n.MustExec("nft", "list", "set", "ip6", tc.table.Name, "vmac_set"); strings.Contains(s, "elements") {
				t.Errorf("ip6 vmac_set not emptied:\n%s", s)
			}
			if err := x.Apply(&effects.RemoveFirewall{Table: tc.table.Name}); err != nil {
				t.Fatal(err)
			}
			if out, _ := n.Exec("nft", "list", "tables"); strings.TrimSpace(out) != "" {
				t.Errorf("tables left after RemoveFirewall: %s", out)
			}
		})
	}
}
