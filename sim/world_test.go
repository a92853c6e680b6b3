package sim

import (
	"bytes"

	"github.com/vigil-ha/vigil/effects"
	"strings"
	"testing"
)

const fakeCluster = `
config a <<EOF
VI_1 vrid=1 prio=150 vip=10.0.0.100/24
EOF
config b <<EOF
VI_1 vrid=1 prio=100 vip=10.0.0.100/24
EOF
config c <<EOF
VI_1 vrid=1 prio=50 vip=10.0.0.100/24
EOF
node a config=a
node b config=b
node c config=c
segment lan a:eth0 b:eth0 c:eth0 latency=200us
`

// runFake runs the fake three-node cluster plus body and fails the test on
// any failed expectation.
func runFake(t *testing.T, body string) (Result, string) {
	t.Helper()
	res, out, err := runFakeRaw(body)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.Failed > 0 {
		t.Errorf("failed expectations:\n%s\n--- timeline ---\n%s", strings.Join(res.Failures, "\n"), out)
	}
	return res, out
}

func runFakeRaw(body string) (Result, string, error) {
	s, err := Parse("test.scn", ".", fakeCluster+body)
	if err != nil {
		return Result{}, "", err
	}
	var out bytes.Buffer
	res, err := RunScenario(s, fakeBackend, 1, &out)
	return res, out.String(), err
}

func TestWorldElectionAndAddresses(t *testing.T) {
	res, out := runFake(t, `
start a b c
run 5s
expect master VI_1 a
expect state b VI_1 BACKUP
expect vip a 10.0.0.100
expect novip b 10.0.0.100
expect arp lan 10.0.0.100 a
expect no-split-brain
`)
	if res.Passed != 6 {
		t.Errorf("passed %d, want 6", res.Passed)
	}
	// a's timer: 3 s + skew(150) = 3.414062s; the GARP lands 200us later.
	if !strings.Contains(out, "3.414062s  a  VI_1 BACKUP -> MASTER") ||
		!strings.Contains(out, "3.414262s  lan  neighbours: 10.0.0.100 is at a") {
		t.Errorf("timeline lacks the election at 3.414062s:\n%s", out)
	}
}

func TestWorldCrashKeepsAddressesAndStaleNeighbour(t *testing.T) {
	runFake(t, `
start a b c
run 5s
kill a
run 1s
expect vip a 10.0.0.100
expect arp lan 10.0.0.100 a
run 4s
expect master VI_1 b
expect arp lan 10.0.0.100 b
expect takeover VI_1 <= 3.7s
expect vip a 10.0.0.100
`)
}

func TestWorldGracefulStopReleases(t *testing.T) {
	runFake(t, `
start a b c
run 5s
stop a
run 1s
expect novip a 10.0.0.100
expect master VI_1 b
expect takeover VI_1 <= 700ms
`)
}

func TestWorldPartitionIsNotSplitBrain(t *testing.T) {
	res, out, err := runFakeRaw(`
start a b c
run 5s
partition a | b,c
run 30s
expect master VI_1 none
expect no-split-brain
`)
	if err != nil {
		t.Fatal(err)
	}
	// Both sides have a master (so "none" fails), but they cannot hear
	// each other, so it is not split brain.
	if res.Failed != 1 || res.Passed != 1 || !strings.Contains(out, "MASTER on a, b") {
		t.Fatalf("got %+v\n%s", res, out)
	}
}

func TestWorldLossSplitBrainIsReported(t *testing.T) {
	// Two masters of equal priority never reconcile in the fake engine (a
	// master steps down only for a strictly higher priority): once the
	// adverts are lost for a while, the split brain outlives the bound.
	text := strings.Replace(fakeCluster, "prio=100", "prio=150", 1) + `
start a b c
run 5s
loss lan 100
run 10s
loss lan 0
run 30s
expect no-split-brain
`
	s, err := Parse("split.scn", ".", text)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := RunScenario(s, fakeBackend, 1, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 1 || !strings.Contains(out.String(), "VIOLATION split-brain") {
		t.Fatalf("want the split brain reported, got %+v\n%s", res, out.String())
	}
}

func TestWorldStallHoldsEvents(t *testing.T) {
	runFake(t, `
start a b c
run 5s
stall a 10s
run 5s
expect state b VI_1 MASTER
run 6s
expect master VI_1 a
expect state b VI_1 BACKUP
`)
}

func TestWorldLinkDownDropsAdverts(t *testing.T) {
	runFake(t, `
start a b c
run 5s
link-down a:eth0
run 5s
expect state b VI_1 MASTER
expect arp lan 10.0.0.100 b
`)
}

func TestWorldUnicastReachesOnlyTheOwner(t *testing.T) {
	w := NewWorld(fakeBackend, 1)
	for _, n := range []string{"a", "b", "c"} {
		cfg, _, _ := parseFakeConf(n, "VI_1 vrid=1 prio=100 vip=10.0.0.100/24")
		if err := w.AddNode(n, cfg, n, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.AddSegment("lan", []string{"a:eth0", "b:eth0", "c:eth0"}, SegmentOpts{Latency: 1000}); err != nil {
		t.Fatal(err)
	}
	// Segment addressing: 10.0.0.1, .2, .3 in attachment order.
	if got := w.Node("c").Iface("eth0").primary(false).String(); got != "10.0.0.3" {
		t.Fatalf("c's address %s, want 10.0.0.3", got)
	}
	var got []string
	w.backend.NewEngine = func() Engine { return &recorder{log: &got} }
	for _, n := range w.Nodes() {
		if err := w.Start(n); err != nil {
			t.Fatal(err)
		}
	}
	w.sendAdvert(w.Node("a"), unicastAdvert("10.0.0.3"))
	w.Run(1e6)
	if len(got) != 1 || got[0] != "c 10.0.0.1>10.0.0.3" {
		t.Fatalf("unicast delivered %v, want only to c", got)
	}
}

func TestWorldDeterministic(t *testing.T) {
	body := `
segment x a:eth1 b:eth1 latency=1ms jitter=3ms loss=20 dup=20 reorder=20
trace on
start a b c
run 20s
kill a
run 10s
restart a
run 10s
`
	_, one := runFake(t, body)
	_, two := runFake(t, body)
	if one != two {
		t.Fatal("two runs of one seed differ")
	}
	if !strings.Contains(one, "TimerFired") {
		t.Fatal("trace missing events")
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{"bogus x", "run", "config a <<EOF\nno end", "stall a"} {
		if _, err := Parse("t.scn", ".", bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// runStrict runs the fake cluster plus body with the swarm's invariants
// and returns the timeline.
func runStrict(t *testing.T, b Backend, body string) string {
	t.Helper()
	s, err := Parse("strict.scn", ".", fakeCluster+`
config a2 <<EOF
VI_1 vrid=1 prio=150 vip=10.0.0.100/24
EOF
config a3 <<EOF
VI_2 vrid=2 prio=150 vip=10.0.0.102/24
EOF
`+body)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r := NewRunner(s, b, 1, &out)
	r.W.SetStrict(true, false)
	for _, c := range s.Cmds {
		if err := r.Exec(c); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}

func TestIdenticalReloadInvariant(t *testing.T) {
	body := `
start a b c
run 10s
reload a config=a2
run 10s
`
	if out := runStrict(t, fakeBackend, body); strings.Contains(out, "VIOLATION") {
		t.Fatalf("an identical reload that changes nothing is reported:\n%s", out)
	}
	churn := fakeBackend
	churn.NewEngine = func() Engine { return &fakeEngine{state: map[string]effects.State{}, reloadChurn: true} }
	out := runStrict(t, churn, body)
	if !strings.Contains(out, "VIOLATION reload: a reloaded an identical configuration, yet: StateChanged VI_1 MASTER->BACKUP") {
		t.Fatalf("want the reload churn reported:\n%s", out)
	}
}

func TestStrayVIPInvariant(t *testing.T) {
	// The fake engine forgets a removed instance without releasing its
	// address: the VIP stays on a, which no longer configures it.
	out := runStrict(t, fakeBackend, `
start a b c
run 10s
reload a config=a3
run 20s
`)
	if !strings.Contains(out, "VIOLATION vip: a holds 10.0.0.100 of VI_1, which it no longer configures") {
		t.Fatalf("want the stray VIP reported:\n%s", out)
	}
}

// TestWorldDropIsOneWay: with a's packets to b dropped, b stops hearing
// the master and takes over, while c still hears a and stays BACKUP;
// undropping lets b hear a again.
func TestWorldDropIsOneWay(t *testing.T) {
	runFake(t, `
start a b c
run 5s
expect master VI_1 a
drop a b
run 10s
expect state a VI_1 MASTER
expect state b VI_1 MASTER
expect state c VI_1 BACKUP
undrop a b
run 10s
expect master VI_1 a
`)
}

// TestWorldDropBoth: `drop a b both` cuts both ways; `undrop a b both`
// restores both.
func TestWorldDropBoth(t *testing.T) {
	runFake(t, `
start a b
run 5s
drop a b both
run 10s
expect state b VI_1 MASTER
undrop a b both
run 10s
expect master VI_1 a
`)
	if _, _, err := runFakeRaw("drop a b sideways\n"); err == nil || !strings.Contains(err.Error(), "want both") {
		t.Errorf("drop with a bad third argument: %v", err)
	}
	if _, _, err := runFakeRaw("drop a a\n"); err == nil {
		t.Error("drop a a: no error")
	}
}
