// Package arp announces virtual addresses on the link: gratuitous ARP for
// IPv4 (effects.SendGARP) and unsolicited neighbour advertisements for IPv6
// (effects.SendNA), so neighbours and switches learn the new master's MAC.
//
// Frames are written whole on packet sockets, as keepalived does: that works
// on a VMAC that has no IPv4 or link-local address of its own, and the
// sender MAC is always the interface's (the VMAC's virtual MAC on a VMAC).
package arp

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netns"

	nlad "github.com/vigil-ha/vigil/adapters/netlink"
	"github.com/vigil-ha/vigil/effects"
)

// Errors returned (wrapped) by Apply.
var (
	ErrUnsupported = errors.New("effect not handled by the arp sender")
	ErrQueueFull   = errors.New("announcement queue full")
	ErrClosed      = errors.New("arp sender closed")
)

// DefaultMaxPending bounds the announcements queued or in progress on one
// interface.
const DefaultMaxPending = 4096

// Options configure a Sender.
type Options struct {
	// Namespace is the network namespace to send in: a name under
	// /run/netns or a path. Empty means the caller's namespace.
	Namespace string
	// MaxPending bounds each interface's queue (default DefaultMaxPending).
	// Announcements beyond it are dropped, counted and refused by Apply.
	MaxPending int
	// OnError, if set, is called from the sending goroutines with each
	// send failure. It must not block.
	OnError func(error)
}

// Stats count what a Sender did.
type Stats struct {
	Sent    uint64 // frames written
	Failed  uint64 // frames that could not be written
	Dropped uint64 // announcements refused because a queue was full
}

// Sender sends announcements without blocking its caller: each interface
// has a goroutine and a bounded queue, and interleaves the bursts it was
// given so that one burst's Interval does not hold up another's.
type Sender struct {
	opts Options
	ns   netns.NsHandle
	done chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	ifaces map[string]*iface
	closed bool

	sent, failed, dropped atomic.Uint64
}

// New returns a Sender for the configured namespace.
func New(opts Options) (*Sender, error) {
	if opts.MaxPending <= 0 {
		opts.MaxPending = DefaultMaxPending
	}
	ns, err := nlad.OpenNamespace(opts.Namespace)
	if err != nil {
		return nil, err
	}
	return &Sender{opts: opts, ns: ns, done: make(chan struct{}), ifaces: map[string]*iface{}}, nil
}

// Apply queues a SendGARP or SendNA: Count frames, Interval apart, the
// first at once. It returns ErrQueueFull if the interface's queue is full.
func (s *Sender) Apply(e effects.Effect) error {
	var j *job
	var ifname string
	switch v := e.(type) {
	case *effects.SendGARP:
		if !v.Addr.Is4() {
			return fmt.Errorf("send garp %s: not an IPv4 address", v.Addr)
		}
		ifname, j = v.Interface, &job{addr: v.Addr, left: v.Count, interval: v.Interval}
	case *effects.SendNA:
		if !v.Addr.Is6() || v.Addr.Is4In6() {
			return fmt.Errorf("send na %s: not an IPv6 address", v.Addr)
		}
		ifname, j = v.Interface, &job{na: true, addr: v.Addr, left: v.Count, interval: v.Interval}
	default:
		return fmt.Errorf("%s: %w", e.EffectKind(), ErrUnsupported)
	}
	if ifname == "" {
		return fmt.Errorf("announce %s: no interface", j.addr)
	}
	if j.left <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	f := s.ifaces[ifname]
	if f == nil {
		f = &iface{name: ifname, s: s, in: make(chan *job, s.opts.MaxPending)}
		s.ifaces[ifname] = f
		s.wg.Add(1)
		go f.run()
	}
	if f.pending.Add(1) > int64(s.opts.MaxPending) {
		f.pending.Add(-1)
		s.dropped.Add(1)
		return fmt.Errorf("announce %s on %s: %w", j.addr, ifname, ErrQueueFull)
	}
	f.in <- j // cannot block: pending bounds what the channel holds
	return nil
}

// Stats returns the counters.
func (s *Sender) Stats() Stats {
	return Stats{Sent: s.sent.Load(), Failed: s.failed.Load(), Dropped: s.dropped.Load()}
}

// Close stops sending, abandoning queued announcements, and waits for the
// goroutines to finish.
func (s *Sender) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	close(s.done)
	s.wg.Wait()
	if s.ns.IsOpen() {
		s.ns.Close()
	}
}

// report counts and reports a failed send.
func (s *Sender) report(err error) {
	s.failed.Add(1)
	if s.opts.OnError != nil {
		s.opts.OnError(err)
	}
}

// job is one announcement burst.
type job struct {
	na       bool
	addr     netip.Addr
	left     int
	interval time.Duration
	next     time.Time
	frame    []byte // built at the first send, with the MAC of the moment
}

// String names the job in errors.
func (j *job) String() string {
	if j.na {
		return "neighbour advertisement for " + j.addr.String()
	}
	return "gratuitous ARP for " + j.addr.String()
}
