package sim

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/vigil-ha/vigil/driver"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// Run advances virtual time by d, processing everything scheduled up to
// and including now+d.
func (w *World) Run(d time.Duration) {
	w.RunUntil(w.now.Add(d))
}

// RunUntil processes the queue up to and including time end. It stops
// early when the monitor reports a failure and stopOnFailure is set.
func (w *World) RunUntil(end events.Time) {
	if w.mon.dirty {
		w.mon.evaluate()
	}
	for {
		it := w.q.peek()
		if it == nil || it.at > end {
			break
		}
		w.q.pop()
		if it.at > w.now {
			w.now = it.at
		}
		w.dispatch(it)
		w.recycle(it)
		if w.probe != nil {
			w.probe()
		}
		if w.mon.dirty {
			w.mon.evaluate()
		}
		if w.mon.halt {
			return
		}
	}
	if end > w.now {
		w.now = end
	}
}

// dispatch performs one queued item.
func (w *World) dispatch(it *item) {
	switch it.kind {
	case itHook:
		it.fn()
		return
	case itNeighArrive:
		w.neighArrive(it)
		return
	case itStallEnd:
		n := it.node
		if n.epoch == it.epoch && n.running && n.stalledUntil == it.at {
			w.thaw(n)
		}
		return
	}
	n := it.node
	if !n.running || (it.epoch != anyEpoch && it.epoch != n.epoch) {
		return
	}
	if n.stalled() {
		it.held = true
		n.held = append(n.held, it)
		return
	}
	switch it.kind {
	case itEvent:
		if it.iface != nil && !it.iface.up {
			return // arrived on an interface that went down in flight
		}
		w.step(n, it.ev)
	case itTimer:
		if n.timers[it.key] == it {
			delete(n.timers, it.key)
			if w.rec != nil {
				w.step(n, &events.TimerFired{Key: it.key})
			} else {
				// The engine keeps no event past its step: one will do.
				w.timerFired = events.TimerFired{Key: it.key}
				w.step(n, &w.timerFired)
			}
		}
	case itNeigh:
		w.neighSend(it)
	}
}

// step feeds one event to the node's engine at the current time and
// executes the effects, which it returns (valid until the node's next
// step).
func (w *World) step(n *Node, ev events.Event) []effects.Effect {
	w.steps++
	if w.trace != nil {
		fmt.Fprintf(w.trace, "%s %s <- %s\n", stamp(w.now), n.Name, driver.DescribeEvent(ev))
	}
	if n.bfd != nil {
		w.mon.checkBFDDetect(n)
	}
	d := driver.Driver{Engine: n.eng}
	effs := d.Step(ev, w.now)
	if w.rec != nil {
		w.rec.Stepped(n.Name, ev, effs)
	}
	for _, e := range effs {
		if w.trace != nil {
			fmt.Fprintf(w.trace, "%s %s -> %s\n", stamp(w.now), n.Name, driver.DescribeEffect(e))
		}
		w.execute(n, e)
	}
	if rx, ok := ev.(*events.BFDReceived); ok && n.bfd != nil {
		w.bfdAccepted(n, rx, effs)
	}
	return effs
}

// execute carries out one effect against the world model.
func (w *World) execute(n *Node, e effects.Effect) {
	switch e := e.(type) {
	case *effects.SendAdvert:
		w.sendAdvert(n, e)
	case *effects.SendBFD:
		w.sendBFD(n, e)
	case *effects.BFDStateChanged:
		w.bfdChanged(n, e)
	case *effects.AddAddress:
		w.mon.reloadEffect(n, e)
		w.addrEffect(n, e.Instance, e.Address.Dev, e.Address.Prefix, true)
		if n.firewall && filtering(n, e.Instance) && !n.Filtered(e.Address.Prefix.Addr()) {
			w.mon.violate("unfiltered-vip", "%s added %s of no_accept instance %s before it was in a drop set", n.Name, e.Address.Prefix.Addr(), e.Instance)
		}
	case *effects.DelAddress:
		w.mon.reloadEffect(n, e)
		w.addrEffect(n, e.Instance, e.Address.Dev, e.Address.Prefix, false)
	case *effects.SendGARP:
		w.neighBurst(n, e.Instance, e.Interface, e.Addr, e.Count, e.Interval)
	case *effects.SendNA:
		w.neighBurst(n, e.Instance, e.Interface, e.Addr, e.Count, e.Interval)
	case *effects.SetTimer:
		at := max(e.At, w.now)
		if it := n.timers[e.Key]; it != nil && it.index >= 0 {
			// Re-armed while queued: move it rather than leave a stale
			// item behind (same order as pushing a new one).
			w.q.move(it, at)
			break
		}
		it := w.newItem()
		it.at, it.kind, it.node, it.epoch, it.key = at, itTimer, n, n.epoch, e.Key
		n.timers[e.Key] = it
		w.schedule(it)
	case *effects.CancelTimer:
		if it := n.timers[e.Key]; it != nil {
			delete(n.timers, e.Key)
			if it.index >= 0 {
				w.q.remove(it)
				w.recycle(it)
			}
		}
	case *effects.RunScript:
		ev := &events.ScriptResult{Script: e.Script, Phase: e.Phase, Status: n.scriptExit[e.Script]}
		if e.Phase != "" {
			ev.Status = 0 // the startup and shutdown scripts succeed
		}
		w.schedule(&item{at: w.now.Add(scriptDelay), kind: itEvent, node: n, epoch: n.epoch, ev: ev})
	case *effects.StateChanged:
		w.stateChanged(n, e)
	case *effects.AddFirewallVIPs:
		n.firewall = true
		if n.dropped == nil {
			n.dropped = map[effects.FirewallVIP]string{}
		}
		for _, v := range e.VIPs {
			n.dropped[v] = e.Table.Name
		}
	case *effects.DelFirewallVIPs:
		n.firewall = true
		for _, v := range e.VIPs {
			delete(n.dropped, v)
			if filtering(n, e.Instance) && n.HasAddr(v.Addr) {
				w.mon.violate("unfiltered-vip", "%s took %s of no_accept instance %s out of its drop set while holding it", n.Name, v.Addr, e.Instance)
			}
		}
	case *effects.RemoveFirewall:
		n.firewall = true
		for v, t := range n.dropped {
			if t == e.Table {
				delete(n.dropped, v)
			}
		}
	case *effects.AddFirewallVMAC, *effects.DelFirewallVMAC:
		// The simulated segments carry no IGMP/MLD reports to redirect:
		// the VMAC's IGMP/MLD objects change nothing the model sees.
	case *effects.JoinGroup, *effects.CreateVMAC, *effects.DeleteVMAC:
		if v, ok := e.(*effects.CreateVMAC); ok {
			// The macvlan sits on its parent's segment.
			n.ensureIface(v.Name).lower = n.iface(v.Parent)
		}
		// Joins succeed (the simulator has no sockets to fail) and VMACs
		// appear and go as netlink reports them: the driver's answers.
		for _, ev := range driver.Answers(w.now, []effects.Effect{e}) {
			w.schedule(&item{at: ev.EventTime(), kind: itEvent, node: n, epoch: n.epoch, ev: ev})
		}
	}
	// Notify, SendMail, Count, Log, routes, rules, IPVS, leaving groups
	// and closing sockets change nothing the simulator models; the trace
	// shows them.
}

// filtering reports whether the node's configuration says instance inst
// does not accept traffic to its VIPs (no_accept or strict mode, not an
// address owner): it must hold them only while they are in a drop set.
func filtering(n *Node, inst string) bool {
	c := n.inst[inst]
	return c != nil && !c.Accept && c.Priority < 255
}

func (w *World) stateChanged(n *Node, e *effects.StateChanged) {
	w.mon.reloadEffect(n, e)
	if _, ok := n.inst[e.Instance]; !ok {
		if in := n.prevInst[e.Instance]; in != nil {
			// An instance the reload removed.
			if e.From == effects.StateMaster && e.To != effects.StateMaster {
				w.mon.masterExit(n, in, false)
			}
			delete(n.state, e.Instance)
			w.mon.changes = append(w.mon.changes, fmt.Sprintf("%s %s %s->%s", n.Name, e.Instance, e.From, e.To))
			w.logf("%s  %s %s -> %s  prio %d  (%s)", n.Name, e.Instance, e.From, e.To, e.Priority, e.Reason)
			w.mon.topologyChanged()
			return
		}
		w.logf("%s  group %s %s -> %s (%s)", n.Name, e.Instance, e.From, e.To, e.Reason)
		return
	}
	if e.From == effects.StateMaster && e.To != effects.StateMaster {
		w.mon.masterExit(n, n.inst[e.Instance], false)
	}
	n.state[e.Instance] = e.To
	w.mon.changes = append(w.mon.changes, fmt.Sprintf("%s %s %s->%s", n.Name, e.Instance, e.From, e.To))
	w.logf("%s  %s %s -> %s  prio %d  (%s)", n.Name, e.Instance, e.From, e.To, e.Priority, e.Reason)
	w.mon.topologyChanged()
}

// addrEffect adds or removes an address on the device the effect names
// and echoes the change back through netlink, as the kernel does; a no-op
// change is not echoed. The engine always names the device (VIPs on the
// instance's interface or VMAC, static addresses on default_interface):
// an effect without one fails here as it would in the kernel.
func (w *World) addrEffect(n *Node, inst, dev string, p netip.Prefix, add bool) {
	if dev == "" {
		w.logf("%s  address %s of %q names no device: not applied (no interface)", n.Name, p, inst)
		return
	}
	i := n.ensureIface(dev)
	if k := slices.IndexFunc(i.addrs, func(q netip.Prefix) bool { return q.Addr() == p.Addr() }); k >= 0 && !add {
		p = i.addrs[k] // echo the prefix the kernel holds
	}
	if i.addrs.Apply(p, add) {
		w.echoAddr(n, i, p, add)
	}
}

func (w *World) echoAddr(n *Node, i *Iface, p netip.Prefix, added bool) {
	ev := &events.AddressChanged{Interface: i.Name, Prefix: p, Added: added}
	w.schedule(&item{at: w.now.Add(driver.EchoDelay), kind: itEvent, node: n, epoch: n.epoch, ev: ev})
}
