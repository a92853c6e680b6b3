//go:build linux

package vrrpnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// MuxOptions configure a Mux.
type MuxOptions struct {
	// Clock stamps received adverts. Required.
	Clock func() events.Time
	// Group4 is vrrp_mcast_group4 (see Options).
	Group4 netip.Addr
	// Buffer is the capacity of the events channel (default 256). A full
	// channel stalls the readers and the kernel's socket buffers absorb the
	// rest; the engine loop is never blocked by the Mux.
	Buffer int
	// DropBad drops packets with a verdict other than VerdictOK, counting
	// them in Stats, instead of delivering them for the engine to count
	// per instance as keepalived does.
	DropBad bool
	// OnError, when set, is told of socket errors in readers (the reader
	// retries after a pause) and is called from reader goroutines.
	OnError func(error)
	// OnRejected, when set, is told of the packets rejected for one cause
	// (interface, family, VRID, verdict): at most once per LogEvery per
	// cause, with how many since the last call. It is called from the
	// Mux's flusher goroutine, for a rate-limited log line.
	OnRejected func(Rejected)
	// LogEvery bounds OnRejected's calls per cause (default 1 s).
	LogEvery time.Duration
	// Coalesce is how long rejected packets of one cause are counted
	// before one event stands for them all (default 250 ms).
	Coalesce time.Duration
}

// Rejected is a tally of packets rejected for one cause.
type Rejected struct {
	Interface string
	Family    int
	VRID      uint8
	Verdict   events.Verdict
	// Count is how many packets since the last report of this cause.
	Count uint64
	// Src is the source of the last one.
	Src netip.Addr
}

// Stats are the Mux's counters.
type Stats struct {
	// Received counts packets read, by verdict.
	Received [8]uint64
	// Dropped counts packets not delivered (DropBad).
	Dropped uint64
	// Coalesced counts rejected packets delivered inside a coalesced
	// event (events.AdvertReceived.Count) rather than one event each.
	Coalesced uint64
	// ReadErrors counts socket read errors.
	ReadErrors uint64
}

// Mux executes the VRRP network effects: it opens one Conn per (interface,
// family) on first use, runs a reader goroutine per socket and delivers
// every received packet as a fresh *events.AdvertReceived on Events (the
// receiver owns it).
//
// Conns are opened in the network namespace of the goroutine that first
// needs them (Join, Send or SetAuthKey).
type Mux struct {
	opts MuxOptions
	out  chan *events.AdvertReceived
	done chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	conns  map[connKey]*Conn
	closed bool

	// recv is the engine's Receivers by socket once SetReceivers was
	// called (recvSet).
	recv    map[connKey][]effects.Receiver
	recvSet bool

	received  [8]atomic.Uint64
	dropped   atomic.Uint64
	coalesced atomic.Uint64
	readErrs  atomic.Uint64
}

type connKey struct {
	ifname string
	family int
}

// NewMux returns a Mux; Close stops it.
func NewMux(o MuxOptions) (*Mux, error) {
	if o.Clock == nil {
		return nil, errors.New("vrrpnet: mux needs a clock")
	}
	if o.Buffer <= 0 {
		o.Buffer = 256
	}
	if o.LogEvery <= 0 {
		o.LogEvery = time.Second
	}
	if o.Coalesce <= 0 {
		o.Coalesce = 250 * time.Millisecond
	}
	m := &Mux{
		opts:  o,
		out:   make(chan *events.AdvertReceived, o.Buffer),
		done:  make(chan struct{}),
		conns: map[connKey]*Conn{},
	}
	m.wg.Add(1)
	go m.flusher()
	return m, nil
}

// SetReceivers installs the engine's Receivers (engine.Engine.Receivers,
// after every ConfigLoaded): each socket's kernel filter is rebuilt to
// accept only what the engine accepts there (filter.go), and sockets
// opened later get theirs at once. A socket no receiver names drops
// everything. Errors are reported per socket; the others are filtered.
func (m *Mux) SetReceivers(rs []effects.Receiver) error {
	by := map[connKey][]effects.Receiver{}
	for _, r := range rs {
		k := connKey{r.Interface, r.Family}
		by[k] = append(by[k], r)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return net.ErrClosed
	}
	m.recv, m.recvSet = by, true
	var errs []error
	for k, c := range m.conns {
		errs = append(errs, c.SetReceivers(by[k]))
	}
	return errors.Join(errs...)
}

// Events returns the channel of received adverts. It is never closed; stop
// reading after Close.
func (m *Mux) Events() <-chan *events.AdvertReceived { return m.out }

// Conn returns the Conn for (ifname, family), opening it and starting its
// reader on first use.
func (m *Mux) Conn(ifname string, family int) (*Conn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, net.ErrClosed
	}
	k := connKey{ifname, family}
	if c := m.conns[k]; c != nil {
		return c, nil
	}
	c, err := Open(ifname, family, Options{Clock: m.opts.Clock, Group4: m.opts.Group4})
	if err != nil {
		return nil, err
	}
	if m.recvSet {
		if err := c.SetReceivers(m.recv[k]); err != nil {
			c.Close()
			return nil, err
		}
	}
	m.conns[k] = c
	m.startReader(c, c.Receive)
	return c, nil
}

// Join executes a JoinGroup effect: it opens the interface's socket for the
// group's family and joins the group if it is multicast. A unicast "group"
// (the family's unspecified address, for unicast peers) only opens the
// socket. The AH keys the effect carries are set on the socket, whose AH
// reader starts with the first.
func (m *Mux) Join(j *effects.JoinGroup) error {
	if !j.Group.IsValid() {
		return fmt.Errorf("vrrpnet: join on %s: no group or address to pick the family", j.Interface)
	}
	c, err := m.Conn(j.Interface, familyOf(j.Group))
	if err != nil {
		return err
	}
	if err := c.SetRcvBuf(j.RcvBuf); err != nil {
		return err
	}
	if err := c.Join(j.Group); err != nil {
		return err
	}
	for _, k := range j.AH {
		if err := m.SetAuthKey(j.Interface, k.VRID, k.Key); err != nil {
			return err
		}
	}
	return nil
}

// Leave executes a LeaveGroup effect. The socket stays open.
func (m *Mux) Leave(l *effects.LeaveGroup) error {
	m.mu.Lock()
	c := m.conns[connKey{l.Interface, familyOf(l.Group)}]
	m.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.Leave(l.Group)
}

// Send executes a SendAdvert effect on a.VMAC when set (use_vmac without
// vmac_xmit_base), else on a.Interface. The family is that of the
// destinations (or the source, or the addresses). An IPSEC-AH advert is
// keyed by SetAuthKey's key for its VRID, on a.VMAC's socket or else on
// a.Interface's.
func (m *Mux) Send(a *effects.SendAdvert) error {
	if a.VMAC == "" {
		c, err := m.Conn(a.Interface, advertFamily(a))
		if err != nil {
			return err
		}
		return c.Send(a)
	}
	c, err := m.Conn(a.VMAC, advertFamily(a))
	if err != nil {
		return err
	}
	var fallback *[8]byte
	if a.AuthType == AuthAH {
		m.mu.Lock()
		base := m.conns[connKey{a.Interface, IPv4}]
		m.mu.Unlock()
		if base != nil {
			if k, ok := base.authKey(a.VRID); ok {
				fallback = &k
			}
		}
	}
	return c.sendAdvert(a, fallback)
}

// SetAuthKey sets the AH key for vrid on ifname's IPv4 socket, starting the
// AH reader with the first key.
func (m *Mux) SetAuthKey(ifname string, vrid uint8, key [8]byte) error {
	c, err := m.Conn(ifname, IPv4)
	if err != nil {
		return err
	}
	opened, err := c.SetAuthKey(vrid, key)
	if err != nil {
		return err
	}
	if opened {
		m.mu.Lock()
		if !m.closed {
			m.startReader(c, c.ReceiveAH)
		}
		m.mu.Unlock()
	}
	return nil
}

// CloseInterface closes the sockets of ifname (its link was deleted; a new
// link of the same name gets fresh sockets on next use).
func (m *Mux) CloseInterface(ifname string) error {
	m.mu.Lock()
	var cs []*Conn
	for _, f := range []int{IPv4, IPv6} {
		if c := m.conns[connKey{ifname, f}]; c != nil {
			cs = append(cs, c)
			delete(m.conns, connKey{ifname, f})
		}
	}
	m.mu.Unlock()
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Stats returns a snapshot of the counters.
func (m *Mux) Stats() Stats {
	var s Stats
	for i := range s.Received {
		s.Received[i] = m.received[i].Load()
	}
	s.Dropped, s.ReadErrors, s.Coalesced = m.dropped.Load(), m.readErrs.Load(), m.coalesced.Load()
	return s
}

// Close closes every socket and waits for the readers to stop.
func (m *Mux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	close(m.done)
	var errs []error
	for k, c := range m.conns {
		errs = append(errs, c.Close())
		delete(m.conns, k)
	}
	m.mu.Unlock()
	m.wg.Wait()
	return errors.Join(errs...)
}

// startReader runs recv in a loop, delivering each packet; m.mu is held.
// A packet the decoder rejects costs no allocation: it is tallied by
// cause on c (rejects) and the flusher delivers one event per cause.
func (m *Mux) startReader(c *Conn, recv func(*events.AdvertReceived) error) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		var ev events.AdvertReceived // reused: only good adverts are copied out
		for {
			if err := recv(&ev); err != nil {
				if errors.Is(err, net.ErrClosed) || errors.Is(err, ErrNoAH) {
					return
				}
				m.readErrs.Add(1)
				if m.opts.OnError != nil {
					m.opts.OnError(err)
				}
				select { // e.g. ENETDOWN: pause rather than spin
				case <-m.done:
					return
				case <-time.After(100 * time.Millisecond):
				}
				continue
			}
			m.received[min(int(ev.Verdict), len(m.received)-1)].Add(1)
			if ev.Verdict != events.VerdictOK {
				if m.opts.DropBad {
					m.dropped.Add(1)
				} else {
					c.rejects.add(&ev)
				}
				continue
			}
			select {
			case m.out <- cloneAdvert(&ev):
			case <-m.done:
				return
			}
		}
	}()
}

// cloneAdvert copies a received advert for delivery, in one allocation
// for the common case of up to two addresses.
func cloneAdvert(ev *events.AdvertReceived) *events.AdvertReceived {
	type alloc struct {
		ev    events.AdvertReceived
		addrs [2]netip.Addr
	}
	x := new(alloc)
	x.ev = *ev
	x.ev.Advert.Addrs = append(x.addrs[:0:len(x.addrs)], ev.Advert.Addrs...)
	return &x.ev
}

// flusher delivers the coalesced rejects every Coalesce and calls
// OnRejected, until Close.
func (m *Mux) flusher() {
	defer m.wg.Done()
	t := time.NewTicker(m.opts.Coalesce)
	defer t.Stop()
	var batch []*events.AdvertReceived
	var reports []Rejected
	for {
		select {
		case <-m.done:
			return
		case <-t.C:
		}
		m.mu.Lock()
		conns := make([]*Conn, 0, len(m.conns))
		for _, c := range m.conns {
			conns = append(conns, c)
		}
		m.mu.Unlock()
		now := time.Now()
		for _, c := range conns {
			batch, reports = c.rejects.flush(c, m.opts.Clock, now, m.opts.LogEvery, batch[:0], reports[:0])
			for _, r := range reports {
				if m.opts.OnRejected != nil {
					m.opts.OnRejected(r)
				}
			}
			for _, ev := range batch {
				m.coalesced.Add(uint64(ev.Count))
				select {
				case m.out <- ev:
				case <-m.done:
					return
				}
			}
		}
	}
}

func familyOf(a netip.Addr) int {
	if a.Is4() || a.Is4In6() {
		return IPv4
	}
	return IPv6
}

// advertFamily picks a SendAdvert's family from what it names.
func advertFamily(a *effects.SendAdvert) int {
	switch {
	case len(a.Dst) > 0:
		return familyOf(a.Dst[0])
	case a.Src.IsValid():
		return familyOf(a.Src)
	case len(a.Addrs) > 0:
		return familyOf(a.Addrs[0])
	}
	return IPv4
}
