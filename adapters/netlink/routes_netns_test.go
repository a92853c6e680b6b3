package netlink

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/config/diag"
	"github.com/vigil-ha/vigil/effects"
)

// These tests start from configuration text: the parser resolves each
// static_routes / static_rules line, the executor applies it in a network
// namespace, and the kernel's view (`ip -d route show table all`,
// `ip rule show`) must be the same as what ip(8) makes of the same line
// in a second, identical namespace: the kernel attributes are what
// counts, and ip(8) is their reference. Where keepalived reads a line
// differently from ip(8), the oracle's arguments say so, each with the
// reason:
//
//   - a route with an interface, and every rule, is tracked unless
//     no_track: keepalived forces its own protocol (keepalived, 18);
//   - a rule without a preference gets keepalived's, 16384 down;
//   - rtt, rttvar and rto_min below 200 ms are raised to 200 ms;
//   - ip(8) always locks rto_min, keepalived only when written (fix);
//   - names come from the test's iproute2 files, which ip(8) does not
//     read: the oracle has their numbers (table small = 7, realm PQA =
//     12; vrf blue = table 1001 through the test's VRF resolver).

// rrCase is one configuration line and the ip(8) command that makes the
// same kernel object.
type rrCase struct {
	block string // static_routes or static_rules
	line  string
	// oracle is ip(8)'s arguments (after `ip -n NS`).
	oracle string
	// verdict: "ok" (both install it), "refused" (the kernel refuses
	// both) or "skipped" (vigil skips the line at load with
	// keepalived's diagnostic, skipMsg; ip(8) fails too).
	verdict string
	skipMsg string
	// fix rewrites the oracle's view where ip(8) cannot say the line.
	fix [2]string
}

// rrSetup makes the interfaces the cases use: veth pairs eth0/p33p1 and
// wlan0/p33p1.2, addressed in 10.77.0.0/16 and fd77::/64.
func rrSetup(t *testing.T, ns string) {
	t.Helper()
	ipn(t, ns, "link", "add", "eth0", "type", "veth", "peer", "name", "p33p1")
	ipn(t, ns, "link", "add", "wlan0", "type", "veth", "peer", "name", "p33p1.2")
	for _, l := range []string{"eth0", "p33p1", "wlan0", "p33p1.2"} {
		ipn(t, ns, "link", "set", l, "up")
	}
	ipn(t, ns, "addr", "add", "10.77.1.1/24", "dev", "eth0")
	ipn(t, ns, "addr", "add", "10.77.101.9/24", "dev", "wlan0")
	ipn(t, ns, "addr", "add", "fd77::1/64", "dev", "eth0", "nodad")
}

// rrOptions are the load options of the tests: iproute2 files in a
// temporary directory (rt_tables: 100 vgtest; rt_tables.d: 200 vgtest2,
// 7 small; rt_realms: 12 PQA) and a VRF resolver (blue: table 1001).
func rrOptions(t *testing.T) config.Options {
	t.Helper()
	root := t.TempDir()
	for name, text := range map[string]string{
		"etc/rt_tables":             "255 local\n254 main\n253 default\n100 vgtest\n",
		"etc/rt_tables.d/test.conf": "200 vgtest2\n7 small\n",
		"etc/rt_realms":             "12 PQA\n",
	} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return config.Options{
		ConfigID: "t", IPRoute2Dir: filepath.Join(root, "etc"), IPRoute2UsrDir: filepath.Join(root, "usr"),
		VRFTable: func(name string) (int, error) {
			if name == "blue" {
				return 1001, nil
			}
			return 0, fmt.Errorf("%s: no such VRF", name)
		},
	}
}

// rrConfig returns the configuration text of the cases (prefix first) and
// the line each case is on.
func rrConfig(prefix string, cases []rrCase) (string, []int) {
	var b strings.Builder
	b.WriteString(prefix)
	line := strings.Count(prefix, "\n") + 1
	lines := make([]int, len(cases))
	for _, block := range []string{"static_routes", "static_rules"} {
		b.WriteString(block + " {\n")
		line++
		for i, c := range cases {
			if c.block == block {
				b.WriteString("    " + c.line + "\n")
				lines[i] = line
				line++
			}
		}
		b.WriteString("}\n")
		line++
	}
	return b.String(), lines
}

// kernelView is a namespace's routes (all tables but local, where IPv6
// link-local addresses differ) and rules, one entry a line, sorted.
func kernelView(t *testing.T, ns string, fix [][2]string) []string {
	t.Helper()
	var out []string
	for _, args := range [][]string{
		{"-d", "-4", "route", "show", "table", "all"}, {"-d", "-6", "route", "show", "table", "all"},
		{"-d", "-4", "rule", "show"}, {"-d", "-6", "rule", "show"},
	} {
		label := args[1] + " " + args[2] + ": "
		text := ipn(t, ns, args...)
		// Join a multipath route's nexthop lines to it.
		text = strings.ReplaceAll(text, "\n\t", " ")
		for l := range strings.Lines(text) {
			l = strings.TrimSpace(l)
			if l == "" || strings.Contains(l, " table local ") {
				continue
			}
			l = expiresRE.ReplaceAllString(l, "expires Nsec")
			l = strings.ReplaceAll(l, " linkdown", "")
			for _, f := range fix {
				l = strings.ReplaceAll(l, f[0], f[1])
			}
			out = append(out, label+strings.Join(strings.Fields(l), " "))
		}
	}
	slices.Sort(out)
	return out
}

var expiresRE = regexp.MustCompile(`expires \d+sec`)

// diffViews reports the lines only one of two views has.
func diffViews(got, want []string, gotName, wantName string) string {
	var b strings.Builder
	for _, l := range got {
		if !slices.Contains(want, l) {
			b.WriteString("  " + gotName + " only: " + l + "\n")
		}
	}
	for _, l := range want {
		if !slices.Contains(got, l) {
			b.WriteString("  " + wantName + " only: " + l + "\n")
		}
	}
	return b.String()
}

// runRRCases loads the cases' configuration text, applies what it holds
// in one namespace (twice: adding is idempotent) and the oracles in
// another, compares the kernels' views, then deletes everything (twice)
// and expects the namespace as it was.
func runRRCases(t *testing.T, prefix string, cases []rrCase) {
	text, lines := rrConfig(prefix, cases)
	cfg, diags, err := config.LoadString("rr.conf", text, rrOptions(t))
	if err != nil {
		t.Fatalf("load: %v\n%s", err, diags)
	}
	t.Logf("configuration:\n%s", text)

	vig, ora := newNS(t, "rr-vigil"), newNS(t, "rr-ip")
	rrSetup(t, vig)
	rrSetup(t, ora)
	x := newExecutor(t, vig)
	before := kernelView(t, vig, nil)

	var applied []effects.Effect
	routes, rules := cfg.StaticRoutes, cfg.StaticRules
	var fix [][2]string
	for i, c := range cases {
		if c.fix[0] != "" {
			fix = append(fix, c.fix)
		}
		out, ipErr := exec.Command("ip", append([]string{"-n", ora}, strings.Fields(c.oracle)...)...).CombinedOutput()
		if c.verdict == "skipped" {
			if d := diagOn(diags, lines[i]); d == nil || !strings.Contains(d.Message, c.skipMsg) {
				t.Errorf("line %d %q: want vigil to skip it with %q, got:\n%s", lines[i], c.line, c.skipMsg, diags)
			}
			if ipErr == nil {
				t.Errorf("line %d: ip %s succeeded", lines[i], c.oracle)
			}
			continue
		}
		var add effects.Effect
		if c.block == "static_routes" {
			if len(routes) == 0 {
				t.Fatalf("line %d %q: not in the configuration:\n%s", lines[i], c.line, diags)
			}
			add, routes = &effects.AddRoute{Route: routes[0]}, routes[1:]
		} else {
			if len(rules) == 0 {
				t.Fatalf("line %d %q: not in the configuration:\n%s", lines[i], c.line, diags)
			}
			add, rules = &effects.AddRule{Rule: rules[0]}, rules[1:]
		}
		var vigErr error
		for range 2 {
			if err := x.Apply(add); err != nil {
				vigErr = err
			}
		}
		switch {
		case c.verdict == "refused" && (vigErr == nil || ipErr == nil):
			t.Errorf("line %d %q: the kernel should refuse it: vigil: %v; ip %s: %v %s", lines[i], c.line, vigErr, c.oracle, ipErr, out)
		case c.verdict == "ok" && ipErr != nil:
			t.Errorf("line %d: oracle ip %s: %v: %s", lines[i], c.oracle, ipErr, out)
		case c.verdict == "ok" && vigErr != nil:
			t.Errorf("line %d %q: %v", lines[i], c.line, vigErr)
		case c.verdict == "ok":
			applied = append(applied, add)
		default:
			t.Logf("line %d refused by the kernel, as with ip(8): %v", lines[i], vigErr)
		}
	}
	got, want := kernelView(t, vig, nil), kernelView(t, ora, fix)
	if d := diffViews(got, want, "vigil", "ip(8)"); d != "" {
		t.Errorf("the kernel's view differs:\n%s", d)
	}
	t.Logf("kernel's view:\n  %s", strings.Join(got, "\n  "))

	for range 2 {
		for _, e := range slices.Backward(applied) {
			var err error
			switch v := e.(type) {
			case *effects.AddRoute:
				err = x.Apply(&effects.DelRoute{Route: v.Route})
			case *effects.AddRule:
				err = x.Apply(&effects.DelRule{Rule: v.Rule})
			}
			if err != nil {
				t.Errorf("delete: %v", err)
			}
		}
	}
	if d := diffViews(kernelView(t, vig, nil), before, "now", "before"); d != "" {
		t.Errorf("after deleting everything:\n%s", d)
	}
}

// diagOn returns the first diagnostic on a line.
func diagOn(l diag.List, line int) *diag.Diagnostic {
	for i := range l {
		if l[i].Line == line {
			return &l[i]
		}
	}
	return nil
}

// manPagePrefix defines the track group the man page's first lines name.
const manPagePrefix = `track_group GROUP1 {
    group {
        VI_1
        VI_2
    }
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        10.77.1.201
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 2
    virtual_ipaddress {
        10.77.1.202
    }
}
`

// manPageCases are the static_routes and static_rules examples of
// keepalived.conf(5) (2.2.7), keywords verbatim, addresses moved into
// 10.77.0.0/16 and fd77::/64 (192.168.N. → 10.77.N.; 2001:470:69e9:1:2::4
// → fd77::4; 1:2:3:4:5:6:7:0/112 → fd77::5:6:7:0/112; 7:6:5:4:3:2::/96 →
// fd77::3:2:0:0/96; 1:2:3:4:6:6:7:0/112 → fd77::6:6:7:0/112;
// 8:6:5:4:3:2::/96 → fd77::8:6:0:0/96).
var manPageCases = []rrCase{
	{block: "static_routes", line: "10.77.2.0/24 via 10.77.1.100 dev eth0 track_group GROUP1",
		oracle: "route add 10.77.2.0/24 via 10.77.1.100 dev eth0 proto keepalived", verdict: "ok"},
	{block: "static_routes", line: "10.77.100.0/24 table 6909 nexthop via 10.77.101.1 dev wlan0 onlink weight 1 nexthop via 10.77.101.2 dev wlan0 onlink weight 2",
		oracle: "route add 10.77.100.0/24 table 6909 proto keepalived nexthop via 10.77.101.1 dev wlan0 onlink weight 1 nexthop via 10.77.101.2 dev wlan0 onlink weight 2", verdict: "ok"},
	{block: "static_routes", line: "10.77.200.0/24 dev p33p1.2 table 6909 tos 0x04 protocol bird scope link priority 12 mtu 1000 hoplimit 100 advmss 101 rtt 102 rttvar 103 reordering 104 window 105 cwnd 106 ssthresh lock 107 realms PQA/0x14 rto_min 108 initcwnd 109 initrwnd 110 vrf blue features ecn add",
		oracle:  "route add 10.77.200.0/24 dev p33p1.2 table 1001 tos 0x04 protocol keepalived scope link priority 12 mtu 1000 hoplimit 100 advmss 101 rtt 200ms rttvar 200ms reordering 104 window 105 cwnd 106 ssthresh lock 107 realms 12/0x14 rto_min 200ms initcwnd 109 initrwnd 110 features ecn",
		verdict: "ok", fix: [2]string{"rto_min lock 200ms", "rto_min 200ms"}},
	// The kernel refuses a tos on an IPv6 route ("Invalid dsfield (tos):
	// option not available for IPv6"), from keepalived as from ip(8).
	{block: "static_routes", line: "fd77::4 dev p33p1.2 table 6909 tos 0x04 protocol bird scope link priority 12 mtu 1000 hoplimit 100 advmss 101 rtt 102 rttvar 103 reordering 104 window 105 cwnd 106 ssthresh lock 107 rto_min 108 initcwnd 109 append initrwnd 110 features ecn fastopen_no_cookie 1",
		oracle:  "-6 route append fd77::4 dev p33p1.2 table 6909 tos 0x04 protocol keepalived scope link priority 12 mtu 1000 hoplimit 100 advmss 101 rtt 200ms rttvar 200ms reordering 104 window 105 cwnd 106 ssthresh lock 107 rto_min 200ms initcwnd 109 initrwnd 110 features ecn fastopen_no_cookie 1",
		verdict: "refused"},
	{block: "static_rules", line: "from 10.77.2.0/24 table 1 track_group GROUP1",
		oracle: "rule add from 10.77.2.0/24 table 1 pref 16384 protocol keepalived", verdict: "ok"},
	{block: "static_rules", line: "to 10.77.2.0/24 table 1",
		oracle: "rule add to 10.77.2.0/24 table 1 pref 16383 protocol keepalived", verdict: "ok"},
	// keepalived refuses a rule with both a table and goto; the kernel
	// refuses tos 22 (ECN bits set) anyway.
	{block: "static_rules", line: "from 10.77.28.0/24 to 10.77.29.0/26 table small iif p33p1 oif wlan0 tos 22 fwmark 24/12 preference 39 realms 30/20 goto 40",
		oracle:  "rule add from 10.77.28.0/24 to 10.77.29.0/26 table 7 iif p33p1 oif wlan0 tos 22 fwmark 24/12 preference 39 realms 30/20 goto 40",
		verdict: "skipped", skipMsg: "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule"},
	{block: "static_rules", line: "to fd77::5:6:7:0/112 from fd77::3:2:0:0/96 table 6908 uidrange 10000-19999",
		oracle: "-6 rule add to fd77::5:6:7:0/112 from fd77::3:2:0:0/96 table 6908 uidrange 10000-19999 pref 16384 protocol keepalived", verdict: "ok"},
	// ip_proto is the man page's spelling (keepalived's parser says
	// ipproto; vigil takes both); protocol 12 becomes keepalived's.
	{block: "static_rules", line: "to fd77::6:6:7:0/112 from fd77::8:6:0:0/96 l3mdev protocol 12 ip_proto UDP sport 10-20 dport 20-30",
		oracle: "-6 rule add to fd77::6:6:7:0/112 from fd77::8:6:0:0/96 l3mdev protocol keepalived ipproto udp sport 10-20 dport 20-30 pref 16383", verdict: "ok"},
}

// TestManPageExamples applies keepalived.conf(5)'s static_routes and
// static_rules examples and compares the kernel's view with ip(8)'s.
func TestManPageExamples(t *testing.T) {
	requireRoot(t)
	runRRCases(t, manPagePrefix, manPageCases)
}

// TestRouteRuleOptions: each option that vigil check used to pass and the
// executor then refused, ignored or misapplied.
func TestRouteRuleOptions(t *testing.T) {
	requireRoot(t)
	runRRCases(t, "", []rrCase{
		// `not` used to be installed un-inverted.
		{block: "static_rules", line: "from 10.77.60.0/24 not table 100 pref 2000",
			oracle: "rule add not from 10.77.60.0/24 table 100 pref 2000 protocol keepalived", verdict: "ok"},
		// Table names went to main.
		{block: "static_routes", line: "10.77.61.0/24 dev eth0 table vgtest",
			oracle: "route add 10.77.61.0/24 dev eth0 table 100 proto keepalived", verdict: "ok"},
		{block: "static_rules", line: "from 10.77.61.0/24 lookup vgtest2 pref 2001",
			oracle: "rule add from 10.77.61.0/24 table 200 pref 2001 protocol keepalived", verdict: "ok"},
		{block: "static_routes", line: "blackhole 10.77.67.0/24 table vgtest2",
			oracle: "route add blackhole 10.77.67.0/24 table 200 proto keepalived", verdict: "ok"},
		// onlink was ignored (the gateway is not on eth0's subnet).
		{block: "static_routes", line: "10.77.62.0/24 via 10.77.99.1 dev eth0 onlink",
			oracle: "route add 10.77.62.0/24 via 10.77.99.1 dev eth0 onlink proto keepalived", verdict: "ok"},
		// Metrics failed when applied.
		{block: "static_routes", line: "10.77.63.0/24 dev eth0 rtt 1.5s rttvar lock 300ms window 1000 cwnd lock 20 ssthresh 30 rto_min lock 250ms features ecn congctl lock cubic fastopen_no_cookie 1 quickack 1 reordering 5 initcwnd lock 10",
			oracle: "route add 10.77.63.0/24 dev eth0 proto keepalived rtt 1.5s rttvar lock 300ms window 1000 cwnd lock 20 ssthresh 30 rto_min 250ms features ecn congctl lock cubic fastopen_no_cookie 1 quickack 1 reordering 5 initcwnd lock 10", verdict: "ok"},
		{block: "static_routes", line: "fd77::7:0/112 dev eth0 pref high expires 1000 metric 7",
			oracle: "-6 route add fd77::7:0/112 dev eth0 pref high expires 1000 metric 7 proto keepalived", verdict: "ok"},
		{block: "static_routes", line: "fd77::8:0/112 dev eth0 metric 8 pref low append no_track protocol static",
			oracle: "-6 route append fd77::8:0/112 dev eth0 metric 8 pref low proto static", verdict: "ok"},
		{block: "static_routes", line: "10.77.64.0/24 nexthop via 10.77.1.2 dev eth0 weight 3 nexthop via 10.77.101.2 dev wlan0 realms 5",
			oracle: "route add 10.77.64.0/24 proto keepalived nexthop via 10.77.1.2 dev eth0 weight 3 nexthop via 10.77.101.2 dev wlan0 realms 5", verdict: "ok"},
		// goto, ip_proto, l3mdev and type failed when applied.
		{block: "static_rules", line: "from 10.77.64.0/24 pref 2002 goto 2010",
			oracle: "rule add from 10.77.64.0/24 pref 2002 goto 2010 protocol keepalived", verdict: "ok"},
		{block: "static_rules", line: "from 10.77.65.0/24 ip_proto tcp dport 80 table 100 pref 2003",
			oracle: "rule add from 10.77.65.0/24 ipproto tcp dport 80 table 100 pref 2003 protocol keepalived", verdict: "ok"},
		{block: "static_rules", line: "l3mdev pref 2004",
			oracle: "rule add l3mdev pref 2004 protocol keepalived", verdict: "ok"},
		{block: "static_rules", line: "from 10.77.66.0/24 type prohibit pref 2005",
			oracle: "rule add from 10.77.66.0/24 prohibit pref 2005 protocol keepalived", verdict: "ok"},
		{block: "static_rules", line: "inet6 fwmark 0x10/0xff pref 2006 nop",
			oracle: "-6 rule add fwmark 0x10/0xff pref 2006 nop protocol keepalived", verdict: "ok"},
		{block: "static_rules", line: "from 10.77.67.0/24 table 100 suppress_prefixlength 0 pref 2007 no_track",
			oracle: "rule add from 10.77.67.0/24 table 100 suppress_prefixlength 0 pref 2007", verdict: "ok"},
		{block: "static_rules", line: "from 10.77.68.0/24 table 1000 realms PQA/3 tos 0x10 iif eth0 pref 2008",
			oracle: "rule add from 10.77.68.0/24 table 1000 realms 12/3 tos 0x10 iif eth0 pref 2008 protocol keepalived", verdict: "ok"},
	})
}

// TestRouteVRF: without a VRF resolver at load (vigil check, sim), the
// executor looks the VRF's table up itself.
func TestRouteVRF(t *testing.T) {
	requireRoot(t)
	ns := newNS(t, "rr-vrf")
	if out, err := exec.Command("ip", "-n", ns, "link", "add", "vgvrf", "type", "vrf", "table", "1001").CombinedOutput(); err != nil {
		t.Skipf("this kernel cannot create a VRF (%v: %s): vrf is covered by TestManPageExamples with a resolver", err, strings.TrimSpace(string(out)))
	}
	rrSetup(t, ns)
	ipn(t, ns, "link", "set", "vgvrf", "up")
	ipn(t, ns, "link", "set", "eth0", "master", "vgvrf")
	opts := rrOptions(t)
	opts.VRFTable = nil
	cfg, diags, err := config.LoadString("rr.conf", "static_routes {\n    10.77.70.0/24 dev eth0 vrf vgvrf\n    10.77.71.0/24 dev eth0 vrf wlan0\n}\n", opts)
	if err != nil {
		t.Fatalf("%v\n%s", err, diags)
	}
	x := newExecutor(t, ns)
	r := cfg.StaticRoutes
	if err := x.Apply(&effects.AddRoute{Route: r[0]}); err != nil {
		t.Fatal(err)
	}
	if _, ok := routesIn(t, ns, "1001")["10.77.70.0/24"]; !ok {
		t.Errorf("route not in the VRF's table:\n%s", ipn(t, ns, "route", "show", "table", "all"))
	}
	if err := x.Apply(&effects.DelRoute{Route: r[0]}); err != nil {
		t.Fatal(err)
	}
	if err := x.Apply(&effects.AddRoute{Route: r[1]}); err == nil || !strings.Contains(err.Error(), "not a VRF") {
		t.Errorf("vrf naming a veth: %v", err)
	}
}

// keepalivedSpelling turns the man page cases into what keepalived 2.2.7
// itself reads: it knows no test iproute2 files (numbers instead of the
// names), no VRF on a kernel without them (the VRF's table instead),
// spells ip_proto ipproto, and needs no track group here.
var keepalivedSpelling = strings.NewReplacer(
	"realms PQA/0x14", "realms 12/0x14", "vrf blue", "table 1001", "table small", "table 7",
	"ip_proto", "ipproto", " track_group GROUP1", "")

// TestManPageKeepalived runs Debian's keepalived on the man page examples
// in a third namespace: what it installs must be what vigil installs.
func TestManPageKeepalived(t *testing.T) {
	requireRoot(t)
	bin, err := exec.LookPath("keepalived")
	if err != nil {
		t.Skip("keepalived is not installed: the ip(8) oracle (TestManPageExamples) still runs")
	}
	// vigil.
	text, _ := rrConfig(manPagePrefix, manPageCases)
	cfg, diags, err := config.LoadString("rr.conf", text, rrOptions(t))
	if err != nil {
		t.Fatalf("load: %v\n%s", err, diags)
	}
	vig := newNS(t, "rr-vigil")
	rrSetup(t, vig)
	x := newExecutor(t, vig)
	for _, r := range cfg.StaticRoutes {
		_ = x.Apply(&effects.AddRoute{Route: r}) // the IPv6 route with a tos is refused
	}
	for _, r := range cfg.StaticRules {
		if err := x.Apply(&effects.AddRule{Rule: r}); err != nil {
			t.Fatal(err)
		}
	}
	want := kernelView(t, vig, nil)

	// keepalived.
	ka := newNS(t, "rr-ka")
	rrSetup(t, ka)
	dir := t.TempDir()
	kaText, _ := rrConfig("", manPageCases)
	kaConf := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(kaConf, []byte(keepalivedSpelling.Replace(kaText)), 0o644); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	cmd := exec.Command("ip", "netns", "exec", ka, bin, "--dont-fork", "--log-console", "--vrrp", "-f", kaConf,
		"-p", filepath.Join(dir, "k.pid"), "-r", filepath.Join(dir, "v.pid"), "-c", filepath.Join(dir, "c.pid"))
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
		}
	}
	defer stop()
	var got []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = kernelView(t, ka, nil); slices.Equal(got, want) {
			break
		}
	}
	stop()
	if d := diffViews(want, got, "vigil", "keepalived"); d != "" {
		t.Errorf("vigil and keepalived differ:\n%s\nkeepalived's log:\n%s", d, log.String())
	}
}
