package track

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// ProcessOptions configures a ProcessTracker.
type ProcessOptions struct {
	// Processes are the vrrp_track_process blocks.
	Processes []conf.TrackProcess
	// Out receives a *events.ProcessCount per tracked process at start,
	// then one whenever a count changes (after fork_delay or
	// terminate_delay where they apply).
	Out chan<- events.Event
	// Now stamps events with the monotonic event time.
	Now func() events.Time
	// Logger receives operator messages; nil means slog.Default().
	Logger *slog.Logger
	// ScanInterval is the period of /proc scans when the proc connector
	// is unavailable (default 1 s).
	ScanInterval time.Duration
	// NoConnector forces periodic scanning (for tests and for kernels
	// whose connector misbehaves).
	NoConnector bool
}

// ProcessTracker counts running processes for each vrrp_track_process.
//
// It scans /proc once, then follows the kernel's proc connector: a fork
// of a counted process counts the child; an exec re-examines the process's
// name and command line; a comm change (prctl PR_SET_NAME) re-examines the
// name; an exit uncounts. Zombies are not counted. If the kernel drops
// events (ENOBUFS), /proc is scanned again a second later, as keepalived
// does. If the connector cannot be used, /proc is scanned periodically and
// a log line says so.
//
// Delays follow keepalived: a rise caused by a fork (or seen by a scan) is
// reported after fork_delay, a fall caused by an exit (or seen by a scan)
// after terminate_delay; a change in the other direction during the delay
// cancels it and reports the count at once (so a process that forks a
// child which then execs something else, or a process restarted within
// terminate_delay, is never reported as a bounce). Changes seen at exec or
// comm are reported at once.
type ProcessTracker struct {
	opts     ProcessOptions
	log      *slog.Logger
	root     string
	matchers []matcher
	counters []counter
	needCmd  bool
	pids     map[int][]int // pid → indices of the matchers it counts for

	conn      *connector  // nil when scanning; owned by the loop
	connOK    atomic.Bool // conn != nil, readable from any goroutine
	dirty     []scanChange
	connEvs   chan []procEvent
	connErr   chan error
	timerFire chan timerMsg
	stop      chan struct{}
	done      chan struct{}
}

// counter is one vrrp_track_process's count and its pending delay.
type counter struct {
	count, reported int
	pending         pendingKind
	timer           *time.Timer
	gen             uint64 // identifies the current timer
}

type pendingKind uint8

const (
	pendingNone pendingKind = iota
	pendingFork
	pendingTerminate
)

type timerMsg struct {
	idx int
	gen uint64
}

// cause says why a process started or stopped counting.
type cause uint8

const (
	causeNow  cause = iota // exec or comm change: report at once
	causeFork              // fork, or a rise seen by a scan
	causeExit              // exit, or a fall seen by a scan
)

// TrackProcesses scans /proc, opens the proc connector (falling back to
// periodic scans if it cannot) and starts reporting counts.
func TrackProcesses(opts ProcessOptions) (*ProcessTracker, error) {
	if opts.Now == nil {
		start := time.Now()
		opts.Now = func() events.Time { return events.Time(time.Since(start)) }
	}
	if opts.ScanInterval <= 0 {
		opts.ScanInterval = time.Second
	}
	p := &ProcessTracker{
		opts: opts, log: opts.Logger, root: "/proc",
		counters:  make([]counter, len(opts.Processes)),
		pids:      make(map[int][]int),
		connEvs:   make(chan []procEvent, 64),
		connErr:   make(chan error, 1),
		timerFire: make(chan timerMsg),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	for _, tp := range opts.Processes {
		m := newMatcher(tp)
		p.matchers = append(p.matchers, m)
		p.needCmd = p.needCmd || m.full
	}
	// Subscribe before scanning so that nothing happening during the scan
	// is missed; the events queue in the socket meanwhile.
	if !opts.NoConnector {
		c, err := openConnector()
		if err != nil {
			p.log.Warn("track_process: proc connector unavailable, scanning /proc periodically instead", "err", err, "interval", opts.ScanInterval)
		} else {
			p.conn = c
			p.connOK.Store(true)
		}
	}
	if err := p.scan(true); err != nil {
		if p.conn != nil {
			p.conn.close()
		}
		return nil, fmt.Errorf("track_process: %w", err)
	}
	if p.conn != nil {
		go p.readConnector(p.conn)
	}
	go p.run()
	return p, nil
}

// UsingConnector reports whether process events come from the proc
// connector (rather than periodic scans).
func (p *ProcessTracker) UsingConnector() bool { return p.connOK.Load() }

// Close stops tracking.
func (p *ProcessTracker) Close() error {
	select {
	case <-p.stop:
		return nil
	default:
	}
	close(p.stop)
	<-p.done
	return nil
}

// readConnector forwards decoded events to the loop until the connector is
// closed or fails.
func (p *ProcessTracker) readConnector(c *connector) {
	buf := make([]byte, 4096)
	for {
		evs, err := c.read(buf, nil)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			select {
			case p.connErr <- err:
			case <-p.stop:
				return
			}
			if !errors.Is(err, unix.ENOBUFS) && !errors.Is(err, unix.EINTR) {
				return
			}
			continue
		}
		if len(evs) == 0 {
			continue
		}
		select {
		case p.connEvs <- evs:
		case <-p.stop:
			return
		}
	}
}

// run is the loop that owns the tracker's state.
func (p *ProcessTracker) run() {
	defer close(p.done)
	defer func() {
		for i := range p.counters {
			p.cancel(i)
		}
		p.dropConn()
	}()
	for i := range p.counters {
		if !p.report(i, true) {
			return
		}
	}
	var ackWait, rescan <-chan time.Time
	var ticker *time.Ticker
	scanning := func() {
		if ticker == nil {
			ticker = time.NewTicker(p.opts.ScanInterval)
		}
	}
	if p.connActive() {
		ackWait = time.After(time.Second)
	} else {
		scanning()
	}
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	for {
		var tick <-chan time.Time
		if ticker != nil {
			tick = ticker.C
		}
		select {
		case <-p.stop:
			return
		case evs := <-p.connEvs:
			for _, ev := range evs {
				if ev.ack {
					ackWait = nil
					if ev.errno != 0 {
						p.log.Warn("track_process: kernel refused process events, scanning /proc periodically instead",
							"err", unix.Errno(ev.errno), "interval", p.opts.ScanInterval)
						p.dropConn()
						scanning()
					}
					continue
				}
				if !p.apply(ev) {
					return
				}
			}
		case err := <-p.connErr:
			if errors.Is(err, unix.ENOBUFS) {
				p.log.Warn("track_process: kernel dropped process events, rescanning /proc")
				rescan = time.After(time.Second)
				continue
			}
			if errors.Is(err, unix.EINTR) {
				continue
			}
			p.log.Error("track_process: proc connector failed, scanning /proc periodically instead", "err", err)
			p.dropConn()
			scanning()
		case <-ackWait:
			ackWait = nil
			p.log.Warn("track_process: no reply from the proc connector (is CONFIG_PROC_EVENTS enabled?), scanning /proc periodically instead")
			p.dropConn()
			scanning()
		case <-rescan:
			rescan = nil
			if !p.rescan() {
				return
			}
		case <-tick:
			if !p.rescan() {
				return
			}
		case m := <-p.timerFire:
			c := &p.counters[m.idx]
			if c.gen != m.gen || c.pending == pendingNone {
				continue // cancelled or replaced
			}
			c.pending, c.timer = pendingNone, nil
			if !p.report(m.idx, false) {
				return
			}
		}
	}
}

// rescan scans /proc and reports the changes; false means stopped.
func (p *ProcessTracker) rescan() bool {
	if err := p.scan(false); err != nil {
		p.log.Error("track_process: cannot scan /proc", "err", err)
		return true
	}
	return p.flush()
}

// connActive reports whether the connector is in use; only the loop (or
// the constructor) changes p.conn.
func (p *ProcessTracker) connActive() bool { return p.conn != nil }

// dropConn closes the connector, if any, and forgets it.
func (p *ProcessTracker) dropConn() {
	if p.conn != nil {
		p.conn.close()
		p.conn = nil
		p.connOK.Store(false)
	}
}
