package config

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/config/diag"
	"github.com/vigil-ha/vigil/events/conf"
)

// iproute2Dirs writes an etc and a usr iproute2 directory for a test.
func iproute2Dirs(t *testing.T, etc, usr map[string]string) (string, string) {
	t.Helper()
	root := t.TempDir()
	for dir, files := range map[string]map[string]string{"etc": etc, "usr": usr} {
		for name, text := range files {
			p := filepath.Join(root, dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return filepath.Join(root, "etc"), filepath.Join(root, "usr")
}

// loadRR loads a configuration of static routes and rules with test
// iproute2 files (rt_tables: 100 vgtest, rt_tables.d: 200 vgtest2 and
// small; rt_realms: 12 PQA).
func loadRR(t *testing.T, text string, vrf func(string) (int, error)) (*conf.Config, diag.List, error) {
	t.Helper()
	etc, usr := iproute2Dirs(t,
		map[string]string{"rt_tables": "255 local\n254 main\n253 default\n100\tvgtest\n", "rt_tables.d/test.conf": "200 vgtest2\n7 small\n", "rt_realms": "12 PQA\n"},
		map[string]string{"rt_tables": "101 usronly\n"})
	return LoadString("rr.conf", text, Options{ConfigID: "t", IPRoute2Dir: etc, IPRoute2UsrDir: usr, VRFTable: vrf})
}

func mustLoadRR(t *testing.T, text string) (*conf.Config, diag.List) {
	t.Helper()
	cfg, diags, err := loadRR(t, text, nil)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, list(diags))
	}
	return cfg, diags
}

// TestTableNames: `table NAME` on routes and rules resolves through
// rt_tables and rt_tables.d at load; the model carries the number.
func TestTableNames(t *testing.T) {
	cfg, _ := mustLoadRR(t, `static_routes {
    10.77.1.0/24 dev eth0 table vgtest
    10.77.2.0/24 dev eth0 table vgtest2
    10.77.3.0/24 dev eth0 table main
    10.77.4.0/24 dev eth0 table 0x10
    10.77.5.0/24 dev eth0
}
static_rules {
    from 10.77.1.0/24 table vgtest pref 10
    from 10.77.2.0/24 lookup vgtest2 pref 11
    from 10.77.3.0/24 table 4000000000 pref 12
}
`)
	var got []int
	for _, r := range cfg.StaticRoutes {
		got = append(got, r.Table)
	}
	for _, r := range cfg.StaticRules {
		got = append(got, r.Table)
	}
	if want := []int{100, 200, 254, 16, 0, 100, 200, 4000000000}; !reflect.DeepEqual(got, want) {
		t.Errorf("tables = %v, want %v", got, want)
	}
	if n := cfg.StaticRoutes[0].TableName; n != "vgtest" {
		t.Errorf("TableName = %q", n)
	}
	// Without an rt_tables in the etc directory, the usr one counts.
	etc, usr := iproute2Dirs(t, nil, map[string]string{"rt_tables": "101 usronly\n"})
	cfg, diags, err := LoadString("rr.conf", "static_routes {\n 10.77.1.0/24 dev eth0 table usronly\n}\n", Options{IPRoute2Dir: etc, IPRoute2UsrDir: usr})
	if err != nil || cfg.StaticRoutes[0].Table != 101 {
		t.Errorf("usr rt_tables: %v %+v\n%s", err, cfg.StaticRoutes, list(diags))
	}
}

// TestUnknownTable: an unknown name is keepalived -t's error.
func TestUnknownTable(t *testing.T) {
	_, diags, err := loadRR(t, `static_routes {
    10.77.1.0/24 dev eth0 table usronly
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        10.77.0.1
    }
    virtual_rules {
        from 10.77.1.0/24 lookup nosuch pref 10
    }
}
`, nil)
	if err == nil {
		t.Fatal("unknown tables accepted")
	}
	want := []string{
		"rr.conf:2:33: error: static_routes: Routing table usronly not found for route",
		"rr.conf:11:34: error: virtual_rules: Routing table nosuch not found for rule",
	}
	var got []string
	for _, d := range diags {
		got = append(got, d.String())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRuleOptions: the rule options keepalived reads, typed at load.
func TestRuleOptions(t *testing.T) {
	cfg, diags := mustLoadRR(t, `static_rules {
    from 10.77.1.0/24 not table vgtest pref 100
    from 10.77.1.0/24 to 10.77.2.0/26 iif eth0 oif eth1 tos 0x10 fwmark 24/12 preference 101 realms PQA/20 table 5
    from 10.77.1.0/24 pref 102 goto 110
    from 10.77.1.0/24 pref 103 type goto 110
    from 10.77.1.0/24 pref 104 prohibit
    from 10.77.1.0/24 pref 105 type unreachable
    from 10.77.1.0/24 pref 106 type 6
    from 10.77.1.0/24 pref 107 nop
    to fd77::6:7:0/112 from fd77::8:0:0/96 l3mdev protocol 12 ip_proto UDP sport 10-20 dport 20 pref 108
    to 10.77.3.0/24 ipproto tcp pref 109 suppress_prefixlength 0 sup_group 3 tunnel-id 77 uidrange 1000-1999 table 5 no_track protocol 12
    inet6 order 110 table 5
}
`)
	r := cfg.StaticRules
	if len(r) != 11 {
		t.Fatalf("%d rules\n%s", len(r), list(diags))
	}
	if !r[0].Not || r[0].Table != 100 || r[0].Protocol != 18 {
		t.Errorf("not: %+v", r[0])
	}
	if r[1].Tos != 0x10 || r[1].FwMark != "24/12" || r[1].Realms != 12<<16|20 || r[1].IIf != "eth0" || r[1].OIf != "eth1" || r[1].Table != 5 {
		t.Errorf("selectors: %+v", r[1])
	}
	for i, want := range []string{"goto", "goto", "prohibit", "unreachable", "blackhole", "nop"} {
		if got := r[2+i]; got.Action != want || (want == "goto") != (got.Goto == 110) {
			t.Errorf("rule %d: action %q goto %d, want %s", 2+i, got.Action, got.Goto, want)
		}
	}
	l3 := r[8]
	if !l3.L3MDev || l3.Family != 6 || l3.IPProto != 17 || l3.Protocol != 18 || *l3.SPort != (conf.Range{Start: 10, End: 20}) ||
		*l3.DPort != (conf.Range{Start: 20, End: 20}) || l3.Table != 0 {
		t.Errorf("l3mdev: %+v", l3)
	}
	o := r[9]
	if o.IPProto != 6 || *o.SuppressPrefixLength != 0 || *o.SuppressIfGroup != 3 || o.TunnelID != 77 ||
		*o.UIDRange != (conf.Range{Start: 1000, End: 1999}) || o.Protocol != 12 {
		t.Errorf("options: %+v", o)
	}
	if r[10].Family != 6 || r[10].Priority != 110 {
		t.Errorf("inet6 order: %+v", r[10])
	}
	// A tracked rule's protocol is keepalived's, with its warning.
	if !strings.Contains(list(diags), "rr.conf:10:5: warning: static_rules: Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol") {
		t.Errorf("no protocol warning:\n%s", list(diags))
	}
}

// TestRouteOptions: the route options keepalived reads, typed at load.
func TestRouteOptions(t *testing.T) {
	cfg, diags := mustLoadRR(t, `static_routes {
    10.77.100.0/24 table 6909 nexthop via 10.77.101.1 dev wlan0 onlink weight 1 nexthop via 10.77.101.2 dev wlan0 onlink weight 2 realms 3
    10.77.200.0/24 dev p33p1.2 table 6909 tos 0x04 protocol bird scope link priority 12 mtu 1000 hoplimit 100 advmss 101 rtt 102 rttvar 103 reordering 104 window 105 cwnd 106 ssthresh lock 107 realms PQA/0x14 rto_min 108 initcwnd 109 initrwnd 110 vrf blue features ecn add
    fd77::4 dev p33p1.2 table 6909 protocol bird scope link priority 12 mtu lock 1000 rtt 1.5s rttvar 300ms rto_min lock 2s append initrwnd 110 features ecn fastopen_no_cookie 1 quickack 1 congctl lock cubic pref high expires 100 no_track
    10.77.1.0/24 via 10.77.0.1 onlink src 10.77.0.9 protocol bird
    fd77::/64 from fd77:0:0:0:1::/80 dev eth0 prepend pref low
    default dev eth0 table vgtest vrf blue
    10.77.2.0/24 dev eth0 vrf blue table vgtest2 scope 200
}
`)
	r := cfg.StaticRoutes
	if len(r) != 7 {
		t.Fatalf("%d routes\n%s", len(r), list(diags))
	}
	want0 := []conf.Nexthop{
		{Via: netip.MustParseAddr("10.77.101.1"), Dev: "wlan0", Weight: 1, OnLink: true},
		{Via: netip.MustParseAddr("10.77.101.2"), Dev: "wlan0", Weight: 2, OnLink: true, Realms: 3},
	}
	if !reflect.DeepEqual(r[0].Nexthops, want0) || r[0].Table != 6909 {
		t.Errorf("nexthops: %+v", r[0])
	}
	m := func(name string, v uint32, lock bool) conf.RouteMetric {
		return conf.RouteMetric{Name: name, Value: v, Lock: lock}
	}
	want1 := []conf.RouteMetric{m("mtu", 1000, false), m("hoplimit", 100, false), m("advmss", 101, false),
		m("rtt", 1600, false), m("rttvar", 800, false), m("reordering", 104, false), m("window", 105, false),
		m("cwnd", 106, false), m("ssthresh", 107, true), m("rto_min", 200, false), m("initcwnd", 109, false),
		m("initrwnd", 110, false), m("features", 1, false)}
	if x := r[1]; !reflect.DeepEqual(x.Metrics, want1) || x.Tos != 4 || x.Realms != 12<<16|20 || x.Scope != "link" ||
		x.Metric != 12 || x.VRF != "blue" || x.Table != 0 || !x.Add || x.Protocol != "" {
		t.Errorf("man page route: %+v", x)
	}
	want2 := []conf.RouteMetric{m("mtu", 1000, true), m("rtt", 12000, false), m("rttvar", 1200, false),
		m("rto_min", 2000, true), m("initrwnd", 110, false), m("features", 1, false),
		m("fastopen_no_cookie", 1, false), m("quickack", 1, false)}
	if x := r[2]; !reflect.DeepEqual(x.Metrics, want2) || x.Congctl != "cubic" || !x.CongctlLock || *x.Pref != 1 ||
		*x.Expires != 100 || !x.Append || x.Protocol != "bird" || x.Family != 6 {
		t.Errorf("IPv6 route: %+v", x)
	}
	if x := r[3]; !x.OnLink || x.Src != netip.MustParseAddr("10.77.0.9") || x.Protocol != "bird" {
		t.Errorf("onlink (untracked: no dev, so the protocol stays): %+v", x)
	}
	if x := r[4]; x.From != netip.MustParsePrefix("fd77:0:0:0:1::/80") || x.Add || x.Append || *x.Pref != 3 {
		t.Errorf("from: %+v", x)
	}
	// The later of table and vrf wins, as in keepalived.
	if x := r[5]; x.VRF != "blue" || x.Table != 0 || x.Dst != netip.MustParsePrefix("0.0.0.0/0") {
		t.Errorf("vrf after table: %+v", x)
	}
	if x := r[6]; x.VRF != "" || x.Table != 200 || x.Scope != "200" {
		t.Errorf("table after vrf: %+v", x)
	}
	for _, w := range []string{
		"rr.conf:3:122: warning: static_routes: rtt value 102 below minimum 200ms, resetting",
		"rr.conf:3:5: warning: static_routes: Route cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol",
	} {
		if !strings.Contains(list(diags), w) {
			t.Errorf("missing %q in:\n%s", w, list(diags))
		}
	}
}

// TestRouteRuleVerdicts: what keepalived refuses, vigil refuses (the same
// line, with keepalived's words).
func TestRouteRuleVerdicts(t *testing.T) {
	for _, c := range []struct {
		block, line string
		sev         diag.Severity
		msg         string
	}{
		{"static_routes", "10.77.1.0/24 dev eth0 scope nowhere2", diag.Error, "Scope nowhere2 not found or invalid for route"},
		{"static_routes", "10.77.1.0/24 dev eth0 protocol nosuch", diag.Error, "Protocol nosuch not found or invalid for route"},
		{"static_routes", "10.77.1.0/24 dev eth0 tos EF2", diag.Error, "TOS value EF2 is invalid"},
		{"static_routes", "10.77.1.0/24 dev eth0 realms PQB", diag.Error, "Invalid realms PQB for route"},
		{"static_routes", "10.77.1.0/24 dev eth0 pref high", diag.Warning, "pref is only valid for IPv6 - route skipped"},
		{"static_routes", "10.77.1.0/24 dev eth0 expires 5", diag.Warning, "expires is only valid for IPv6 - route skipped"},
		{"static_routes", "fd77::/64 dev eth0 realms 5", diag.Warning, "realms are only valid for IPv4 - route skipped"},
		{"static_routes", "10.77.1.0/24 dev eth0 rtt 1e3", diag.Warning, "invalid rtt value '1e3' - route skipped"},
		{"static_routes", "10.77.1.0/24 dev eth0 rtt 500s", diag.Warning, "rtt value 500s exceeds maximum 120s, resetting"},
		{"static_routes", "10.77.1.0/24 dev eth0 features sack", diag.Warning, "feature sack not supported - ignored"},
		{"static_routes", "10.77.1.0/24 dev eth0 quickack 2", diag.Warning, "invalid quickack value '2' - route skipped"},
		{"static_routes", "10.77.1.0/24 dev eth0 initcwnd lock x", diag.Warning, "invalid initcwnd value 'x' - route skipped"},
		{"static_routes", "10.77.1.0/24 dev eth0 quickack lock 1", diag.Warning, "'quickack' cannot be locked - route skipped"},
		{"static_routes", "10.77.1.0/24 from 10.77.2.0/24 dev eth0", diag.Warning, "route from address only supported with IPv6 (10.77.2.0/24) - route skipped"},
		{"static_routes", "10.77.1.0/24 dev eth0 encap ip id 1", diag.Warning, "'encap' (lightweight tunnel encapsulation) is not implemented by vigil - route skipped"},
		{"static_routes", "10.77.1.0/24 dev eth0 frobnicate", diag.Error, "unknown route option 'frobnicate'"},
		{"static_routes", "10.77.2.0/24 via inet6 fd77::1 dev eth0", diag.Error, "route mixes IPv4 and IPv6 addresses"},
		{"static_routes", "inet6 10.77.2.0/24 dev eth0", diag.Warning, "inet6 specified for IPv4 route - route skipped"},
		{"static_routes", "10.77.1.0/24 nexthop via fd77::1 dev eth0", diag.Error, "route mixes IPv4 and IPv6 addresses"},
		{"static_rules", "from 10.77.1.0/24 table 5 goto 40 pref 39", diag.Warning, "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule - rule skipped"},
		{"static_rules", "from 10.77.1.0/24 l3mdev table 5 pref 39", diag.Warning, "Cannot specify more than one of"},
		{"static_rules", "from 10.77.1.0/24 goto 40", diag.Warning, "Invalid rule - goto target 40 specified without preference - rule skipped"},
		{"static_rules", "from 10.77.1.0/24 goto 40 pref 40", diag.Warning, "Invalid rule - preference 40 >= goto target 40 - rule skipped"},
		{"static_rules", "from 10.77.1.0/24 type local pref 1", diag.Warning, "Invalid rule action local - rule skipped"},
		{"static_rules", "from 10.77.1.0/24 frobnicate pref 1", diag.Error, "unknown rule option 'frobnicate'"},
		{"static_rules", "from 10.77.1.0/24 table 0 pref 1", diag.Warning, "Table 0 is not valid - rule skipped"},
		{"static_rules", "from 10.77.1.0/24 prohibit realms 5 pref 1", diag.Warning, "suppressor/realm specified for non table action - rule skipped"},
		{"static_rules", "from 10.77.1.0/24 fwmark 0x1/x pref 1 table 5", diag.Warning, "invalid rule fwmark '0x1/x' - rule skipped"},
		{"static_rules", "from 10.77.1.0/24 uidrange 5 pref 1 table 5", diag.Warning, "invalid uidrange '5' - rule skipped"},
		{"static_rules", "from 10.77.1.0/24 ipproto nosuchproto pref 1 table 5", diag.Warning, "invalid ipproto 'nosuchproto' - rule skipped"},
		{"static_rules", "from 10.77.1.0/24 sup_group nosuch pref 1 table 5", diag.Error, "suppress_group nosuch is invalid"},
		{"static_rules", "from 10.77.1.0/24 table 5", diag.Warning, "Rule has no preference specified - setting to 16384. This is probably not what you want."},
	} {
		t.Run(c.line, func(t *testing.T) {
			_, diags, _ := loadRR(t, fmt.Sprintf("%s {\n    %s\n}\n", c.block, c.line), nil)
			if len(diags) != 1 || diags[0].Severity != c.sev || !strings.Contains(diags[0].Message, c.msg) || diags[0].Line != 2 {
				t.Errorf("got:\n%s\nwant one %v on line 2: %s", list(diags), c.sev, c.msg)
			}
		})
	}
}

// TestRoutesRulesClean: lines keepalived takes without a word load
// without a diagnostic (a route without dev needs no_track: keepalived
// says it cannot track it).
func TestRoutesRulesClean(t *testing.T) {
	_, diags := mustLoadRR(t, `static_routes {
    10.77.1.0/24 dev eth0 rtt 300ms rttvar 1s rto_min 250ms
    fd77::/64 dev eth0 pref medium expires 0 fastopen_no_cookie 0
    blackhole 10.77.9.0/24 no_track
    default via 10.77.0.1 table vgtest no_track
    inet6 default dev eth0 protocol keepalived
}
static_rules {
    from all to 10.77.1.0/24 table vgtest2 pref 5
    from 10.77.1.0/24 dev eth0 pref 6 nop
    from 10.77.1.0/24 pref 7 type blackhole no_track protocol boot
}
`)
	if len(diags) > 0 {
		t.Errorf("unexpected diagnostics:\n%s", list(diags))
	}
}

// TestVRF: `vrf NAME` takes the VRF's table at load when the loader can
// look (vigil run), with keepalived's errors.
func TestVRF(t *testing.T) {
	text := "static_routes {\n    10.77.1.0/24 dev eth0 vrf blue\n}\n"
	resolver := func(name string) (int, error) {
		switch name {
		case "blue":
			return 1001, nil
		case "eth0":
			return 0, fmt.Errorf("eth0: %w", ErrNotVRF)
		}
		return 0, errors.New("Link not found")
	}
	cfg, diags, err := loadRR(t, text, resolver)
	if err != nil || cfg.StaticRoutes[0].Table != 1001 || cfg.StaticRoutes[0].VRF != "blue" {
		t.Fatalf("resolved: %v %+v\n%s", err, cfg.StaticRoutes, list(diags))
	}
	for name, msg := range map[string]string{
		"red":  "rr.conf:2:5: error: static_routes: VRF red not found for route",
		"eth0": "rr.conf:2:5: error: static_routes: Route specified VRF eth0 is not a VRF",
	} {
		_, diags, err := loadRR(t, strings.Replace(text, "blue", name, 1), resolver)
		if err == nil || strings.TrimSpace(list(diags)) != msg {
			t.Errorf("vrf %s: %v\n%s", name, err, list(diags))
		}
	}
}
