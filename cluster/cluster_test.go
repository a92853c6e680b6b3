package cluster

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/config/diag"
	"github.com/vigil-ha/vigil/events/conf"
)

var update = flag.Bool("update", false, "rewrite testdata/cluster/*/findings.txt")

const casesDir = "../testdata/cluster"

// loadCase loads testdata/cluster/NAME: every *.conf is a node named after
// the file (and loaded with that config id); a file named topology is the
// topology. Diagnostics name files relative to the case directory.
func loadCase(t *testing.T, name string) ([]Node, *Topology) {
	t.Helper()
	dir := filepath.Join(casesDir, name)
	files, err := filepath.Glob(filepath.Join(dir, "*.conf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: no configuration files (%v)", dir, err)
	}
	sort.Strings(files)
	var nodes []Node
	for _, f := range files {
		node := strings.TrimSuffix(filepath.Base(f), ".conf")
		cfg, src, diags, err := config.LoadWithSource(f, config.Options{ConfigID: node})
		if err != nil {
			t.Fatalf("%s: %v\n%v", f, err, diags)
		}
		for k := range cfg.Instances {
			in := &cfg.Instances[k]
			in.Pos.File = rel(dir, in.Pos.File)
			for _, l := range [][]conf.TrackRef{in.TrackInterfaces, in.TrackScripts, in.TrackFiles, in.TrackProcesses, in.TrackBFDs} {
				for j := range l {
					l[j].Pos.File = rel(dir, l[j].Pos.File)
				}
			}
		}
		for k := range cfg.SyncGroups {
			cfg.SyncGroups[k].Pos.File = rel(dir, cfg.SyncGroups[k].Pos.File)
		}
		relSource(dir, src)
		nodes = append(nodes, Node{Name: node, Config: cfg, Source: src})
	}
	var topo *Topology
	if b, err := os.ReadFile(filepath.Join(dir, "topology")); err == nil {
		var diags diag.List
		topo, diags = ParseTopology("topology", b)
		if len(diags) > 0 {
			t.Fatalf("%s/topology: %v", dir, diags)
		}
	}
	return nodes, topo
}

func rel(dir, f string) string { return strings.TrimPrefix(f, dir+string(filepath.Separator)) }

// relSource makes the Source's file names relative to dir, as if the
// files had been loaded from there.
func relSource(dir string, src *config.Source) {
	fix := func(p *config.Place) { p.File = rel(dir, p.File) }
	for k, p := range src.Globals {
		fix(&p)
		src.Globals[k] = p
	}
	for _, is := range src.Instances {
		fix(&is.Block)
		for k, p := range is.Keywords {
			fix(&p)
			is.Keywords[k] = p
		}
		for _, m := range is.Addrs {
			for a, p := range m {
				fix(&p)
				m[a] = p
			}
		}
	}
	fixTracks := func(t map[string]map[string]config.Place) {
		for _, m := range t {
			for k, p := range m {
				fix(&p)
				m[k] = p
			}
		}
	}
	for _, is := range src.Instances {
		fixTracks(is.Tracks)
	}
	for _, g := range src.SyncGroups {
		fixTracks(g.Tracks)
		fix(&g.Block)
		for k, p := range g.Members {
			fix(&p)
			g.Members[k] = p
		}
	}
}

// TestCases runs the lint over every multi-node case: the table says
// which findings each case must produce (check and severity, in order),
// and findings.txt holds their exact text (-update rewrites it).
func TestCases(t *testing.T) {
	const e, w = "error", "warning"
	cases := []struct {
		name string
		want []string // "check severity"
	}{
		{"clean", nil},
		{"advert-int", []string{CheckAdvertInt + " " + e}},
		{"advert-int-v3", []string{CheckAdvertInt + " " + w}},
		{"version", []string{CheckVersion + " " + e}},
		{"auth-pass", []string{CheckAuthPass + " " + e}},
		{"auth-type", []string{CheckAuthType + " " + e}},
		{"vips", []string{CheckVIPs + " " + w}},
		{"vrid-reused", []string{CheckVRIDReused + " " + e}},
		{"unicast-peers", []string{CheckPeerMissing + " " + e, CheckPeerUnknown + " " + w}},
		{"unicast-topology", []string{CheckPeerMissing + " " + e, CheckPeerUnknown + " " + w}},
		{"mode-mix", []string{CheckModeMix + " " + e}},
		{"mcast-group", []string{CheckMcastGroup + " " + e}},
		{"master-tie", []string{CheckMasterTie + " " + w}},
		{"owners", []string{CheckOwners + " " + w}},
		{"vmac", []string{CheckVMACCollision + " " + e}},
		{"unicast-pairs", nil},
		{"unicast-unknown", []string{CheckVRIDReused + " " + w}},
		{"sync-inversion", []string{CheckSyncInversion + " " + e}},
		{"sync-membership", []string{CheckSyncMembership + " " + w}},
		{"nopreempt", []string{CheckNopreempt + " " + w}},
		{"preempt-delay", []string{CheckPreemptDelay + " " + w}},
		{"track-above", []string{CheckTrackAbove + " " + w}},
		{"track-no-handover", []string{CheckTrackNoHandover + " " + w}},
		{"track-sync-group", []string{CheckTrackAbove + " " + w, CheckTrackAbove + " " + w}},
		{"example", []string{CheckAdvertInt + " " + e, CheckVIPs + " " + w, CheckSyncInversion + " " + e}},
		{"topology", []string{CheckAdvertInt + " " + e, CheckTopologyUnknown + " " + w}},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			nodes, topo := loadCase(t, tc.name)
			fs := Lint(nodes, topo).Findings
			var got []string
			var text strings.Builder
			for _, f := range fs {
				got = append(got, f.Check+" "+f.Severity.String())
				text.WriteString(f.Diagnostic().String() + "\n")
				if len(f.Sites) == 0 || f.File == "" || f.Line == 0 {
					t.Errorf("finding without a place: %+v", f)
				}
				for _, s := range f.Sites {
					if s.File == "" || s.Line == 0 {
						t.Errorf("%s: site without a place: %+v", f.Check, s)
					}
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("findings:\n%s\nwant:\n%s\ntext:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"), text.String())
			}
			golden := filepath.Join(casesDir, tc.name, "findings.txt")
			if *update {
				if err := os.WriteFile(golden, []byte(text.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if string(want) != text.String() {
				t.Errorf("findings.txt differs:\ngot:\n%s\nwant:\n%s", text.String(), want)
			}
		})
	}
	dirs, _ := filepath.Glob(filepath.Join(casesDir, "*"))
	for _, d := range dirs {
		if !seen[filepath.Base(d)] {
			t.Errorf("%s is not in the table", d)
		}
	}
}

// TestRouters checks how the cases' instances group into virtual
// routers: "VRID/family nodes" per router.
func TestRouters(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string
	}{
		{"clean", "51/4 a,b,c; 52/4 a,b,c; 51/6 a,b,c; 60/4 a,b,c"},
		{"unicast-pairs", "51/4 a,b; 51/4 c,d"},   // linked by address: two routers
		{"unicast-unknown", "51/4 a,b,c,d"},       // no addresses: one segment, one router
		{"mode-mix", "51/4 a,b"},                  // a unicasts to b's mcast_src_ip
		{"topology", "51/4 a,b"},                  // b's ens3 is on eth0's segment
		{"sync-membership", "51/4 a,b; 52/4 a,b"}, // one router per VRID
	} {
		nodes, topo := loadCase(t, tc.name)
		var got []string
		for _, r := range Lint(nodes, topo).Routers {
			got = append(got, fmt.Sprintf("%d/%d %s", r.VRID, r.Family, strings.Join(r.Nodes, ",")))
		}
		if g := strings.Join(got, "; "); g != tc.want {
			t.Errorf("%s: routers %s, want %s", tc.name, g, tc.want)
		}
	}
	// Without the topology file, eth0 and ens3 are two segments.
	nodes, _ := loadCase(t, "topology")
	if rep := Lint(nodes, nil); len(rep.Routers) != 2 || len(rep.Findings) != 0 {
		t.Errorf("topology case without the topology: %+v", rep)
	}
}

func TestParseTopology(t *testing.T) {
	text := "# comment\nsegment lan a:eth0 b:ens3 *:bond0 ! trailing\nsegment dmz a:eth0\naddress a 10.0.0.1 fe80::1%eth0\n" +
		"segment x\nsegment y noiface\naddress b nope\nroute z\n"
	topo, diags := ParseTopology("topo", []byte(text))
	var got []string
	for _, d := range diags {
		got = append(got, d.String())
	}
	want := []string{
		"topo:3:13: error: segment: a:eth0 is already on segment lan (topo:2)",
		"topo:5:1: error: segment: expected: segment NAME NODE:IFACE...",
		"topo:6:11: error: segment: 'noiface' is not NODE:IFACE",
		"topo:7:11: error: address: 'nope' is not an IP address",
		"topo:8:1: error: route: unknown directive 'route': expected segment or address",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, tc := range []struct{ node, iface, want string }{
		{"a", "eth0", "lan"}, {"b", "ens3", "lan"}, {"c", "bond0", "lan"}, {"a", "eth1", "eth1"}, {"b", "eth0", "eth0"},
	} {
		if got := topo.Segment(tc.node, tc.iface); got != tc.want {
			t.Errorf("Segment(%s, %s) = %s, want %s", tc.node, tc.iface, got, tc.want)
		}
	}
	if len(topo.adds) != 2 || topo.adds[1].addr.String() != "fe80::1" {
		t.Errorf("addresses: %+v", topo.adds)
	}
	var none *Topology
	if none.Segment("a", "eth0") != "eth0" {
		t.Error("a nil topology maps an interface")
	}
}
