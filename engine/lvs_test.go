package engine_test

import (
	"testing"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/driver/scenario"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
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

// TestLVSWiring checks that Step routes the LVS events (its timers, check
// results) to engine/lvs, joins its effects after VRRP's, and that the
// engine state carries the LVS part.
func TestLVSWiring(t *testing.T) {
	cfg := loadConf(t, `
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    10.0.0.1/24
  }
}
virtual_server 10.0.0.1 80 {
  protocol TCP
  delay_loop 5
  real_server 10.0.1.1 80 {
    TCP_CHECK {
      warmup 0
    }
  }
}`)
	e := engine.New()
	var log []events.Event
	step := func(ev events.Event) []effects.Effect { log = append(log, ev); return e.Step(ev) }
	step(&events.ConfigLoaded{Config: cfg})
	var kinds []effects.Kind
	var timer string
	for _, f := range step(&events.Start{Seed: 1}) {
		kinds = append(kinds, f.EffectKind())
		if s, ok := f.(*effects.SetTimer); ok && s.Key[:4] == "lvs/" {
			timer = s.Key
		}
	}
	if timer == "" || kinds[len(kinds)-1] != effects.KindNotify {
		t.Fatalf("start: no LVS timer or LVS effects not last: %v", kinds)
	}
	var run *effects.RunCheck
	for _, f := range step(&events.TimerFired{Header: events.Header{At: 1e9}, Key: timer}) {
		if r, ok := f.(*effects.RunCheck); ok {
			run = r
		}
	}
	if run == nil {
		t.Fatal("the LVS timer produced no RunCheck")
	}
	res := &events.CheckResult{Header: events.Header{At: 1e9}, VirtualServer: run.VirtualServer, RealServer: run.RealServer, Checker: run.Checker}
	var del bool
	for _, f := range step(res) {
		if s, ok := f.(*effects.SetIPVS); ok && s.Op == effects.IPVSDelDest {
			del = true
		}
	}
	if !del {
		t.Fatal("a failed check did not remove the real server")
	}
	if st := e.VirtualServers(); len(st) != 1 || st[0].RealServers[0].Alive {
		t.Fatalf("status: %+v", st)
	}
	if tbl := e.IPVSTable(); len(tbl) != 1 || len(tbl[0].Dests) != 0 {
		t.Fatalf("table: %+v", tbl)
	}
	step(&events.TimerFired{Header: events.Header{At: 6e9}, Key: timer})
	scenario.CheckDeterminism(t, log)
}
