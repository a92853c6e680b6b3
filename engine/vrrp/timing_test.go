package vrrp

import (
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

func TestSkew(t *testing.T) {
	for _, c := range []struct {
		ver       uint8
		prio      int
		masterAdv time.Duration
		want      time.Duration
	}{
		{2, 100, time.Second, 609375 * time.Microsecond},
		{2, 150, time.Second, 414062 * time.Microsecond}, // keepalived truncates to µs
		{2, 255, time.Second, 3906 * time.Microsecond},
		{3, 100, time.Second, 609375 * time.Microsecond},
		{3, 100, 100 * time.Millisecond, 60937 * time.Microsecond}, // KEEPALIVED-FACTS: 60.9 ms
		{3, 100, 500 * time.Millisecond, 304687 * time.Microsecond},
	} {
		if got := skewFor(c.ver, 256-c.prio, c.masterAdv); got != c.want {
			t.Errorf("v%d prio %d adv %v: skew %v, want %v", c.ver, c.prio, c.masterAdv, got, c.want)
		}
	}
}

// TestScriptRiseFall follows keepalived's result counter: a script that
// never ran starts one success short of rise; init_fail starts at 0.
func TestScriptRiseFall(t *testing.T) {
	steps := func(c conf.VRRPScript, results string) string {
		s := &script{cfg: &c, dyn: newScriptDyn(&c)}
		out := ""
		for _, r := range results {
			s.result(r == '+')
			if s.dyn.OK {
				out += "U"
			} else {
				out += "d"
			}
		}
		return out
	}
	for _, c := range []struct {
		c       conf.VRRPScript
		results string
		want    string
	}{
		{conf.VRRPScript{Rise: 1, Fall: 1}, "+-+", "UdU"},
		{conf.VRRPScript{Rise: 2, Fall: 2}, "+--+-++", "UUddddU"},
		{conf.VRRPScript{Rise: 3, Fall: 1, InitFail: true}, "+++-", "ddUd"},
		{conf.VRRPScript{Rise: 2, Fall: 3}, "+---", "UUUd"},
	} {
		if got := steps(c.c, c.results); got != c.want {
			t.Errorf("rise %d fall %d init_fail %v, %s: %s, want %s", c.c.Rise, c.c.Fall, c.c.InitFail, c.results, got, c.want)
		}
	}
}
