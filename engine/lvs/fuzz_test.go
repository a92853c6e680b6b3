package lvs_test

import (
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/driver/scenario"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

const fuzzConf = `
global_defs {
  lvs_notify_fifo /run/lvs.fifo
}
bfd_instance b1 {
  neighbor_ip 10.0.1.3
}
virtual_server_group G {
  10.0.0.5-6 80
  fwmark 9
}
virtual_server 10.0.0.1 80 {
  protocol TCP
  delay_loop 3
  quorum 3
  hysteresis 1
  ha_suspend
  sorry_server 10.0.9.9 80
  sorry_server_inhibit
  real_server 10.0.1.1 80 {
    weight 2
    inhibit_on_failure
    TCP_CHECK {
      retry 2
      delay_before_retry 1
    }
  }
  real_server 10.0.1.2 80 {
    alpha
    weight 2
    MISC_CHECK {
      misc_path /bin/x
      misc_dynamic
    }
    HTTP_GET {
      url {
        path /
      }
    }
  }
}
virtual_server group G {
  protocol TCP
  lvs_method DR
  omega
  delay_loop 2
  real_server 10.0.1.3 80 {
    BFD_CHECK {
      name b1
    }
    TCP_CHECK {
    }
  }
}
`

func loadConf(t testing.TB, text string) *conf.Config {
	t.Helper()
	cfg, diags, err := config.LoadString("keepalived.conf", text, config.Options{})
	if err != nil {
		t.Fatalf("config: %v\n%v", err, diags)
	}
	return cfg
}

// fuzzConfigs are the configurations fuzz events load: the base one, and
// variants for reloads.
func fuzzConfigs(t testing.TB) []*conf.Config {
	base := loadConf(t, fuzzConf)
	alt := loadConf(t, fuzzConf)
	alt.VirtualServers[0].RealServers = alt.VirtualServers[0].RealServers[:1]
	alt.VirtualServers[0].Scheduler = "rr"
	alt.GlobalDefs.LVSFlushOnStop = "VS"
	return []*conf.Config{base, alt}
}

// FuzzLVSStep drives an engine with arbitrary event sequences through
// the scenario harness and checks that it never panics, that its IPVS
// operations stay consistent with its table (strictly: no redundant
// operation, the harness's IPVS model), and that a snapshot restores an
// engine that continues identically.
func FuzzLVSStep(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 1, 0, 3, 50, 0, 4, 0, 1, 5, 10, 2, 3, 0, 0, 2, 0, 0})
	f.Add([]byte{1, 0, 0, 4, 1, 1, 4, 1, 2, 3, 100, 0, 6, 0, 0, 0, 0, 1, 2, 9, 9, 3, 255, 255})
	cfgs := fuzzConfigs(f)
	vss := []string{"tcp/10.0.0.1:80", "group/G/tcp", "tcp/9.9.9.9:1"}
	rss := []string{"10.0.1.1:80", "10.0.1.2:80", "10.0.1.3:80"}
	f.Fuzz(func(t *testing.T, b []byte) {
		h := scenario.New()
		for len(b) >= 3 {
			op, x, y := b[0], b[1], b[2]
			b = b[3:]
			h.Now += events.Time(time.Duration(x) * 100 * time.Millisecond)
			var ev events.Event
			switch op % 8 {
			case 0:
				ev = &events.ConfigLoaded{Config: cfgs[int(y)%len(cfgs)]}
			case 1:
				ev = &events.Start{Seed: uint64(y)}
			case 2:
				ev = &events.Stop{KeepIPVS: y%2 == 0}
			case 3, 4:
				// fire the earliest armed timer
				fired, ok := h.Timers.PopDue(math.MaxInt64)
				if !ok {
					continue
				}
				h.Now = max(h.Now, fired.At)
				ev = fired
			case 5:
				ev = &events.CheckResult{VirtualServer: vss[int(x)%len(vss)], RealServer: rss[int(y)%len(rss)],
					Checker: int(y>>4) % 3, OK: y%3 != 0, Dynamic: x%5 == 0, Weight: int(y) - 100}
			case 6:
				ev = &events.AddressChanged{Interface: "eth0", Prefix: netip.MustParsePrefix("10.0.0.1/32"), Added: y%2 == 0}
			case 7:
				ev = &events.BFDState{Name: "b1", Up: y%2 == 0}
			}
			h.Health.Set("", "10.0.1.1:80", -1, scenario.Answer{OK: x%4 != 0, Message: "x"})
			h.Health.Set("", "10.0.1.2:80", -1, scenario.Answer{OK: y%3 != 0, Weight: int(x) % 20, Dynamic: x%2 == 0})
			h.Health.Set("", "10.0.1.3:80", -1, scenario.Answer{OK: x%5 != 0, None: y%7 == 0})
			// Step stamps ev with h.Now, answers its RunChecks and checks
			// the IPVS model against the engine's table.
			if err := h.Step(ev); err != nil {
				t.Fatal(err)
			}
		}
		scenario.CheckDeterminism(t, h.Log)
		for _, s := range h.Engine.IPVSTable() {
			for _, d := range s.Dests {
				if d.Weight < 0 {
					t.Fatalf("negative weight %d", d.Weight)
				}
			}
		}
	})
}
