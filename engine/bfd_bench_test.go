package engine

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// genBFDConfig builds n bfd_instances at 50 ms × 3 (bench/bfd-scale.sh's
// shape): session k from 10.1.x.y to 10.2.x.y.
func genBFDConfig(n int) *conf.Config {
	cfg := &conf.Config{}
	cfg.BFDInstances = make([]conf.BFDInstance, n)
	for k := range n {
		cfg.BFDInstances[k] = conf.BFDInstance{Name: "s" + strconv.Itoa(k),
			Neighbor: netip.AddrFrom4([4]byte{10, 2, byte(k >> 8), byte(k)}),
			Source:   netip.AddrFrom4([4]byte{10, 1, byte(k >> 8), byte(k)}),
			MinRx:    conf.Duration(50 * time.Millisecond), MinTx: conf.Duration(50 * time.Millisecond),
			IdleTx: conf.Duration(time.Second), Multiplier: 3, TTL: 255, MaxHops: 255, Hoplimit: 64}
	}
	return cfg
}

// bfdUp brings session k of e Up (the neighbour's Init) and returns the
// packet that keeps it Up.
func bfdUp(tb testing.TB, e *Engine, cfg *conf.Config, k int, at events.Time) *events.BFDReceived {
	tb.Helper()
	c := &cfg.BFDInstances[k]
	ev := &events.BFDReceived{Header: events.Header{At: at}, Src: c.Neighbor, SrcPort: 49152, Dst: c.Source, TTL: 255,
		Packet: events.BFDPacket{Version: 1, State: events.BFDInit, DetectMult: 3, Length: 24, MyDisc: uint32(k + 1),
			DesiredMinTx: 50000, RequiredMinRx: 50000}}
	var local uint32
	for _, s := range e.BFDSessions() {
		if s.Name == c.Name {
			local = s.LocalDisc
		}
	}
	ev.Packet.YourDisc = local
	e.Step(ev)
	ev.Packet.State, ev.Packet.Final = events.BFDUp, true
	ev.At += events.Time(time.Millisecond)
	e.Step(ev)
	ev.Packet.Final = false
	for _, s := range e.BFDSessions() {
		if s.Name == c.Name && s.State != events.BFDUp {
			tb.Fatalf("session %s is in state %d, not Up", c.Name, s.State)
		}
	}
	return ev
}

// BenchmarkBFD is the engine's share of a BFD session's steady state at
// 1,000 sessions: a received packet (Up, keeping the session Up) and a
// transmit timer.
func BenchmarkBFD(b *testing.B) {
	const n = 1000
	b.Run("receive", func(b *testing.B) {
		cfg := genBFDConfig(n)
		e := startEngine(b, cfg)
		ev := bfdUp(b, e, cfg, n-1, events.Time(time.Second))
		ev.At += events.Time(40 * time.Millisecond)
		if out := e.Step(ev); len(out) == 0 {
			b.Fatal("the packet re-arms no detection timer")
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			ev.At += events.Time(40 * time.Millisecond)
			e.Step(ev)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("tx-timer", func(b *testing.B) {
		cfg := genBFDConfig(n)
		e := startEngine(b, cfg)
		ev := bfdUp(b, e, cfg, n-1, events.Time(time.Second))
		tf := &events.TimerFired{Key: "bfd/" + cfg.BFDInstances[n-1].Name + "/tx"}
		ev.At += events.Time(50 * time.Millisecond)
		tf.At = ev.At
		if out := e.Step(tf); len(out) == 0 {
			b.Fatal("the transmit timer sends nothing")
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			ev.At += events.Time(50 * time.Millisecond)
			tf.At = ev.At
			e.Step(tf)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
