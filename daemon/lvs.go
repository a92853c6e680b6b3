package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-ha/vigil/adapters/check"
	"github.com/vigil-ha/vigil/adapters/ipvs"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine/lvs"
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
// FIFO lines fire; only the kernel table is not programmed (its SetIPVS
// effects are counted as unhandled). keepalived's checker process would
// exit instead; vigil keeps VRRP running in the same process, and
// notifications still tell an operator what the table should be.
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
	// syncTable is mgr.Sync (a fake in tests).
	syncTable func(ipvs.Table, bool) ([]ipvs.Change, error)
	q         *kernelQueue
	// noIPVS records that opening IPVS failed, so that it is logged once.
	noIPVS bool
	// held is set until the start reconciliation is queued: the SetIPVS
	// effects of the start sequence are folded into it rather than
	// applied one by one (so lvs_flush does not flush a table being
	// built). Only the loop goroutine touches it.
	held bool
}

// checkerSettings are the global_defs parts the checkers use.
type checkerSettings struct {
	ssl                     *conf.SSL
	helo                    string
	scriptUser, scriptGroup string
	security                bool
}

func newLVSAdapters(out chan<- events.Event, now func() events.Time, sl *slog.Logger, log *zerolog.Logger, lim *syncLimit) *lvsAdapters {
	return &lvsAdapters{events: out, now: now, slog: sl, log: log, lim: lim, held: true}
}

// configure opens or adapts the parts cfg needs. It runs in the loop
// before the configuration is stepped, and does not block but for opening
// IPVS the first time (a netlink round trip).
func (l *lvsAdapters) configure(cfg *conf.Config) {
	if len(cfg.VirtualServers) == 0 && l.checks == nil {
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
	if len(cfg.VirtualServers) > 0 && l.mgr == nil && !l.noIPVS {
		l.openIPVS()
	}
}

func (l *lvsAdapters) openIPVS() {
	m, err := ipvs.Open(l.ipvsOpts)
	if err != nil {
		l.noIPVS = true
		msg := "cannot use IPVS: virtual servers are not programmed into the kernel; health checkers, their notify scripts and FIFO lines still run"
		if errors.Is(err, ipvs.ErrNoIPVS) {
			msg = "the kernel has no IPVS (ip_vs module): virtual servers are not programmed into the kernel; health checkers, their notify scripts and FIFO lines still run"
		}
		l.log.Error().Err(err).Msg(msg)
		return
	}
	l.mgr, l.syncTable = m, m.Sync
	x := ipvs.NewExecutor(m)
	l.q = newKernelQueue(x, 0, func(e effects.Effect, err error) {
		what := "reconcile"
		if e != nil {
			what = e.EffectKind().String()
		}
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

// Apply implements Applier for SetIPVS: queued for the IPVS executor
// once the start reconciliation is queued, folded into it before.
func (l *lvsAdapters) Apply(e effects.Effect) error {
	if l.q == nil {
		return errNoIPVSExecutor
	}
	if l.held {
		return nil
	}
	return l.q.Apply(e)
}

// errNoIPVSExecutor marks SetIPVS effects with nowhere to go; the
// dispatcher counts them and does not log each one (the reason was
// logged when IPVS could not be opened).
var errNoIPVSExecutor = errors.New("no IPVS executor")

// reconcile queues the start reconciliation: make the kernel hold the
// engine's desired table (everything Start asked for), removing what a
// previous run owned and no longer wants, and flushing first with
// lvs_flush. Later SetIPVS effects queue behind it.
func (l *lvsAdapters) reconcile(table []lvs.Service, flush bool) {
	l.held = false
	if l.q == nil {
		return
	}
	want, err := ipvsTable(table)
	if err != nil {
		l.log.Error().Err(err).Msg("IPVS: the desired table cannot be built; reconciling what can be")
	}
	log, sync := l.log, l.syncTable
	if err := l.q.Do(func() error {
		changes, err := sync(want, flush)
		for _, c := range changes {
			log.Info().Str("change", c.String()).Msg("IPVS reconcile")
		}
		if err != nil {
			return fmt.Errorf("reconciling the IPVS table: %w", err)
		}
		return nil
	}); err != nil {
		l.log.Error().Err(err).Msg("IPVS reconcile not queued")
	}
}

// ipvsTable converts the engine's desired table to the adapter's. A
// service or destination that does not convert is left out and reported.
func ipvsTable(svcs []lvs.Service) (ipvs.Table, error) {
	var out ipvs.Table
	var errs []error
	for _, s := range svcs {
		svc, err := ipvs.ServiceFromEffect(&s.IPVSService)
		if err != nil {
			errs = append(errs, fmt.Errorf("virtual server %s: %w", s.VirtualServer, err))
			continue
		}
		for _, d := range s.Dests {
			dest, err := ipvs.DestFromEffect(&d.IPVSDest, d.Weight)
			if err != nil {
				errs = append(errs, fmt.Errorf("virtual server %s, real server %s: %w", s.VirtualServer, d.RealServer, err))
				continue
			}
			svc.Dests = append(svc.Dests, dest)
		}
		out = append(out, svc)
	}
	return out, errors.Join(errs...)
}

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
