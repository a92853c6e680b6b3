package lvs

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// maxServices bounds the kernel services one virtual_server_group may
// expand to: a mistyped range (10.0.0.0/8) must not make the engine build
// millions of services.
const maxServices = 65536

// bootstrapDelay is keepalived's BOOTSTRAP_DELAY: the first check of a
// checker runs this long (plus its warmup) after start.
const bootstrapDelay = time.Second

// watchdogGrace is how long after a check's own timeout the engine waits
// for its CheckResult before counting the check as failed.
const watchdogGrace = 5 * time.Second

// vserver is one virtual_server of the configuration, compiled.
type vserver struct {
	cfg     *conf.VirtualServer
	idx     int
	id      string // "tcp/10.0.0.1:80", "fwmark/1", "group/NAME/tcp"
	logName string // keepalived's FMT_VS: "[10.0.0.1]:tcp:80", "FWM 1", "[NAME]:0"
	// protoName is the protocol as keepalived prints it in FMT_RS.
	protoName string
	// services are the kernel services, in order (a group expands to many).
	services []effects.IPVSService
	reals    []*rserver
	// sorry is the sorry_server (no checkers, never alive as a real
	// server); nil without one.
	sorry *rserver
	// haAddr is the address whose presence enables the checkers
	// (ha_suspend on an address service); invalid otherwise.
	haAddr netip.Addr

	dyn vsDyn
	// dirty marks the virtual server for a table diff at the end of the
	// Step; servicesDirty also re-diffs its services (start, reload, stop).
	dirty, servicesDirty bool
}

// vsDyn is a virtual server's dynamic state.
type vsDyn struct {
	ID       string `json:"id"`
	QuorumUp bool   `json:"quorum_up,omitempty"`
	// SorryOn is keepalived's s_svr->alive: the sorry server replaces the
	// real servers.
	SorryOn bool `json:"sorry_on,omitempty"`
	// Services and Dests are the applied table: what the ReconcileIPVS and
	// SetIPVS effects have asked the kernel to hold for this virtual
	// server.
	Services []effects.IPVSService `json:"svcs,omitempty"`
	Dests    []dest                `json:"dests,omitempty"`
}

// dest is one destination of every service of a virtual server. Its Port
// is the real server's; the port used in a given service is derived by
// destPort.
type dest struct {
	RealServer string           `json:"rs"`
	Dest       effects.IPVSDest `json:"dest"`
	Weight     int              `json:"weight"`
}

// rserver is one real_server (or a sorry_server) of a virtual server.
type rserver struct {
	cfg     *conf.RealServer // nil for a sorry server
	vs      *vserver
	id      string // "10.0.1.1:80"
	logName string // "[10.0.1.1]:tcp:80"
	dest    effects.IPVSDest
	// weight is the configured weight (the sorry server's is 1).
	weight int
	// inhibit is inhibit_on_failure: kept in the table with weight 0
	// while down, rather than removed.
	inhibit  bool
	checkers []*checker
	dyn      rsDyn
}

type rsDyn struct {
	ID    string `json:"id"`
	Alive bool   `json:"alive,omitempty"`
	// Weight is keepalived's effective_weight: the configured weight plus
	// the dynamic contributions of MISC_CHECK and FILE_CHECK checkers.
	Weight int `json:"weight"`
}

// checker is one health checker of a real server.
type checker struct {
	cfg      *conf.Checker
	rs       *rserver
	idx      int
	timerKey string // timer key
	polled   bool
	// addr and port are where the check connects.
	addr    netip.Addr
	port    int
	timeout time.Duration
	dyn     checkerDyn
}

type checkerDyn struct {
	Key     string `json:"key"`
	Up      bool   `json:"up,omitempty"`
	HasRun  bool   `json:"has_run,omitempty"`
	Pending bool   `json:"pending,omitempty"`
	RetryIt int    `json:"retry_it,omitempty"`
	// Due is when the checker's timer fires (0: not armed).
	Due events.Time `json:"due,omitempty"`
	// WeightDelta is the checker's dynamic weight contribution.
	WeightDelta int `json:"cur,omitempty"`
}

// checkRef finds a checker from a CheckResult.
type checkRef struct {
	vs, rs string
	idx    int
}

// compiled is the fixed part of the machine, built from a configuration.
type compiled struct {
	vservers []*vserver
	byCheck  map[checkRef]*checker
	byTimer  map[string]*checker
	// warnings are emitted as Log effects when the configuration is loaded.
	warnings []string
}

func lower(p string) string { return strings.ToLower(p) }

// compile builds the model of cfg, skipping (with a warning) what cannot
// be represented. Dynamic state is zero.
func compile(cfg *conf.Config) *compiled {
	cp := &compiled{byCheck: map[checkRef]*checker{}, byTimer: map[string]*checker{}}
	if cfg == nil {
		return cp
	}
	groups := map[string]*conf.VirtualServerGroup{}
	for k := range cfg.VirtualServerGroups {
		g := &cfg.VirtualServerGroups[k]
		if groups[g.Name] == nil {
			groups[g.Name] = g
		}
	}
	member := map[string]int{} // keepalived numbers the users of a group
	seen := map[string]bool{}
	owner := map[svcKey]string{}
	for k := range cfg.VirtualServers {
		c := &cfg.VirtualServers[k]
		v := &vserver{cfg: c}
		proto := lower(c.Protocol)
		v.protoName = proto
		if proto == "" {
			v.protoName = "none"
		}
		attrs := effects.IPVSService{Scheduler: c.Scheduler, SchedFlags: c.SchedFlags, OnePacket: c.OPS,
			PersistenceEngine: c.PersistenceEngine}
		if c.PersistenceTimeout > 0 {
			attrs.PersistenceTimeout = c.PersistenceTimeout.Std()
			attrs.PersistenceNetmask = c.PersistenceGranularity
		}
		switch {
		case c.Group != "":
			v.id = "group/" + c.Group
			if proto != "" {
				v.id += "/" + proto
			}
			v.logName = "[" + c.Group + "]:" + strconv.Itoa(member[c.Group])
			member[c.Group]++
			g := groups[c.Group]
			if g == nil {
				cp.warnings = append(cp.warnings, "virtual server group "+c.Group+" specified but not configured - ignoring virtual server "+v.id)
				continue
			}
			v.services = expandGroup(g, c, proto, attrs, &cp.warnings)
		case c.FwMark != 0:
			v.id = "fwmark/" + strconv.FormatUint(uint64(c.FwMark), 10)
			if c.Family == 6 {
				v.id += "/inet6"
			}
			v.logName = "FWM " + strconv.FormatUint(uint64(c.FwMark), 10)
			s := attrs
			s.Family, s.FwMark = family(c.Family), c.FwMark
			v.services = []effects.IPVSService{s}
		default:
			if !c.Addr.IsValid() {
				continue
			}
			v.id = proto + "/" + netip.AddrPortFrom(c.Addr, uint16(c.Port)).String()
			v.logName = "[" + c.Addr.String() + "]:" + v.protoName + ":" + strconv.Itoa(c.Port)
			s := attrs
			s.Family, s.Protocol, s.Addr, s.Port = famOf(c.Addr), proto, c.Addr, c.Port
			v.services = []effects.IPVSService{s}
			if c.HASuspend {
				v.haAddr = c.Addr
			}
		}
		if seen[v.id] {
			cp.warnings = append(cp.warnings, "virtual server "+v.id+" configured twice - ignoring the second")
			continue
		}
		if c.HASuspend && !v.haAddr.IsValid() {
			cp.warnings = append(cp.warnings, "virtual server "+v.id+": ha_suspend needs a virtual server address - checkers always active")
		}
		// A kernel service belongs to one virtual server: keepalived
		// forbids sharing, and one owner keeps each diff local.
		svcs := v.services[:0]
		for _, s := range v.services {
			key := keyOf(&s)
			if o, dup := owner[key]; dup {
				cp.warnings = append(cp.warnings, "virtual server "+v.id+": service "+svcString(&s)+" already belongs to "+o+" - ignored")
				continue
			}
			owner[key] = v.id
			svcs = append(svcs, s)
		}
		v.services = svcs
		seen[v.id] = true
		v.idx = len(cp.vservers)
		v.dyn.ID = v.id
		cp.vservers = append(cp.vservers, v)
		compileReals(cp, v)
	}
	return cp
}

func compileReals(cp *compiled, v *vserver) {
	c := v.cfg
	rseen := map[string]bool{}
	for k := range c.RealServers {
		rc := &c.RealServers[k]
		r := &rserver{cfg: rc, vs: v, weight: rc.Weight, inhibit: rc.InhibitOnFailure}
		r.id = netip.AddrPortFrom(rc.Addr, uint16(rc.Port)).String()
		if rseen[r.id] {
			cp.warnings = append(cp.warnings, "virtual server "+v.id+": real server "+r.id+" configured twice - ignoring the second")
			continue
		}
		rseen[r.id] = true
		r.logName = "[" + rc.Addr.String() + "]:" + v.protoName + ":" + strconv.Itoa(rc.Port)
		r.dest = effects.IPVSDest{Addr: rc.Addr, Port: rc.Port, Method: rc.Method.Method, TunType: rc.Method.TunType,
			TunPort: rc.Method.TunPort, TunCsum: rc.Method.TunCsum, UThreshold: rc.UThreshold, LThreshold: rc.LThreshold}
		r.dyn = rsDyn{ID: r.id, Weight: r.weight}
		for n := range rc.Checkers {
			// The checker's configuration without its source position:
			// RunCheck carries it, and an engine restored from a snapshot
			// (whose configuration has no positions) must emit the same
			// bytes as the one that wrote the journal.
			spec := rc.Checkers[n]
			spec.Pos = conf.Pos{}
			cc := &spec
			ck := &checker{cfg: cc, rs: r, idx: n, addr: rc.Addr, port: rc.Port, timeout: cc.ConnectTimeout.Std()}
			ck.timerKey = timerPrefix + v.id + "/" + r.id + "/" + strconv.Itoa(n)
			ck.dyn.Key = ck.timerKey
			ck.polled = cc.Type != conf.CheckBFD && cc.Type != conf.CheckFile
			if cc.ConnectIP.IsValid() {
				ck.addr = cc.ConnectIP
			}
			if cc.ConnectPort != 0 {
				ck.port = cc.ConnectPort
			}
			if cc.Misc != nil {
				ck.timeout = cc.Misc.Timeout.Std()
			}
			if ck.timeout <= 0 {
				ck.timeout = cc.DelayLoop.Std()
			}
			r.checkers = append(r.checkers, ck)
			cp.byCheck[checkRef{v.id, r.id, n}] = ck
			if ck.polled {
				cp.byTimer[ck.timerKey] = ck
			}
		}
		v.reals = append(v.reals, r)
	}
	if s := c.SorryServer; s != nil && s.Addr.IsValid() {
		port := s.Port
		if port == 0 && c.FwMark == 0 && c.Group == "" {
			port = c.Port
		}
		r := &rserver{vs: v, weight: 1, inhibit: s.Inhibit}
		r.id = netip.AddrPortFrom(s.Addr, uint16(port)).String()
		r.logName = "[" + s.Addr.String() + "]:" + v.protoName + ":" + strconv.Itoa(port)
		m := s.Method
		if m.Method == "" {
			m = c.Method
		}
		r.dest = effects.IPVSDest{Addr: s.Addr, Port: port, Method: m.Method, TunType: m.TunType, TunPort: m.TunPort, TunCsum: m.TunCsum}
		r.dyn = rsDyn{ID: r.id, Weight: 1}
		v.sorry = r
	}
}

// expandGroup turns a virtual_server_group into kernel services: one per
// address of each range (keepalived issues one command per address), one
// per fwmark.
func expandGroup(g *conf.VirtualServerGroup, c *conf.VirtualServer, proto string, attrs effects.IPVSService, warn *[]string) []effects.IPVSService {
	var out []effects.IPVSService
	for _, e := range g.Ranges {
		if e.FwMark != 0 {
			s := attrs
			s.FwMark = e.FwMark
			s.Family = e.Family
			if s.Family == 0 {
				s.Family = family(c.Family)
			}
			out = append(out, s)
			continue
		}
		if !e.First.IsValid() {
			continue
		}
		last := e.Last
		if !last.IsValid() {
			last = e.First
		}
		for a := e.First; a.IsValid() && a.Compare(last) <= 0; a = a.Next() {
			if len(out) >= maxServices {
				*warn = append(*warn, "virtual server group "+g.Name+" expands to more than "+strconv.Itoa(maxServices)+" services - truncated")
				return out
			}
			s := attrs
			s.Family, s.Protocol, s.Addr, s.Port = famOf(a), proto, a, e.Port
			out = append(out, s)
		}
	}
	return out
}

func family(f int) int {
	if f == 6 {
		return 6
	}
	return 4
}

func famOf(a netip.Addr) int {
	if a.Is4() || a.Is4In6() {
		return 4
	}
	return 6
}

// svcKey is a kernel service's identity.
type svcKey struct {
	family int
	proto  string
	addr   netip.Addr
	port   int
	fwmark uint32
}

func keyOf(s *effects.IPVSService) svcKey {
	return svcKey{s.Family, s.Protocol, s.Addr, s.Port, s.FwMark}
}

func svcString(s *effects.IPVSService) string {
	if s.FwMark != 0 {
		return "FWM " + strconv.FormatUint(uint64(s.FwMark), 10)
	}
	return s.Protocol + "/" + netip.AddrPortFrom(s.Addr, uint16(s.Port)).String()
}

// sameAttrs reports whether two services of the same key have the same
// attributes.
func sameAttrs(a, b *effects.IPVSService) bool {
	if a.Scheduler != b.Scheduler || a.OnePacket != b.OnePacket || a.PersistenceTimeout != b.PersistenceTimeout ||
		a.PersistenceNetmask != b.PersistenceNetmask || a.PersistenceEngine != b.PersistenceEngine ||
		len(a.SchedFlags) != len(b.SchedFlags) {
		return false
	}
	for k := range a.SchedFlags {
		if a.SchedFlags[k] != b.SchedFlags[k] {
			return false
		}
	}
	return true
}

// sameChecker reports whether a reloaded checker is the same check as an
// old one (keepalived's checker compare functions: type and connection
// options, plus the type's own options), so that it keeps its state.
// Timing settings (delay_loop, retry, ...) may differ.
func sameChecker(a, b *conf.Checker) bool {
	if a.Type != b.Type || a.ConnectIP != b.ConnectIP || a.ConnectPort != b.ConnectPort || a.BindTo != b.BindTo ||
		a.BindIf != b.BindIf || a.BindPort != b.BindPort || a.FwMark != b.FwMark || a.ConnectTimeout != b.ConnectTimeout {
		return false
	}
	type spec struct {
		HTTP *conf.HTTPCheck
		SMTP *conf.SMTPCheck
		DNS  *conf.DNSCheck
		Misc *conf.MiscCheck
		BFD  *conf.BFDCheck
		UDP  *conf.UDPCheck
		File *conf.FileCheck
	}
	// Comparing encodings keeps this exact for nested options without
	// reflection; it runs only on reload.
	ja, errA := json.Marshal(spec{a.HTTP, a.SMTP, a.DNS, a.Misc, a.BFD, a.UDP, a.File})
	jb, errB := json.Marshal(spec{b.HTTP, b.SMTP, b.DNS, b.Misc, b.BFD, b.UDP, b.File})
	return errA == nil && errB == nil && string(ja) == string(jb)
}
