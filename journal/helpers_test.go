package journal

import (
	"fmt"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// synth returns the synthetic event for seq and the effects a tiny fake
// engine would produce for it: mostly adverts, as in production, with a
// number of effects that depends on seq so pairing errors show.
func synth(seq uint64) (events.Event, []effects.Effect) {
	at := events.Time(seq * 10_000_000)
	switch seq % 16 {
	case 5:
		return &events.TimerFired{Header: events.Header{At: at}, Key: "vrrp/VI_1/adver"},
			[]effects.Effect{&effects.SetTimer{Key: "vrrp/VI_1/adver", At: at + 1_000_000_000}}
	case 11:
		return &events.CheckResult{Header: events.Header{At: at}, VirtualServer: "10.0.0.1 80",
			RealServer: "10.0.1.1 80", OK: seq%32 == 11, Message: fmt.Sprint("check ", seq)}, nil
	}
	ev := &events.AdvertReceived{
		Header:    events.Header{At: at},
		Interface: "eth0",
		Src:       netip.MustParseAddr("192.168.1.2"),
		Dst:       netip.MustParseAddr("224.0.0.18"),
		TTL:       255,
		Length:    20,
		Advert: events.Advert{Version: 3, Type: 1, VRID: 51, Priority: uint8(100 + seq%3), CountAddrs: 1,
			Interval: 100, Addrs: []netip.Addr{netip.MustParseAddr("192.168.1.100")}},
	}
	return ev, advertEffects(at, seq)
}

func advertEffects(at events.Time, seq uint64) []effects.Effect {
	effs := []effects.Effect{
		&effects.SetTimer{Key: "vrrp/VI_1/master-down", At: at + 3_609_375_000},
		&effects.Count{Instance: "VI_1", Counter: "advert_rcvd", Delta: 1},
	}
	if seq%7 == 0 {
		effs = append(effs, &effects.Log{Level: "info", Instance: "VI_1", Message: fmt.Sprint("seq ", seq)})
	}
	return effs
}

// checkRecord fails unless rec is what synth produces for its sequence.
func checkRecord(t testing.TB, rec Record) {
	t.Helper()
	ev, effs := synth(rec.Seq)
	if !reflect.DeepEqual(rec.Event, ev) {
		t.Fatalf("seq %d: event %#v, want %#v", rec.Seq, rec.Event, ev)
	}
	if len(effs) == 0 && len(rec.Effects) == 0 {
		return
	}
	if !reflect.DeepEqual(rec.Effects, effs) {
		t.Fatalf("seq %d: effects %#v, want %#v", rec.Seq, rec.Effects, effs)
	}
}

// fakeClock is a settable wall clock, safe for the writer goroutine.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// appendRange appends synthetic events first..last.
func appendRange(t testing.TB, w *Writer, first, last uint64) {
	t.Helper()
	for seq := first; seq <= last; seq++ {
		ev, effs := synth(seq)
		if err := w.Append(seq, ev, effs); err != nil {
			t.Fatal(err)
		}
	}
}

// readAll reads every record of path, checking each against synth.
func readAll(t testing.TB, path string) []uint64 {
	t.Helper()
	r, err := OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var seqs []uint64
	for rec, err := range r.Records(0) {
		if err != nil {
			t.Fatal(err)
		}
		checkRecord(t, rec)
		seqs = append(seqs, rec.Seq)
	}
	return seqs
}
