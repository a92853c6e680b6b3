package netlink

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events"
)

// MonitorOptions configure a Monitor.
type MonitorOptions struct {
	// Namespace is the network namespace to watch: a name under /run/netns
	// or a path. Empty means the caller's namespace.
	Namespace string
	// Clock stamps events. Required.
	Clock func() events.Time
	// Routes and Rules also watch routes (all tables) and policy rules.
	// Links and addresses are always watched. Leave Routes off on hosts
	// with large routing tables unless virtual routes are configured.
	Routes, Rules bool
	// Buffer is the capacity of the events channel (default 256).
	Buffer int
	// ReceiveBuffer is the socket's receive buffer in bytes (default 4 MiB).
	// When the kernel overflows it the monitor resynchronises.
	ReceiveBuffer int
	// OnResync, if set, is called (from the monitor's goroutine) after
	// each resynchronisation that an overflow forced, with the number of
	// differences it reported and the running count of resyncs: the
	// daemon logs it, since lost notifications are worth knowing about.
	OnResync func(diffs int, resyncs uint64)
}

// Monitor reports link, address, route and rule changes as events.
//
// It subscribes before taking its initial snapshot, so nothing is missed in
// between. A slow reader of Events blocks the monitor, the kernel then
// drops notifications (ENOBUFS) and the monitor takes a fresh snapshot and
// emits the differences: events are never lost and the reader's view
// always converges to the kernel's state, though a change undone while the
// monitor was behind may not be reported at all, and one made around the
// resync may be reported once more as a transient add/remove.
type Monitor struct {
	opts     MonitorOptions
	ns       netns.NsHandle
	sub      *subscription     // notifications
	dumpSock *nl.NetlinkSocket // snapshots
	out      chan events.Event
	snapshot []events.Event
	view     *view // owned by run after NewMonitor returns

	resyncs   atomic.Uint64
	done      chan struct{}
	closeOnce sync.Once
	stopped   chan struct{}
	err       error // why run stopped; read after stopped is closed
}

// NewMonitor subscribes to the kernel's notifications, takes the initial
// snapshot and starts delivering events.
func NewMonitor(opts MonitorOptions) (*Monitor, error) {
	if opts.Clock == nil {
		return nil, errors.New("netlink monitor: no clock")
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 256
	}
	if opts.ReceiveBuffer <= 0 {
		opts.ReceiveBuffer = 4 << 20
	}
	ns, err := OpenNamespace(opts.Namespace)
	if err != nil {
		return nil, err
	}
	m := &Monitor{opts: opts, ns: ns, out: make(chan events.Event, opts.Buffer), done: make(chan struct{}), stopped: make(chan struct{})}
	groups := []uint{unix.RTNLGRP_LINK, unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV6_IFADDR}
	if opts.Routes {
		groups = append(groups, unix.RTNLGRP_IPV4_ROUTE, unix.RTNLGRP_IPV6_ROUTE)
	}
	if opts.Rules {
		groups = append(groups, unix.RTNLGRP_IPV4_RULE, unix.RTNLGRP_IPV6_RULE)
	}
	// One socket for every group keeps the kernel's order across kinds
	// (a link going down, then its address removed).
	if m.sub, err = subscribe(ns, groups); err != nil {
		m.closeHandles()
		return nil, fmt.Errorf("netlink subscribe: %w", err)
	}
	// Force the size past rmem_max when privileged; else take what is allowed.
	if err := m.sub.setReceiveBuffer(opts.ReceiveBuffer, true); err != nil {
		if err := m.sub.setReceiveBuffer(opts.ReceiveBuffer, false); err != nil {
			m.closeHandles()
			return nil, fmt.Errorf("netlink receive buffer: %w", err)
		}
	}
	if m.dumpSock, err = nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_ROUTE); err != nil {
		m.closeHandles()
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	st, err := m.dump()
	if err != nil {
		m.closeHandles()
		return nil, err
	}
	m.view = newView()
	m.snapshot = m.view.resync(st, opts.Clock())
	go m.run()
	return m, nil
}

// Snapshot returns the initial state as events: links by index, then
// addresses by interface index and address, then routes and rules if
// watched. Every one is an addition (Present or Added).
func (m *Monitor) Snapshot() []events.Event { return m.snapshot }

// Events delivers changes after the snapshot, in the kernel's order. It is
// closed when the monitor stops; Err then says why.
func (m *Monitor) Events() <-chan events.Event { return m.out }

// Resyncs counts the resynchronisations after notification overflows.
func (m *Monitor) Resyncs() uint64 { return m.resyncs.Load() }

// Err returns why the monitor stopped: nil after Close, or the socket error.
// It is valid once Events is closed.
func (m *Monitor) Err() error {
	select {
	case <-m.stopped:
		return m.err
	default:
		return nil
	}
}

// Close stops the monitor and waits for it to finish.
func (m *Monitor) Close() error {
	m.closeOnce.Do(func() {
		close(m.done)
		m.sub.Close() // unblocks Receive
	})
	<-m.stopped
	return nil
}

func (m *Monitor) closeHandles() {
	if m.sub != nil {
		m.sub.Close()
	}
	if m.dumpSock != nil {
		m.dumpSock.Close()
	}
	if m.ns.IsOpen() {
		m.ns.Close()
	}
}

// run reads notifications until Close or a fatal socket error.
func (m *Monitor) run() {
	defer func() {
		m.dumpSock.Close()
		if m.ns.IsOpen() {
			m.ns.Close()
		}
		close(m.out)
		close(m.stopped)
	}()
	for {
		msgs, from, err := m.sub.receive()
		select {
		case <-m.done:
			return
		default:
		}
		switch {
		case errors.Is(err, unix.ENOBUFS) || errors.Is(err, errTruncated):
			m.resyncs.Add(1)
			if err := m.resync(); err != nil {
				if !errors.Is(err, errClosed) {
					m.err = err
				}
				return
			}
			continue
		case errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN):
			continue
		case err != nil:
			m.err = fmt.Errorf("netlink receive: %w", err)
			return
		}
		if !isKernel(from) {
			continue
		}
		for _, msg := range msgs {
			evs, flush := m.view.apply(msg.Header.Type, msg.Data, m.opts.Clock())
			if !m.send(evs) {
				return
			}
			if flush && m.opts.Routes {
				if err := m.resyncRoutes(); err != nil {
					if !errors.Is(err, errClosed) {
						m.err = err
					}
					return
				}
			}
		}
	}
}

// send delivers events, giving up only when the monitor is closed.
func (m *Monitor) send(evs []events.Event) bool {
	for _, e := range evs {
		select {
		case m.out <- e:
		case <-m.done:
			return false
		}
	}
	return true
}

// errClosed aborts a dump or resync when the monitor is closed.
var errClosed = errors.New("netlink monitor closed")

// resync recovers from lost notifications: it takes a fresh snapshot and
// emits the differences from what was reported so far.
//
// The kernel raises ENOBUFS only when the socket starts overflowing, and
// the socket counts as overflowing until a read finds its queue empty;
// drops in between are silent. The queue still holds notifications older
// than the overflow, and while the differences are being delivered to a
// slow reader it can overflow again, unnoticed. So the queue is emptied
// first: what it holds is older than the dump that follows, and from then
// on any drop raises a fresh ENOBUFS and another resync. Notifications
// queued after the drain are read after the dump; folded into the view
// they report what changed since, or nothing (at worst a change the dump
// already showed, as a transient add/remove).
func (m *Monitor) resync() error {
	if err := m.sub.drain(m.done); err != nil {
		return err
	}
	st, err := m.dump()
	if err != nil {
		return err
	}
	diffs := m.view.resync(st, m.opts.Clock())
	if !m.send(diffs) {
		return errClosed
	}
	if m.opts.OnResync != nil {
		m.opts.OnResync(len(diffs), m.resyncs.Load())
	}
	return nil
}

// resyncRoutes re-reads the routes only: the kernel flushes IPv4 routes
// when an interface goes down or an address goes, without notifying.
func (m *Monitor) resyncRoutes() error {
	routes := map[routeRec]struct{}{}
	if err := m.dumpKind(unix.RTM_GETROUTE, unix.RTM_NEWROUTE, dumpRtMsg(), func(b []byte) {
		if r, ok := parseRoute(b); ok {
			routes[r] = struct{}{}
		}
	}); err != nil {
		return err
	}
	if !m.send(m.view.resyncRoutes(routes, m.opts.Clock())) {
		return errClosed
	}
	return nil
}

// dump reads the kernel's current state into a new view; routes and rules
// are left nil when not watched.
//
// Each kind is a separate dump, so an interface may appear after the links
// were read: its addresses and routes are left out (they would be reported
// without an interface name), and the notifications of its creation, which
// come after the subscription or the resync's drain, report them all.
func (m *Monitor) dump() (*view, error) {
	v := newView()
	if err := m.dumpKind(unix.RTM_GETLINK, unix.RTM_NEWLINK, nl.NewIfInfomsg(unix.AF_UNSPEC), func(b []byte) {
		if idx, rec, ok := parseLink(b); ok {
			v.links[idx] = rec
			v.names[idx] = rec.name
		}
	}); err != nil {
		return nil, err
	}
	if err := m.dumpKind(unix.RTM_GETADDR, unix.RTM_NEWADDR, nl.NewIfAddrmsg(unix.AF_UNSPEC), func(b []byte) {
		if a, ok := parseAddr(b); ok {
			v.addrs[a] = struct{}{}
		}
	}); err != nil {
		return nil, err
	}
	for a := range v.addrs {
		if _, ok := v.links[a.index]; !ok {
			delete(v.addrs, a)
		}
	}
	v.routes, v.rules = nil, nil
	if m.opts.Routes {
		v.routes = map[routeRec]struct{}{}
		if err := m.dumpKind(unix.RTM_GETROUTE, unix.RTM_NEWROUTE, dumpRtMsg(), func(b []byte) {
			if r, ok := parseRoute(b); ok {
				v.routes[r] = struct{}{}
			}
		}); err != nil {
			return nil, err
		}
		for r := range v.routes {
			if _, ok := v.links[r.oif]; r.oif != 0 && !ok {
				delete(v.routes, r)
			}
		}
	}
	if m.opts.Rules {
		v.rules = map[ruleRec]struct{}{}
		if err := m.dumpKind(unix.RTM_GETRULE, unix.RTM_NEWRULE, dumpRtMsg(), func(b []byte) {
			if r, ok := parseRule(b); ok {
				v.rules[r] = struct{}{}
			}
		}); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// dumpRtMsg is the header of a route or rule dump of every family and table.
func dumpRtMsg() *nl.RtMsg {
	msg := nl.NewRtMsg()
	msg.Family, msg.Table, msg.Protocol, msg.Type = unix.AF_UNSPEC, unix.RT_TABLE_UNSPEC, 0, 0
	return msg
}

// dumpKind runs one dump request. A dump interrupted by a concurrent change
// (NLM_F_DUMP_INTR) may be incomplete or inconsistent, even about objects
// that did not change, so it is discarded and retried, after a pause that
// grows while the changes go on, until one completes or the monitor closes.
func (m *Monitor) dumpKind(req, resp uint16, hdr nl.NetlinkRequestData, each func([]byte)) error {
	pause := time.Millisecond
	for {
		var msgs [][]byte
		r := nl.NewNetlinkRequest(int(req), unix.NLM_F_DUMP)
		r.AddData(hdr)
		r.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: {Socket: m.dumpSock}}
		err := r.ExecuteIter(unix.NETLINK_ROUTE, resp, func(b []byte) bool {
			msgs = append(msgs, b)
			return true
		})
		if errors.Is(err, nl.ErrDumpInterrupted) {
			t := time.NewTimer(pause)
			select {
			case <-t.C:
			case <-m.done:
				t.Stop()
				return errClosed
			}
			pause = min(2*pause, 100*time.Millisecond)
			continue
		}
		if err != nil {
			return fmt.Errorf("netlink dump %d: %w", req, err)
		}
		for _, b := range msgs {
			each(b)
		}
		return nil
	}
}
