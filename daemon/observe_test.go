package daemon

import (
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/status"
)

func observed(l *Loop) {
	l.Status = &Observer{Engine: l.Engine, Now: l.Now, Version: "test", Host: "n1", Interval: 10 * time.Millisecond}
}

// lastTimer returns the last SetTimer of kind k.
func lastTimer(tl *testLoop, k effects.TimerKind) *effects.SetTimer {
	var set *effects.SetTimer
	for _, e := range tl.tim.snapshot() {
		if s, ok := e.(*effects.SetTimer); ok {
			if info, ok := tl.l.Engine.Timer(s.Key); ok && info.Kind == k {
				set = s
			}
		}
	}
	return set
}

func waitSnapshot(t *testing.T, o *Observer, what string, cond func(*status.Snapshot) bool) *status.Snapshot {
	t.Helper()
	var s *status.Snapshot
	waitUntil(t, what, func() bool {
		s = o.Snapshot()
		return s != nil && cond(s)
	})
	return s
}

// The Observer follows a takeover and a late advert, publishes them, and
// explains the takeover from the running loop.
func TestObserverTransitionsAndExplain(t *testing.T) {
	tl := newTestLoop(t, loadTestConf(t, "10.77.0.100/24"), observed)
	o := tl.l.Status
	tl.run()
	defer func() { tl.sigs <- syscall.SIGTERM; <-tl.done }()
	tl.becomeMaster(t)
	s := waitSnapshot(t, o, "MASTER in the snapshot", func(s *status.Snapshot) bool {
		return len(s.Instances) == 1 && s.Instances[0].State == "MASTER"
	})
	in := &s.Instances[0]
	if lt := in.LastTransition; lt == nil || lt.From != "BACKUP" || lt.To != "MASTER" || lt.Reason != "master-down-timer" ||
		!strings.Contains(lt.Why, "no master was heard") || !strings.HasPrefix(lt.Trigger, "TimerFired") {
		t.Errorf("last transition %+v", lt)
	}
	want := []status.TransitionCount{{From: "BACKUP", To: "MASTER", Reason: "master-down-timer", Count: 1},
		{From: "INIT", To: "BACKUP", Reason: "start", Count: 1}}
	if len(in.Transitions) != 2 || in.Transitions[0] != want[0] || in.Transitions[1] != want[1] {
		t.Errorf("transitions %+v, want %+v", in.Transitions, want)
	}
	if in.Master != "10.77.0.11" || !in.MasterIsSelf || in.Priority != 100 || in.BasePriority != 100 {
		t.Errorf("instance %+v", in)
	}
	if len(in.VIPs) != 1 || in.VIPs[0].Address != "10.77.0.100/24" || in.VIPs[0].Dev != "eth0" {
		t.Errorf("VIPs %+v", in.VIPs)
	}

	// The advert timer is stepped 20 ms late, and arrived 1 ms before.
	adv := lastTimer(tl, effects.TimerAdvert)
	if adv == nil {
		t.Fatal("no advert timer")
	}
	tl.mu.Lock()
	tl.now = adv.At.Add(20 * time.Millisecond)
	arrived := tl.now
	tl.mu.Unlock()
	tl.timers <- &events.TimerFired{Header: events.Header{At: arrived}, Key: adv.Key}
	s = waitSnapshot(t, o, "the late advert", func(s *status.Snapshot) bool { return s.Instances[0].AdvertsLate == 1 })
	if h := s.Loop.AdvertLateness; h.Count != 1 || h.Sum < 0.020 {
		t.Errorf("advert lateness %+v", h)
	}
	if h := s.Loop.Latency; h.Count == 0 {
		t.Errorf("no loop latency observed: %+v", h)
	}
	if s.Instances[0].Stats.AdvertSent < 2 || s.Instances[0].Stats.BecomeMaster != 1 {
		t.Errorf("stats %+v", s.Instances[0].Stats)
	}

	ex, err := o.Explain("VI_1", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !ex.Fresh || len(ex.Transitions) != 2 || len(ex.Led.Lines) == 0 || len(ex.Since.Lines) == 0 {
		t.Errorf("explanation %+v", ex)
	}
	for _, w := range []string{"VI_1 on n1: BACKUP -> MASTER at", "rule:    master-down-timer", "trigger: TimerFired",
		"what led to it, since INIT -> BACKUP", "since then:", "advert prio 100", "state now", "MASTER (wants MASTER), effective priority 100",
		"last transitions:"} {
		if !strings.Contains(ex.Text, w) {
			t.Errorf("explanation lacks %q:\n%s", w, ex.Text)
		}
	}
	if _, err := o.Explain("VI_9", time.Second); err == nil || !strings.Contains(err.Error(), `no instance "VI_9" (instances: VI_1)`) {
		t.Errorf("explain of an unknown instance: %v", err)
	}
}

// A loop that does not answer (busy, or here not running) does not hold
// an explanation up: the answer comes from the last snapshot.
func TestObserverExplainWithoutTheLoop(t *testing.T) {
	tl := newTestLoop(t, loadTestConf(t, "10.77.0.100/24"), observed)
	o := tl.l.Status
	if o.Snapshot() == nil {
		t.Fatal("no snapshot published at start")
	}
	o.Publish() // as the daemon does after the start sequence
	start := time.Now()
	ex, err := o.Explain("VI_1", 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("explain took %s", took)
	}
	if ex.Fresh || ex.Instance.State != "BACKUP" || !strings.Contains(ex.Text, "did not answer within 50ms") ||
		!strings.Contains(ex.Text, "VI_1: BACKUP") {
		t.Errorf("fallback explanation %+v", ex)
	}
	if _, err := o.Explain("VI_9", 10*time.Millisecond); err == nil {
		t.Error("explain of an unknown instance from the snapshot")
	}
}

// Repeated steps are counted on the chain's last line without being put
// in words again, and read as the worded chain would.
func TestObserverCollapsesRepeats(t *testing.T) {
	tl := newTestLoop(t, loadTestConf(t, "10.77.0.100/24"), observed)
	ev := func() *events.AdvertReceived {
		return &events.AdvertReceived{Interface: "eth0", Src: netip.MustParseAddr("10.77.0.12"), Dst: netip.MustParseAddr("224.0.0.18"),
			TTL: 255, Advert: events.Advert{Version: 2, Type: 1, VRID: 77, Priority: 150, Interval: 100}}
	}
	for range 5 {
		tl.l.Step(ev())
	}
	r := tl.l.Status.insts["VI_1"]
	last := r.since.Lines[len(r.since.Lines)-1]
	if last.Count != 5 || !strings.HasPrefix(last.Event, "AdvertReceived eth0 from 10.77.0.12 v2 vrid 77 prio 150") ||
		!strings.Contains(last.Effects, "master-down timer in") {
		t.Errorf("last chain line %+v", last)
	}
	// A different advert starts a new line.
	e := ev()
	e.Advert.Priority = 140
	tl.l.Step(e)
	if l := r.since.Lines[len(r.since.Lines)-1]; l.Count != 1 || !strings.Contains(l.Event, "prio 140") {
		t.Errorf("after another advert: %+v", l)
	}
}
