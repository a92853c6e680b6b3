package script

import (
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// Options configures an Executor.
type Options struct {
	// ScriptUser and ScriptGroup are global_defs script_user: the identity
	// of scripts whose effect names no user.
	ScriptUser  string
	ScriptGroup string
	// Security is enable_script_security: refuse to run a root script
	// whose path a non-root user could modify.
	Security bool

	// The notify FIFOs of global_defs, each optional. VRRP notifications
	// (types INSTANCE and GROUP) go to NotifyFIFO and VRRPNotifyFIFO,
	// LVS notifications (VS and RS) to NotifyFIFO and LVSNotifyFIFO.
	NotifyFIFO     *conf.NotifyFIFO
	VRRPNotifyFIFO *conf.NotifyFIFO
	LVSNotifyFIFO  *conf.NotifyFIFO

	// Results receives a *events.ScriptResult for every track script run.
	// Required when RunScript effects are executed.
	Results chan<- events.Event
	// Now stamps results with the monotonic event time.
	Now func() events.Time
	// Logger receives operator messages; nil means slog.Default().
	Logger *slog.Logger

	// QueueLen bounds each instance's queue of pending notifications
	// (default 64); beyond it a notification is dropped and counted.
	QueueLen int
	// NotifyWait is how long an instance's next notification waits for
	// the scripts of the previous one to exit before starting its own
	// (default 10 s). keepalived does not wait at all, so a slow
	// notify_backup can still be running when notify_master starts;
	// vigil keeps one instance's scripts in order but never lets a hung
	// script hold back its notifications for longer than this. Negative
	// means do not wait (keepalived's behaviour).
	NotifyWait time.Duration
	// KillGrace is how long Close waits between SIGTERM and SIGKILL
	// (default 1 s, as keepalived at shutdown).
	KillGrace time.Duration
	// StopGrace is how long Close lets running scripts finish on their own
	// before sending SIGTERM (default 3 s): the notify_stop and notify
	// scripts of the shutdown itself are started by Close and must get to
	// run, as keepalived's do. Negative means signal at once.
	StopGrace time.Duration
}

// Stats are the executor's counters.
type Stats struct {
	// NotifyDropped counts notifications dropped because their
	// instance's queue was full.
	NotifyDropped uint64
	// FIFODropped counts FIFO lines not written (FIFO full).
	FIFODropped uint64
	// Refused counts scripts not run: not found, not executable, unknown
	// user, or insecure with enable_script_security.
	Refused uint64
	// Skipped counts track script runs skipped because the previous run
	// of the same script had not finished.
	Skipped uint64
	// StartFailed counts scripts whose fork/exec failed.
	StartFailed uint64
}

// Executor executes Notify and RunScript effects. Its methods never block:
// work goes to goroutines, on bounded queues. It is safe for concurrent use.
type Executor struct {
	opts  Options
	log   *slog.Logger
	procs procTable

	mu       sync.Mutex
	closed   bool
	queues   map[string]*notifyQueue
	running  map[string]bool   // track scripts with a run in progress
	lastFail map[string]string // track script → why its last run could not start
	fifos    []*fifo
	fifoByTy map[string][]*fifo // notification type → FIFOs to write
	done     chan struct{}
	wg       sync.WaitGroup

	notifyDropped, fifoDropped, refused, skipped, startFailed atomic.Uint64
	// selfWarned is set once the fall back to vigil's own user for
	// scripts without a user has been logged.
	selfWarned atomic.Bool
}

// New creates an Executor, creating and opening the configured notify
// FIFOs and starting their reader scripts. A FIFO that cannot be set up is
// reported in the returned error and left out, as keepalived carries on
// without it; the Executor is usable either way.
func New(opts Options) (*Executor, error) {
	if opts.QueueLen <= 0 {
		opts.QueueLen = 64
	}
	if opts.NotifyWait == 0 {
		opts.NotifyWait = 10 * time.Second
	}
	if opts.KillGrace <= 0 {
		opts.KillGrace = time.Second
	}
	if opts.StopGrace == 0 {
		opts.StopGrace = 3 * time.Second
	}
	if opts.Now == nil {
		start := time.Now()
		opts.Now = func() events.Time { return events.Time(time.Since(start)) }
	}
	x := &Executor{
		opts:     opts,
		log:      opts.Logger,
		queues:   make(map[string]*notifyQueue),
		running:  make(map[string]bool),
		lastFail: make(map[string]string),
		fifoByTy: make(map[string][]*fifo),
		done:     make(chan struct{}),
	}
	if x.log == nil {
		x.log = slog.Default()
	}
	var errs []error
	open := func(kind string, spec *conf.NotifyFIFO) *fifo {
		if spec == nil || spec.Path == "" {
			return nil
		}
		f, err := x.openFIFO(kind, spec)
		if err != nil {
			x.log.Warn("notify fifo problem", "fifo", spec.Path, "err", err)
			errs = append(errs, err)
		}
		if f != nil {
			x.fifos = append(x.fifos, f)
		}
		return f
	}
	global := open("notify_fifo", opts.NotifyFIFO)
	vrrp := open("vrrp_notify_fifo", opts.VRRPNotifyFIFO)
	lvs := open("lvs_notify_fifo", opts.LVSNotifyFIFO)
	for _, ty := range []string{"INSTANCE", "GROUP"} {
		x.fifoByTy[ty] = nonNil(global, vrrp)
	}
	for _, ty := range []string{"VS", "RS"} {
		x.fifoByTy[ty] = nonNil(global, lvs)
	}
	return x, errors.Join(errs...)
}

func nonNil(fs ...*fifo) []*fifo {
	var out []*fifo
	for _, f := range fs {
		if f != nil {
			out = append(out, f)
		}
	}
	return out
}

// openFIFO opens one FIFO and starts its reader script, which gets the
// FIFO's path appended to its arguments as in keepalived.
func (x *Executor) openFIFO(kind string, spec *conf.NotifyFIFO) (*fifo, error) {
	owner := Self()
	if spec.User != "" {
		id, err := LookupIdentity(spec.User, spec.Group)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, spec.Path, err)
		}
		owner = id
	}
	var startReader func() error
	if spec.Script != nil && len(spec.Script.Argv) > 0 {
		argv := append(append([]string(nil), spec.Script.Argv...), spec.Path)
		startReader = func() error {
			cmd, err := x.startScript(kind+"_script", argv, spec.Script.User, spec.Script.Group)
			if err != nil {
				return err
			}
			x.wg.Add(1)
			go func() {
				defer x.wg.Done()
				err := x.procs.wait(cmd)
				x.log.Info(kind+" script terminated", "script", argv[0], "status", exitText(err))
			}()
			return nil
		}
	}
	return openFIFO(kind, spec, owner, startReader)
}

// identity resolves a script's user and group, falling back to the
// configured default.
func (x *Executor) identity(user, group string) (Identity, error) {
	if user != "" {
		return LookupIdentity(user, group)
	}
	id, err := DefaultIdentity(x.opts.ScriptUser, x.opts.ScriptGroup, x.opts.Security)
	if err == nil && x.opts.ScriptUser == "" && id.Name == "" && !x.selfWarned.Swap(true) {
		// keepalived's warning, once: scripts then run as the daemon
		// (root, as a rule).
		x.log.Warn("WARNING - default user '"+DefaultScriptUser+"' for script execution does not exist - please create",
			"running_as", id.String())
	}
	return id, err
}

// startScript checks and starts one script; it counts and explains refusals.
func (x *Executor) startScript(what string, argv []string, user, group string) (*exec.Cmd, error) {
	id, err := x.identity(user, group)
	if err != nil {
		x.refused.Add(1)
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	r, err := Inspect(argv, id)
	if err != nil {
		x.refused.Add(1)
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if r.Insecure != nil {
		if x.opts.Security {
			x.refused.Add(1)
			return nil, fmt.Errorf("%s refused by enable_script_security: %w", what, r.Insecure)
		}
		x.log.Warn("SECURITY: script runs as root with unsafe permissions", "what", what, "err", r.Insecure)
	}
	cmd, err := x.procs.start(r, id)
	if err != nil {
		x.startFailed.Add(1)
		return nil, fmt.Errorf("%s: start %s as %s: %w", what, r.Argv[0], id, err)
	}
	return cmd, nil
}

// Stats returns a snapshot of the counters.
func (x *Executor) Stats() Stats {
	return Stats{
		NotifyDropped: x.notifyDropped.Load(),
		FIFODropped:   x.fifoDropped.Load(),
		Refused:       x.refused.Load(),
		Skipped:       x.skipped.Load(),
		StartFailed:   x.startFailed.Load(),
	}
}

// Close stops accepting effects, lets queued notifications start, gives
// running scripts StopGrace to finish, sends SIGTERM to the process group of
// every script still running, SIGKILL to those left after KillGrace, waits
// for them, and removes the FIFOs it created.
func (x *Executor) Close() error {
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return nil
	}
	x.closed = true
	close(x.done)
	queues := make([]*notifyQueue, 0, len(x.queues))
	for _, q := range x.queues {
		queues = append(queues, q)
	}
	x.mu.Unlock()

	for _, q := range queues {
		q.drained()
	}
	all := make(chan struct{})
	go func() { x.wg.Wait(); close(all) }()
	if x.opts.StopGrace > 0 {
		select {
		case <-all:
		case <-time.After(x.opts.StopGrace):
		}
	}
	x.procs.shut()
	if x.procs.signalAll(syscall.SIGTERM) > 0 {
		select {
		case <-all:
		case <-time.After(x.opts.KillGrace):
			x.procs.signalAll(syscall.SIGKILL)
		}
	}
	<-all

	x.mu.Lock()
	defer x.mu.Unlock()
	for _, f := range x.fifos {
		f.close()
	}
	return nil
}
