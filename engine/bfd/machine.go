package bfd

import (
	"net/netip"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// Diagnostic codes (RFC 5880 §4.1).
const (
	DiagNone           uint8 = 0
	DiagDetectExpired  uint8 = 1
	DiagEchoFailed     uint8 = 2
	DiagNeighborDown   uint8 = 3
	DiagForwardingDown uint8 = 4
	DiagPathDown       uint8 = 5
	DiagConcatDown     uint8 = 6
	DiagAdminDown      uint8 = 7
	DiagRevConcatDown  uint8 = 8
)

// DiagName names a diagnostic code as keepalived logs it.
func DiagName(d uint8) string {
	switch d {
	case DiagNone:
		return "No Diagnostic"
	case DiagDetectExpired:
		return "Control Detection Time Expired"
	case DiagEchoFailed:
		return "Echo Function Failed"
	case DiagNeighborDown:
		return "Neighbor Signaled Session Down"
	case DiagForwardingDown:
		return "Forwarding Plane Reset"
	case DiagPathDown:
		return "Path Down"
	case DiagConcatDown:
		return "Concatenated Path Down"
	case DiagAdminDown:
		return "Administratively Down"
	case DiagRevConcatDown:
		return "Reverse Concatenated Path Down"
	}
	return "Unknown"
}

// timerPrefix starts every timer key of the machine.
const timerPrefix = "bfd/"

// IsTimer reports whether key is one of this machine's timer keys.
func IsTimer(key string) bool { return strings.HasPrefix(key, timerPrefix) }

// Change is a session's state as track_bfd and BFD_CHECK see it (up or
// not), to be handed to the VRRP machine (VRRP) and the LVS machine
// (Checker) within the step that changed it.
type Change struct {
	Name    string
	Up      bool
	VRRP    bool
	Checker bool
}

// Machine is every BFD session of the loaded configuration.
type Machine struct {
	cfg      *conf.Config
	sessions []*session
	byName   map[string]*session
	timers   map[string]timerRef
	// byDisc and byAddr find a received packet's session without a
	// walk over every session (lookup): byDisc by local discriminator
	// (every session not AdminDown is in it under its own), byAddr by
	// neighbour, in configuration order. Lookups only: no effect ever
	// depends on their iteration order.
	byDisc  map[uint32]*session
	byAddr  map[netip.Addr][]*session
	now     events.Time
	started bool
	stopped bool
	seed    uint64
	draws   uint64
	out     outbox
	changes []Change
}

type timerRef struct {
	s      *session
	detect bool
}

// session is one bfd_instance.
type session struct {
	cfg       *conf.BFDInstance
	txKey     string
	detectKey string
	dyn       Dyn
}

// Dyn is a session's state (RFC 5880 §6.8.1's variables, and the timers).
// Intervals are in microseconds.
type Dyn struct {
	Name        string `json:"name"`
	State       uint8  `json:"state"`
	RemoteState uint8  `json:"remote_state"`
	LocalDisc   uint32 `json:"local_disc,omitempty"`
	RemoteDisc  uint32 `json:"remote_disc,omitempty"`
	LocalDiag   uint8  `json:"local_diag,omitempty"`
	RemoteDiag  uint8  `json:"remote_diag,omitempty"`
	// RemoteMinRx is bfd.RemoteMinRxInterval (1 until a packet says
	// otherwise); RemoteMinTx the last Desired Min TX received;
	// RemoteMult the last Detect Mult received (0: none yet).
	RemoteMinRx  uint32 `json:"remote_min_rx"`
	RemoteMinTx  uint32 `json:"remote_min_tx,omitempty"`
	RemoteMult   uint8  `json:"remote_mult,omitempty"`
	RemoteDemand bool   `json:"remote_demand,omitempty"`
	// Poll is set while a poll sequence runs. TxHold and RxHold are,
	// during it, the old values of a Desired Min TX that was raised and
	// of a Required Min RX that was lowered: they stay in use (for our
	// transmissions, for the detection time) until the Final (0: none).
	Poll   bool   `json:"poll,omitempty"`
	TxHold uint32 `json:"tx_hold,omitempty"`
	RxHold uint32 `json:"rx_hold,omitempty"`
	// MinTx, MinRx and IdleTx are the configured values in use (a reload
	// that changes them polls).
	MinTx  uint32 `json:"min_tx"`
	MinRx  uint32 `json:"min_rx"`
	IdleTx uint32 `json:"idle_tx"`
	// TxAt and DetectAt are the armed deadlines (0: not armed); LastRx
	// the time of the last accepted packet.
	TxAt     events.Time `json:"tx_at,omitempty"`
	DetectAt events.Time `json:"detect_at,omitempty"`
	LastRx   events.Time `json:"last_rx,omitempty"`
	// Reported is the last state handed to track_bfd and BFD_CHECK.
	Reported bool `json:"reported,omitempty"`
}

// New returns a machine with no configuration.
func New() *Machine {
	return &Machine{byName: map[string]*session{}, timers: map[string]timerRef{},
		byDisc: map[uint32]*session{}, byAddr: map[netip.Addr][]*session{}}
}

// reindex rebuilds byDisc and byAddr from the sessions.
func (m *Machine) reindex() {
	clear(m.byDisc)
	clear(m.byAddr)
	for _, s := range m.sessions {
		m.byAddr[s.cfg.Neighbor] = append(m.byAddr[s.cfg.Neighbor], s)
		if s.dyn.LocalDisc != 0 && s.dyn.State != events.BFDAdminDown {
			m.byDisc[s.dyn.LocalDisc] = s
		}
	}
}

// setDisc gives s the local discriminator v.
func (m *Machine) setDisc(s *session, v uint32) {
	if old := s.dyn.LocalDisc; old != 0 && m.byDisc[old] == s {
		delete(m.byDisc, old)
	}
	s.dyn.LocalDisc = v
	m.byDisc[v] = s
}

// rand returns the next number of the machine's PRNG: splitmix64 seeded
// with Start.Seed (mixed with a constant of its own, so that the VRRP and
// LVS machines' draws are not the same numbers), whose state is seed +
// draws*γ.
func (m *Machine) rand() uint64 {
	m.draws++
	x := (m.seed ^ 0xbfd0bfd0bfd0bfd0) + m.draws*0x9e3779b97f4a7c15
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Begin starts a step at time at.
func (m *Machine) Begin(at events.Time) {
	m.out.reset()
	clear(m.changes)
	m.changes = m.changes[:0]
	if at > m.now {
		m.now = at
	}
}

// Effects returns the effects of the step begun by Begin.
func (m *Machine) Effects() []effects.Effect { return m.out.list }

// Changes returns the sessions whose up-or-not state changed in the step,
// for track_bfd and BFD_CHECK.
func (m *Machine) Changes() []Change { return m.changes }

// Running reports whether the sessions run (between Start and Stop).
func (m *Machine) Running() bool { return m.started && !m.stopped }

// micros converts a configured duration to microseconds, as on the wire.
func micros(d conf.Duration) uint32 {
	us := d.Std() / time.Microsecond
	if us < 0 {
		return 0
	}
	if us > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(us)
}

// Load compiles a configuration: at first, and on every reload (sessions
// whose neighbour, source and mode are unchanged keep their state).
func (m *Machine) Load(cfg *conf.Config) {
	old, oldBy := m.sessions, m.byName
	m.cfg = cfg
	m.sessions, m.byName, m.timers = nil, map[string]*session{}, map[string]timerRef{}
	kept := map[*session]bool{}
	if cfg != nil {
		for k := range cfg.BFDInstances {
			c := &cfg.BFDInstances[k]
			if m.byName[c.Name] != nil || !c.Neighbor.IsValid() {
				continue
			}
			s := &session{cfg: c, txKey: timerPrefix + c.Name + "/tx", detectKey: timerPrefix + c.Name + "/detect"}
			s.dyn = Dyn{Name: c.Name, State: events.BFDAdminDown, RemoteState: events.BFDDown, RemoteMinRx: 1}
			o := oldBy[c.Name]
			if o != nil && o.cfg.Neighbor == c.Neighbor && o.cfg.Source == c.Source && o.cfg.Multihop == c.Multihop {
				s.dyn = o.dyn
				kept[o] = true
			}
			m.sessions = append(m.sessions, s)
			m.byName[c.Name] = s
			m.timers[s.txKey] = timerRef{s: s}
			m.timers[s.detectKey] = timerRef{s: s, detect: true}
		}
	}
	for _, o := range old {
		if kept[o] {
			continue
		}
		// Removed or replaced: its timers stop; a replaced session that
		// was reported up is reported down (its successor starts Down).
		if o.dyn.TxAt != 0 {
			m.out.cancelTimer(o.txKey)
		}
		if o.dyn.DetectAt != 0 {
			m.out.cancelTimer(o.detectKey)
		}
		if n := m.byName[o.cfg.Name]; n != nil && o.dyn.Reported {
			m.changes = append(m.changes, Change{Name: n.cfg.Name, VRRP: !n.cfg.CheckerOnly, Checker: !n.cfg.VRRPOnly})
		}
	}
	m.reindex()
	for _, s := range m.sessions {
		if !m.Running() {
			s.dyn.MinTx, s.dyn.MinRx, s.dyn.IdleTx = micros(s.cfg.MinTx), micros(s.cfg.MinRx), micros(s.cfg.IdleTx)
			continue
		}
		if s.dyn.State == events.BFDAdminDown {
			m.begin(s) // new while running
			continue
		}
		m.retime(s)
	}
}

// retime applies a reload's timing to a kept running session: a change of
// what it advertises polls (§6.8.3).
func (m *Machine) retime(s *session) {
	d := &s.dyn
	minTx, minRx, idleTx := micros(s.cfg.MinTx), micros(s.cfg.MinRx), micros(s.cfg.IdleTx)
	if minTx == d.MinTx && minRx == d.MinRx && idleTx == d.IdleTx {
		return
	}
	oldTx, oldRx := m.desiredTx(s), d.MinRx
	d.MinTx, d.MinRx, d.IdleTx = minTx, minRx, idleTx
	if d.State == events.BFDUp {
		if newTx := m.desiredTx(s); newTx > oldTx && d.TxHold == 0 {
			d.TxHold = oldTx
		}
		if minRx < oldRx && d.RxHold == 0 {
			d.RxHold = oldRx
		}
		m.startPoll(s)
	}
	m.schedule(s, true)
}

// Start starts every session: Down, with a fresh discriminator; an active
// session sends its first packet at once.
func (m *Machine) Start(ev *events.Start) {
	if m.Running() {
		return
	}
	m.started, m.stopped, m.seed, m.draws = true, false, ev.Seed, 0
	for _, s := range m.sessions {
		// Every session is reported down at Start, as keepalived's BFD
		// process reports each session's state when it starts: an
		// unweighted track_bfd starts in FAULT, a BFD_CHECK real server
		// starts down.
		m.changes = append(m.changes, Change{Name: s.cfg.Name, VRRP: !s.cfg.CheckerOnly, Checker: !s.cfg.VRRPOnly})
		s.dyn = Dyn{Name: s.cfg.Name, State: events.BFDAdminDown, RemoteState: events.BFDDown, RemoteMinRx: 1}
		m.begin(s)
	}
}

// begin takes a session from AdminDown to Down and starts sending.
func (m *Machine) begin(s *session) {
	d := &s.dyn
	d.MinTx, d.MinRx, d.IdleTx = micros(s.cfg.MinTx), micros(s.cfg.MinRx), micros(s.cfg.IdleTx)
	m.setDisc(s, m.newDisc())
	m.transition(s, events.BFDDown, DiagNone, "start")
	if !s.cfg.Passive {
		m.send(s, false)
	}
	m.schedule(s, false)
}

// Stop stops every session: timers cancelled, nothing sent.
func (m *Machine) Stop() {
	if !m.Running() {
		return
	}
	m.stopped = true
	for _, s := range m.sessions {
		d := &s.dyn
		if d.TxAt != 0 {
			m.out.cancelTimer(s.txKey)
			d.TxAt = 0
		}
		if d.DetectAt != 0 {
			m.out.cancelTimer(s.detectKey)
			d.DetectAt = 0
		}
		m.transition(s, events.BFDAdminDown, DiagAdminDown, "stop")
	}
}

// newDisc draws a local discriminator: random, nonzero, unique.
func (m *Machine) newDisc() uint32 {
	for {
		v := uint32(m.rand())
		if v == 0 {
			continue
		}
		// Unique among the sessions not AdminDown: all of them are in
		// byDisc under their own discriminator.
		if o := m.byDisc[v]; o == nil || o.dyn.LocalDisc != v || o.dyn.State == events.BFDAdminDown {
			return v
		}
	}
}

// TimerInfo is what one of the machine's timer keys stands for.
type TimerInfo struct {
	Kind    effects.TimerKind
	Session string
}

// TimerInfo reports what key stands for: a session's transmit or
// detection timer.
func (m *Machine) TimerInfo(key string) (TimerInfo, bool) {
	r, ok := m.timers[key]
	if !ok {
		return TimerInfo{}, false
	}
	if r.detect {
		return TimerInfo{Kind: effects.TimerBFDDetect, Session: r.s.cfg.Name}, true
	}
	return TimerInfo{Kind: effects.TimerBFDTx, Session: r.s.cfg.Name}, true
}

// Timer handles one of the machine's timers firing.
func (m *Machine) Timer(ev *events.TimerFired) {
	r, ok := m.timers[ev.Key]
	if !ok || !m.Running() {
		return
	}
	s, d := r.s, &r.s.dyn
	if r.detect {
		if d.DetectAt == 0 || ev.At < d.DetectAt {
			return // stale, or early
		}
		d.DetectAt = 0
		m.expire(s)
		return
	}
	if d.TxAt == 0 || ev.At < d.TxAt {
		return
	}
	d.TxAt = 0
	if m.mayTransmit(s) {
		m.send(s, false)
	}
	m.schedule(s, false)
}

// Status is one session as dumps, status and tests see it.
type Status struct {
	Name        string
	State       uint8
	RemoteState uint8
	LocalDisc   uint32
	RemoteDisc  uint32
	LocalDiag   uint8
	RemoteDiag  uint8
	// TxInterval is the negotiated interval between our packets (before
	// jitter), 0 while we send none; DetectTime the detection time, 0
	// until the neighbour is heard.
	TxInterval time.Duration
	DetectTime time.Duration
	Poll       bool
	// Reported is what track_bfd and BFD_CHECK see: up or not.
	Reported bool
}

// Status reports every session, in configuration order.
func (m *Machine) Status() []Status {
	out := make([]Status, len(m.sessions))
	for k, s := range m.sessions {
		d := &s.dyn
		st := Status{Name: s.cfg.Name, State: d.State, RemoteState: d.RemoteState, LocalDisc: d.LocalDisc, RemoteDisc: d.RemoteDisc,
			LocalDiag: d.LocalDiag, RemoteDiag: d.RemoteDiag, Poll: d.Poll, Reported: d.Reported,
			DetectTime: time.Duration(m.detectTime(s)) * time.Microsecond}
		if m.Running() && m.mayTransmit(s) {
			st.TxInterval = time.Duration(m.txInterval(s)) * time.Microsecond
		}
		out[k] = st
	}
	return out
}
