//go:build linux

package bfdnet

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// TestLoopback sends one packet per family to the Mux's own listener on
// the loopback interface: the event carries the packet, the source
// address and a source port in 49152-65535, the destination, the
// interface and the TTL or hop limit the packet was sent with.
func TestLoopback(t *testing.T) {
	m, err := New(Options{Now: func() events.Time { return 42 }, Port: 37841, MultihopPort: 47841})
	if err != nil {
		t.Skipf("no UDP sockets here: %v", err)
	}
	defer m.Close()
	if err := m.EnableMultihop(); err != nil {
		t.Fatal(err)
	}
	p := events.BFDPacket{Version: 1, State: events.BFDDown, DetectMult: 5, Length: 24, MyDisc: 7, DesiredMinTx: 1000000, RequiredMinRx: 10000}
	for _, c := range []struct {
		dst      string
		ttl      uint8
		multihop bool
	}{{"127.0.0.1", 255, false}, {"127.0.0.1", 17, true}, {"::1", 255, false}, {"::1", 64, true}} {
		dst := netip.MustParseAddr(c.dst)
		if dst.Is6() && m.tx6 == nil {
			continue
		}
		if err := m.Send(&effects.SendBFD{Session: "b1", Src: dst, Dst: dst, TTL: c.ttl, Multihop: c.multihop, Packet: p}); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-m.Events():
			fam := 4
			if dst.Is6() {
				fam = 6
			}
			if ev.Src != dst || ev.Dst != dst || ev.TTL != c.ttl || ev.Multihop != c.multihop || ev.Ifindex == 0 ||
				ev.Verdict != events.BFDVerdictOK || ev.Packet != p || int(ev.SrcPort) != m.Port(fam) || ev.SrcPort < 49152 || ev.At != 42 {
				t.Errorf("%s: got %+v", c.dst, ev)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("%s: nothing received", c.dst)
		}
	}
}
