package daemon

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/engine/lvs"
	"github.com/vigil-ha/vigil/events"
)

const lvsTestConf = `virtual_server 127.0.0.1 %d {
  delay_loop 1
  lvs_sched rr
  protocol TCP
  real_server 127.0.0.1 %d {
    weight 3
    notify_down /bin/rs-down
    notify_up /bin/rs-up
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`

func loadConfText(t *testing.T, text string) *events.ConfigLoaded {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ev, diags, err := LoadConfig(p, "")
	if err != nil {
		t.Fatalf("load: %v %v", err, diags)
	}
	return ev
}

// lvsLoop is a Loop with the real checker executor and a recording IPVS
// executor behind the real queue.
type lvsLoop struct {
	l      *Loop
	la     *lvsAdapters
	ipvs   *recorder
	scr    *recorder
	tim    *recorder
	timers chan *events.TimerFired
	sigs   chan os.Signal
	done   chan struct{}
	mu     sync.Mutex
	now    events.Time
}

func newLVSLoop(t *testing.T, cfg *events.ConfigLoaded, configure ...func(*Loop)) *lvsLoop {
	t.Helper()
	ll := &lvsLoop{ipvs: &recorder{}, scr: &recorder{}, tim: &recorder{},
		timers: make(chan *events.TimerFired), sigs: make(chan os.Signal, 1), done: make(chan struct{})}
	evs := make(chan events.Event, 16)
	log := zerolog.Nop()
	now := func() events.Time {
		ll.mu.Lock()
		defer ll.mu.Unlock()
		ll.now += events.Time(time.Millisecond)
		return ll.now
	}
	ll.la = newLVSAdapters(evs, now, discardSlog(), &log, &syncLimit{l: newLogEvery(time.Second)})
	// No kernel IPVS in a unit test: the queue applies to a recorder
	// (opening IPVS is skipped).
	ll.la.noIPVS = true
	ll.la.q = newKernelQueue(ll.ipvs, 0, nil)
	t.Cleanup(ll.la.close)
	ll.l = &Loop{
		Engine: engine.New(), Log: log, Now: now,
		Exec:   Executors{Timers: ll.tim, Scripts: ll.scr, Checks: applierFunc(ll.la.runCheck), IPVS: ll.la},
		Timers: ll.timers, Signals: ll.sigs, Events: evs,
	}
	for _, f := range configure {
		f(ll.l)
	}
	ll.la.configure(cfg.Config)
	ll.l.Step(cfg)
	ll.l.Step(&events.Start{Seed: 1})
	return ll
}

func (ll *lvsLoop) run() {
	go func() { ll.l.Run(context.Background()); close(ll.done) }()
}

// fireCheck advances the clock to the check timer's deadline and fires it.
func (ll *lvsLoop) fireCheck(t *testing.T) {
	t.Helper()
	var set *effects.SetTimer
	for _, e := range ll.tim.snapshot() {
		if s, ok := e.(*effects.SetTimer); ok && lvs.IsTimer(s.Key) {
			set = s
		}
	}
	if set == nil {
		t.Fatal("no check timer set")
	}
	ll.mu.Lock()
	ll.now = set.At
	ll.mu.Unlock()
	ll.timers <- &events.TimerFired{Key: set.Key}
}

func ipvsOps(effs []effects.Effect) []effects.IPVSOp {
	var ops []effects.IPVSOp
	for _, e := range effs {
		if s, ok := e.(*effects.SetIPVS); ok {
			ops = append(ops, s.Op)
		}
	}
	return ops
}

// reconciliations returns the ReconcileIPVS effects among effs, and
// whether they all come before every SetIPVS.
func reconciliations(effs []effects.Effect) (rs []*effects.ReconcileIPVS, first bool) {
	first = true
	set := false
	for _, e := range effs {
		switch v := e.(type) {
		case *effects.ReconcileIPVS:
			rs = append(rs, v)
			first = first && !set
		case *effects.SetIPVS:
			set = true
		}
	}
	return rs, first
}

func notified(effs []effects.Effect, state string) bool {
	for _, e := range effs {
		if n, ok := e.(*effects.Notify); ok && n.Type == "RS" && n.State == state {
			return true
		}
	}
	return false
}

// A real TCP_CHECK run by the checker executor answers through the loop's
// channel: a refused connection takes the real server out of the table
// and runs notify_down; a listener brings it back with notify_up. The
// start reconciliation is the engine's ReconcileIPVS effect, which reaches
// the IPVS executor through its queue before every later SetIPVS.
func TestLoopChecksDriveIPVS(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // refused until listened to again
	ll := newLVSLoop(t, loadConfText(t, "global_defs {\n  lvs_flush\n}\n"+sprintf(lvsTestConf, 80, port)))

	// Start: nothing applied one by one; one reconciliation with the
	// whole table, flushed first (lvs_flush).
	waitUntil(t, "the start reconciliation", func() bool { rs, _ := reconciliations(ll.ipvs.snapshot()); return len(rs) == 1 })
	if ops := ipvsOps(ll.ipvs.snapshot()); len(ops) != 0 {
		t.Fatalf("start effects applied one by one: %v", ops)
	}
	rs, _ := reconciliations(ll.ipvs.snapshot())
	tbl := rs[0].Services
	if !rs[0].Flush || len(tbl) != 1 || tbl[0].VirtualServer != "tcp/127.0.0.1:80" || len(tbl[0].Dests) != 1 || tbl[0].Dests[0].Weight != 3 {
		t.Fatalf("reconciliation %+v", rs[0])
	}
	want := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	if d := tbl[0].Dests[0].Dest; netip.AddrPortFrom(d.Addr, uint16(d.Port)) != want {
		t.Fatalf("destination %v, want %v", d, want)
	}

	ll.run()
	ll.fireCheck(t)
	waitUntil(t, "the real server removed", func() bool {
		ops := ipvsOps(ll.ipvs.snapshot())
		return len(ops) == 1 && ops[0] == effects.IPVSDelDest
	})
	waitUntil(t, "notify_down", func() bool { return notified(ll.scr.snapshot(), "DOWN") })

	l2, err := net.Listen("tcp", want.String())
	if err != nil {
		t.Skipf("port %d taken meanwhile: %v", port, err)
	}
	defer l2.Close()
	ll.fireCheck(t)
	waitUntil(t, "the real server back", func() bool {
		ops := ipvsOps(ll.ipvs.snapshot())
		return len(ops) == 2 && ops[1] == effects.IPVSAddDest
	})
	waitUntil(t, "notify_up", func() bool { return notified(ll.scr.snapshot(), "UP") })

	// Stop removes the table (the engine's clear_services order).
	ll.sigs <- syscall.SIGTERM
	<-ll.done
	if !ll.la.drain(5 * time.Second) {
		t.Fatal("IPVS queue not drained")
	}
	ops := ipvsOps(ll.ipvs.snapshot())
	if ops[len(ops)-1] != effects.IPVSDelService {
		t.Fatalf("IPVS at stop: %v", ops)
	}
	if rs, first := reconciliations(ll.ipvs.snapshot()); len(rs) != 1 || !first {
		t.Fatalf("%d reconciliations, before every SetIPVS: %v", len(rs), first)
	}
}

// --dont-release-ipvs: the Stop event keeps the table. Without lvs_flush
// the start reconciliation does not flush.
func TestLoopStopKeepIPVS(t *testing.T) {
	ll := newLVSLoop(t, loadConfText(t, sprintf(lvsTestConf, 80, 1)))
	ll.l.KeepIPVS = true
	ll.run()
	ll.sigs <- syscall.SIGTERM
	<-ll.done
	ll.la.drain(5 * time.Second)
	if ops := ipvsOps(ll.ipvs.snapshot()); len(ops) != 0 {
		t.Fatalf("-I: IPVS changed at stop: %v", ops)
	}
	if rs, _ := reconciliations(ll.ipvs.snapshot()); len(rs) != 1 || rs[0].Flush || len(rs[0].Services) != 1 {
		t.Fatalf("start reconciliations %+v", rs)
	}
}

// Without an IPVS executor (a kernel without IPVS) the reconciliation is
// counted as unhandled, as SetIPVS effects are, and logged by nobody.
func TestLoopNoIPVSExecutor(t *testing.T) {
	evs := make(chan events.Event, 16)
	log := zerolog.Nop()
	now := func() events.Time { return 0 }
	la := newLVSAdapters(evs, now, discardSlog(), &log, &syncLimit{l: newLogEvery(time.Second)})
	la.noIPVS = true // as if opening IPVS had failed
	t.Cleanup(la.close)
	cfg := loadConfText(t, sprintf(lvsTestConf, 80, 1))
	l := &Loop{Engine: engine.New(), Log: log, Now: now,
		Exec: Executors{Timers: &recorder{}, Scripts: &recorder{}, Checks: applierFunc(la.runCheck), IPVS: la}}
	la.configure(cfg.Config)
	l.Step(cfg)
	l.Step(&events.Start{Seed: 1})
	if n := l.dispatcherFor().unhandled[effects.KindReconcileIPVS]; n != 1 {
		t.Fatalf("unhandled ReconcileIPVS = %d, want 1", n)
	}
}

func discardSlog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// FILE_CHECK end to end in the daemon: the track-file watcher's values
// (the same trackers VRRP's track_file uses) reach the engine, which takes
// the real server out when the file says non-zero and back at zero.
func TestLoopFileCheck(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rs1")
	if err := os.WriteFile(file, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := loadConfText(t, "track_file tf1 {\n  file "+file+"\n}\n"+`virtual_server 10.77.1.1 80 {
  lvs_sched rr
  protocol TCP
  real_server 10.77.2.1 80 {
    FILE_CHECK {
      track_file tf1
      weight 0
    }
  }
}
`)
	ll := newLVSLoop(t, cfg)
	tr := &trackers{out: ll.l.Events, now: ll.l.Now, log: discardSlog()}
	t.Cleanup(tr.close)
	ll.run()
	tr.apply(cfg.Config)
	if err := os.WriteFile(file, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the real server removed", func() bool {
		ops := ipvsOps(ll.ipvs.snapshot())
		return len(ops) > 0 && ops[len(ops)-1] == effects.IPVSDelDest
	})
	if err := os.WriteFile(file, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the real server back", func() bool {
		ops := ipvsOps(ll.ipvs.snapshot())
		return len(ops) > 0 && ops[len(ops)-1] == effects.IPVSAddDest
	})
	ll.sigs <- syscall.SIGTERM
	<-ll.done
}
