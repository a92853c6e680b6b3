package engine

import (
	"net/netip"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// genConfig builds n VRRPv2 instances in Go (with the effective values the
// parser fills in), 255 VRIDs per interface eth0, eth1, ...
func genConfig(n int) *conf.Config {
	cfg := &conf.Config{}
	cfg.GlobalDefs.VRRPVersion = 2
	cfg.Instances = make([]conf.Instance, n)
	for k := range n {
		ifc, vrid := k/255, k%255+1
		cfg.Instances[k] = conf.Instance{
			Name: "VI_" + strconv.Itoa(k), Interface: "eth" + strconv.Itoa(ifc), Family: 4, Version: 2,
			VRID: vrid, Priority: 100, AdvertInt: conf.Duration(time.Second), DownTimerAdverts: 3,
			UnicastTTL: 255, Accept: true,
			GARPMasterDelay: conf.Duration(5 * time.Second), GARPMasterRepeat: 5, GARPMasterRefreshRepeat: 1,
			GARPLowerPrioDelay: conf.Duration(5 * time.Second), GARPLowerPrioRepeat: 5,
			VirtualIPAddresses: []conf.Address{{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(ifc >> 8), byte(ifc), byte(vrid)}), 16)}},
		}
	}
	return cfg
}

func startEngine(tb testing.TB, cfg *conf.Config) *Engine {
	e := New()
	e.Step(&events.ConfigLoaded{Config: cfg})
	e.Step(&events.Start{Seed: 1})
	return e
}

func BenchmarkStep(b *testing.B) {
	b.Run("backup-advert", func(b *testing.B) {
		cfg := genConfig(1000)
		e := startEngine(b, cfg)
		ev := &events.AdvertReceived{Interface: "eth0", Src: netip.MustParseAddr("10.0.0.2"),
			Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255, Length: 20,
			Advert: events.Advert{Version: 2, Type: 1, VRID: 51, Priority: 150, Interval: 100, CountAddrs: 1,
				Addrs: []netip.Addr{cfg.Instances[50].VirtualIPAddresses[0].Prefix.Addr()}}}
		if out := e.Step(ev); len(out) != 2 {
			b.Fatalf("unexpected effects: %d", len(out))
		}
		b.ReportAllocs()
		b.ResetTimer()
		for k := 0; k < b.N; k++ {
			ev.At += events.Time(time.Second)
			e.Step(ev)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("master-timer", func(b *testing.B) {
		cfg := genConfig(1000)
		cfg.Instances[50].Priority = 255 // owner: MASTER at once
		e := startEngine(b, cfg)
		ev := &events.TimerFired{Key: "vrrp/VI_50/adv"}
		at := events.Time(time.Second)
		b.ReportAllocs()
		b.ResetTimer()
		for k := 0; k < b.N; k++ {
			ev.At = at
			if len(e.Step(ev)) != 3 {
				b.Fatal("no advert")
			}
			at += events.Time(time.Second)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// TestSteadyStateAllocs pins the 0 allocs/op goal of the hot paths.
func TestSteadyStateAllocs(t *testing.T) {
	cfg := genConfig(300)
	e := startEngine(t, cfg)
	adv := &events.AdvertReceived{Interface: "eth0", Src: netip.MustParseAddr("10.0.0.2"),
		Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255,
		Advert: events.Advert{Version: 2, Type: 1, VRID: 7, Priority: 150, Interval: 100, CountAddrs: 1,
			Addrs: []netip.Addr{cfg.Instances[6].VirtualIPAddresses[0].Prefix.Addr()}}}
	e.Step(adv)
	if n := testing.AllocsPerRun(100, func() { adv.At += events.Time(time.Second); e.Step(adv) }); n != 0 {
		t.Errorf("backup advert: %v allocs/op", n)
	}
	cfg2 := genConfig(10)
	cfg2.Instances[3].Priority = 255
	e2 := startEngine(t, cfg2)
	tf := &events.TimerFired{Key: "vrrp/VI_3/adv"}
	at := events.Time(time.Second)
	if n := testing.AllocsPerRun(100, func() { tf.At = at; e2.Step(tf); at += events.Time(time.Second) }); n != 0 {
		t.Errorf("master timer: %v allocs/op", n)
	}
}

// BenchmarkMemoryPerInstance reports the heap held per instance (config
// model included) with 65,024 instances started.
func BenchmarkMemoryPerInstance(b *testing.B) {
	const n = 65024
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		e := startEngine(b, genConfig(n))
		runtime.GC()
		runtime.ReadMemStats(&after)
		if got := len(e.Instances()); got != n {
			b.Fatalf("%d instances", got)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/instance")
		runtime.KeepAlive(e)
	}
}
