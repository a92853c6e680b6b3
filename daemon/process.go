package daemon

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events/conf"
)

// Process settings: keepalived.conf's global_defs settings of keepalived's
// VRRP process (vrrp_priority, vrrp_rt_priority, vrrp_rlimit_rttime,
// vrrp_no_swap, vrrp_cpu_affinity, max_auto_priority,
// min_auto_priority_delay, checker_no_swap, umask). They are process
// plumbing, not engine rules: the daemon applies them at start and at
// every reload (keepalived's VRRP process applies them each time it
// starts its configuration), the engine never sees them.
//
// vigil is one process. What keepalived applies to its VRRP process
// applies here to the process when it is a process attribute (the nice
// value of every thread, memory locking, the umask) and to the engine's
// thread when it is a scheduling attribute (SCHED_RR, CPU affinity): the
// goroutine that runs the engine loop is locked to its OS thread once
// such a setting applies (changeThread), and its thread alone runs
// real-time.

// processSettings applies the settings and remembers what it changed.
// Its methods run on the engine's goroutine, which is locked to its
// thread.
type processSettings struct {
	log *zerolog.Logger
	// umaskFromCommandLine: -u/--umask was given, which wins over the
	// configuration's umask (as in keepalived).
	umaskFromCommandLine bool

	// The automatic priority increase: the highest SCHED_RR priority
	// (0: off) and how late a timer must be.
	maxAuto  int
	minDelay time.Duration
	// rt is the engine thread's current SCHED_RR priority (0: not
	// real-time); rlimit the RLIMIT_RTTIME to set when it turns
	// real-time, rlimitSet whether it is set.
	rt        int
	rlimit    uint64
	rlimitSet bool
	locked    bool // mlockall done
	// threadChanged: the engine's thread runs with a scheduling that
	// other goroutines must not inherit (it is never unlocked).
	threadChanged bool
	// threadLocked: the engine's goroutine is locked to its thread.
	threadLocked bool
	xcpu         chan os.Signal
}

func newProcessSettings(log *zerolog.Logger, umaskFromCommandLine bool) *processSettings {
	return &processSettings{log: log, umaskFromCommandLine: umaskFromCommandLine,
		minDelay: time.Duration(conf.DefaultMinAutoPriorityDelay)}
}

// apply applies g's settings, as keepalived's set_process_priorities
// does: a real-time priority, else a nice value; memory locking; CPU
// affinity. start is false at a reload. It must run on the engine's
// locked thread.
func (p *processSettings) apply(g *conf.GlobalDefs, start bool) {
	if g.Umask != nil {
		if p.umaskFromCommandLine {
			p.log.Info().Msg("umask command line option specified, ignoring config option")
		} else {
			syscall.Umask(int(*g.Umask))
		}
	}
	if g.MaxAutoPriority != -1 {
		p.maxAuto = g.MaxAutoPriority
	}
	if start && g.MaxAutoPriority == 0 {
		p.log.Info().Msg("NOTICE: setting config option max_auto_priority should result in better keepalived performance")
	}
	if g.MinAutoPriorityDelay > 0 {
		p.minDelay = time.Duration(g.MinAutoPriorityDelay)
	}
	p.rlimit = g.VRRPRlimitRTTime
	if p.rlimit == 0 {
		p.rlimit = conf.DefaultRlimitRTTime
	}
	if g.VRRPRTPriority > 0 {
		p.setRealtime(g.VRRPRTPriority)
	} else if g.VRRPPriority != 0 {
		if err := setNice(g.VRRPPriority); err != nil {
			p.log.Warn().Err(err).Int("priority", g.VRRPPriority).Msg("Unable to set process priority")
		}
	}
	if (g.VRRPNoSwap || g.CheckerNoSwap) && !p.locked {
		if err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE | unix.MCL_ONFAULT); err != nil {
			p.log.Warn().Err(err).Msg("Unable to lock process in memory")
		} else {
			p.locked = true
		}
	}
	if len(g.VRRPCPUAffinity) > 0 {
		var set unix.CPUSet
		for _, c := range g.VRRPCPUAffinity {
			set.Set(c)
		}
		p.changeThread()
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			p.log.Warn().Err(err).Ints("cpus", g.VRRPCPUAffinity).Msg("unable to set cpu affinity to vrrp process")
		}
	}
}

// setRealtime makes the engine's thread SCHED_RR at prio (reset for the
// processes and threads it would create), with RLIMIT_RTTIME set the
// first time (soft limit half the hard one, to be warned by SIGXCPU
// before the kernel kills the process, as keepalived does).
func (p *processSettings) setRealtime(prio int) {
	p.changeThread()
	if err := schedSetscheduler(0, unix.SCHED_RR|unix.SCHED_RESET_ON_FORK, prio); err != nil {
		p.log.Warn().Err(err).Int("rt_priority", prio).Msg("cannot raise priority")
		return
	}
	p.rt = prio
	p.log.Info().Int("rt_priority", prio).Int("tid", unix.Gettid()).Msg("Engine thread runs SCHED_RR")
	if p.rlimitSet || p.rlimit == 0 {
		return
	}
	if p.xcpu == nil {
		p.xcpu = make(chan os.Signal, 1)
		signal.Notify(p.xcpu, syscall.SIGXCPU)
		go func(c <-chan os.Signal, log *zerolog.Logger) {
			for range c {
				log.Warn().Msg("SIGXCPU: the engine thread is close to RLIMIT_RTTIME (vrrp_rlimit_rttime)")
			}
		}(p.xcpu, p.log)
	}
	lim := unix.Rlimit{Cur: p.rlimit / 2, Max: p.rlimit}
	if err := unix.Setrlimit(unix.RLIMIT_RTTIME, &lim); err != nil {
		p.log.Warn().Err(err).Msg("cannot set realtime rlimit")
		return
	}
	p.rlimitSet = true
}

// late is told how late the engine ran a timer: over min_auto_priority_delay,
// with max_auto_priority set, the engine's thread turns SCHED_RR at the
// lowest priority, or one higher, up to max_auto_priority (keepalived's
// increment_process_priority).
func (p *processSettings) late(d time.Duration) {
	if p.maxAuto <= 0 || d <= p.minDelay {
		return
	}
	p.log.Info().Dur("late", d).Msgf("A thread timer expired %.6f seconds ago", d.Seconds())
	if p.rt >= p.maxAuto {
		return
	}
	next := p.rt + 1
	if p.rt == 0 {
		next = 1
	}
	p.setRealtime(next)
	if p.rt == next {
		p.log.Info().Msgf("Set realtime priority %d", next)
	}
}

// close stops the SIGXCPU watch.
func (p *processSettings) close() {
	if p.xcpu != nil {
		signal.Stop(p.xcpu)
		close(p.xcpu)
		p.xcpu = nil
	}
}

// schedSetscheduler is sched_setscheduler(2) for thread tid (0: the
// calling thread).
func schedSetscheduler(tid, policy, prio int) error {
	param := struct{ priority int32 }{int32(prio)}
	_, _, e := unix.RawSyscall(unix.SYS_SCHED_SETSCHEDULER, uintptr(tid), uintptr(policy), uintptr(unsafe.Pointer(&param)))
	if e != 0 {
		return fmt.Errorf("sched_setscheduler: %w", e)
	}
	return nil
}

// setNice sets the nice value of every thread of the process (Linux's
// nice is per thread; threads created later inherit it from the thread
// creating them). A second pass catches the threads the first one raced
// with.
func setNice(prio int) error {
	for pass := 0; pass < 2; pass++ {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("list threads: %w", err)
		}
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if err := unix.Setpriority(unix.PRIO_PROCESS, tid, prio); err != nil && err != unix.ESRCH {
				return fmt.Errorf("setpriority %d: %w", prio, err)
			}
		}
	}
	return nil
}

// changeThread locks the engine's goroutine to its thread before a
// scheduling setting changes that thread, and from then on. It is not
// locked before: a locked goroutine costs a thread hand-off (a futex
// wake-up) at every wake-up of the loop.
func (p *processSettings) changeThread() {
	if !p.threadLocked {
		runtime.LockOSThread()
		p.threadLocked = true
	}
	p.threadChanged = true
}
