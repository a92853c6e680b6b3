package daemon

import (
	"errors"
	"log/slog"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-ha/vigil/adapters/check"
	"github.com/vigil-ha/vigil/adapters/ipvs"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// lvsAdapters are the checker half of the daemon (keepalived's checker
// process): the health-check executor and the IPVS executor behind its
// own kernel queue. (FILE_CHECK needs no adapter of its own: it reads the
// track-file watcher's events, and engine/lvs decides its verdict.)
//
// Each part is opened the first time a configuration has virtual servers.
// A kernel without IPVS is logged once as an error and the rest goes on:
// checks run, real servers go up and down and their notify scripts and
// FIFO lines fire; only the kernel table is not programmed (its
// ReconcileIPVS and SetIPVS effects are counted as unhandled).
// keepalived's checker process would exit instead; vigil keeps VRRP
// running in the same process, and notifications still tell an operator
// what the table should be.
type lvsAdapters struct {
	events chan<- events.Event
	now    func() events.Time
	slog   *slog.Logger
	log    *zerolog.Logger
	lim    *syncLimit
	// ipvsOpts are the Manager's options (tests point them elsewhere).
	ipvsOpts ipvs.Options

	checks *check.Executor
	// checker is the executor's current global settings, to skip
	// rebuilding them on reloads that do not change them.
	checker checkerSettings

	mgr *ipvs.Manager
	// mgrPub publishes mgr to /metrics' goroutine.
	mgrPub atomic.Pointer[ipvs.Manager]
	q      *kernelQueue
	// noIPVS records that opening IPVS failed, so that it is logged once.
	noIPVS bool
}

// checkerSettings are the global_defs parts the checkers use.
type checkerSettings struct {
	ssl                     *conf.SSL
	helo                    string
	scriptUser, scriptGroup string
	security                bool
}

func newLVSAdapters(out chan<- events.Event, now func() events.Time, sl *slog.Logger, log *zerolog.Logger, lim *syncLimit) *lvsAdapters {
	return &lvsAdapters{events: out, now: now, slog: sl, log: log, lim: lim}
}

// configure opens or adapts the parts cfg needs. It runs in the loop
// before the configuration is stepped, and does not block but for opening
// IPVS the first time (a netlink round trip).
func (l *lvsAdapters) configure(cfg *conf.Config) {
	// lvs_sync_daemon needs IPVS even without virtual servers: the VRRP
	// part of the engine starts and stops the sync daemons.
	wantIPVS := len(cfg.VirtualServers) > 0 || cfg.GlobalDefs.LVSSyncDaemon != nil
	if len(cfg.VirtualServers) == 0 && l.checks == nil {
		if wantIPVS && l.mgr == nil && !l.noIPVS {
			l.openIPVS()
		}
		return
	}
	g := &cfg.GlobalDefs
	cs := checkerSettings{ssl: cfg.SSL, helo: g.SMTPHeloName, scriptUser: g.ScriptUser,
		scriptGroup: g.ScriptGroup, security: g.EnableScriptSecurity}
	if l.checks == nil || !reflect.DeepEqual(cs, l.checker) {
		c := &check.Checker{HeloName: cs.helo, ScriptUser: cs.scriptUser, ScriptGroup: cs.scriptGroup,
			ScriptSecurity: cs.security}
		if cs.ssl != nil {
			tc, err := check.TLSConfig(cs.ssl)
			if err != nil {
				// keepalived also carries on without the SSL context:
				// SSL_GET checks then fail or run without a certificate.
				l.log.Error().Err(err).Msg("SSL block: SSL_GET checkers run without it")
			}
			c.TLS = tc
		}
		l.checker = cs
		if l.checks == nil {
			l.checks = check.NewExecutor(check.ExecutorOptions{Checker: c, Results: l.events, Now: l.now})
		} else {
			l.checks.SetChecker(c)
		}
	}
	if wantIPVS && l.mgr == nil && !l.noIPVS {
		l.openIPVS()
	}
}

func (l *lvsAdapters) openIPVS() {
	m, err := ipvs.Open(l.ipvsOpts)
	if err != nil {
		l.noIPVS = true
		msg := "cannot use IPVS: virtual servers are not programmed into the kernel and no sync daemon is started; health checkers, their notify scripts and FIFO lines still run"
		if errors.Is(err, ipvs.ErrNoIPVS) {
			msg = "the kernel has no IPVS (ip_vs module): virtual servers are not programmed into the kernel and no sync daemon is started; health checkers, their notify scripts and FIFO lines still run"
		}
		l.log.Error().Err(err).Msg(msg)
		return
	}
	l.mgr = m
	l.mgrPub.Store(m)
	x := ipvs.NewExecutor(m)
	log := l.log
	x.OnChange = func(c ipvs.Change) { log.Info().Str("change", c.String()).Msg("IPVS reconcile") }
	l.q = newKernelQueue(x, 0, func(e effects.Effect, err error) {
		what := e.EffectKind().String()
		if ok, n := l.lim.allow("ipvs " + what); ok {
			l.log.Error().Err(err).Str("effect", what).Int("suppressed", n).Msg("IPVS")
		}
	})
}

// runCheck is the dispatcher's executor for RunCheck. The executor
// exists once a configuration has had virtual servers, which RunCheck
// effects come from.
func (l *lvsAdapters) runCheck(e effects.Effect) error {
	if l.checks == nil {
		return errors.New("no checker executor")
	}
	return l.checks.Apply(e)
}

// Apply implements Applier for ReconcileIPVS, SetIPVS, SetIPVSTimeouts
// and IPVSSyncDaemon: queued, in the engine's order, for the IPVS
// executor. The start's ReconcileIPVS thus reaches the kernel before every
// later SetIPVS.
func (l *lvsAdapters) Apply(e effects.Effect) error {
	if l.q == nil {
		return errNoIPVSExecutor
	}
	return l.q.Apply(e)
}

// errNoIPVSExecutor marks IPVS effects with nowhere to go; the dispatcher
// counts them and does not log each one (the reason was logged when IPVS
// could not be opened).
var errNoIPVSExecutor = errors.New("no IPVS executor")

// drain waits up to timeout for the queued IPVS work (the Stop event's
// removals); it reports whether the queue drained.
func (l *lvsAdapters) drain(timeout time.Duration) bool {
	return l.q == nil || l.q.Drain(timeout)
}

// close stops the checkers and the IPVS queue; the kernel table stays as
// the last effects left it. The loop's channel must be drained meanwhile.
func (l *lvsAdapters) close() {
	if l.checks != nil {
		l.checks.Close()
	}
	if l.q != nil {
		l.q.Close()
	}
	if l.mgr != nil {
		l.mgr.Close()
	}
}
