package daemon

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
)

// recorder is a fake executor for every effect kind.
type recorder struct {
	mu   sync.Mutex
	effs []effects.Effect
}

func (r *recorder) add(e effects.Effect) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.effs = append(r.effs, effects.Clone(e))
	return nil
}
func (r *recorder) Apply(e effects.Effect) error      { return r.add(e) }
func (r *recorder) Send(a *effects.SendAdvert) error  { return r.add(a) }
func (r *recorder) Join(j *effects.JoinGroup) error   { return r.add(j) }
func (r *recorder) Leave(j *effects.LeaveGroup) error { return r.add(j) }
func (r *recorder) CloseInterface(name string) error {
	return r.add(&effects.CloseSockets{Interface: name})
}
func (r *recorder) Notify(n *effects.Notify)  { r.add(n) }
func (r *recorder) Run(rs *effects.RunScript) { r.add(rs) }
func (r *recorder) snapshot() []effects.Effect {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]effects.Effect(nil), r.effs...)
}
func (r *recorder) Append(uint64, events.Event, []effects.Effect) error { return nil }

// seqJournal records sequence numbers and event kinds.
type seqJournal struct {
	mu    sync.Mutex
	seqs  []uint64
	kinds []events.Kind
}

func (j *seqJournal) Append(seq uint64, ev events.Event, _ []effects.Effect) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seqs = append(j.seqs, seq)
	j.kinds = append(j.kinds, ev.EventKind())
	return nil
}

const testConf = `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 77
  priority 100
  advert_int 1
  virtual_ipaddress {
    %s
  }
}
`

func loadTestConf(t testing.TB, vip string) *events.ConfigLoaded {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(p, []byte(sprintf(testConf, vip)), 0o644); err != nil {
		t.Fatal(err)
	}
	ev, diags, err := LoadConfig(p, "")
	if err != nil {
		t.Fatalf("load: %v %v", err, diags)
	}
	return ev
}

type testLoop struct {
	l                   *Loop
	net, kern, tim, scr *recorder
	timers              chan *events.TimerFired
	sigs                chan os.Signal
	j                   *seqJournal
	done                chan struct{}
	mu                  sync.Mutex
	now                 events.Time
}

func newTestLoop(t testing.TB, cfg *events.ConfigLoaded, configure ...func(*Loop)) *testLoop {
	tl := &testLoop{net: &recorder{}, kern: &recorder{}, tim: &recorder{}, scr: &recorder{},
		timers: make(chan *events.TimerFired), sigs: make(chan os.Signal, 1), j: &seqJournal{}, done: make(chan struct{})}
	tl.l = &Loop{
		Engine: engine.New(), Log: zerolog.Nop(), Journal: tl.j,
		// A clock that only moves forward, by a millisecond per reading.
		Now: func() events.Time {
			tl.mu.Lock()
			defer tl.mu.Unlock()
			tl.now += events.Time(time.Millisecond)
			return tl.now
		},
		Exec:   Executors{Net: tl.net, Kernel: tl.kern, Timers: tl.tim, Announce: tl.kern, Scripts: tl.scr},
		Timers: tl.timers, Signals: tl.sigs, Events: make(chan events.Event, 4),
	}
	for _, f := range configure {
		f(tl.l)
	}
	tl.l.Step(cfg)
	tl.l.Step(&events.LinkChanged{Interface: "eth0", Index: 2, Present: true, Up: true, Running: true})
	tl.l.Step(&events.AddressChanged{Interface: "eth0", Prefix: netip.MustParsePrefix("10.77.0.11/24"), Added: true})
	tl.l.Step(&events.Start{Seed: 1, ReportsJoins: true})
	return tl
}

func (tl *testLoop) run() {
	go func() { tl.l.Run(context.Background()); close(tl.done) }()
}

// becomeMaster fires the last timer set (the master-down timer).
func (tl *testLoop) becomeMaster(t *testing.T) {
	t.Helper()
	var set *effects.SetTimer
	for _, e := range tl.tim.snapshot() {
		if s, ok := e.(*effects.SetTimer); ok {
			set = s
		}
	}
	if set == nil {
		t.Fatal("no timer set after Start")
	}
	// Time passes up to the deadline, then the timer fires.
	tl.mu.Lock()
	tl.now = set.At
	tl.mu.Unlock()
	tl.timers <- &events.TimerFired{Key: set.Key}
	waitUntil(t, "AddAddress", func() bool { return has(tl.kern.snapshot(), effects.KindAddAddress) })
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func has(effs []effects.Effect, k effects.Kind) bool {
	for _, e := range effs {
		if e.EffectKind() == k {
			return true
		}
	}
	return false
}

func TestLoopStopSendsPriorityZeroAndReleases(t *testing.T) {
	tl := newTestLoop(t, loadTestConf(t, "10.77.0.100/24"))
	tl.run()
	tl.becomeMaster(t)
	tl.sigs <- syscall.SIGTERM
	<-tl.done
	var prio0 bool
	for _, e := range tl.net.snapshot() {
		if a, ok := e.(*effects.SendAdvert); ok && a.Priority == 0 {
			prio0 = true
		}
	}
	if !prio0 {
		t.Errorf("no priority-0 advert at stop: %v", tl.net.snapshot())
	}
	if !has(tl.kern.snapshot(), effects.KindDelAddress) {
		t.Errorf("VIP not released at stop")
	}
	// Every event journaled once, in sequence.
	for k, s := range tl.j.seqs {
		if s != uint64(k+1) {
			t.Fatalf("journal sequences %v", tl.j.seqs)
		}
	}
	if last := tl.j.kinds[len(tl.j.kinds)-1]; last != events.KindStop {
		t.Errorf("last journaled event %v, want Stop", last)
	}
}

func TestLoopStopKeepAddresses(t *testing.T) {
	tl := newTestLoop(t, loadTestConf(t, "10.77.0.100/24"))
	tl.l.KeepAddresses = true
	tl.run()
	tl.becomeMaster(t)
	tl.sigs <- syscall.SIGINT
	<-tl.done
	if has(tl.kern.snapshot(), effects.KindDelAddress) {
		t.Errorf("--dont-release-vrrp: the VIP was released")
	}
}

func TestLoopReload(t *testing.T) {
	tl := newTestLoop(t, loadTestConf(t, "10.77.0.100/24"))
	next := loadTestConf(t, "10.77.0.101/24")
	configured := make(chan struct{})
	tl.l.Reload = func() (*events.ConfigLoaded, error) { return next, nil }
	tl.l.OnConfig = func(*events.ConfigLoaded) { close(configured) }
	tl.run()
	tl.becomeMaster(t)
	tl.sigs <- syscall.SIGHUP
	<-configured
	waitUntil(t, "the new VIP added", func() bool {
		for _, e := range tl.kern.snapshot() {
			if a, ok := e.(*effects.AddAddress); ok && a.Address.Prefix.Addr() == netip.MustParseAddr("10.77.0.101") {
				return true
			}
		}
		return false
	})
	tl.sigs <- syscall.SIGTERM
	<-tl.done
}

// TestLoopReloadFailureKeepsConfig: a reload parses and validates the file
// first (as keepalived's reload_check_config does, always): a broken file
// is logged and the running configuration kept; once it is fixed the next
// SIGHUP applies it.
func TestLoopReloadFailureKeepsConfig(t *testing.T) {
	tl := newTestLoop(t, loadTestConf(t, "10.77.0.100/24"))
	p := filepath.Join(t.TempDir(), "keepalived.conf")
	write := func(text string) {
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	broken := strings.Replace(sprintf(testConf, "10.77.0.102/24"), "virtual_router_id 77", "virtual_router_id 300", 1)
	if broken == sprintf(testConf, "10.77.0.102/24") {
		t.Fatal("the test configuration has no virtual_router_id 77 to break")
	}
	write(broken)
	var logs syncBuffer
	tl.l.Log = zerolog.New(&logs)
	failed := make(chan struct{}, 1)
	tl.l.Reload = func() (*events.ConfigLoaded, error) {
		ev, _, err := LoadConfig(p, "")
		if err != nil {
			failed <- struct{}{}
		}
		return ev, err
	}
	var applied []*events.ConfigLoaded
	configured := make(chan struct{})
	tl.l.OnConfig = func(ev *events.ConfigLoaded) { applied = append(applied, ev); close(configured) }
	tl.run()
	tl.becomeMaster(t)
	tl.sigs <- syscall.SIGHUP
	<-failed
	waitUntil(t, "the failed reload logged", func() bool {
		return strings.Contains(logs.String(), "reload failed: keeping the running configuration")
	})
	write(sprintf(testConf, "10.77.0.101/24"))
	tl.sigs <- syscall.SIGHUP
	<-configured
	waitUntil(t, "the new VIP added", func() bool {
		for _, e := range tl.kern.snapshot() {
			if a, ok := e.(*effects.AddAddress); ok && a.Address.Prefix.Addr() == netip.MustParseAddr("10.77.0.101") {
				return true
			}
		}
		return false
	})
	tl.sigs <- syscall.SIGTERM
	<-tl.done
	if len(applied) != 1 {
		t.Errorf("%d configurations applied, want 1 (the fixed file)", len(applied))
	}
	for _, e := range tl.kern.snapshot() {
		if a, ok := e.(*effects.AddAddress); ok && a.Address.Prefix.Addr() == netip.MustParseAddr("10.77.0.102") {
			t.Errorf("the broken file's VIP was added")
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the loop's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLoopTimesNeverGoBackwards(t *testing.T) {
	tl := newTestLoop(t, loadTestConf(t, "10.77.0.100/24"))
	// An event stamped far in the future by its source is restamped.
	ev := &events.AdvertReceived{Header: events.Header{At: 1 << 60}}
	tl.l.Step(ev)
	if ev.At >= 1<<60 {
		t.Fatalf("event keeps its source's time %v", ev.At)
	}
	ev2 := &events.TimerFired{Key: "x"}
	tl.l.Step(ev2)
	if ev2.At <= ev.At {
		t.Fatalf("times went backwards: %v then %v", ev.At, ev2.At)
	}
}

func TestLoopDumps(t *testing.T) {
	tl := newTestLoop(t, loadTestConf(t, "10.77.0.100/24"))
	dir := t.TempDir()
	tl.l.Dumps = &StateDumps{Engine: tl.l.Engine, Now: tl.l.Now, Log: zerolog.Nop(),
		DataFile: filepath.Join(dir, "data"), StatsFile: filepath.Join(dir, "stats")}
	tl.run()
	tl.becomeMaster(t)
	tl.sigs <- syscall.SIGUSR1
	tl.sigs <- syscall.SIGUSR2
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	waitUntil(t, "the dumps", func() bool {
		return strings.Contains(read(tl.l.Dumps.DataFile), "State = MASTER") && strings.Contains(read(tl.l.Dumps.StatsFile), "VRRP Instance: VI_1")
	})
	tl.sigs <- syscall.SIGTERM
	<-tl.done
}

// An unconfigured script_user reaches the script adapter empty, for it to
// apply keepalived's default; a configured one is passed on.
func TestScriptUserLeftToTheAdapter(t *testing.T) {
	cfg := loadTestConf(t, "10.77.0.100/24").Config
	if o := scriptOptions(&cfg.GlobalDefs); o.ScriptUser != "" || o.ScriptGroup != "" {
		t.Fatalf("unconfigured script_user became %q %q", o.ScriptUser, o.ScriptGroup)
	}
	cfg = loadConfText(t, "global_defs {\n  script_user nobody nogroup\n}\n"+sprintf(testConf, "10.77.0.100/24")).Config
	if o := scriptOptions(&cfg.GlobalDefs); o.ScriptUser != "nobody" || o.ScriptGroup != "nogroup" {
		t.Fatalf("script_user nobody nogroup became %q %q", o.ScriptUser, o.ScriptGroup)
	}
}

// closingNet is a recording network executor that also records closed
// interfaces.
type closingNet struct {
	recorder
	mu     sync.Mutex
	closed []string
}

func (c *closingNet) CloseInterface(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = append(c.closed, name)
	return nil
}

// A deleted interface's sockets are closed once the engine has seen the
// deletion, and its group is joined again when it is created anew.
func TestLoopDeletedInterfaceClosedAndRejoined(t *testing.T) {
	tl := newTestLoop(t, loadTestConf(t, "10.77.0.100/24"))
	net := &closingNet{}
	tl.l.Exec.Net = net
	tl.l.d = nil // rebuild the dispatcher with the new executor
	tl.l.kernelEvent(&events.LinkChanged{Interface: "eth0", Index: 2, Present: true, Up: false})
	if len(net.closed) != 0 {
		t.Fatalf("a link going down closed its sockets: %v", net.closed)
	}
	tl.l.kernelEvent(&events.LinkChanged{Interface: "eth0", Index: 2})
	if len(net.closed) != 1 || net.closed[0] != "eth0" {
		t.Fatalf("closed %v, want [eth0]", net.closed)
	}
	if has(net.snapshot(), effects.KindJoinGroup) {
		t.Fatal("joined a deleted interface")
	}
	tl.l.kernelEvent(&events.LinkChanged{Interface: "eth0", Index: 9, Present: true, Up: true, Running: true})
	if !has(net.snapshot(), effects.KindJoinGroup) {
		t.Fatal("the recreated interface's group was not joined again")
	}
}

// deafNet is a network executor whose joins fail, as a join on a VMAC
// that does not exist yet did.
type deafNet struct {
	recorder
	fail bool
}

func (d *deafNet) Join(j *effects.JoinGroup) error {
	if d.fail {
		return errors.New("no such network interface")
	}
	return d.recorder.Join(j)
}

// A join that fails reaches the engine as a GroupJoined event (journaled
// right after the step that asked for it): the instance is in FAULT, not a
// deaf BACKUP that would become MASTER beside the real one; the engine
// retries, and the first join that works brings it to BACKUP.
func TestLoopFailedJoinIsFault(t *testing.T) {
	net := &deafNet{fail: true}
	tl := &testLoop{net: &recorder{}, kern: &recorder{}, tim: &recorder{}, scr: &recorder{}, j: &seqJournal{}}
	tl.l = &Loop{Engine: engine.New(), Log: zerolog.Nop(), Journal: tl.j,
		Now:  func() events.Time { tl.now += events.Time(time.Millisecond); return tl.now },
		Exec: Executors{Net: net, Kernel: tl.kern, Timers: tl.tim, Announce: tl.kern, Scripts: tl.scr}}
	tl.l.Step(loadTestConf(t, "10.77.0.100/24"))
	tl.l.Step(&events.LinkChanged{Interface: "eth0", Index: 2, Present: true, Up: true, Running: true})
	tl.l.Step(&events.Start{Seed: 1, ReportsJoins: true})
	if got := tl.l.Engine.Instances()[0].State; got != effects.StateFault {
		t.Fatalf("after a failed join the instance is %v, want FAULT", got)
	}
	if k := tl.j.kinds; k[len(k)-1] != events.KindGroupJoined {
		t.Fatalf("journal kinds %v: the join's outcome is not journaled last", k)
	}
	var retry *effects.SetTimer
	for _, e := range tl.tim.snapshot() {
		if s, ok := e.(*effects.SetTimer); ok && strings.HasPrefix(s.Key, "sock/") {
			retry = s
		}
	}
	if retry == nil {
		t.Fatal("no retry timer after a failed join")
	}
	net.fail = false
	tl.now = retry.At
	tl.l.Step(&events.TimerFired{Key: retry.Key})
	if got := tl.l.Engine.Instances()[0].State; got != effects.StateBackup {
		t.Fatalf("after the retry joined the instance is %v, want BACKUP", got)
	}
}
