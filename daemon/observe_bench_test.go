package daemon

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events"
)

// BenchmarkLoopObserver is what the Observer adds to a step: a BACKUP
// receiving its master's adverts, the commonest event, with and without
// one (publications included, at the daemon's 500 ms interval).
func BenchmarkLoopObserver(b *testing.B) {
	for _, c := range []struct {
		name string
		f    []func(*Loop)
	}{{"without", nil}, {"with", []func(*Loop){func(l *Loop) {
		l.Status = &Observer{Engine: l.Engine, Now: l.Now}
	}}}} {
		b.Run(c.name, func(b *testing.B) {
			tl := newTestLoop(b, loadTestConf(b, "10.77.0.100/24"), c.f...)
			ev := &events.AdvertReceived{Interface: "eth0", Src: netip.MustParseAddr("10.77.0.12"),
				Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255, Length: 20,
				Advert: events.Advert{Version: 2, Type: 1, VRID: 77, Priority: 150, CountAddrs: 1, Interval: 100,
					Addrs: []netip.Addr{netip.MustParseAddr("10.77.0.100")}}}
			tl.l.running = true
			b.ReportAllocs()
			for b.Loop() {
				ev.At = tl.l.Now()
				tl.l.Step(ev)
			}
			_ = time.Second
		})
	}
}
