package daemon

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-ha/vigil/adapters/arp"
	"github.com/vigil-ha/vigil/adapters/bfdnet"
	"github.com/vigil-ha/vigil/adapters/clock"
	"github.com/vigil-ha/vigil/adapters/ipvs"
	"github.com/vigil-ha/vigil/adapters/mail"
	"github.com/vigil-ha/vigil/adapters/netlink"
	"github.com/vigil-ha/vigil/adapters/nftfw"
	"github.com/vigil-ha/vigil/adapters/script"
	"github.com/vigil-ha/vigil/adapters/vrrpnet"
	"github.com/vigil-ha/vigil/driver"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
	"github.com/vigil-ha/vigil/journal"
)

// Options configure the daemon.
type Options struct {
	// ConfigFile is the keepalived.conf to run; ConfigID selects @ID lines.
	ConfigFile string
	ConfigID   string
	// NoVRRP drops the VRRP part of the configuration and opens no VRRP
	// socket (keepalived -C without -P: checkers only).
	NoVRRP bool
	// NoLVS drops the virtual servers: no checker runs and IPVS is not
	// opened (keepalived -P without -C: VRRP only).
	NoLVS bool
	// NoBFD opens no BFD socket (keepalived -B): the sessions stay Down,
	// their neighbours never heard, so track_bfd and BFD_CHECK see them
	// down, as keepalived's VRRP and checkers do without a BFD process.
	NoBFD bool
	// KeepAddresses is --dont-release-vrrp: leave VIPs and routes in place
	// at shutdown.
	KeepAddresses bool
	// KeepIPVS is --dont-release-ipvs: leave the IPVS table as it is at
	// shutdown.
	KeepIPVS bool
	// IPVS configures the IPVS table's manager (the zero value: the
	// current namespace, ip_vs loaded if needed, ownership kept in
	// memory).
	IPVS ipvs.Options
	// JournalDir is the journal directory; empty disables journaling.
	JournalDir string
	// Version is recorded in the journal.
	Version string
	// Log is the daemon's logger.
	Log *Logging
	// Signals delivers SIGTERM/SIGINT (stop), SIGHUP (reload), SIGUSR1 and
	// SIGUSR2 (dumps).
	Signals <-chan os.Signal
	// Ready is called once the engine has started (after the Start event),
	// and Stopping when the shutdown begins (sd_notify, readiness pipe).
	Ready, Stopping func()
	// Reloading and Reloaded bracket a reload (sd_notify).
	Reloading, Reloaded func()
	// Watchdog is called from the event loop every WatchdogEvery
	// (Notifier.Watchdog and Notifier.WatchdogEvery; see Loop.Watchdog).
	Watchdog      func()
	WatchdogEvery time.Duration
	// LogAddresses is keepalived -a; DumpConfig is -d (log the parsed
	// configuration as JSON at start).
	LogAddresses bool
	DumpConfig   bool
	// DataFile and StatsFile are the SIGUSR1/SIGUSR2 dumps ("" defaults).
	DataFile, StatsFile string
	// ShutdownTimeout bounds the wait for queued netlink work at stop.
	ShutdownTimeout time.Duration
	// ControlSocket is where `vigil status` asks (status.DefaultSocket
	// from the command line; "" for none).
	ControlSocket string
	// MetricsListen is the address of the Prometheus endpoint ("": off);
	// MetricsCompat the keepalived exporters' metric sets it serves and
	// MetricsCheckScript mehdy's check script (see package metrics).
	MetricsListen      string
	MetricsCompat      []string
	MetricsCheckScript string
	// UmaskFromCommandLine: -u/--umask was given (and applied by the
	// caller); the configuration's umask is then ignored, as in
	// keepalived.
	UmaskFromCommandLine bool
}

// Run is the daemon: it loads the configuration, starts the adapters,
// feeds the engine ConfigLoaded, the kernel's snapshot and Start, serves
// events until told to stop, executes the Stop event's effects and shuts
// down. It returns an error if it could not start.
func Run(ctx context.Context, o Options) error {
	log := o.Log.Logger
	warmThreads(spareThreads)
	for _, w := range o.Log.Warnings {
		log.Warn().Msg(w)
	}
	cfgEv, diags, err := LoadConfig(o.ConfigFile, o.ConfigID)
	for _, d := range diags {
		log.Warn().Msg(d.String())
	}
	if err != nil {
		return err
	}
	if err := checkSupported(cfgEv.Config); err != nil {
		return err
	}
	prepare := func(ev *events.ConfigLoaded) {
		if o.NoVRRP {
			ev.Config = withoutVRRP(ev.Config)
		}
		if o.NoLVS {
			ev.Config = withoutLVS(ev.Config)
		}
	}
	prepare(cfgEv)
	if o.DumpConfig {
		log.Info().Interface("config", cfgEv.Config).Msg("configuration")
	}
	log.Info().Str("file", o.ConfigFile).Str("digest", cfgEv.Digest).Int("instances", len(cfgEv.Config.Instances)).
		Int("virtual_servers", len(cfgEv.Config.VirtualServers)).Msg(startMessage(o))

	mon, err := openMonitoring(o, &log)
	if err != nil {
		return err
	}
	defer mon.close()
	started := time.Now()
	clk := clock.NewInline(started)
	defer clk.Close()
	a, err := startAdapters(cfgEv, clk, o.Log, o)
	if err != nil {
		return err
	}
	defer a.close(&log)

	l := &Loop{
		Engine: engine.New(), Now: clk.Now, Log: log,
		Exec: Executors{Kernel: a.kq, Timers: clk, Scripts: a.scripts,
			Checks: applierFunc(a.lvs.runCheck), IPVS: a.lvs, Mail: a.mail},
		TimerWake: clk.Wake(), TimersDue: clk.Expired, Kernel: a.mon.Events(), Events: a.events,
		Signals: o.Signals, KeepAddresses: o.KeepAddresses, KeepIPVS: o.KeepIPVS, LogAddresses: o.LogAddresses,
		Watchdog: o.Watchdog, WatchdogEvery: o.WatchdogEvery,
	}
	// Interface values are set only for opened adapters: a nil *Mux in
	// an interface would not read as "no executor".
	if a.mux != nil {
		l.Exec.Net, l.Adverts = a.mux, a.mux.Events()
	}
	if a.arp != nil {
		l.Exec.Announce = a.arp
	}
	if a.fw != nil {
		l.Exec.Firewall = a.fw
	}
	if a.bfd != nil {
		l.Exec.BFD, l.BFD = a.bfd, a.bfd.Events()
	}
	l.Dumps = &StateDumps{Engine: l.Engine, Now: clk.Now, Log: log,
		DataFile: or(o.DataFile, DefaultDataFile), StatsFile: or(o.StatsFile, DefaultStatsFile), JSONFile: DefaultJSONFile}
	l.Status = &Observer{Engine: l.Engine, Now: clk.Now, Recorder: l.Dumps.Recorder(), Version: o.Version,
		Host: hostname(), ConfigFile: o.ConfigFile, Started: started}
	if o.JournalDir != "" {
		host, _ := os.Hostname()
		// Resilient: a full, read-only or damaged journal never stops
		// VRRP; its losses are gaps, and each episode is logged once.
		w, err := journal.Open(o.JournalDir, journal.Options{Host: host, Version: o.Version,
			Resilient: true, Health: journalHealth(&log), Damaged: func(what string) {
				log.Warn().Str("file", what).Msg("journal: damaged last file set aside")
			}})
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		defer func() {
			if err := w.Close(); err != nil {
				log.Error().Err(err).Msg("journal close")
			}
		}()
		l.Journal, l.Seq = w, w.NextSeq()-1
		l.Status.Journal = journalStats(w)
	}
	// running is the configuration in force, read by the reload
	// goroutine to refuse what a reload cannot change.
	var running atomic.Pointer[conf.Config]
	running.Store(cfgEv.Config)
	l.Reload = func() (*events.ConfigLoaded, error) {
		if o.Reloading != nil {
			o.Reloading()
		}
		ev, diags, err := LoadConfig(o.ConfigFile, o.ConfigID)
		for _, d := range diags {
			log.Warn().Msg(d.String())
		}
		if err == nil {
			err = checkSupported(ev.Config)
		}
		if err == nil {
			err = checkReloadable(running.Load(), ev.Config)
		}
		if err != nil {
			if o.Reloaded != nil {
				o.Reloaded()
			}
			return nil, err
		}
		prepare(ev)
		return ev, nil
	}
	// vrrp_rt_priority and vrrp_cpu_affinity apply to the engine's
	// thread: this goroutine, locked to its thread once one applies (see
	// process.go); it never gives that thread back.
	proc := newProcessSettings(&log, o.UmaskFromCommandLine)
	defer proc.close()
	proc.apply(&cfgEv.Config.GlobalDefs, true)
	l.Late = proc.late
	l.OnConfig = func(ev *events.ConfigLoaded) {
		running.Store(ev.Config)
		proc.apply(&ev.Config.GlobalDefs, false)
		a.reconfigure(ev, &log)
		if a.bfd == nil && len(ev.Config.BFDInstances) > 0 && !o.NoBFD {
			if err := a.openBFD(ev.Config, clk); err != nil {
				log.Error().Err(err).Msg("BFD sockets: the sessions stay down")
			} else {
				l.Exec.BFD, l.BFD = a.bfd, a.bfd.Events()
			}
		}
		log.Info().Str("digest", ev.Digest).Int("instances", len(ev.Config.Instances)).
			Int("virtual_servers", len(ev.Config.VirtualServers)).Msg("Reloaded configuration")
		if o.Reloaded != nil {
			o.Reloaded()
		}
	}

	// The start sequence the engine expects. With virtual servers, the
	// Start step's effects include one ReconcileIPVS (the whole desired
	// table, flushed first with lvs_flush), which repairs what a previous
	// run left; it goes through the IPVS queue like every SetIPVS after it.
	a.lvs.configure(cfgEv.Config)
	mon.serve(l.Status, o, a.lvs, &log)
	for _, ev := range driver.Boot(cfgEv, a.mon.Snapshot(), seed()) {
		l.Step(ev)
	}
	a.setReceivers(l.Engine, &log)
	l.AfterConfig = func(*events.ConfigLoaded) { a.setReceivers(l.Engine, &log) }
	l.Status.Publish()
	l.Snapshot()
	a.track.apply(cfgEv.Config)
	if o.Ready != nil {
		o.Ready()
	}

	l.Run(ctx)

	if o.Stopping != nil {
		o.Stopping()
	}
	timeout := o.ShutdownTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	if !a.kq.Drain(timeout) {
		log.Error().Dur("timeout", timeout).Msg("netlink work still queued at exit: some addresses may be left configured")
	}
	if !a.lvs.drain(timeout) {
		log.Error().Dur("timeout", timeout).Msg("IPVS work still queued at exit: some services may be left configured")
	}
	l.RunShutdownScript(a.scripts.runWait)
	log.Info().Uint64("events", l.Seq).Msg("Stopped")
	return nil
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// seed draws the engine's PRNG seed; it is journaled in the Start event.
func seed() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return uint64(time.Now().UnixNano())
	}
	return binary.LittleEndian.Uint64(b[:])
}

// adapters are the executors and sources of one daemon run.
type adapters struct {
	mon     *netlink.Monitor
	nl      *netlink.Executor
	kq      *kernelQueue
	arp     *arp.Sender
	fw      *nftfw.Executor
	mux     *vrrpnet.Mux
	bfd     *bfdnet.Mux
	lvs     *lvsAdapters
	scripts *swapScripts
	track   *trackers
	mail    *mail.Sender
	events  chan events.Event
	slog    *syncLimit
	// log is the daemon's logger, for the adapters that log.
	log zerolog.Logger
	// closing silences the socket errors that Close itself causes.
	closing atomic.Bool
}

// startAdapters opens every adapter the run needs (no VRRP socket nor
// ARP sender with NoVRRP); on error it closes those it opened.
func startAdapters(cfgEv *events.ConfigLoaded, clk *clock.Clock, lg *Logging, o Options) (_ *adapters, err error) {
	log := lg.Logger
	lim := &syncLimit{l: newLogEvery(time.Second)}
	a := &adapters{events: make(chan events.Event, 1024), slog: lim, log: log}
	defer func() {
		if err != nil {
			a.close(&log)
		}
	}()
	a.mon, err = netlink.NewMonitor(netlink.MonitorOptions{Clock: clk.Now, Routes: needRoutes(cfgEv.Config),
		Rules: needRules(cfgEv.Config),
		// The resync's differences reach the engine as ordinary events;
		// this only says that notifications were lost.
		OnResync: func(diffs int, resyncs uint64) {
			if ok, n := lim.allow("netlink resync"); ok {
				log.Warn().Int("differences", diffs).Uint64("resyncs", resyncs).Int("suppressed", n).
					Msg("netlink monitor overflowed (ENOBUFS): state resynchronised from a dump")
			}
		}})
	if err != nil {
		return nil, fmt.Errorf("netlink monitor: %w", err)
	}
	a.nl, err = netlink.NewExecutor(netlink.ExecutorOptions{})
	if err != nil {
		return nil, fmt.Errorf("netlink executor: %w", err)
	}
	// The queue also carries the announcements (SendGARP, SendNA), which
	// the dispatcher queues behind the kernel effects they depend on; the
	// ARP sender's errors then come back here.
	a.kq = newKernelQueue(a.nl, 0, func(e effects.Effect, err error) {
		what, msg := "function", "netlink"
		if e != nil {
			what = e.EffectKind().String()
		}
		switch e.(type) {
		case *effects.SendGARP, *effects.SendNA:
			msg = "gratuitous ARP/NA"
		}
		if ok, n := lim.allow(msg + " " + what); ok {
			log.Error().Err(err).Str("effect", what).Int("suppressed", n).Msg(msg)
		}
	})
	a.scripts = &swapScripts{}
	a.newScripts(cfgEv, clk.Now, lg.Slog(), &log)
	a.track = &trackers{out: a.events, now: clk.Now, log: lg.Slog()}
	a.mail = mail.New(mail.Options{Logger: lg.Slog()})
	a.lvs = newLVSAdapters(a.events, clk.Now, lg.Slog(), &a.log, lim)
	a.lvs.ipvsOpts = o.IPVS
	if a.lvs.ipvsOpts.Netns == "" {
		a.lvs.ipvsOpts.Netns = IPVSNamespace(cfgEv.Config)
	}
	if len(cfgEv.Config.BFDInstances) > 0 && !o.NoBFD {
		if err := a.openBFD(cfgEv.Config, clk); err != nil {
			return nil, err
		}
	}
	if o.NoVRRP {
		return a, nil
	}
	// The firewall executor opens a netlink socket per effect, and only
	// when the engine asks for a table (no_accept, strict mode).
	a.fw = nftfw.New(nftfw.Options{})
	a.arp, err = arp.New(arp.Options{OnError: func(err error) {
		if ok, n := lim.allow("arp"); ok {
			log.Error().Err(err).Int("suppressed", n).Msg("gratuitous ARP/NA")
		}
	}})
	if err != nil {
		return nil, fmt.Errorf("arp sender: %w", err)
	}
	a.mux, err = vrrpnet.NewMux(vrrpnet.MuxOptions{Clock: clk.Now, Group4: cfgEv.Config.GlobalDefs.VRRPMcastGroup4,
		OnError: func(err error) {
			if a.closing.Load() || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) {
				return // the readers stopping at Close
			}
			if ok, n := lim.allow("vrrp socket"); ok {
				log.Error().Err(err).Int("suppressed", n).Msg("VRRP socket")
			}
		},
		// One line per cause (interface, VRID, verdict) and second at
		// most, with the count: a flood of junk cannot flood the log.
		OnRejected: func(r vrrpnet.Rejected) {
			log.Warn().Str("interface", r.Interface).Int("family", r.Family).Int("vrid", int(r.VRID)).
				Str("cause", r.Verdict.String()).Uint64("count", r.Count).Str("last_src", r.Src.String()).
				Msg("bad VRRP packets dropped")
		}})
	if err != nil {
		return nil, fmt.Errorf("vrrp sockets: %w", err)
	}
	return a, nil
}

// setReceivers rebuilds the VRRP sockets' kernel filters from what the
// engine accepts (after the start and after every reload).
func (a *adapters) setReceivers(e *engine.Engine, log *zerolog.Logger) {
	if a.mux == nil {
		return
	}
	if err := a.mux.SetReceivers(e.Receivers()); err != nil {
		log.Error().Err(err).Msg("VRRP socket filter: junk packets reach user space")
	}
}

// openBFD opens the BFD sockets (port 3784, and 4784 if a session is
// multihop).
func (a *adapters) openBFD(cfg *conf.Config, clk *clock.Clock) error {
	m, err := bfdnet.New(bfdnet.Options{Now: clk.Now, OnError: func(err error) {
		if a.closing.Load() {
			return
		}
		if ok, n := a.slog.allow("bfd socket"); ok {
			a.log.Error().Err(err).Int("suppressed", n).Msg("BFD socket")
		}
	}})
	if err != nil {
		return fmt.Errorf("bfd sockets: %w", err)
	}
	a.bfd = m
	return a.bfdMultihop(cfg)
}

// bfdMultihop opens the multihop listeners if a session needs them.
func (a *adapters) bfdMultihop(cfg *conf.Config) error {
	for _, b := range cfg.BFDInstances {
		if b.Multihop {
			if err := a.bfd.EnableMultihop(); err != nil {
				return fmt.Errorf("bfd multihop sockets: %w", err)
			}
			break
		}
	}
	return nil
}

// newScripts (re)creates the script executor for cfgEv's global_defs.
func (a *adapters) newScripts(cfgEv *events.ConfigLoaded, now func() events.Time, sl *slog.Logger, log *zerolog.Logger) {
	g := &cfgEv.Config.GlobalDefs
	so := scriptOptions(g)
	so.Results, so.Now, so.Logger = a.events, now, sl
	x, err := script.New(so)
	if err != nil {
		log.Error().Err(err).Msg("notify FIFO")
	}
	old := a.scripts.cur
	a.scripts.cur, a.scripts.opts, a.scripts.now, a.scripts.slog = x, scriptOptions(g), now, sl
	if old != nil {
		// Close waits for running scripts (up to its kill grace): not
		// in the loop.
		go old.Close()
	}
}

// reconfigure adapts the adapters to a reloaded configuration; it runs in
// the loop and does not block.
func (a *adapters) reconfigure(ev *events.ConfigLoaded, log *zerolog.Logger) {
	a.lvs.configure(ev.Config)
	g := &ev.Config.GlobalDefs
	if !reflect.DeepEqual(scriptOptions(g), a.scripts.opts) {
		a.newScripts(ev, a.scripts.now, a.scripts.slog, log)
	}
	a.track.apply(ev.Config)
	if a.bfd != nil {
		if err := a.bfdMultihop(ev.Config); err != nil {
			log.Error().Err(err).Msg("BFD")
		}
	}
}

// close stops every adapter that was started. Track and script sources
// may be blocked sending to the events channel, so it is drained meanwhile.
func (a *adapters) close(log *zerolog.Logger) {
	a.closing.Store(true)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-a.events:
			case <-stop:
				return
			}
		}
	}()
	if a.track != nil {
		a.track.close()
	}
	if a.scripts != nil && a.scripts.cur != nil {
		a.scripts.cur.Close()
	}
	if a.mail != nil {
		a.mail.Close()
	}
	if a.lvs != nil {
		a.lvs.close()
	}
	close(stop)
	wg.Wait()
	if a.kq != nil {
		a.kq.Close()
	}
	if a.nl != nil {
		a.nl.Close()
	}
	if a.arp != nil {
		a.arp.Close()
	}
	if a.mux != nil {
		a.mux.Close()
	}
	if a.bfd != nil {
		a.bfd.Close()
	}
	if a.mon != nil {
		a.mon.Close()
	}
}

// swapScripts is the Scripts the loop sees; reconfigure swaps the executor
// behind it (only from the loop goroutine, so no lock).
type swapScripts struct {
	cur  *script.Executor
	opts script.Options
	now  func() events.Time
	slog *slog.Logger
}

// Notify implements Scripts.
func (s *swapScripts) Notify(n *effects.Notify) { s.cur.Notify(n) }

// Run implements Scripts.
func (s *swapScripts) Run(rs *effects.RunScript) { s.cur.Run(rs) }

// runWait runs a script to its end (the shutdown script).
func (s *swapScripts) runWait(rs *effects.RunScript) *events.ScriptResult {
	if s == nil || s.cur == nil {
		return nil
	}
	return s.cur.RunWait(rs)
}

// syncLimit is a logEvery shared by adapter goroutines.
type syncLimit struct {
	mu sync.Mutex
	l  *logEvery
}

func (s *syncLimit) allow(key string) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.l.allow(key, time.Now())
}

// startMessage names the subsystems a run starts, as keepalived's
// "Starting VRRP child process" and "Starting Healthcheck child process".
func startMessage(o Options) string {
	switch {
	case o.NoVRRP:
		return "Starting Healthcheck"
	case o.NoLVS:
		return "Starting VRRP"
	}
	return "Starting VRRP and Healthcheck"
}

// applierFunc adapts a function to Applier.
type applierFunc func(effects.Effect) error

// Apply implements Applier.
func (f applierFunc) Apply(e effects.Effect) error { return f(e) }
