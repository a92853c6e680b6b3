package vrrp

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// Receiving sockets as state. When the driver reports join outcomes
// (events.Start.ReportsJoins), every (interface, group) pair the instances
// receive on is a socket the engine tracks: an instance leaves INIT only
// once its socket is joined, a failed join puts it in FAULT and is retried
// with backoff, and a deleted interface closes its sockets until it comes
// back. So an instance never believes it listens while it is deaf, and a
// join that failed can never lead to MASTER.
//
// A VMAC's socket is joined only once the VMAC link has been reported
// present: the macvlan is created by the kernel executor after the Step
// that asked for it, and a join before that fails.

// sockState is where a receiving socket stands.
type sockState uint8

const (
	// sockIdle: not asked for (before Start, after Stop).
	sockIdle sockState = iota
	// sockWaitLink: its interface is not there yet (a VMAC being
	// created, an interface deleted); joined when it is reported present.
	sockWaitLink
	// sockJoining: JoinGroup emitted, its GroupJoined not yet seen.
	sockJoining
	// sockJoined: open and joined.
	sockJoined
	// sockFailed: the last join failed; RetryAt is when it is tried again.
	sockFailed
)

// Backoff of join retries: the first retry after joinRetryMin, doubling up
// to joinRetryMax.
const (
	joinRetryMin = 500 * time.Millisecond
	joinRetryMax = 16 * time.Second
)

// sock is one receiving socket: its pair, its timer key and its state.
type sock struct {
	pair     groupPair
	timerKey string
	dyn      sockDyn
}

// sockDyn is a socket's dynamic state (snapshotted).
type sockDyn struct {
	Interface string      `json:"interface"`
	Group     netip.Addr  `json:"group"`
	State     sockState   `json:"state,omitempty"`
	Tries     int         `json:"tries,omitempty"`
	RetryAt   events.Time `json:"retry_at,omitempty"`
	Err       string      `json:"err,omitempty"`
}

// compileSocks builds the socket table of the instances' pairs, keeping
// the state of pairs that existed before (a reload keeps their sockets).
func (m *Machine) compileSocks() {
	old := m.socketBy
	pairs := groupPairs(m.instances)
	m.sockets = make([]*sock, 0, len(pairs))
	m.socketBy = make(map[groupPair]*sock, len(pairs))
	for _, p := range pairs {
		s := &sock{pair: p, timerKey: "sock/" + p.iface + "/" + p.group.String(), dyn: sockDyn{Interface: p.iface, Group: p.group}}
		if o := old[p]; o != nil {
			s.dyn = o.dyn
		}
		m.timers[s.timerKey] = timerRef{kind: effects.TimerSocketRetry, idx: int32(len(m.sockets))}
		m.sockets = append(m.sockets, s)
		m.socketBy[p] = s
	}
	for _, i := range m.instances {
		i.sock = m.socketBy[i.pair()]
	}
}

// pair is the (interface, group) the instance receives on.
func (i *instance) pair() groupPair {
	p := groupPair{iface: i.iface}
	if i.unicast {
		p.group = unspecified(i.family)
	} else {
		p.group = i.mcastGroup()
	}
	if i.advert.VMAC != "" {
		p.iface = i.advert.VMAC
	}
	return p
}

// unspecified is the family's unspecified address: the "group" of a
// unicast instance's socket, which only says the family.
func unspecified(fam int) netip.Addr {
	if fam == 6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

// sockReady reports whether i's socket is joined (always, when the driver
// does not report joins).
func (m *Machine) sockReady(i *instance) (ready, failed bool) {
	if !m.reportsJoins || i.sock == nil {
		return true, false
	}
	return i.sock.dyn.State == sockJoined, i.sock.dyn.State == sockFailed
}

// isVMAC reports whether name is the VMAC interface of an instance.
func (m *Machine) isVMAC(name string) bool {
	for _, i := range m.instances {
		if i.vmac != "" && i.vmac == name {
			return true
		}
	}
	return false
}

// linkUp reports whether the interface has been reported present and up
// (and not deleted since).
func (m *Machine) linkUp(name string) bool {
	s := m.ifaces[name]
	return s != nil && s.Known && s.Up && !s.Gone
}

// join asks for a socket: at once, or when its VMAC link is up.
func (m *Machine) join(s *sock) {
	if m.isVMAC(s.pair.iface) && !m.linkUp(s.pair.iface) {
		s.dyn.State = sockWaitLink
		return
	}
	m.joinNow(s)
}

func (m *Machine) joinNow(s *sock) {
	s.dyn.State = sockJoining
	m.out.add(m.joinEffect(s.pair))
}

// joinEffect is the JoinGroup of a pair, with the IPSEC-AH keys of the
// instances receiving on it (so the socket receives their AH adverts, on
// the VMAC when that is where they listen).
func (m *Machine) joinEffect(p groupPair) *effects.JoinGroup {
	j := &effects.JoinGroup{Interface: p.iface, Group: p.group, RcvBuf: m.rcvBuf(p)}
	for _, i := range m.instances {
		if i.authType != 2 || i.pair() != p {
			continue
		}
		k := effects.AuthKey{VRID: i.vrid}
		copy(k.Key[:], i.cfg.AuthPass)
		at := len(j.AH)
		for at > 0 && j.AH[at-1].VRID > k.VRID {
			at--
		}
		if at > 0 && j.AH[at-1].VRID == k.VRID {
			continue // a duplicate VRID: the first instance's key
		}
		j.AH = slices.Insert(j.AH, at, k)
	}
	return j
}

// rcvBuf is the receive buffer of the socket a pair's adverts arrive on,
// keepalived's sizing: the sum, over the instances receiving on the
// interface and family, of each one's kernel_rx_buf_size, else
// vrrp_rx_bufs_policy's size, else vrrp_rx_bufs_multiplier times its
// advert's length (ADVERT) or the interface's MTU (MTU). 0 leaves the
// system's default. vigil has one socket per interface and family, so
// every pair on it carries the same size.
func (m *Machine) rcvBuf(p groupPair) int {
	g := &m.cfg.GlobalDefs
	mult := g.VRRPRxBufsMultiplier
	if mult <= 0 {
		mult = 3
	}
	fam := familyOf(p.group)
	total := 0
	for _, i := range m.instances {
		if q := i.pair(); q.iface != p.iface || i.family != fam {
			continue
		}
		switch {
		case i.cfg.KernelRxBufSize > 0:
			total += i.cfg.KernelRxBufSize
		case g.VRRPRxBufsSize > 0:
			total += g.VRRPRxBufsSize
		case g.VRRPRxBufsPolicy == "ADVERT":
			total += mult * i.advertLen()
		case g.VRRPRxBufsPolicy == "MTU":
			if s := m.ifaces[p.iface]; s != nil {
				total += mult * s.MTU
			}
		}
	}
	return total
}

// advertLen is keepalived's vrrp_adv_len: the VRRP message (header,
// addresses, VRRPv2's authentication data) plus, over IPv4, the IP
// header and an IPSEC-AH header.
func (i *instance) advertLen() int {
	n, alen := 8, 4
	if i.family == 6 {
		alen = 16
	}
	n += len(i.advert.Addrs) * alen
	if i.version == 2 {
		n += 8
	}
	if i.family == 4 {
		n += 20
		if i.authType == 2 {
			n += 24
		}
	}
	return n
}

func familyOf(a netip.Addr) int {
	if a.IsValid() && !a.Unmap().Is4() {
		return 6
	}
	return 4
}

// Joined handles a GroupJoined: the outcome of a JoinGroup.
func (m *Machine) Joined(ev *events.GroupJoined) {
	if !m.reportsJoins || !m.started || m.stopped {
		return
	}
	s := m.socketBy[groupPair{ev.Interface, ev.Group}]
	if s == nil || s.dyn.State != sockJoining {
		return // stale: a reload dropped it, or a close overtook it
	}
	trigger := "vrrp-socket-joined"
	if ev.Err == "" {
		if s.dyn.Tries > 0 {
			m.out.log(effects.LogInfo, "", "VRRP socket on "+s.pair.iface+" for "+s.pair.group.String()+" joined after "+strconv.Itoa(s.dyn.Tries+1)+" attempts")
		}
		s.dyn.State, s.dyn.Tries, s.dyn.Err = sockJoined, 0, ""
	} else {
		trigger = "vrrp-socket-failed"
		wait := min(joinRetryMin<<min(s.dyn.Tries, 16), joinRetryMax)
		if s.dyn.Tries == 0 || s.dyn.Err != ev.Err {
			m.out.log(effects.LogError, "", "cannot receive VRRP on "+s.pair.iface+" ("+ev.Err+"): instances there stay in FAULT; retrying in "+wait.String())
		}
		s.dyn.State, s.dyn.Err = sockFailed, ev.Err
		s.dyn.Tries++
		s.dyn.RetryAt = m.now.Add(wait)
		m.out.setTimer(s.timerKey, s.dyn.RetryAt)
	}
	m.sockChanged(s, trigger)
}

// sockTimer retries a failed join whose backoff ended.
func (m *Machine) sockTimer(s *sock) {
	if s.dyn.State != sockFailed || s.dyn.RetryAt == 0 || m.now < s.dyn.RetryAt {
		return
	}
	s.dyn.RetryAt = 0
	m.joinNow(s)
}

// sockChanged re-evaluates the instances that receive on s.
func (m *Machine) sockChanged(s *sock, trigger string) {
	for _, i := range m.instances {
		if i.sock == s {
			m.reevaluate(i, trigger)
		}
	}
}

// sockLink follows a link report for the sockets on that interface: a
// deleted interface's sockets are closed (they are bound to its old
// ifindex) and wait for it to come back; a link reported present joins
// the sockets waiting for it, a VMAC once it is also up (a macvlan is
// created down, then brought up).
func (m *Machine) sockLink(name string, present, up, wasPresent bool) {
	if !m.reportsJoins || !m.started || m.stopped {
		return
	}
	var on []*sock
	for _, s := range m.sockets {
		if s.pair.iface == name {
			on = append(on, s)
		}
	}
	if len(on) == 0 {
		return
	}
	if !present {
		if !wasPresent {
			return
		}
		m.out.add(&effects.CloseSockets{Interface: name})
		for _, s := range on {
			m.cancel(s.timerKey, &s.dyn.RetryAt)
			s.dyn.State, s.dyn.Tries = sockWaitLink, 0
			m.sockChanged(s, "interface-deleted")
		}
		return
	}
	if !up && m.isVMAC(name) {
		return
	}
	for _, s := range on {
		switch s.dyn.State {
		case sockWaitLink:
			m.joinNow(s)
		case sockFailed:
			// The interface (re)appeared: try now rather than at the
			// end of the backoff (a missing interface created later).
			m.cancel(s.timerKey, &s.dyn.RetryAt)
			m.joinNow(s)
		}
	}
}

// leaveSocks marks every socket idle (at Stop, after the LeaveGroups).
func (m *Machine) leaveSocks() {
	for _, s := range m.sockets {
		m.cancel(s.timerKey, &s.dyn.RetryAt)
		s.dyn.State, s.dyn.Tries, s.dyn.Err = sockIdle, 0, ""
	}
}

// Receivers lists what the instances accept on each receiving socket: per
// (interface, family, VRID) the instance Advert routes such adverts to,
// its version and whether its adverts must have TTL 255 (check's first
// rules). Sorted by interface, family, VRID. Interface-less unicast
// instances have no socket of their own and are not listed.
func (m *Machine) Receivers() []effects.Receiver {
	out := make([]effects.Receiver, 0, len(m.byVRID))
	all := m.cfg != nil && m.cfg.GlobalDefs.LogUnknownVRIDs
	seen := map[vridKey]bool{}
	for k, i := range m.byVRID {
		if k.iface == "" {
			continue
		}
		out = append(out, effects.Receiver{Interface: k.iface, Family: int(k.family), VRID: k.vrid, Version: i.version, AnyTTL: i.unicast})
		if p := (vridKey{k.iface, k.family, 0}); all && !seen[p] {
			// log_unknown_vrids: the socket lets every VRID through,
			// for Advert to log those no instance runs.
			seen[p] = true
			out = append(out, effects.Receiver{Interface: k.iface, Family: int(k.family), AllVRIDs: true})
		}
	}
	slices.SortFunc(out, func(a, b effects.Receiver) int {
		switch {
		case a.Interface != b.Interface:
			return strings.Compare(a.Interface, b.Interface)
		case a.Family != b.Family:
			return a.Family - b.Family
		}
		return int(a.VRID) - int(b.VRID)
	})
	return out
}
