package lvs

import (
	"net/netip"
	"testing"
	"time"

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

// FuzzLVSStep drives a machine with arbitrary event sequences and checks
// that it never panics, that its IPVS operations stay consistent with
// Table (strictly: no redundant operation), and that a snapshot restores
// a machine that continues identically.
func FuzzLVSStep(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 1, 0, 3, 50, 0, 4, 0, 1, 5, 10, 2, 3, 0, 0, 2, 0, 0})
	f.Add([]byte{1, 0, 0, 4, 1, 1, 4, 1, 2, 3, 100, 0, 6, 0, 0, 0, 0, 1, 2, 9, 9, 3, 255, 255})
	cfgs := fuzzConfigs(f)
	vss := []string{"tcp/10.0.0.1:80", "group/G/tcp", "tcp/9.9.9.9:1"}
	rss := []string{"10.0.1.1:80", "10.0.1.2:80", "10.0.1.3:80"}
	f.Fuzz(func(t *testing.T, b []byte) {
		h := newHarness(t)
		now := events.Time(0)
		for len(b) >= 3 {
			op, x, y := b[0], b[1], b[2]
			b = b[3:]
			now += events.Time(time.Duration(x) * 100 * time.Millisecond)
			hd := events.Header{At: now}
			var ev events.Event
			switch op % 8 {
			case 0:
				ev = &events.ConfigLoaded{Header: hd, Config: cfgs[int(y)%len(cfgs)]}
			case 1:
				ev = &events.Start{Header: hd, Seed: uint64(y)}
			case 2:
				ev = &events.Stop{Header: hd, KeepIPVS: y%2 == 0}
			case 3, 4:
				// fire the earliest armed timer
				key, at := h.next()
				if key == "" {
					continue
				}
				delete(h.timers, key)
				if at > now {
					now = at
				}
				ev = &events.TimerFired{Header: events.Header{At: now}, Key: key}
			case 5:
				ev = &events.CheckResult{Header: hd, VirtualServer: vss[int(x)%len(vss)], RealServer: rss[int(y)%len(rss)],
					Checker: int(y>>4) % 3, OK: y%3 != 0, Dynamic: x%5 == 0, Weight: int(y) - 100}
			case 6:
				ev = &events.AddressChanged{Header: hd, Interface: "eth0", Prefix: netip.MustParsePrefix("10.0.0.1/32"), Added: y%2 == 0}
			case 7:
				ev = &events.BFDState{Header: hd, Name: "b1", Up: y%2 == 0}
			}
			h.health["10.0.1.1:80"] = health{ok: x%4 != 0, msg: "x"}
			h.health["10.0.1.2:80"] = health{ok: y%3 != 0, weight: int(x) % 20, dynamic: x%2 == 0}
			h.health["10.0.1.3:80"] = health{ok: x%5 != 0, none: y%7 == 0}
			h.step(ev) // also applies the kernel-model check
		}
		checkDeterminism(t, h.log)
		for _, s := range h.m.Table() {
			for _, d := range s.Dests {
				if d.Weight < 0 {
					t.Fatalf("negative weight %d", d.Weight)
				}
			}
		}
	})
}
