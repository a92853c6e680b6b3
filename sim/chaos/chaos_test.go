package chaos

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/cluster"
	"github.com/vigil-ha/vigil/sim"
	"github.com/vigil-ha/vigil/sim/harness"
)

func files(t *testing.T, dir string) []string {
	t.Helper()
	fs, err := filepath.Glob(filepath.Join("..", "..", "testdata", "chaos", dir, "*.conf"))
	if err != nil || len(fs) == 0 {
		t.Fatalf("no configs in testdata/chaos/%s: %v", dir, err)
	}
	return fs
}

func load(t *testing.T, dir string) *Cluster {
	t.Helper()
	c, err := Load(files(t, dir), nil, harness.Backend(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func row(t *testing.T, m *Matrix, fault string) MatrixRow {
	t.Helper()
	for _, r := range m.Rows {
		if r.Fault == fault {
			return r
		}
	}
	t.Fatalf("no matrix row %q", fault)
	return MatrixRow{}
}

func outcome(t *testing.T, r MatrixRow, prefix string) RouterOutcome {
	t.Helper()
	for _, o := range r.Routers {
		if strings.HasPrefix(o.Router, prefix) {
			return o
		}
	}
	t.Fatalf("%s: no router %q", r.Fault, prefix)
	return RouterOutcome{}
}

// TestLoadInfersWorld: the clean cluster is three nodes on one segment
// (every node's eth0), ten virtual routers of three members each, and
// chk_web on every node as an input.
func TestLoadInfersWorld(t *testing.T) {
	c := load(t, "clean")
	if len(c.Nodes) != 3 || len(c.Routers) != 10 || len(c.Segments) != 1 {
		t.Fatalf("%d nodes, %d routers, %d segments", len(c.Nodes), len(c.Routers), len(c.Segments))
	}
	if s := c.Segments[0]; s.Name != "eth0" || !reflect.DeepEqual(s.Nodes, []string{"a", "b", "c"}) {
		t.Errorf("segment %+v", s)
	}
	r := c.Routers[0]
	if r.Label != "VI_1 VRID 51 on eth0" || len(r.Members) != 3 || len(r.VIPs) != 1 || r.VIPs[0].Addr.String() != "192.168.10.100" {
		t.Errorf("router %+v", r)
	}
	if len(c.Inputs.Scripts) != 3 || c.Inputs.Scripts[0] != (sim.ChaosInput{Node: "a", Name: "chk_web"}) {
		t.Errorf("scripts %+v", c.Inputs.Scripts)
	}
	for _, n := range c.Nodes {
		if _, err := os.Stat(filepath.Join(c.Dir, n.Ref)); err != nil {
			t.Errorf("config copy: %v", err)
		}
	}
	if h := c.Header(); !strings.Contains(h, "segment eth0 a:eth0 b:eth0 c:eth0 latency=200us\n") {
		t.Errorf("header:\n%s", h)
	}
}

// TestTopologySegments: a topology file puts differently named interfaces
// on one segment and gives unicast nodes their addresses.
func TestTopologySegments(t *testing.T) {
	dir := t.TempDir()
	conf := func(name, iface, peer string) string {
		return "global_defs {\n router_id " + name + "\n}\nvrrp_instance VI_1 {\n state BACKUP\n interface " + iface +
			"\n virtual_router_id 7\n priority " + map[string]string{"a": "150", "b": "100"}[name] +
			"\n unicast_peer {\n  " + peer + "\n }\n virtual_ipaddress {\n  10.9.0.100/24\n }\n}\n"
	}
	a, b := filepath.Join(dir, "a.conf"), filepath.Join(dir, "b.conf")
	os.WriteFile(a, []byte(conf("a", "eth0", "10.9.0.2")), 0o644)
	os.WriteFile(b, []byte(conf("b", "ens3", "10.9.0.1")), 0o644)
	topo, ds := cluster.ParseTopology("topo", []byte("segment lan a:eth0 b:ens3\naddress a 10.9.0.1\naddress b 10.9.0.2\n"))
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	c, err := Load([]string{a, b}, topo, harness.Backend(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := c.Header()
	for _, want := range []string{"node a config=a.conf eth0=10.9.0.1/24\n", "node b config=b.conf ens3=10.9.0.2/24\n", "segment lan a:eth0 b:ens3 "} {
		if !strings.Contains(h, want) {
			t.Errorf("header lacks %q:\n%s", want, h)
		}
	}
	if len(c.Warnings) > 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	m, err := c.Matrix(harness.Backend(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if o := outcome(t, row(t, m, "kill a"), "VI_1"); o.Before != "a" || o.After != "b" || o.Back != "a" {
		t.Errorf("unicast over the topology: kill a: %+v", o)
	}
	if m.Violations() != 0 {
		t.Errorf("violations: %+v", m.Rows)
	}
}

// TestCleanMatrix: on the clean cluster every single fault settles without
// a violation; a crash or link loss of a master hands its routers to the
// next priority within the protocol bound, and its restart takes them back.
func TestCleanMatrix(t *testing.T) {
	c := load(t, "clean")
	m, err := c.Matrix(harness.Backend(), 1)
	if err != nil {
		t.Fatal(err)
	}
	// 3 crashes, 3 links, 3 scripts, 3 isolations.
	if len(m.Rows) != 12 {
		t.Fatalf("%d rows", len(m.Rows))
	}
	for _, r := range m.Rows {
		if len(r.Violations) > 0 {
			t.Errorf("%s: %v", r.Fault, r.Violations)
		}
	}
	for _, f := range []string{"kill a", "link-down a:eth0"} {
		r := row(t, m, f)
		o := outcome(t, r, "VI_1 ")
		if o.Before != "a" || o.After != "b" || o.Back != "a" {
			t.Errorf("%s: VI_1 masters %s -> %s -> %s, want a -> b -> a", f, o.Before, o.After, o.Back)
		}
		// The bound: 3 x 1 s + skew (256-100)/256 s + 2 x 200 us + 1 ms
		// = 3610.775 ms.
		if o.GapMS <= 0 || o.GapMS > o.BoundMS || o.BoundMS != 3610.775 {
			t.Errorf("%s: VIP gap %v ms, bound %v ms", f, o.GapMS, o.BoundMS)
		}
		if o.Unanswered || o.BackGapMS != 0 {
			t.Errorf("%s: %+v", f, o)
		}
		// c's routers do not move.
		if o := outcome(t, r, "VI_2 "); o.Before != "c" || o.After != "c" || o.GapMS != 0 {
			t.Errorf("%s: VI_2 %+v", f, o)
		}
	}
	// A failing check (weight -60) hands over without a gap.
	o := outcome(t, row(t, m, "script a chk_web exit=1"), "VI_1 ")
	if o.Before != "a" || o.After != "b" || o.Back != "a" || o.GapMS != 0 {
		t.Errorf("script: %+v", o)
	}
	// Isolating a: both sides elect, the heal leaves a.
	o = outcome(t, row(t, m, "partition a | b,c"), "VI_1 ")
	if o.Before != "a" || o.After != "a,b" || o.Back != "a" || o.GapMS != 0 {
		t.Errorf("partition: %+v", o)
	}
}

// TestCleanRandom: random schedules find nothing on the clean cluster, and
// the result does not depend on how many workers run the seeds.
func TestCleanRandom(t *testing.T) {
	c := load(t, "clean")
	var got []*Random
	for _, w := range []int{1, 3} {
		r, err := c.Random(harness.Backend(), RandomOptions{Seeds: 3, First: 1, Duration: 20 * time.Minute, Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Failures) > 0 {
			t.Fatalf("failures on the clean cluster: %+v", r.Failures)
		}
		if r.Faults == 0 || r.Events == 0 {
			t.Fatalf("nothing ran: %+v", r)
		}
		r.WallMS = 0
		got = append(got, r)
	}
	if !reflect.DeepEqual(got[0], got[1]) {
		t.Errorf("1 worker: %+v\n3 workers: %+v", got[0], got[1])
	}
}

// TestFlawFound: b groups VI_1 and VI_2 in a sync group, a does not. When
// a's chk_db fails, a's VI_1 goes FAULT while a keeps VI_2; b's group
// waits for VI_2, so nobody takes VI_1. The matrix and the random
// schedules both find it, and each written scenario reproduces it when
// run as `vigil sim FILE` runs it.
func TestFlawFound(t *testing.T) {
	c := load(t, "sync-one-node")
	m, err := c.Matrix(harness.Backend(), 1)
	if err != nil {
		t.Fatal(err)
	}
	r := row(t, m, "script a chk_db exit=1")
	if o := outcome(t, r, "VI_1 "); o.Before != "a" || o.After != "none" || !o.Unanswered {
		t.Errorf("VI_1 after a's check fails: %+v", o)
	}
	if len(r.Violations) == 0 || !strings.Contains(r.Violations[0], "no-master: VRID 51") || r.Scenario == "" {
		t.Fatalf("matrix row: %+v", r)
	}
	if ok, err := Reproduces(r.Scenario, harness.Backend()); err != nil || !ok {
		t.Errorf("matrix scenario %s does not reproduce: %v", r.Scenario, err)
	}
	if row(t, m, "kill a").Violations == nil || len(row(t, m, "kill a").Violations) != 0 {
		t.Errorf("kill a: %v", row(t, m, "kill a").Violations)
	}

	res, err := c.Random(harness.Backend(), RandomOptions{Seeds: 3, First: 4, Duration: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) == 0 {
		t.Fatal("the random schedules found nothing")
	}
	for _, f := range res.Failures {
		if !f.Reproduced || f.Kept == 0 || f.Kept > f.Faults {
			t.Errorf("seed %d: %+v", f.Seed, f)
		}
		text, err := os.ReadFile(f.Scenario)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"seed " + strconv.FormatUint(f.Seed, 10) + "\n", "node a config=a.conf\n", "invariants on\n", "expect no-violations\n"} {
			if !strings.Contains(string(text), want) {
				t.Errorf("%s lacks %q:\n%s", f.Scenario, want, text)
			}
		}
		// Independently of the report: vigil sim's own path.
		s, err := sim.ParseFile(f.Scenario)
		if err != nil {
			t.Fatal(err)
		}
		out := new(strings.Builder)
		res, err := sim.RunScenario(s, harness.Backend(), 1, out)
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed != 1 || !strings.Contains(out.String(), "VIOLATION "+f.Rule) {
			t.Errorf("seed %d: the scenario does not reproduce %s:\n%s", f.Seed, f.Rule, out.String())
		}
	}
	// Seed 4 fails at its first fault, a's chk_db failing: shrunk to it.
	if f := res.Failures[0]; f.Seed != 4 || f.Kept != 1 || f.Rule != "no-master" {
		t.Errorf("seed 4: %+v", f)
	}
}

// TestBadConfig: a file that does not load is an error naming it.
func TestBadConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("vrrp_instance VI_1 {\n virtual_router_id 300\n}\n"), 0o644)
	if _, err := Load([]string{bad}, nil, harness.Backend(), t.TempDir()); err == nil || !strings.Contains(err.Error(), "bad.conf") {
		t.Errorf("err = %v", err)
	}
	if _, err := Load([]string{filepath.Join(dir, "missing.conf")}, nil, harness.Backend(), t.TempDir()); err == nil {
		t.Error("a missing file loads")
	}
}

// TestSyncInversionGap: the cluster lint's sync-inversion case (a prefers
// VI_1, b VI_2, both grouped). vigil's engine ends the duel keepalived
// would fight forever, but at a partition's heal both groups still step
// down together and the VIPs go unanswered longer than the protocol
// bound: the matrix reports it (vip-gap) and writes the scenario.
func TestSyncInversionGap(t *testing.T) {
	fs, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "cluster", "sync-inversion", "*.conf"))
	c, err := Load(fs, nil, harness.Backend(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Matrix(harness.Backend(), 1)
	if err != nil {
		t.Fatal(err)
	}
	r := row(t, m, "partition a | b")
	o := outcome(t, r, "VI_1 ")
	if o.After != "a,b" || o.Back != "b" || o.BackGapMS <= o.BackBoundMS || o.BackBoundMS == 0 {
		t.Errorf("heal: %+v", o)
	}
	if len(r.Violations) != 2 || !strings.HasPrefix(r.Violations[0], "vip-gap: VI_1 VRID 51 on eth0: a VIP went unanswered for ") || r.Scenario == "" {
		t.Errorf("violations %q, scenario %q", r.Violations, r.Scenario)
	}
	if m.Violations() != 1 {
		t.Errorf("%d rows with violations", m.Violations())
	}
}

// TestLintExample: the cluster lint's clean example — a VMAC instance, a
// VRRPv3 IPv6 one, a sync group, unicast peers on eth1 — settles every
// single fault without a violation (the VMAC's GARPs reach its parent's
// segment).
func TestLintExample(t *testing.T) {
	fs, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "cluster", "clean", "*.conf"))
	c, err := Load(fs, nil, harness.Backend(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) > 0 || len(c.Routers) != 4 || len(c.Segments) != 2 {
		t.Fatalf("warnings %v, %d routers, %d segments", c.Warnings, len(c.Routers), len(c.Segments))
	}
	m, err := c.Matrix(harness.Backend(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Rows {
		if len(r.Violations) > 0 {
			t.Errorf("%s: %v", r.Fault, r.Violations)
		}
	}
	if o := outcome(t, row(t, m, "kill node-a"), "VI_WEB "); o.After != "node-b" || o.GapMS <= 0 || o.GapMS > o.BoundMS {
		t.Errorf("VMAC router after kill node-a: %+v", o)
	}
}

// TestTopologyWarnings: a topology line naming no node of the cluster is
// reported as the lint reports it.
func TestTopologyWarnings(t *testing.T) {
	topo, ds := cluster.ParseTopology("topo", []byte("segment lan zz:eth0 a:eth0\n"))
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	c, err := Load(files(t, "sync-one-node"), topo, harness.Backend(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.HasPrefix(c.Warnings[0], "topo:1: ") || !strings.Contains(c.Warnings[0], "zz") {
		t.Errorf("warnings %q", c.Warnings)
	}
}
