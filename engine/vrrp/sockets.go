package vrrp

import (
	"net/netip"
	"slices"
	"strconv"
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
	p   groupPair
	key string
	d   sockDyn
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
	old := m.sockBy
	pairs := groupPairs(m.insts)
	m.socks = make([]*sock, 0, len(pairs))
	m.sockBy = make(map[groupPair]*sock, len(pairs))
	for _, p := range pairs {
		s := &sock{p: p, key: "sock/" + p.ifc + "/" + p.g.String(), d: sockDyn{Interface: p.ifc, Group: p.g}}
		if o := old[p]; o != nil {
			s.d = o.d
		}
		m.timers[s.key] = timerRef{tSock, int32(len(m.socks))}
		m.socks = append(m.socks, s)
		m.sockBy[p] = s
	}
	for _, i := range m.insts {
		i.sock = m.sockBy[i.pair()]
	}
}

// pair is the (interface, group) the instance receives on.
func (i *inst) pair() groupPair {
	p := groupPair{ifc: i.iface}
	if i.uni {
		p.g = unspecified(i.fam)
	} else {
		p.g = i.mcastGroup()
	}
	if i.advert.VMAC != "" {
		p.ifc = i.advert.VMAC
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
func (m *Machine) sockReady(i *inst) (ready, failed bool) {
	if !m.reportsJoins || i.sock == nil {
		return true, false
	}
	return i.sock.d.State == sockJoined, i.sock.d.State == sockFailed
}

// isVMAC reports whether name is the VMAC interface of an instance.
func (m *Machine) isVMAC(name string) bool {
	for _, i := range m.insts {
		if i.vmac != "" && i.vmac == name {
			return true
		}
	}
	return false
}

// linkUp reports whether the interface has been reported present and up
// (and not deleted since).
func (m *Machine) linkUp(name string) bool {
	s := m.ifs[name]
	return s != nil && s.Known && s.Up && !s.Gone
}

// join asks for a socket: at once, or when its VMAC link is up.
func (m *Machine) join(s *sock) {
	if m.isVMAC(s.p.ifc) && !m.linkUp(s.p.ifc) {
		s.d.State = sockWaitLink
		return
	}
	m.joinNow(s)
}

func (m *Machine) joinNow(s *sock) {
	s.d.State = sockJoining
	m.o.add(m.joinEffect(s.p))
}

// joinEffect is the JoinGroup of a pair, with the IPSEC-AH keys of the
// instances receiving on it (so the socket receives their AH adverts, on
// the VMAC when that is where they listen).
func (m *Machine) joinEffect(p groupPair) *effects.JoinGroup {
	j := &effects.JoinGroup{Interface: p.ifc, Group: p.g}
	for _, i := range m.insts {
		if i.auth != 2 || i.pair() != p {
			continue
		}
		k := effects.AuthKey{VRID: i.vrid}
		copy(k.Key[:], i.c.AuthPass)
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

// Joined handles a GroupJoined: the outcome of a JoinGroup.
func (m *Machine) Joined(ev *events.GroupJoined) {
	if !m.reportsJoins || !m.started || m.stopped {
		return
	}
	s := m.sockBy[groupPair{ev.Interface, ev.Group}]
	if s == nil || s.d.State != sockJoining {
		return // stale: a reload dropped it, or a close overtook it
	}
	trigger := "vrrp-socket-joined"
	if ev.Err == "" {
		if s.d.Tries > 0 {
			m.o.log("info", "", "VRRP socket on "+s.p.ifc+" for "+s.p.g.String()+" joined after "+strconv.Itoa(s.d.Tries+1)+" attempts")
		}
		s.d.State, s.d.Tries, s.d.Err = sockJoined, 0, ""
	} else {
		trigger = "vrrp-socket-failed"
		wait := min(joinRetryMin<<min(s.d.Tries, 16), joinRetryMax)
		if s.d.Tries == 0 || s.d.Err != ev.Err {
			m.o.log("error", "", "cannot receive VRRP on "+s.p.ifc+" ("+ev.Err+"): instances there stay in FAULT; retrying in "+wait.String())
		}
		s.d.State, s.d.Err = sockFailed, ev.Err
		s.d.Tries++
		s.d.RetryAt = m.now.Add(wait)
		m.o.setTimer(s.key, s.d.RetryAt)
	}
	m.sockChanged(s, trigger)
}

// sockTimer retries a failed join whose backoff ended.
func (m *Machine) sockTimer(s *sock) {
	if s.d.State != sockFailed || s.d.RetryAt == 0 || m.now < s.d.RetryAt {
		return
	}
	s.d.RetryAt = 0
	m.joinNow(s)
}

// sockChanged re-evaluates the instances that receive on s.
func (m *Machine) sockChanged(s *sock, trigger string) {
	for _, i := range m.insts {
		if i.sock == s {
			m.reeval(i, trigger)
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
	for _, s := range m.socks {
		if s.p.ifc == name {
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
		m.o.add(&effects.CloseSockets{Interface: name})
		for _, s := range on {
			m.cancel(s.key, &s.d.RetryAt)
			s.d.State, s.d.Tries = sockWaitLink, 0
			m.sockChanged(s, "interface-deleted")
		}
		return
	}
	if !up && m.isVMAC(name) {
		return
	}
	for _, s := range on {
		switch s.d.State {
		case sockWaitLink:
			m.joinNow(s)
		case sockFailed:
			// The interface (re)appeared: try now rather than at the
			// end of the backoff (a missing interface created later).
			m.cancel(s.key, &s.d.RetryAt)
			m.joinNow(s)
		}
	}
}

// leaveSocks marks every socket idle (at Stop, after the LeaveGroups).
func (m *Machine) leaveSocks() {
	for _, s := range m.socks {
		m.cancel(s.key, &s.d.RetryAt)
		s.d.State, s.d.Tries, s.d.Err = sockIdle, 0, ""
	}
}
