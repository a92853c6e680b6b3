package engine

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// fuzzConfig: a sync group of two instances, a tracked instance (script,
// file, process, BFD, interface), a unicast v3 instance and an owner.
func fuzzConfig() *conf.Config {
	cfg := genConfig(5)
	w := 10
	cfg.VRRPScripts = []conf.VRRPScript{{Name: "chk", Script: conf.Script{Argv: []string{"/bin/chk"}}, Interval: conf.Duration(time.Second), Rise: 2, Fall: 2, Weight: 0},
		{Name: "wchk", Script: conf.Script{Argv: []string{"/bin/w"}}, Interval: conf.Duration(2 * time.Second), Rise: 1, Fall: 1, Weight: 20}}
	cfg.TrackFiles = []conf.TrackFile{{Name: "tf", File: "/run/tf", Weight: 3}}
	cfg.TrackProcesses = []conf.TrackProcess{{Name: "p", Process: "p", Quorum: 1, Weight: -15}}
	cfg.BFDInstances = []conf.BFDInstance{{Name: "b", Neighbor: netip.MustParseAddr("10.0.0.2"), MinRx: conf.Duration(10 * time.Millisecond),
		MinTx: conf.Duration(20 * time.Millisecond), IdleTx: conf.Duration(time.Second), Multiplier: 3, TTL: 255, Hoplimit: 64}}
	cfg.SyncGroups = []conf.SyncGroup{{Name: "G", Group: []string{"VI_0", "VI_1"}, TrackScripts: []conf.TrackRef{{Name: "chk"}}}}
	i2 := &cfg.Instances[2]
	i2.TrackScripts = []conf.TrackRef{{Name: "wchk"}}
	i2.TrackFiles = []conf.TrackRef{{Name: "tf"}}
	i2.TrackProcesses = []conf.TrackRef{{Name: "p"}}
	i2.TrackBFDs = []conf.TrackRef{{Name: "b", Weight: &w}}
	i2.TrackInterfaces = []conf.TrackRef{{Name: "eth1"}}
	i2.PreemptDelay = conf.Duration(2 * time.Second)
	i2.GARPMasterRefresh = conf.Duration(7 * time.Second)
	i3 := &cfg.Instances[3]
	i3.Version = 3
	i3.AdvertInt = conf.Duration(500 * time.Millisecond)
	i3.UnicastSrcIP = netip.MustParseAddr("10.0.0.1")
	i3.UnicastPeers = []conf.UnicastPeer{{Addr: netip.MustParseAddr("10.0.0.2")}, {Addr: netip.MustParseAddr("10.0.0.3"), MinTTL: 5}}
	i3.CheckUnicastSrc = true
	cfg.Instances[4].Priority = 255
	cfg.Instances[4].UseVMAC = true
	return cfg
}

var fuzzKeys = []string{"vrrp/VI_0/adv", "vrrp/VI_0/down", "vrrp/VI_1/down", "vrrp/VI_2/down", "vrrp/VI_2/adv",
	"vrrp/VI_2/garp2", "vrrp/VI_2/refresh", "vrrp/VI_3/down", "vrrp/VI_3/adv", "vrrp/VI_4/adv", "script/chk", "script/wchk", "bfd/b/tx", "bfd/b/detect", "x"}

// decodeEvent turns a few fuzz bytes into an event (nil when out of
// bytes); e is read for the BFD session's discriminator.
func decodeEvent(b []byte, now *events.Time, e *Engine) (events.Event, []byte) {
	if len(b) < 3 {
		return nil, nil
	}
	op, x, y := b[0], b[1], b[2]
	b = b[3:]
	*now += events.Time(time.Duration(x) * 20 * time.Millisecond)
	h := events.Header{At: *now}
	ifc := "eth" + string('0'+rune(y%2))
	switch op % 15 {
	case 0, 1, 2:
		src := netip.AddrFrom4([4]byte{10, 0, 0, y % 5})
		ev := &events.AdvertReceived{Header: h, Interface: ifc, Src: src, Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255,
			Advert: events.Advert{Version: 2 + x%2, Type: 1, VRID: y%6 + 1, Priority: x, Interval: 100, CountAddrs: 1}}
		if y&8 != 0 {
			ev.TTL = x
		}
		if y&16 != 0 {
			ev.Verdict = events.Verdict(x % 8)
		}
		if y&32 != 0 {
			ev.Advert.Interval = uint16(x)
		}
		if y&64 != 0 {
			ev.Dst = netip.AddrFrom4([4]byte{10, 0, 0, 1})
		}
		return ev, b
	case 3, 4, 5:
		return &events.TimerFired{Header: h, Key: fuzzKeys[int(y)%len(fuzzKeys)]}, b
	case 6:
		return &events.LinkChanged{Header: h, Interface: ifc, Present: x&1 == 0, Up: x&2 == 0, Running: x&4 == 0}, b
	case 7:
		return &events.AddressChanged{Header: h, Interface: ifc, Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 0, y % 8}), 16), Added: x&1 == 0}, b
	case 8:
		names := []string{"chk", "wchk", "nope"}
		return &events.ScriptResult{Header: h, Script: names[int(y)%3], Status: int(x % 3), TimedOut: x&8 != 0}, b
	case 9:
		return &events.TrackFileValue{Header: h, File: "tf", Value: int64(int8(x))}, b
	case 10:
		return &events.ProcessCount{Header: h, Process: "p", Count: int(x % 4)}, b
	case 11:
		return &events.BFDState{Header: h, Name: "b", Up: x&1 == 0}, b
	case 13:
		// A BFD packet from the session's neighbour (or not), in any
		// state, with Your Discriminator 0 or the fuzz's.
		ev := &events.BFDReceived{Header: h, Src: netip.AddrFrom4([4]byte{10, 0, 0, 2 + y%2}), TTL: 255 - y%3,
			Packet: events.BFDPacket{Version: 1, State: x % 4, DetectMult: y % 4, Length: 24, MyDisc: uint32(x),
				Poll: y&4 != 0, Final: y&8 != 0, Demand: y&16 != 0, DesiredMinTx: uint32(x) * 1000, RequiredMinRx: uint32(y%8) * 5000}}
		if y&32 != 0 {
			for _, st := range e.BFDSessions() {
				ev.Packet.YourDisc = st.LocalDisc
			}
		}
		return ev, b
	case 12:
		if x%16 == 0 {
			return &events.Stop{Header: h}, b
		}
		return &events.Start{Header: h, Seed: uint64(y)}, b
	default:
		cfg := fuzzConfig()
		if x&1 == 0 {
			cfg.Instances = cfg.Instances[:3]
		}
		cfg.Instances[0].Priority = int(y)
		return &events.ConfigLoaded{Header: h, Config: cfg}, b
	}
}

func FuzzStep(f *testing.F) {
	f.Add([]byte{3, 200, 2, 0, 10, 1, 8, 0, 0, 8, 0, 0, 0, 150, 1})
	f.Add([]byte{6, 1, 0, 4, 200, 1, 0, 0, 3, 13, 1, 250, 12, 16, 0})
	f.Add([]byte{0, 0, 1, 2, 255, 0, 4, 100, 9, 7, 3, 1, 11, 0, 0, 10, 3, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		e := New()
		now := events.Time(0)
		e.Step(&events.ConfigLoaded{Config: fuzzConfig()})
		e.Step(&events.Start{Seed: 1})
		for n := 0; n < 200; n++ {
			var ev events.Event
			ev, data = decodeEvent(data, &now, e)
			if ev == nil {
				break
			}
			before := stateByName(e)
			effs := e.Step(ev)
			after := stateByName(e)
			checkInvariants(t, e, ev, effs, before, after)
		}
		st, err := e.MarshalState()
		if err != nil {
			t.Fatal(err)
		}
		r, err := RestoreState(st)
		if err != nil {
			t.Fatal(err)
		}
		if st2, _ := r.MarshalState(); string(st2) != string(st) {
			t.Fatal("state does not round-trip")
		}
	})
}

func stateByName(e *Engine) map[string]InstanceStatus {
	m := map[string]InstanceStatus{}
	for _, s := range e.Instances() {
		m[s.Name] = s
	}
	return m
}

func checkInvariants(t *testing.T, e *Engine, ev events.Event, effs []effects.Effect, before, after map[string]InstanceStatus) {
	t.Helper()
	if _, reload := ev.(*events.ConfigLoaded); reload {
		return
	}
	for _, x := range effs {
		switch v := x.(type) {
		case *effects.SendAdvert:
			wasMaster := before[v.Instance].State == effects.StateMaster
			isMaster := after[v.Instance].State == effects.StateMaster
			if v.Priority == 0 && !wasMaster {
				t.Fatalf("%T: priority-0 advert from %s that was not MASTER", ev, v.Instance)
			}
			if v.Priority != 0 && !wasMaster && !isMaster {
				t.Fatalf("%T: advert from %s that is not MASTER (%s→%s)", ev, v.Instance, before[v.Instance].State, after[v.Instance].State)
			}
		case *effects.AddAddress:
			if v.Instance != "" && after[v.Instance].State != effects.StateMaster {
				t.Fatalf("%T: %s adds an address while %s", ev, v.Instance, after[v.Instance].State)
			}
		}
	}
	for _, s := range after {
		if s.BasePriority == 255 && s.Priority != 255 {
			t.Fatalf("owner %s at priority %d", s.Name, s.Priority)
		}
		if s.BasePriority != 255 && (s.Priority < 1 || s.Priority > 254) {
			t.Fatalf("%s at priority %d", s.Name, s.Priority)
		}
	}
}
