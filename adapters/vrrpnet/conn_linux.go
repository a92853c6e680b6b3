//go:build linux

package vrrpnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/internal/cmsg"
)

// Address families of a Conn.
const (
	IPv4 = 4
	IPv6 = 6
)

// ErrNoAH is returned by ReceiveAH before SetAuthKey opened the AH socket.
var ErrNoAH = errors.New("vrrpnet: no IPSEC-AH socket (no AH key set)")

// ErrNoAHKey is returned by Send for an IPSEC-AH advert whose VRID has no
// key (SetAuthKey): an ICV under any other key would be refused by every
// peer.
var ErrNoAHKey = errors.New("vrrpnet: IPSEC-AH advert but no AH key set for its VRID")

// ErrNoSource is returned by Send for an advert without a source address:
// the engine knew no address of the instance's interface (and none was
// configured), and the adapter never chooses one itself.
var ErrNoSource = errors.New("vrrpnet: advert without a source address (the interface has no usable address)")

// Options configure a Conn.
type Options struct {
	// Clock stamps received adverts (ev.At). Required.
	Clock func() events.Time
	// Group4 is vrrp_mcast_group4: the pseudo-header destination for the
	// old unicast VRRPv3 checksum. 224.0.0.18 when unset.
	Group4 netip.Addr
}

// Conn is the raw VRRP socket of one interface and address family, shared by
// all the instances on it. IPv4 packets are sent whole (IP_HDRINCL); IPv6
// packets carry their source and hop limit as control messages. Multicast
// loopback is off, so a Conn never hears its own adverts.
//
// Send, Join, Leave and SetAuthKey may be called from any goroutine. Receive
// (and ReceiveAH) must each have one caller at a time: each reuses its
// socket's buffers.
type Conn struct {
	ifname  string
	ifindex int
	family  int
	clock   func() events.Time
	vrrp    *rawSock
	dec     DecodeOptions
	rejects rejects // tallied by the Mux's readers, flushed by its flusher

	mu     sync.Mutex // guards the fields below
	ah     *rawSock   // IPv4 protocol-51 socket, opened by the first SetAuthKey
	groups map[netip.Addr]int
	inst   [256]instance
	// recv is what the engine accepts on this socket (SetReceivers);
	// filtered says it was set: the kernel filter is attached and
	// version[vrid] is each VRID's VRRP version (0: not configured).
	recv     []effects.Receiver
	filtered bool
	version  [256]atomic.Uint32
	txBuf    []byte
	txOOB    []byte
	closed   bool
}

// instance is the per-VRID wire state keepalived keeps per instance.
type instance struct {
	ipID uint16
	// ahSeq is keepalived's single IPSEC-AH counter: advanced by every
	// advert sent, raised to every verified advert received, which must
	// exceed it (replay protection).
	ahSeq  uint32
	key    [8]byte
	hasKey bool
}

// Open opens the VRRP socket for family (IPv4 or IPv6) on the interface
// ifname, in the calling thread's network namespace.
func Open(ifname string, family int, o Options) (*Conn, error) {
	if family != IPv4 && family != IPv6 {
		return nil, fmt.Errorf("vrrpnet: open %s: family %d is neither 4 nor 6", ifname, family)
	}
	if o.Clock == nil {
		return nil, fmt.Errorf("vrrpnet: open %s: no clock", ifname)
	}
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("vrrpnet: open %s: %w", ifname, err)
	}
	s, err := openRaw(family, ProtoVRRP, ifname, ifi.Index)
	if err != nil {
		return nil, fmt.Errorf("vrrpnet: open %s: %w", ifname, err)
	}
	c := &Conn{
		ifname: ifname, ifindex: ifi.Index, family: family, clock: o.Clock, vrrp: s,
		groups: map[netip.Addr]int{},
		txBuf:  make([]byte, 0, MaxIPv4Len), txOOB: make([]byte, 0, 64),
	}
	c.dec = DecodeOptions{Group4: o.Group4, AHKey: c.authKey}
	return c, nil
}

// Interface returns the interface name the Conn is bound to.
func (c *Conn) Interface() string { return c.ifname }

// Family returns IPv4 or IPv6.
func (c *Conn) Family() int { return c.family }

// SetRcvBuf sets the receive buffer of the Conn's sockets (the engine's
// JoinGroup.RcvBuf; 0 leaves it as it is).
func (c *Conn) SetRcvBuf(n int) error {
	if n <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	for _, s := range c.socks() {
		if err := s.setRcvBuf(n); err != nil {
			return fmt.Errorf("vrrpnet: %s: %w", c.ifname, err)
		}
	}
	return nil
}

// Join joins a multicast group (224.0.0.18, ff02::12 or mcast_dst_ip) on the
// interface. Joins are counted: the group is left when every Join has had
// its Leave. A unicast address needs no membership and is ignored.
func (c *Conn) Join(group netip.Addr) error {
	if err := c.checkFamily(group); err != nil {
		return err
	}
	if !group.IsMulticast() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	if c.groups[group] == 0 {
		for _, s := range c.socks() {
			if err := s.membership(c.family, group, c.ifindex, true); err != nil {
				return fmt.Errorf("vrrpnet: join %v on %s: %w", group, c.ifname, err)
			}
		}
	}
	c.groups[group]++
	return nil
}

// Leave undoes one Join.
func (c *Conn) Leave(group netip.Addr) error {
	if !group.IsMulticast() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.groups[group] == 0 {
		return nil
	}
	if c.groups[group]--; c.groups[group] > 0 {
		return nil
	}
	delete(c.groups, group)
	var errs []error
	for _, s := range c.socks() {
		if err := s.membership(c.family, group, c.ifindex, false); err != nil {
			errs = append(errs, fmt.Errorf("vrrpnet: leave %v on %s: %w", group, c.ifname, err))
		}
	}
	return errors.Join(errs...)
}

// socks returns the open sockets; c.mu is held.
func (c *Conn) socks() []*rawSock {
	if c.ah != nil {
		return []*rawSock{c.vrrp, c.ah}
	}
	return []*rawSock{c.vrrp}
}

// SetAuthKey sets the auth_pass key (zero padded to 8 bytes) that verifies
// IPSEC-AH adverts for vrid. On an IPv4 Conn the first key opens the
// protocol-51 socket that AH adverts arrive on; read it with ReceiveAH. It
// reports whether that socket was opened by this call.
func (c *Conn) SetAuthKey(vrid uint8, key [8]byte) (opened bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false, net.ErrClosed
	}
	c.inst[vrid].key, c.inst[vrid].hasKey = key, true
	if c.family != IPv4 || c.ah != nil {
		return false, nil
	}
	s, err := openRaw(IPv4, ProtoAH, c.ifname, c.ifindex)
	if err != nil {
		return false, fmt.Errorf("vrrpnet: AH socket on %s: %w", c.ifname, err)
	}
	for g := range c.groups {
		if err := s.membership(IPv4, g, c.ifindex, true); err != nil {
			s.f.Close()
			return false, fmt.Errorf("vrrpnet: join %v on %s for AH: %w", g, c.ifname, err)
		}
	}
	if c.filtered {
		if err := c.attach(s, ProtoAH); err != nil {
			s.f.Close()
			return false, err
		}
	}
	c.ah = s
	return true, nil
}

// SetReceivers installs what the engine accepts on this socket (the
// engine's Receivers for its interface and family): the kernel filter of
// its sockets is rebuilt from them, and an advert of a configured VRID
// whose VRRP version is not that VRID's is judged VerdictBadVersion as
// soon as it is decoded (the engine counts it as version_err), so that
// it is coalesced with the other rejects instead of stepping the engine.
// Until the first call nothing is filtered. An empty list drops every
// packet in the kernel.
func (c *Conn) SetReceivers(rs []effects.Receiver) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	c.recv, c.filtered = slices.Clone(rs), true
	var vers [256]uint32
	for _, r := range rs {
		vers[r.VRID] = uint32(r.Version)
	}
	for v := range vers {
		c.version[v].Store(vers[v])
	}
	if err := c.attach(c.vrrp, ProtoVRRP); err != nil {
		return err
	}
	if c.ah != nil {
		return c.attach(c.ah, ProtoAH)
	}
	return nil
}

// attach builds and attaches s's filter; c.mu is held.
func (c *Conn) attach(s *rawSock, proto int) error {
	prog, err := filterProgram(c.family, proto, c.recv)
	if err != nil {
		return err
	}
	if err := s.attachFilter(prog); err != nil {
		return fmt.Errorf("vrrpnet: filter on %s: %w", c.ifname, err)
	}
	return nil
}

func (c *Conn) authKey(vrid uint8) ([8]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inst[vrid].key, c.inst[vrid].hasKey
}

// Receive blocks until a VRRP packet arrives and decodes it into ev (its
// Addrs slice is reused). A packet the decoder rejects is not an error: ev
// carries the verdict. Errors are the socket's, net.ErrClosed after Close.
func (c *Conn) Receive(ev *events.AdvertReceived) error {
	return c.receive(c.vrrp, ev)
}

// ReceiveAH is Receive for the IPSEC-AH socket (IPv4 with an AH key).
func (c *Conn) ReceiveAH(ev *events.AdvertReceived) error {
	c.mu.Lock()
	s := c.ah
	c.mu.Unlock()
	if s == nil {
		return ErrNoAH
	}
	return c.receive(s, ev)
}

func (c *Conn) receive(s *rawSock, ev *events.AdvertReceived) error {
	n, oobn, flags, src, err := s.recv()
	if err != nil {
		// A read pending when Close closes the file fails with the
		// runtime's "use of closed file", which is not os.ErrClosed:
		// the closed flag says it (else the reader would retry forever).
		if errors.Is(err, os.ErrClosed) || errors.Is(err, unix.EBADF) || c.isClosed() {
			err = net.ErrClosed
		}
		return fmt.Errorf("vrrpnet: receive on %s: %w", c.ifname, err)
	}
	at := c.clock()
	ri := cmsg.Parse(s.oob[:oobn])
	if c.family == IPv4 {
		DecodeIPv4(s.buf[:n], ev, &c.dec)
		if ri.HasTTL {
			ev.TTL = ri.TTL
		}
	} else {
		DecodeIPv6(s.buf[:n], src, ri.Dst, ri.TTL, ev)
	}
	if flags&unix.MSG_TRUNC != 0 {
		ev.Verdict = events.VerdictBadLength
	}
	if ev.Verdict == events.VerdictOK {
		// The engine's version rule, from its Receivers (SetReceivers).
		if v := c.version[ev.Advert.VRID].Load(); v != 0 && uint32(ev.Advert.Version) != v {
			ev.Verdict = events.VerdictBadVersion
		}
	}
	ev.At, ev.Interface = at, c.ifname
	if ev.Verdict == events.VerdictOK && ev.Advert.AH {
		c.mu.Lock()
		st := &c.inst[ev.Advert.VRID]
		if ev.Advert.AHSeq > st.ahSeq {
			st.ahSeq = ev.Advert.AHSeq
		} else {
			ev.Verdict = events.VerdictBadAuthAH // replayed sequence number
		}
		c.mu.Unlock()
	}
	if ev.Verdict != events.VerdictOK {
		s.junk = true // read the rest of a flood in batches (junkPause)
	}
	return nil
}

// Send transmits the advert a: to its multicast group, or to each unicast
// peer in a.Dst (an empty Dst means the default group). Multicast adverts
// go out with TTL 255; unicast ones with a.TTL (unicast_ttl, 255 when 0).
// The engine names the source (a.Src: the configured one or the
// interface's primary address, one rule in engine/vrrp); an advert
// without one is refused with ErrNoSource, never completed here. IPv4 identification and AH sequence advance once per call, as
// keepalived's do per advert, not per peer. An IPSEC-AH advert is keyed by
// the key SetAuthKey set for its VRID (a.AuthData is not the key: it is
// zero under AH); without one Send fails with ErrNoAHKey.
func (c *Conn) Send(a *effects.SendAdvert) error {
	return c.sendAdvert(a, nil)
}

// sendAdvert is Send. For an AH advert whose VRID has no key on c, fallback
// (when not nil) is the key to use instead: that of the VMAC's parent
// interface, where the instance's key is set.
func (c *Conn) sendAdvert(a *effects.SendAdvert, fallback *[8]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	src := a.Src
	if !src.IsValid() {
		return ErrNoSource
	}
	if err := c.checkFamily(src); err != nil {
		return err
	}
	st := &c.inst[a.VRID]
	ah := c.family == IPv4 && a.Version == 2 && a.AuthType == AuthAH
	var key [8]byte
	if ah {
		switch {
		case st.hasKey:
			key = st.key
		case fallback != nil:
			key = *fallback
		default:
			return fmt.Errorf("vrrpnet: send VRID %d advert on %s: %w", a.VRID, c.ifname, ErrNoAHKey)
		}
	}
	if st.ipID++; st.ipID == 0 {
		st.ipID = 1 // 0 would let the kernel pick the ID
	}
	if ah && st.ahSeq < 0xfffffffe {
		st.ahSeq++
	}
	dsts := a.Dst
	var one [1]netip.Addr
	if len(dsts) == 0 {
		one[0] = Group4
		if c.family == IPv6 {
			one[0] = Group6
		}
		dsts = one[:]
	}
	var errs []error
	for _, dst := range dsts {
		if err := c.sendOne(a, src, dst, st, &key); err != nil {
			errs = append(errs, fmt.Errorf("vrrpnet: send VRID %d advert from %v to %v on %s: %w",
				a.VRID, src, dst, c.ifname, err))
		}
	}
	return errors.Join(errs...)
}

func (c *Conn) sendOne(a *effects.SendAdvert, src, dst netip.Addr, st *instance, key *[8]byte) error {
	if err := c.checkFamily(dst); err != nil {
		return err
	}
	ttl := uint8(DefaultTTL)
	flags := unix.MSG_DONTROUTE // multicast stays on the link, as keepalived sends it
	if !dst.IsMulticast() {
		ttl, flags = a.TTL, 0
		if ttl == 0 {
			ttl = DefaultTTL
		}
	}
	w := Wire{Src: src, Dst: dst, TTL: ttl, ID: st.ipID, AHSeq: st.ahSeq, AHKey: *key}
	var err error
	if c.family == IPv4 {
		if c.txBuf, err = AppendIPv4(c.txBuf[:0], a, &w); err != nil {
			return err
		}
		return c.vrrp.send(c.txBuf, nil, &unix.SockaddrInet4{Addr: dst.As4()}, flags)
	}
	if c.txBuf, err = AppendVRRP6(c.txBuf[:0], a, &w); err != nil {
		return err
	}
	c.txOOB = appendTx6(c.txOOB[:0], src, c.ifindex, ttl)
	to := &unix.SockaddrInet6{Addr: dst.As16()}
	if dst.IsLinkLocalUnicast() || dst.IsLinkLocalMulticast() {
		to.ZoneId = uint32(c.ifindex)
	}
	return c.vrrp.send(c.txBuf, c.txOOB, to, 0)
}

func (c *Conn) checkFamily(a netip.Addr) error {
	if (c.family == IPv4) != a.Is4() || a.Is4In6() {
		return fmt.Errorf("vrrpnet: %v on the IPv%d socket of %s: %w", a, c.family, c.ifname, ErrFamily)
	}
	return nil
}

// isClosed reports whether Close has been called.
func (c *Conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Close closes the sockets; blocked receives return net.ErrClosed.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	var errs []error
	for _, s := range c.socks() {
		errs = append(errs, s.f.Close())
	}
	return errors.Join(errs...)
}
