package engine

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// TestTimer checks that every timer key the engine sets or cancels is one
// Timer knows, with the kind and owner of the rule that armed it, and
// that Timer changes nothing.
func TestTimer(t *testing.T) {
	cfg, diags, err := config.LoadString("keepalived.conf", `
interface_up_down_delays {
  eth1 1
}
vrrp_script chk {
  script "/bin/true"
  interval 2
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  garp_master_delay 2
  garp_master_refresh 10
  garp_lower_prio_delay 2
  garp_lower_prio_repeat 2
  track_script {
    chk weight 10
  }
  virtual_ipaddress {
    10.0.0.100/24
  }
}
vrrp_instance VI_2 {
  interface eth1
  virtual_router_id 52
  priority 100
  virtual_ipaddress {
    10.0.1.100/24
  }
}
virtual_server 10.0.0.100 80 {
  protocol TCP
  delay_loop 5
  real_server 10.0.2.1 80 {
    TCP_CHECK {
      warmup 0
    }
  }
}`, config.Options{})
	if err != nil {
		t.Fatalf("config: %v\n%v", err, diags)
	}
	e := New()
	seen := map[effects.TimerKind]TimerInfo{}
	armed := map[string]events.Time{}
	at := events.Time(0)
	step := func(ev events.Event) {
		events.Stamp(ev, at)
		for _, f := range e.Step(ev) {
			var key string
			switch v := f.(type) {
			case *effects.SetTimer:
				key, armed[v.Key] = v.Key, v.At
			case *effects.CancelTimer:
				key = v.Key
				delete(armed, v.Key)
			default:
				continue
			}
			info, ok := e.Timer(key)
			if !ok || info.Kind == 0 {
				t.Fatalf("%T: Timer(%q) = %+v, %v", ev, key, info, ok)
			}
			seen[info.Kind] = info
		}
	}
	group := netip.MustParseAddr("224.0.0.18")
	step(&events.ConfigLoaded{Config: cfg})
	step(&events.LinkChanged{Interface: "eth0", Present: true, Up: true, Running: true})
	step(&events.LinkChanged{Interface: "eth1", Present: true, Up: true, Running: true})
	step(&events.AddressChanged{Interface: "eth0", Prefix: netip.MustParsePrefix("10.0.0.1/24"), Added: true})
	step(&events.Start{Seed: 1, ReportsJoins: true})
	step(&events.GroupJoined{Interface: "eth0", Group: group})
	step(&events.GroupJoined{Interface: "eth1", Group: group, Err: "no such device"})
	step(&events.ScriptResult{Script: "chk"})
	// Fire every timer due in the next 12 s, as a driver would.
	for end := events.Time(12 * time.Second); ; {
		next, key := end+1, ""
		for k, a := range armed {
			if a < next || (a == next && k < key) {
				next, key = a, k
			}
		}
		if next > end {
			break
		}
		delete(armed, key)
		at = next
		step(&events.TimerFired{Key: key})
	}
	step(&events.AdvertReceived{Interface: "eth0", Src: netip.MustParseAddr("10.0.0.2"), Dst: group, TTL: 255,
		Advert: events.Advert{Version: 2, Type: 1, VRID: 51, Priority: 50, Interval: 100, CountAddrs: 1,
			Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.100")}}})
	// The retry fails too; eth1 then reported present cancels the retry
	// timer and joins at once: the CancelTimer's key is one Timer knows.
	step(&events.GroupJoined{Interface: "eth1", Group: group, Err: "no such device"})
	retry := ""
	for k := range armed {
		if info, _ := e.Timer(k); info.Kind == effects.TimerSocketRetry {
			retry = k
		}
	}
	if retry == "" {
		t.Fatal("no socket retry armed after a failed join")
	}
	step(&events.LinkChanged{Interface: "eth1", Present: true})
	if _, ok := armed[retry]; ok {
		t.Errorf("%s still armed once its interface appeared", retry)
	}

	want := map[effects.TimerKind]TimerInfo{
		effects.TimerAdvert:        {Kind: effects.TimerAdvert, Instance: "VI_1"},
		effects.TimerMasterDown:    {Kind: effects.TimerMasterDown, Instance: "VI_1"},
		effects.TimerSecondGARP:    {Kind: effects.TimerSecondGARP, Instance: "VI_1"},
		effects.TimerGARPRefresh:   {Kind: effects.TimerGARPRefresh, Instance: "VI_1"},
		effects.TimerTrackScript:   {Kind: effects.TimerTrackScript, Script: "chk"},
		effects.TimerSocketRetry:   {Kind: effects.TimerSocketRetry, Interface: "eth1", Group: group},
		effects.TimerLinkDelay:     {Kind: effects.TimerLinkDelay, Interface: "eth1"},
		effects.TimerCheck:         {Kind: effects.TimerCheck, VirtualServer: "tcp/10.0.0.100:80", RealServer: "10.0.2.1:80"},
		effects.TimerLowerPrioGARP: {Kind: effects.TimerLowerPrioGARP, Instance: "VI_1"},
	}
	for kind, w := range want {
		if got := seen[kind]; got != w {
			t.Errorf("%s: Timer says %+v, want %+v", kind, got, w)
		}
	}
	if _, ok := e.Timer("vrrp/VI_9/down"); ok {
		t.Error("a key of no configured instance is known")
	}
	if _, ok := e.Timer("lvs/tcp/10.0.0.9:80/10.0.2.1:80/0"); ok {
		t.Error("a checker key of no configured virtual server is known")
	}
	if _, ok := e.Timer(""); ok {
		t.Error("the empty key is known")
	}
	before, err := e.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	for key := range armed {
		e.Timer(key)
	}
	if after, _ := e.MarshalState(); string(after) != string(before) {
		t.Error("Timer changed the state")
	}
}

// TestAdvertScheduleFromDeadline checks that a master's next advert is due
// one interval after the previous one was due, not after the late moment
// its timer was served; more than an interval late, from now.
func TestAdvertScheduleFromDeadline(t *testing.T) {
	cfg, diags, err := config.LoadString("keepalived.conf", `
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  version 3
  priority 255
  advert_int 0.1
  virtual_ipaddress {
    10.0.0.1/24
  }
}`, config.Options{})
	if err != nil {
		t.Fatalf("config: %v\n%v", err, diags)
	}
	e := New()
	advertKey, due := "", events.Time(0)
	step := func(ev events.Event, at events.Time) {
		events.Stamp(ev, at)
		for _, f := range e.Step(ev) {
			if v, ok := f.(*effects.SetTimer); ok {
				if info, _ := e.Timer(v.Key); info.Kind == effects.TimerAdvert {
					advertKey, due = v.Key, v.At
				}
			}
		}
	}
	step(&events.ConfigLoaded{Config: cfg}, 0)
	step(&events.LinkChanged{Interface: "eth0", Present: true, Up: true, Running: true}, 0)
	step(&events.AddressChanged{Interface: "eth0", Prefix: netip.MustParsePrefix("10.0.0.1/24"), Added: true}, 0)
	step(&events.Start{Seed: 1, ReportsJoins: true}, 0)
	step(&events.GroupJoined{Interface: "eth0", Group: netip.MustParseAddr("224.0.0.18")}, 0)
	if advertKey == "" {
		t.Fatal("no advert timer armed")
	}
	const interval = events.Time(100 * time.Millisecond)
	for _, c := range []struct {
		late events.Time // served this long after the deadline
		want func(deadline, now events.Time) events.Time
	}{
		{0, func(d, _ events.Time) events.Time { return d + interval }},
		{30 * events.Time(time.Millisecond), func(d, _ events.Time) events.Time { return d + interval }},
		{99 * events.Time(time.Millisecond), func(d, _ events.Time) events.Time { return d + interval }},
		{150 * events.Time(time.Millisecond), func(_, now events.Time) events.Time { return now + interval }},
	} {
		d := due
		now := d + c.late
		step(&events.TimerFired{Key: advertKey}, now)
		if w := c.want(d, now); due != w {
			t.Errorf("served %v late: next advert at %v, want %v", time.Duration(c.late), time.Duration(due), time.Duration(w))
		}
	}
}
