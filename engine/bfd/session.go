package bfd

import (
	"strconv"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// desiredTx is bfd.DesiredMinTxInterval: min_tx when Up, idle_tx
// otherwise (RFC 5880 §6.8.3 wants at least a second when not Up;
// keepalived's idle_tx, default 1000 ms, is that value).
func (m *Machine) desiredTx(s *session) uint32 {
	if s.dyn.State == events.BFDUp {
		return s.dyn.MinTx
	}
	return s.dyn.IdleTx
}

// txInterval is the negotiated interval between our packets (§6.8.7),
// before jitter: the greater of our Desired Min TX (or, during a poll
// that raised it, the old value) and the neighbour's Required Min RX.
func (m *Machine) txInterval(s *session) uint32 {
	tx := m.desiredTx(s)
	if s.dyn.TxHold != 0 {
		tx = s.dyn.TxHold
	}
	return max(tx, s.dyn.RemoteMinRx)
}

// detectTime is the detection time in microseconds (§6.8.4): the
// neighbour's Detect Mult times the greater of our Required Min RX (or,
// during a poll that lowered it, the old value) and its Desired Min TX.
func (m *Machine) detectTime(s *session) uint64 {
	d := &s.dyn
	rx := d.MinRx
	if d.RxHold != 0 {
		rx = d.RxHold
	}
	return uint64(d.RemoteMult) * uint64(max(rx, d.RemoteMinTx))
}

// jittered returns the interval iv (µs) less the random jitter of
// §6.8.7: 0-25 %, or 10-25 % when our Detect Mult is 1.
func (m *Machine) jittered(s *session, iv uint32) events.Time {
	v := uint64(iv)
	lo, hi := v*75/100, v
	if s.cfg.Multiplier == 1 {
		hi = v * 90 / 100
	}
	us := lo
	if hi > lo {
		us += m.rand() % (hi - lo + 1)
	}
	return events.Time(us * 1000)
}

// mayTransmit reports whether periodic packets are allowed (§6.8.7,
// §6.1): the session runs, a passive session has heard from the
// neighbour, the neighbour's Required Min RX is not 0 and it is not in
// Demand mode with both ends Up.
func (m *Machine) mayTransmit(s *session) bool {
	d := &s.dyn
	switch {
	case d.State == events.BFDAdminDown:
		return false
	case s.cfg.Passive && d.RemoteDisc == 0:
		return false
	case d.RemoteMinRx == 0:
		return false
	case d.RemoteDemand && d.State == events.BFDUp && d.RemoteState == events.BFDUp:
		return false
	}
	return true
}

// schedule arms, moves or cancels the transmit timer. An armed timer is
// kept, unless soon is set and it lies further than one whole interval
// ahead (the interval shrank: going Up, a neighbour asking for more).
func (m *Machine) schedule(s *session, soon bool) {
	d := &s.dyn
	if !m.mayTransmit(s) {
		if d.TxAt != 0 {
			m.out.cancelTimer(s.txKey)
			d.TxAt = 0
		}
		return
	}
	iv := m.txInterval(s)
	if d.TxAt != 0 && (!soon || d.TxAt <= m.now+events.Time(uint64(iv)*1000)) {
		return
	}
	d.TxAt = m.now + m.jittered(s, iv)
	m.out.setTimer(s.txKey, d.TxAt)
}

// send emits one control packet (§6.8.7); final answers a Poll.
func (m *Machine) send(s *session, final bool) {
	d := &s.dyn
	e := m.out.sends.Get()
	e.Session, e.Src, e.Dst, e.Multihop = s.cfg.Name, s.cfg.Source, s.cfg.Neighbor, s.cfg.Multihop
	e.TTL = uint8(m.ttl(s))
	p := &e.Packet
	p.Version, p.Diag, p.State = 1, d.LocalDiag, d.State
	p.Final = final
	p.Poll = d.Poll && !final // never both (§6.8.7)
	p.DetectMult = uint8(s.cfg.Multiplier)
	p.Length = 24
	p.MyDisc, p.YourDisc = d.LocalDisc, d.RemoteDisc
	p.DesiredMinTx, p.RequiredMinRx = m.desiredTx(s), d.MinRx
	m.out.add(e)
}

// ttl is the session's ttl (IPv4) or hoplimit (IPv6): what it sends with
// and what received packets are checked against.
func (m *Machine) ttl(s *session) int {
	if s.cfg.Neighbor.Is4() {
		return s.cfg.TTL
	}
	return s.cfg.Hoplimit
}

// startPoll begins a poll sequence (§6.5).
func (m *Machine) startPoll(s *session) {
	s.dyn.Poll = true
}

// endPoll ends a poll sequence: the deferred values take effect.
func (m *Machine) endPoll(s *session) {
	s.dyn.Poll, s.dyn.TxHold, s.dyn.RxHold = false, 0, 0
}

// transition moves a session to state to with diagnostic diag, and
// reports what track_bfd and BFD_CHECK must learn.
func (m *Machine) transition(s *session, to, diag uint8, reason string) {
	d := &s.dyn
	from := d.State
	if from == to {
		return
	}
	d.State, d.LocalDiag = to, diag
	c := m.out.changes.Get()
	c.Session, c.From, c.To, c.LocalDiag, c.RemoteDiag, c.Reason = s.cfg.Name, from, to, diag, d.RemoteDiag, reason
	m.out.add(c)
	name := "(" + s.cfg.Name + ") "
	switch {
	case to == events.BFDAdminDown:
		// Stop: nothing is reported (the machines stop too; a later
		// Start reports the session down).
		if from != events.BFDDown {
			m.out.log(effects.LogWarning, name+"Entering AdminDown state")
		}
		m.endPoll(s)
	case to == events.BFDUp:
		m.out.log(effects.LogInfo, name+"Entering Up state")
		// Leaving idle_tx for min_tx changes what we advertise: poll.
		if d.MinTx != d.IdleTx {
			if d.MinTx > d.IdleTx {
				d.TxHold = d.IdleTx
			}
			m.startPoll(s)
		}
		m.report(s, true)
	case from == events.BFDUp:
		m.out.log(effects.LogWarning, name+"Entering Down state (Local diagnostic - "+DiagName(diag)+
			", Remote diagnostic - "+DiagName(d.RemoteDiag)+")")
		m.endPoll(s)
		m.setDisc(s, m.newDisc())
		// RFC 5882 §3.2: a neighbour's AdminDown is no failure.
		if d.RemoteState != events.BFDAdminDown {
			m.report(s, false)
		}
	}
}

// report hands a session's up-or-not state to track_bfd and BFD_CHECK,
// if it changed.
func (m *Machine) report(s *session, up bool) {
	if s.dyn.Reported == up {
		return
	}
	s.dyn.Reported = up
	m.changes = append(m.changes, Change{Name: s.cfg.Name, Up: up, VRRP: !s.cfg.CheckerOnly, Checker: !s.cfg.VRRPOnly})
}

// expire handles the detection time running out (§6.8.4): an Init or Up
// session goes Down, and the neighbour is forgotten.
func (m *Machine) expire(s *session) {
	d := &s.dyn
	if d.State == events.BFDUp || d.State == events.BFDInit {
		if d.State == events.BFDUp {
			ms := int64(m.now-d.LastRx) / 1e6
			m.out.log(effects.LogWarning, "("+s.cfg.Name+") Expired after "+strconv.FormatInt(ms, 10)+" ms")
		}
		m.transition(s, events.BFDDown, DiagDetectExpired, "detection-timeout")
	}
	d.RemoteDisc, d.RemoteState, d.RemoteDiag = 0, events.BFDDown, 0
	d.RemoteMinRx, d.RemoteMinTx, d.RemoteMult, d.RemoteDemand = 1, 0, 0, false
	m.schedule(s, true)
}

// Receive handles a received control packet (§6.8.6).
func (m *Machine) Receive(ev *events.BFDReceived) {
	if !m.Running() {
		return
	}
	p := &ev.Packet
	if ev.Verdict != events.BFDVerdictOK || p.Version != 1 || p.DetectMult == 0 || p.Multipoint || p.MyDisc == 0 ||
		(p.YourDisc == 0 && p.State != events.BFDDown && p.State != events.BFDAdminDown) ||
		(p.Poll && p.Final) || p.Diag > DiagRevConcatDown || p.State > events.BFDUp {
		m.out.count("bfd", effects.CounterBFDDiscarded)
		return
	}
	s := m.lookup(ev)
	if s == nil {
		m.out.count("bfd", effects.CounterBFDDiscarded)
		return
	}
	d := &s.dyn
	if mh := s.cfg.MaxHops; mh < 255 && ev.TTL != 0 && int(ev.TTL)+mh < m.ttl(s) || p.Auth || d.State == events.BFDAdminDown {
		m.out.count(s.cfg.Name, effects.CounterBFDDiscarded)
		return
	}
	d.RemoteDisc, d.RemoteState, d.RemoteDiag = p.MyDisc, p.State, p.Diag
	d.RemoteMinRx, d.RemoteMinTx, d.RemoteDemand, d.RemoteMult = p.RequiredMinRx, p.DesiredMinTx, p.Demand, p.DetectMult
	if p.Final && d.Poll {
		m.endPoll(s)
	}
	switch {
	case p.State == events.BFDAdminDown:
		if d.State != events.BFDDown {
			m.transition(s, events.BFDDown, DiagNeighborDown, "remote-admin-down")
		}
	case d.State == events.BFDDown && p.State == events.BFDDown:
		m.transition(s, events.BFDInit, DiagNone, "remote-down")
	case d.State == events.BFDDown && p.State == events.BFDInit:
		m.transition(s, events.BFDUp, DiagNone, "remote-init")
	case d.State == events.BFDInit && (p.State == events.BFDInit || p.State == events.BFDUp):
		m.transition(s, events.BFDUp, DiagNone, "remote-"+stateWord(p.State))
	case d.State == events.BFDUp && p.State == events.BFDDown:
		m.transition(s, events.BFDDown, DiagNeighborDown, "remote-down")
	}
	d.LastRx = m.now
	if dt := m.detectTime(s); dt > 0 {
		d.DetectAt = m.now + events.Time(dt*1000)
		m.out.setTimer(s.detectKey, d.DetectAt)
	}
	if p.Poll {
		m.send(s, true)
	}
	m.schedule(s, true)
}

func stateWord(st uint8) string {
	if st == events.BFDUp {
		return "up"
	}
	return "init"
}

// lookup finds the session a packet belongs to (§6.8.6): by Your
// Discriminator, else by address; either way its source must be the
// neighbour, and it must have arrived on the session's port.
func (m *Machine) lookup(ev *events.BFDReceived) *session {
	src := ev.Src.Unmap()
	if yd := ev.Packet.YourDisc; yd != 0 {
		s := m.byDisc[yd]
		if s == nil || s.dyn.LocalDisc != yd || s.dyn.State == events.BFDAdminDown || s.cfg.Neighbor != src ||
			s.cfg.Multihop != ev.Multihop {
			return nil
		}
		return s
	}
	dst := ev.Dst.Unmap()
	for _, s := range m.byAddr[src] {
		if s.dyn.State == events.BFDAdminDown || s.cfg.Multihop != ev.Multihop {
			continue
		}
		if !s.cfg.Source.IsValid() || s.cfg.Source == dst {
			return s
		}
	}
	return nil
}
