package vrrp

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

type trackKind uint8

const (
	trackKindInterface trackKind = iota + 1
	trackKindScript
	trackKindFile
	trackKindProcess
	trackKindBFD
)

// trackRef is one tracked object of an instance, with the weight and
// direction that apply to it. Weight 0 means "fault when down".
type trackRef struct {
	kind    trackKind
	idx     int    // index into the machine's table of that kind
	name    string // interface name for trackKindInterface
	weight  int
	reverse bool
}

// ifState is what the engine knows of one interface. An interface that no
// LinkChanged has reported is assumed up: the adapters send a snapshot
// before Start, so "unknown" only happens for interfaces that do not exist
// here (unicast without an interface) and must not fault the instance.
type ifState struct {
	Name  string         `json:"name"`
	Known bool           `json:"known,omitempty"`
	Up    bool           `json:"up,omitempty"`
	Addrs []netip.Prefix `json:"addrs,omitempty"`
	// SeenUp is set once the interface has been up (keepalived's
	// seen_up): only then do interface_up_down_delays apply.
	SeenUp bool `json:"seen_up,omitempty"`
	// PendingAt is when a delayed link change to PendingUp takes effect (0:
	// none pending); Up is still the state before it.
	PendingAt events.Time `json:"pend_at,omitempty"`
	PendingUp bool        `json:"pend_up,omitempty"`
	// Gone is set while the interface is deleted (its last report was
	// not Present).
	Gone bool `json:"gone,omitempty"`
	// MTU is the interface's last reported MTU (vrrp_rx_bufs_policy MTU).
	MTU int `json:"mtu,omitempty"`
	// Promote is the interface's promote_secondaries setting as last
	// reported; PromoteSet says the engine turned it on (an instance's
	// promote_secondaries) and turns it off again at stop.
	Promote    bool `json:"promote,omitempty"`
	PromoteSet bool `json:"promote_set,omitempty"`
	// UnknownNextLog is when an advert for an unknown VRID may next be
	// logged on the interface (log_unknown_vrids), UnknownSkipped how
	// many arrived since the last line without one.
	UnknownNextLog events.Time `json:"unknown_next_log,omitempty"`
	UnknownSkipped int         `json:"unknown_skipped,omitempty"`
}

func (s *ifState) up() bool { return s == nil || !s.Known || s.Up }

func (s *ifState) has(a netip.Addr) bool {
	if s == nil {
		return false
	}
	for _, p := range s.Addrs {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

// script is a vrrp_script and its rise/fall state (keepalived's result
// counter: OK once it reaches rise, KO when it falls back to 0).
type script struct {
	cfg      *conf.VRRPScript
	timerKey string
	dyn      scriptDyn
	users    []*instance
}

type scriptDyn struct {
	Name   string `json:"name"`
	Result int    `json:"result"`
	OK     bool   `json:"ok,omitempty"`
	// Init is set until the first result: instances tracking the script
	// unweighted wait in INIT until then.
	Init  bool        `json:"init,omitempty"`
	Used  bool        `json:"used,omitempty"`
	RunAt events.Time `json:"run_at,omitempty"`
	// Ran is set once a run has started since the configuration was
	// loaded. Disabled is set when the first run could not start at all
	// (not found, not executable, insecure): keepalived disables such a
	// script when it loads the configuration, and every tracking of it is
	// dropped, until the next reload.
	Ran      bool `json:"ran,omitempty"`
	Disabled bool `json:"disabled,omitempty"`
}

func (s *script) rise() int { return max(s.cfg.Rise, 1) }
func (s *script) fall() int { return max(s.cfg.Fall, 1) }

// result applies one script outcome; it reports whether the OK status or
// the init flag changed.
func (s *script) result(ok bool) bool {
	wasOK, wasInit := s.dyn.OK, s.dyn.Init
	top := s.rise() + s.fall() - 1
	if ok {
		if s.dyn.Result < s.rise()-1 {
			s.dyn.Result++
		} else {
			if s.dyn.Result < s.rise() {
				s.dyn.OK = true
			}
			s.dyn.Result = top
		}
	} else {
		if s.dyn.Result > s.rise() {
			s.dyn.Result--
		} else {
			s.dyn.OK = false
			s.dyn.Result = 0
		}
	}
	s.dyn.Init = false
	return wasOK != s.dyn.OK || wasInit
}

func newScriptDyn(c *conf.VRRPScript) scriptDyn {
	d := scriptDyn{Name: c.Name, Init: true, Result: max(c.Rise, 1) - 1}
	if c.InitFail {
		d.Init, d.Result = false, 0
	}
	return d
}

type trackedFile struct {
	cfg   *conf.TrackFile
	dyn   fileDyn
	users []*instance
}

type fileDyn struct {
	Name  string `json:"name"`
	Value int64  `json:"value"`
}

type trackedProcess struct {
	cfg   *conf.TrackProcess
	dyn   processDyn
	users []*instance
}

type processDyn struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	Known bool   `json:"known,omitempty"`
}

func (p *trackedProcess) ok() bool {
	q := p.cfg.Quorum
	return p.dyn.Count >= q && (p.cfg.QuorumMax <= 0 || p.dyn.Count <= p.cfg.QuorumMax)
}

type trackedBFD struct {
	cfg   *conf.BFDInstance
	dyn   bfdDyn
	users []*instance
}

type bfdDyn struct {
	Name string `json:"name"`
	Up   bool   `json:"up,omitempty"`
}

// static is a static address or route. With a track_group, its removal
// from under the group's MASTER instances sends them to BACKUP, as a
// removed VIP does, and vigil restores it.
type static struct {
	addr    *conf.Address
	route   *conf.Route
	members []*instance
}

// TrackPart is one tracked object's effect on an instance, as the engine
// decides it: the one rule behind the priority, the dumps, explain and
// status.
type TrackPart struct {
	// What names the object: "interface eth0 (primary)", "track_script
	// chk_nginx", "track_file /run/w", "vrrp socket eth0 224.0.0.18".
	What string
	// Status is its state: "up", "down", "OK (result 3)", "value 5", ...
	Status string
	// Weight is the weight that applies (0: the instance faults when the
	// object fails); Reverse inverts it.
	Weight  int
	Reverse bool
	// Delta is what it adds to the priority now.
	Delta int
	// Fault is set when it holds the instance in FAULT; Pending while it
	// has not reported yet (an unweighted one keeps the instance in INIT).
	Fault, Pending bool
	// Counted is set for the objects keepalived counts in its dumps'
	// tracking totals (num_script_if_fault, num_script_init): the primary
	// interface and the tracked objects, not the other fault conditions.
	Counted bool
}

// trackEval is the outcome of evaluate.
type trackEval struct {
	// Fault and Why: the instance must be in FAULT, and the first reason.
	Fault bool
	Why   string
	// Total is the base priority plus every delta, before clamping;
	// Prio the effective priority (1..254, 255 for an address owner).
	Total, Prio int
	// Pending: an unweighted object has not reported yet.
	Pending bool
	// Faults and Inits count the Counted parts that fault or wait.
	Faults, Inits int
}

// evalTrack computes an instance's own fault status and effective
// priority from the tracked objects. pending is set while an unweighted
// script or process has not reported yet (keepalived delays start).
func (m *Machine) evalTrack(i *instance) (fault bool, why string, prio int, pending bool) {
	e := m.evaluate(i, nil)
	return e.Fault, e.Why, e.Prio, e.Pending
}

// evaluate walks everything that decides an instance's fault status and
// priority, appending each object's part to parts when parts is not nil.
// It is the only place these rules live.
func (m *Machine) evaluate(i *instance, parts *[]TrackPart) trackEval {
	e := trackEval{Total: i.basePrio}
	add := func(p TrackPart, why string) {
		if p.Fault && !e.Fault {
			e.Fault, e.Why = true, why
		}
		if p.Pending && p.Weight == 0 {
			e.Pending = true
		}
		if p.Counted && p.Fault {
			e.Faults++
		}
		if p.Counted && p.Pending && p.Weight == 0 {
			e.Inits++
		}
		e.Total += p.Delta
		if parts != nil {
			*parts = append(*parts, p)
		}
	}
	if !i.cfg.DontTrackPrimary && i.iface != "" && !m.ifaces[i.iface].up() {
		add(TrackPart{What: "interface " + i.iface + " (primary)", Status: "down", Fault: true, Counted: true}, "interface-down")
	}
	// unicast_fault_no_peer without peers: keepalived leaves the instance
	// in FAULT rather than fall back to multicast (i.unicast is false
	// then: it has no peer to send to).
	if i.cfg.UnicastFaultNoPeer && len(i.cfg.UnicastPeers) == 0 {
		add(TrackPart{What: "unicast_fault_no_peer", Status: "no peer", Fault: true}, "no-unicast-peer")
	}
	if i.cfg.TrackSrcIP && i.src.IsValid() && !m.ifaces[i.iface].has(i.src) {
		add(TrackPart{What: "track_src_ip " + i.src.String(), Status: "missing", Fault: true}, "src-ip-missing")
	}
	if ready, failed := m.sockReady(i); !ready {
		// Deaf: never BACKUP (it could not hear a master) nor MASTER.
		st := "joining"
		if failed {
			st = "failed: " + i.sock.dyn.Err
		}
		add(TrackPart{What: "vrrp socket " + i.sock.pair.iface + " " + i.sock.pair.group.String(), Status: st,
			Fault: true, Pending: !failed}, "vrrp-socket")
	}
	for _, r := range i.tracks {
		p := TrackPart{Weight: r.weight, Reverse: r.reverse, Counted: true}
		var ok bool
		reason := ""
		switch r.kind {
		case trackKindInterface:
			ok, reason = m.ifaces[r.name].up(), "interface-down"
			p.What, p.Status = "track_interface "+r.name, upWord(ok)
		case trackKindScript:
			s := m.scripts[r.idx]
			if s.dyn.Disabled {
				continue // as if it were not tracked (keepalived)
			}
			ok, p.Pending, reason = s.dyn.OK, s.dyn.Init, "track-script"
			st := "KO"
			if s.dyn.OK {
				st = "OK"
			}
			if s.dyn.Init {
				st = "not run yet"
			}
			p.What, p.Status = "track_script "+s.cfg.Name, st+" (result "+itoa(s.dyn.Result)+")"
		case trackKindProcess:
			pr := m.processes[r.idx]
			ok, p.Pending, reason = pr.ok(), !pr.dyn.Known, "track-process"
			p.What, p.Status = "track_process "+pr.cfg.Name, itoa(pr.dyn.Count)+" running"
		case trackKindBFD:
			ok, reason = m.bfds[r.idx].dyn.Up, "track-bfd"
			p.What, p.Status = "track_bfd "+m.bfds[r.idx].cfg.Name, upWord(ok)
		case trackKindFile:
			f := m.files[r.idx]
			v := f.dyn.Value
			p.What, p.Status = "track_file "+f.cfg.Name, "value "+strconv.FormatInt(v, 10)
			if r.weight == 0 {
				p.Fault = (v == 0) == r.reverse
				add(p, "track-file")
				continue
			}
			c := v * int64(r.weight)
			if r.reverse {
				c = -c
			}
			if c < -253 {
				p.Fault = true
			} else {
				p.Delta = int(min(c, 253))
			}
			add(p, "track-file")
			continue
		}
		switch {
		case p.Pending:
		case r.weight == 0:
			p.Fault = ok == r.reverse
		default:
			if (r.weight > 0 && ok) || (r.weight < 0 && !ok) {
				p.Delta = r.weight
			}
			if r.reverse {
				p.Delta = -p.Delta
			}
		}
		add(p, reason)
	}
	e.Prio = min(max(e.Total, 1), prioOwner-1)
	if i.owner() {
		e.Prio, e.Total = prioOwner, prioOwner
	}
	return e
}

func upWord(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

// refWeight resolves a track line's weight and direction against the
// tracked object's defaults; zero forces weight 0 (a sync group member's
// own tracking without sync_group_tracking_weight, so members cannot drift
// to inconsistent priorities; a group's tracking when a member is an
// address owner), as keepalived does.
func refWeight(r conf.TrackRef, def int, defRev bool, zero bool) (int, bool) {
	w, rev := def, defRev
	if r.Weight != nil {
		w, rev = *r.Weight, r.Reverse
	} else if r.Reverse {
		rev = true
	}
	if zero {
		w = 0
	}
	return w, rev
}

func (s *script) interval() time.Duration {
	if d := s.cfg.Interval.Std(); d > 0 {
		return d
	}
	return time.Second
}
