package lvs

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

func loadConf(t testing.TB, text string) *conf.Config {
	t.Helper()
	cfg, diags, err := config.LoadString("keepalived.conf", text, config.Options{})
	if err != nil {
		t.Fatalf("config: %v\n%v", err, diags)
	}
	return cfg
}

// benchConf builds n virtual servers of 10 real servers each.
func benchConf(n int) string {
	var b strings.Builder
	for v := range n {
		b.WriteString("virtual_server 10.0.0." + strconv.Itoa(v+1) + " 80 {\n protocol TCP\n delay_loop 5\n")
		for r := range 10 {
			b.WriteString(" real_server 10.1." + strconv.Itoa(v) + "." + strconv.Itoa(r+1) + " 80 {\n  TCP_CHECK {\n  }\n }\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// BenchmarkCheckResult measures the common step: a successful check of an
// up real server (the timer is re-armed, nothing else changes).
func BenchmarkCheckResult(b *testing.B) {
	m := New()
	m.Step(&events.ConfigLoaded{Config: loadConf(b, benchConf(10))})
	m.Step(&events.Start{Seed: 1})
	ck := m.model.vservers[3].reals[4].checkers[0]
	at := events.Time(1e9)
	fire := &events.TimerFired{Key: ck.timerKey}
	res := &events.CheckResult{VirtualServer: ck.rs.vs.id, RealServer: ck.rs.id, OK: true}
	b.ReportAllocs()
	for b.Loop() {
		at = max(at, ck.dyn.Due)
		fire.At, res.At = at, at
		m.Step(fire) // RunCheck
		m.Step(res)  // SetTimer
	}
}

// BenchmarkCheckResultFlap measures a real server going down and up: the
// verdict, the table diff, the notifications.
func BenchmarkCheckResultFlap(b *testing.B) {
	m := New()
	m.Step(&events.ConfigLoaded{Config: loadConf(b, benchConf(10))})
	m.Step(&events.Start{Seed: 1})
	ck := m.model.vservers[3].reals[4].checkers[0]
	ck.cfg.Retry = 0
	at := events.Time(1e9)
	fire := &events.TimerFired{Key: ck.timerKey}
	res := &events.CheckResult{VirtualServer: ck.rs.vs.id, RealServer: ck.rs.id}
	b.ReportAllocs()
	for b.Loop() {
		at = max(at, ck.dyn.Due)
		fire.At, res.At = at, at
		res.OK = !res.OK
		m.Step(fire)
		m.Step(res)
	}
}

// TestWarmupBounds checks the warmup draw: within [0, warmup], a function
// of the seed and the checker only, and spread over the range.
func TestWarmupBounds(t *testing.T) {
	m := New()
	m.Step(&events.ConfigLoaded{Config: loadConf(t, benchConf(20))})
	ck := m.model.vservers[0].reals[0].checkers[0]
	w := ck.cfg.Warmup.Std()
	seen := map[bool]int{}
	for seed := range uint64(500) {
		m.seed = seed
		d := m.warmup(ck)
		if d < 0 || d > w {
			t.Fatalf("seed %d: warmup %s outside [0, %s]", seed, d, w)
		}
		if d != m.warmup(ck) {
			t.Fatal("warmup is not a function of seed and checker")
		}
		seen[d < w/2]++
	}
	if seen[true] < 150 || seen[false] < 150 {
		t.Fatalf("warmup draws are not spread: %v", seen)
	}
}
