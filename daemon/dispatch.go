package daemon

import (
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// Network executes the VRRP network effects (vrrpnet.Mux). Its methods run
// inline in the loop: each is a system call or two.
type Network interface {
	Send(*effects.SendAdvert) error
	Join(*effects.JoinGroup) error
	Leave(*effects.LeaveGroup) error
	// CloseInterface closes a deleted interface's sockets (CloseSockets).
	CloseInterface(name string) error
}

// BFDNet sends BFD control packets (bfdnet.Mux), inline in the loop: one
// sendmsg.
type BFDNet interface {
	Send(*effects.SendBFD) error
}

// Scripts executes notify and track-script effects (script.Executor). Its
// methods must not block.
type Scripts interface {
	Notify(*effects.Notify)
	Run(*effects.RunScript)
}

// Executors are where the loop sends effects. Every method called from the
// loop returns at once: Net sends inline (one sendmsg, microseconds, and
// adverts must leave in order and on time), Kernel and IPVS are queues in
// front of netlink, Announce, Scripts, Checks and Mail queue internally, Timers
// touches a heap. A nil executor drops its effects (counted as
// unhandled).
//
// Kernel either applies each effect before its Apply returns (a test's
// recorder) or is a Sequencer (the daemon's kernelQueue): announcements
// are then queued through it, behind the kernel effects dispatched before
// them, as the effects package's ordering rule requires. An asynchronous
// Kernel that is not a Sequencer would break that rule.
type Executors struct {
	Net      Network
	Kernel   Applier
	Announce Applier
	Timers   Applier
	Scripts  Scripts
	// Checks runs RunCheck (check.Executor); IPVS applies ReconcileIPVS
	// and SetIPVS, in order.
	Checks Applier
	IPVS   Applier
	// BFD sends SendBFD, inline like Net.
	BFD BFDNet
	// Firewall applies AddFirewallVIPs, DelFirewallVIPs, AddFirewallVMAC,
	// DelFirewallVMAC and RemoveFirewall (nftfw.Executor). They are kernel effects: behind a
	// Sequencer Kernel they are queued in order with the addresses.
	Firewall Applier
	// Mail sends the email alerts (SendMail: mail.Sender, a queue).
	Mail Applier
}

// Sequencer is an asynchronous Applier that keeps order: effects are
// applied one at a time, in the order given. ApplyAfter queues e for
// another executor x, to be applied by x once everything queued before it
// has been applied. Neither method blocks.
type Sequencer interface {
	Applier
	ApplyAfter(x Applier, e effects.Effect) error
}

// dispatcher hands effects to the executors and turns the informational
// ones (StateChanged, Log) into log lines. Count effects are the
// statistics StateDumps' recorder keeps (the SIGUSR2 dump, vigil status,
// /metrics): nothing to do here.
type dispatcher struct {
	x     Executors
	log   *zerolog.Logger
	limit *logEvery
	// unhandled counts effects no executor took, by kind.
	unhandled map[effects.Kind]uint64
	// feedback holds the events executing a Step's effects produced (the
	// outcome of each JoinGroup), for the loop to step next.
	feedback []events.Event
	// shutdown is the shutdown script the Stop step asked for, held until
	// the rest of the stop has been applied.
	shutdown *effects.RunScript
}

func newDispatcher(x Executors, log *zerolog.Logger) *dispatcher {
	return &dispatcher{x: x, log: log, limit: newLogEvery(time.Second), unhandled: map[effects.Kind]uint64{}}
}

// dispatch executes effs in order.
func (d *dispatcher) dispatch(effs []effects.Effect) {
	for _, e := range effs {
		d.one(e)
	}
}

func (d *dispatcher) one(e effects.Effect) {
	var err error
	switch v := e.(type) {
	case *effects.SendAdvert:
		if d.x.Net == nil {
			d.unhandled[e.EffectKind()]++
			return
		}
		err = d.x.Net.Send(v)
	case *effects.JoinGroup:
		if d.x.Net == nil {
			d.unhandled[e.EffectKind()]++
			return
		}
		// The engine knows the outcome: a failed join is a FAULT it
		// retries, never an instance that believes it listens.
		j := &events.GroupJoined{Interface: v.Interface, Group: v.Group}
		if err := d.x.Net.Join(v); err != nil {
			j.Err = err.Error()
		}
		d.feedback = append(d.feedback, j)
		return
	case *effects.CloseSockets:
		if d.x.Net == nil {
			d.unhandled[e.EffectKind()]++
			return
		}
		err = d.x.Net.CloseInterface(v.Interface)
	case *effects.LeaveGroup:
		if d.x.Net == nil {
			d.unhandled[e.EffectKind()]++
			return
		}
		err = d.x.Net.Leave(v)
	case *effects.AddAddress, *effects.DelAddress, *effects.AddRoute, *effects.DelRoute,
		*effects.AddRule, *effects.DelRule, *effects.CreateVMAC, *effects.DeleteVMAC, *effects.SetPromoteSecondaries:
		err = d.apply(d.x.Kernel, e)
	case *effects.SendGARP, *effects.SendNA:
		err = d.announce(e)
	case *effects.AddFirewallVIPs, *effects.DelFirewallVIPs, *effects.RemoveFirewall,
		*effects.AddFirewallVMAC, *effects.DelFirewallVMAC:
		err = d.firewall(e)
	case *effects.SetTimer, *effects.CancelTimer:
		err = d.apply(d.x.Timers, e)
	case *effects.RunScript:
		if d.x.Scripts == nil {
			d.unhandled[e.EffectKind()]++
			return
		}
		if v.Phase == effects.PhaseShutdown {
			// Run once every effect before it has been applied
			// (Loop.RunShutdownScript), as keepalived runs it once VRRP
			// and the checkers have stopped.
			d.shutdown = effects.Clone(v).(*effects.RunScript)
			return
		}
		d.x.Scripts.Run(v)
	case *effects.Notify:
		if d.x.Scripts == nil {
			d.unhandled[e.EffectKind()]++
			return
		}
		d.x.Scripts.Notify(v)
	case *effects.RunCheck:
		err = d.apply(d.x.Checks, e)
	case *effects.SetIPVS, *effects.ReconcileIPVS, *effects.SetIPVSTimeouts, *effects.IPVSSyncDaemon:
		err = d.apply(d.x.IPVS, e)
		if errors.Is(err, errNoIPVSExecutor) {
			// Why not logged: the reason (no IPVS in the kernel) was,
			// once, and this would repeat it for every change.
			d.unhandled[e.EffectKind()]++
			return
		}
	case *effects.SendMail:
		err = d.apply(d.x.Mail, e)
	case *effects.SendBFD:
		if d.x.BFD == nil {
			d.unhandled[e.EffectKind()]++
			return
		}
		err = d.x.BFD.Send(v)
	case *effects.BFDStateChanged:
		d.log.Debug().Str("bfd_instance", v.Session).Str("from", events.BFDStateName(v.From)).
			Str("to", events.BFDStateName(v.To)).Uint8("diag", v.LocalDiag).Uint8("remote_diag", v.RemoteDiag).
			Str("reason", v.Reason).Msg("BFD state changed")
	case *effects.CheckStateChanged:
		d.checkStateChanged(v)
	case *effects.StateChanged:
		d.stateChanged(v)
	case *effects.Log:
		d.logEffect(v)
	case *effects.Count:
		// Counted by StateDumps' recorder.
	default:
		// An effect kind newer than this dispatcher.
		d.unhandled[e.EffectKind()]++
		if ok, _ := d.limit.allow("unhandled "+e.EffectKind().String(), time.Now()); ok {
			d.log.Warn().Str("effect", e.EffectKind().String()).Msg("no executor for this effect: ignored")
		}
		return
	}
	if err != nil {
		d.failed(e, err)
	}
}

// announce hands a SendGARP or SendNA to Announce no earlier than every
// kernel effect dispatched before it has been applied: the address it
// announces exists, and so does the VMAC it is sent on. The ARP sender's
// Apply only queues the burst (the first frame leaves at once from its
// per-interface goroutine, the repeats Interval apart), so running it on
// the kernel queue's goroutine holds that queue for microseconds.
//
// Why one FIFO shared with the kernel effects rather than per-interface
// queues: the dependencies cross interfaces (a VMAC is created on its
// parent and announced on itself; routes and rules name addresses, not
// interfaces), and RTNL serializes netlink work anyway, so per-interface
// queues would buy little parallelism for a dependency analysis that is
// easy to get wrong. The cost — an announcement waits for the kernel work
// queued ahead of it, other instances' included — is keepalived's too: it
// adds an instance's addresses, then sends its GARPs, in one thread.
// Adverts are unaffected: Net runs inline, never behind this queue.
func (d *dispatcher) announce(e effects.Effect) error {
	if d.x.Announce == nil {
		d.unhandled[e.EffectKind()]++
		return nil
	}
	if s, ok := d.x.Kernel.(Sequencer); ok {
		return s.ApplyAfter(d.x.Announce, e)
	}
	return d.x.Announce.Apply(e)
}

// firewall hands a drop-set change to Firewall in the kernel stream's
// order: an address enters its set before the AddAddress after it is
// applied, and leaves it only once the DelAddress before it has been.
func (d *dispatcher) firewall(e effects.Effect) error {
	if d.x.Firewall == nil {
		d.unhandled[e.EffectKind()]++
		return nil
	}
	if s, ok := d.x.Kernel.(Sequencer); ok {
		return s.ApplyAfter(d.x.Firewall, e)
	}
	return d.x.Firewall.Apply(e)
}

func (d *dispatcher) apply(x Applier, e effects.Effect) error {
	if x == nil {
		d.unhandled[e.EffectKind()]++
		return nil
	}
	return x.Apply(e)
}

// failed logs an executor error, at most once a second per effect kind so
// that a dead interface does not turn every advert into a log line.
func (d *dispatcher) failed(e effects.Effect, err error) {
	ok, suppressed := d.limit.allow("fail "+e.EffectKind().String(), time.Now())
	if !ok {
		return
	}
	ev := d.log.Error().Str("effect", e.EffectKind().String()).Err(err)
	if suppressed > 0 {
		ev = ev.Int("suppressed", suppressed)
	}
	ev.Msg("effect failed")
}

// stateChanged records a transition as a structured debug line: the
// engine's own Log effect already says "(VI_1) Entering MASTER STATE" in
// keepalived's words; this adds the reason for -D readers.
func (d *dispatcher) stateChanged(s *effects.StateChanged) {
	d.log.Debug().Str("instance", s.Instance).Str("from", s.From.String()).
		Str("to", s.To.String()).Int("priority", s.Priority).Str("reason", s.Reason).
		Msg("state changed")
}

// checkStateChanged logs a checker's verdict. The engine's Log effects
// say what keepalived says about the real server; this line names the
// checker and why it changed, as keepalived's per-checker messages do.
func (d *dispatcher) checkStateChanged(c *effects.CheckStateChanged) {
	state := "DOWN"
	if c.Up {
		state = "UP"
	}
	d.log.Info().Str("virtual_server", c.VirtualServer).Str("real_server", c.RealServer).
		Int("checker", c.Checker).Str("type", c.Type).Str("reason", c.Reason).
		Msgf("%s check of %s (%s) is %s", c.Type, c.RealServer, c.VirtualServer, state)
}

// logEffect writes an engine message at its level; messages already carry
// keepalived's "(instance)" prefix.
func (d *dispatcher) logEffect(l *effects.Log) {
	var ev *zerolog.Event
	switch l.Level {
	case effects.LogDebug:
		ev = d.log.Debug()
	case effects.LogWarning:
		ev = d.log.Warn()
	case effects.LogError:
		ev = d.log.Error()
	default:
		ev = d.log.Info()
	}
	if l.Instance != "" {
		ev = ev.Str("instance", l.Instance)
	}
	ev.Msg(l.Message)
}
