package daemon

import (
	"context"
	"os"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-ha/vigil/driver"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
)

// Journal records each event with the effects it produced. Append must not
// block (journal.Writer queues and group-commits).
type Journal interface {
	Append(seq uint64, ev events.Event, effs []effects.Effect) error
}

// snapshotter is the optional part of a Journal that stores engine states.
type snapshotter interface {
	SnapshotDue() bool
	Snapshot(seq uint64, state []byte) error
}

// Loop is the one goroutine that owns the engine: it takes one event at a
// time from its sources, stamps it with the clock, steps the engine,
// dispatches the effects and journals the pair. Nothing it calls blocks.
type Loop struct {
	Engine *engine.Engine
	// Now is the monotonic clock (clock.Clock.Now).
	Now     func() events.Time
	Journal Journal
	Exec    Executors
	Log     zerolog.Logger

	// Sources. A nil channel is simply never ready.
	Adverts <-chan *events.AdvertReceived
	// BFD carries the received BFD control packets (bfdnet.Mux).
	BFD    <-chan *events.BFDReceived
	Timers <-chan *events.TimerFired
	// TimerWake and TimersDue are the inline clock's (clock.NewInline's
	// Wake and Expired), used instead of Timers: on a receive from
	// TimerWake the loop steps each due timer TimersDue hands it.
	TimerWake <-chan time.Time
	TimersDue func(step func(*events.TimerFired))
	// Kernel is the netlink monitor's channel; it is closed if the monitor
	// dies.
	Kernel <-chan events.Event
	// Events carries script results, tracker values and reloaded
	// configurations.
	Events chan events.Event
	// Signals: SIGTERM and SIGINT stop, SIGHUP reloads, SIGUSR1 and
	// SIGUSR2 write the data and stats dumps.
	Signals <-chan os.Signal

	// Reload parses and validates the configuration again; it runs in
	// its own goroutine (a big configuration takes seconds to parse and
	// adverts are due meanwhile) and the result is stepped as an event.
	// On error the daemon keeps running the old configuration.
	Reload func() (*events.ConfigLoaded, error)
	// OnConfig is called in the loop just before a reloaded configuration
	// is stepped, to reconfigure the adapters (FIFOs, trackers, AH keys).
	OnConfig func(*events.ConfigLoaded)
	// AfterConfig is called in the loop just after a reloaded
	// configuration was stepped, for adapters that need the engine's view
	// of it (the FILE_CHECK checkers' IDs).
	AfterConfig func(*events.ConfigLoaded)
	// KeepAddresses is --dont-release-vrrp and KeepIPVS
	// --dont-release-ipvs, passed on in the Stop event.
	KeepAddresses, KeepIPVS bool
	// LogAddresses logs every address change the kernel reports
	// (keepalived -a).
	LogAddresses bool
	// Dumps serves keepalived's dump signals (SIGUSR1, SIGUSR2, JSON,
	// STATS_CLEAR); nil ignores them.
	Dumps *StateDumps
	// Status, when set, watches every step for `vigil status` and
	// /metrics and serves explanations; nil turns that off.
	Status *Observer
	// Late, when set, is told how long each timer waited between its
	// expiry and the loop taking it (max_auto_priority).
	Late func(time.Duration)
	// Seq is the sequence number of the last journaled event.
	Seq uint64
	// Watchdog, when set with a positive WatchdogEvery, is called by Run
	// on the loop's own goroutine every WatchdogEvery (Notifier.Watchdog:
	// systemd's WATCHDOG=1 at half of WatchdogSec). It is a case of the
	// loop's select like any source, so a loop stuck in a step or an
	// executor stops calling it and systemd restarts the service. It is
	// daemon plumbing: the engine neither sees it nor reads a clock for it.
	Watchdog      func()
	WatchdogEvery time.Duration

	d *dispatcher
	// running is set once Run serves the sources: the latency of the
	// start sequence's events (stamped when the kernel was read) is not
	// the loop's.
	running bool
}

// dispatcherFor lazily builds the dispatcher (so a Loop literal works).
func (l *Loop) dispatcherFor() *dispatcher {
	if l.d == nil {
		l.d = newDispatcher(l.Exec, &l.Log)
	}
	return l.d
}

// Step runs one event through the engine. Effects are dispatched before
// they are journaled: Append only encodes and queues, so the order is not a
// durability question, and the advert leaves a few microseconds sooner.
func (l *Loop) Step(ev events.Event) {
	l.step(ev)
	// Events the effects produced (join outcomes) come next, before any
	// other source's: they are the answer to what was just asked.
	d := l.d
	for len(d.feedback) > 0 {
		next := d.feedback[0]
		d.feedback = d.feedback[1:]
		l.step(next)
	}
	d.feedback = d.feedback[:0]
}

func (l *Loop) step(ev events.Event) {
	// The driver's Record stays unset: effects are dispatched first and
	// journaled after (see Step).
	// The time the source stamped the event (when it arrived), before
	// the driver stamps it with the step's time.
	var arrival events.Time
	if l.running {
		arrival = ev.EventTime()
	}
	d := driver.Driver{Engine: l.Engine}
	effs := d.Step(ev, l.Now())
	l.dispatcherFor().dispatch(effs)
	if l.Dumps != nil {
		l.Dumps.Observe(ev, effs)
	}
	l.Seq++
	if l.Status != nil {
		l.Status.Observe(l.Seq, ev, arrival, effs)
	}
	if l.Journal == nil {
		return
	}
	if err := l.Journal.Append(l.Seq, ev, effs); err != nil {
		if ok, _ := l.d.limit.allow("journal", time.Now()); ok {
			l.Log.Error().Err(err).Uint64("seq", l.Seq).Msg("journal append failed")
		}
	}
	if s, ok := l.Journal.(snapshotter); ok && s.SnapshotDue() {
		l.Snapshot()
	}
}

// RunShutdownScript runs the shutdown script the Stop event asked for, if
// any, waits for it (its timeout, then SIGTERM and SIGKILL, bound the
// wait) and steps its outcome. The caller has applied every effect of the
// stop first. run is script.Executor.RunWait.
func (l *Loop) RunShutdownScript(run func(*effects.RunScript) *events.ScriptResult) {
	d := l.dispatcherFor()
	rs := d.shutdown
	d.shutdown = nil
	if rs == nil || run == nil {
		return
	}
	l.Log.Info().Strs("command", rs.Command).Msg("Running shutdown script")
	if res := run(rs); res != nil {
		l.Step(res)
	}
}

// Snapshot stores the engine state in the journal, if it takes snapshots.
func (l *Loop) Snapshot() {
	s, ok := l.Journal.(snapshotter)
	if !ok {
		return
	}
	b, err := l.Engine.MarshalState()
	if err == nil {
		err = s.Snapshot(l.Seq, b)
	}
	if err != nil {
		l.Log.Warn().Err(err).Msg("journal snapshot failed")
	}
}

// Run serves events until a stop signal or ctx's end, then steps the Stop
// event (priority-0 adverts, addresses released unless KeepAddresses) and
// returns. The caller drains the executors.
func (l *Loop) Run(ctx context.Context) {
	l.dispatcherFor()
	// The Observer's publication of a quiet loop's last changes, and its
	// explanations; neither exists without an Observer.
	var tick <-chan time.Time
	if l.Status != nil {
		t := time.NewTicker(publishTick)
		defer t.Stop()
		tick = t.C
	}
	explains := l.Status.requests()
	var watchdog <-chan time.Time
	if l.Watchdog != nil && l.WatchdogEvery > 0 {
		t := time.NewTicker(l.WatchdogEvery)
		defer t.Stop()
		watchdog = t.C
		l.Watchdog() // the loop is turning: say so at once
	}
	l.running = true
	defer func() { l.running = false }()
	for {
		select {
		case <-tick:
			l.Status.Tick()
		case <-watchdog:
			l.Watchdog()
		case req := <-explains:
			l.Status.answer(req)
		case <-ctx.Done():
			l.stop("context done")
			return
		case sig := <-l.Signals:
			if l.signal(sig) {
				return
			}
		case ev := <-l.Adverts:
			l.Step(ev)
		case ev := <-l.BFD:
			l.Step(ev)
		case ev := <-l.Timers:
			l.timer(ev)
		case <-l.TimerWake:
			l.TimersDue(l.timer)
		case ev, ok := <-l.Kernel:
			if !ok {
				l.Log.Error().Msg("netlink monitor stopped: link and address changes are no longer seen")
				l.Kernel = nil
				continue
			}
			l.kernelEvent(ev)
		case ev := <-l.Events:
			c, isConfig := ev.(*events.ConfigLoaded)
			if isConfig && l.OnConfig != nil {
				l.OnConfig(c)
			}
			l.Step(ev)
			if isConfig && l.AfterConfig != nil {
				l.AfterConfig(c)
			}
		}
	}
}

// timer steps a fired timer.
func (l *Loop) timer(ev *events.TimerFired) {
	if l.Late != nil {
		l.Late(time.Duration(l.Now() - ev.At))
	}
	l.Step(ev)
}

func (l *Loop) kernelEvent(ev events.Event) {
	if a, ok := ev.(*events.AddressChanged); ok && l.LogAddresses {
		verb := "added to"
		if !a.Added {
			verb = "removed from"
		}
		l.Log.Info().Msgf("Netlink reports %s %s %s", a.Prefix, verb, a.Interface)
	}
	l.Step(ev)
}

// signal handles one signal and reports whether the loop must end.
func (l *Loop) signal(sig os.Signal) bool {
	switch sig {
	case syscall.SIGTERM, syscall.SIGINT:
		l.stop(sig.String())
		return true
	case syscall.SIGHUP:
		l.reload()
	default:
		if l.Dumps != nil {
			l.Dumps.Signal(sig)
		}
	}
	return false
}

func (l *Loop) stop(why string) {
	l.Log.Info().Str("reason", why).Msg("Stopping")
	l.Step(&events.Stop{KeepAddresses: l.KeepAddresses, KeepIPVS: l.KeepIPVS})
}

// reload parses the configuration in a goroutine and queues the result.
func (l *Loop) reload() {
	if l.Reload == nil {
		return
	}
	l.Log.Info().Msg("Reloading")
	go func() {
		ev, err := l.Reload()
		if err != nil {
			l.Log.Error().Err(err).Msg("reload failed: keeping the running configuration")
			return
		}
		l.Events <- ev
	}()
}
