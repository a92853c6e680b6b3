package config

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

// timers are the settings a virtual server passes to its real servers and
// a real server to its checkers; nil means "inherit".
type timers struct {
	connectTimeout, delayLoop, delayBeforeRetry, warmup *conf.Duration
	retry                                               *int
	alpha, inhibit, smtpAlert                           *bool
	virtualhost                                         *string
}

type vsState struct {
	n   *node
	idx int
	t   timers
	rss []*rsState
}

type rsState struct {
	n         *node
	t         timers
	weightSet bool
	methodSet bool
	checkers  []*chkState
}

type chkState struct {
	n *node
	t timers
}

// timerKeyword parses the inheritable keywords; it reports whether n was
// one of them.
func (p *parser) timerKeyword(n *node, t *timers) bool {
	dur := func(dst **conf.Duration, min time.Duration) {
		if v, ok := p.timerArg(n, 0, min, maxSecs*time.Second); ok {
			*dst = &v
		}
	}
	switch n.name() {
	case "connect_timeout":
		dur(&t.connectTimeout, time.Microsecond)
	case "delay_loop":
		dur(&t.delayLoop, time.Microsecond)
	case "delay_before_retry":
		dur(&t.delayBeforeRetry, 0)
	case "warmup":
		dur(&t.warmup, 0)
	case "retry", "nb_get_retry":
		if n.name() == "nb_get_retry" {
			p.warnf(n, "nb_get_retry is deprecated - use retry")
		}
		if v, ok := p.intArg(n, 0, 0, math.MaxInt32); ok {
			t.retry = &v
		}
	case "alpha":
		if v, ok := p.boolArg(n, 0); ok {
			t.alpha = &v
		}
	case "inhibit_on_failure":
		if v, ok := p.boolArg(n, 0); ok {
			t.inhibit = &v
		}
	default:
		return false
	}
	return true
}

// parseVSG parses a virtual_server_group block.
func (p *parser) parseVSG(b *node) {
	name, ok := p.nameArg(b, "virtual_server_group")
	if !ok {
		return
	}
	for _, g := range p.cfg.VirtualServerGroups {
		if g.Name == name {
			p.errorf(b, "virtual_server_group %s already defined", name)
			return
		}
	}
	g := conf.VirtualServerGroup{Pos: pos(b), Name: name, Entries: []string{}, Ranges: []conf.VSGEntry{}}
	for _, n := range entries(b) {
		p.noBlock(n)
		e, ok := p.parseVSGEntry(n)
		if !ok {
			continue
		}
		g.Entries = append(g.Entries, strings.Join(tokens(n), " "))
		g.Ranges = append(g.Ranges, e)
	}
	if len(g.Ranges) == 0 {
		p.warnf(b, "virtual_server_group %s is empty", name)
	}
	p.cfg.VirtualServerGroups = append(p.cfg.VirtualServerGroups, g)
}

// parseVSGEntry parses `IP[-LAST|/LEN] [PORT]` or `fwmark N [inet|inet6]`.
func (p *parser) parseVSGEntry(n *node) (conf.VSGEntry, bool) {
	var e conf.VSGEntry
	if n.name() == "fwmark" {
		v, ok := p.intArg(n, 0, 1, math.MaxUint32)
		if !ok {
			return e, false
		}
		e.FwMark = uint32(v)
		switch n.arg(1) {
		case "":
		case "inet":
			e.Family = 4
		case "inet6":
			e.Family = 6
		default:
			p.argErrorf(n, 1, "unknown fwmark option '%s': expected inet or inet6", n.arg(1))
			return e, false
		}
		p.maxArgs(n, 2)
		return e, true
	}
	first, last, ok := parseRange(n.name())
	if !ok {
		p.errorf(n, "invalid address or range '%s'", n.name())
		return e, false
	}
	e.First, e.Last, e.Family = first, last, family(first)
	if len(n.args) > 0 {
		v, ok := p.intArg(n, 0, 0, 65535)
		if !ok {
			return e, false
		}
		e.Port = v
		p.maxArgs(n, 1)
	}
	return e, true
}

// parseRange parses A, A-N (last part of the address), A-B, or A/LEN.
func parseRange(s string) (netip.Addr, netip.Addr, bool) {
	if strings.Contains(s, "/") {
		pf, err := parsePrefix(s)
		if err != nil {
			return netip.Addr{}, netip.Addr{}, false
		}
		pf = pf.Masked()
		return pf.Addr(), hostBits(pf, true), true
	}
	a, b, isRange := strings.Cut(s, "-")
	first, err := parseAddr(a)
	if err != nil {
		return netip.Addr{}, netip.Addr{}, false
	}
	if !isRange {
		return first, first, true
	}
	if last, err := parseAddr(b); err == nil {
		if last.Is4() != first.Is4() || last.Less(first) {
			return netip.Addr{}, netip.Addr{}, false
		}
		return first, last, true
	}
	// Shorthand: the last group only (decimal for IPv4, hex for IPv6).
	bs := first.AsSlice()
	var lastv uint64
	if first.Is4() {
		v, err := strconv.ParseUint(b, 10, 8)
		if err != nil || byte(v) < bs[3] {
			return netip.Addr{}, netip.Addr{}, false
		}
		bs[3] = byte(v)
	} else {
		v, err := strconv.ParseUint(b, 16, 16)
		cur := uint64(bs[14])<<8 | uint64(bs[15])
		if err != nil || v < cur {
			return netip.Addr{}, netip.Addr{}, false
		}
		lastv = v
		bs[14], bs[15] = byte(lastv>>8), byte(lastv)
	}
	last, _ := netip.AddrFromSlice(bs)
	return first, last, true
}

var schedulers = map[string]bool{
	"rr": true, "wrr": true, "lc": true, "wlc": true, "lblc": true, "sh": true, "mh": true,
	"dh": true, "fo": true, "ovf": true, "lblcr": true, "sed": true, "nq": true, "twos": true,
}

// parseMethod parses `NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`
// (lb_kind accepts the legacy spelling TUN as well).
func (p *parser) parseMethod(n *node) (conf.ForwardMethod, bool) {
	var m conf.ForwardMethod
	switch v := strings.ToUpper(n.arg(0)); v {
	case "NAT", "DR", "TUN":
		m.Method = v
	case "":
		p.errorf(n, "missing forwarding method (NAT, DR or TUN)")
		return m, false
	default:
		p.argErrorf(n, 0, "unknown forwarding method '%s': expected NAT, DR or TUN", n.arg(0))
		return m, false
	}
	if m.Method != "TUN" {
		p.maxArgs(n, 1)
		return m, true
	}
	m.TunType = "ipip"
	for i := 1; i < len(n.args); i++ {
		switch a := n.arg(i); a {
		case "type":
			i++
			switch t := n.arg(i); t {
			case "ipip", "gre":
				m.TunType = t
			case "gue":
				m.TunType = t
				if n.arg(i+1) != "port" {
					p.argErrorf(n, i, "tunnel type gue needs 'port NUM'")
					return m, false
				}
				v, ok := p.intArg(n, i+2, 1, 65535)
				if !ok {
					return m, false
				}
				m.TunPort = v
				i += 2
			default:
				p.argErrorf(n, i, "unknown tunnel type '%s': expected ipip, gue or gre", t)
				return m, false
			}
		case "nocsum", "csum", "remcsum":
			if m.TunType != "gue" && !(m.TunType == "gre" && a != "remcsum") {
				p.argErrorf(n, i, "checksum option '%s' needs tunnel type gue (or gre without remcsum)", a)
				return m, false
			}
			m.TunCsum = a
		default:
			p.argErrorf(n, i, "unknown tunnel option '%s'", a)
			return m, false
		}
	}
	return m, true
}

// parseVirtualServer parses a virtual_server block.
func (p *parser) parseVirtualServer(b *node) {
	vs := conf.VirtualServer{
		Pos: pos(b), Key: joinArgs(b, 0), Quorum: 1, Weight: 1,
		RealServers: []conf.RealServer{},
	}
	switch b.arg(0) {
	case "":
		p.errorf(b, "virtual_server needs an address, 'fwmark N' or 'group NAME'")
		return
	case "fwmark":
		v, ok := p.intArg(b, 1, 1, math.MaxUint32)
		if !ok {
			return
		}
		p.maxArgs(b, 2)
		vs.FwMark = uint32(v)
	case "group":
		if !p.needArgs(b, 2, "group name") {
			return
		}
		p.maxArgs(b, 2)
		vs.Group = b.arg(1)
	default:
		a, ok := p.addrArg(b, 0)
		if !ok {
			return
		}
		vs.Addr, vs.Family = a, family(a)
		if len(b.args) > 1 {
			v, ok := p.intArg(b, 1, 0, 65535)
			if !ok {
				return
			}
			vs.Port = v
		}
		p.maxArgs(b, 2)
	}
	st := &vsState{n: b, idx: len(p.cfg.VirtualServers)}
	for _, n := range b.block {
		if n.name() != "real_server" {
			p.noBlock(n)
		}
		if p.timerKeyword(n, &st.t) {
			continue
		}
		switch k := n.name(); k {
		case "ip_family":
			switch n.arg(0) {
			case "inet":
				vs.Family = 4
			case "inet6":
				vs.Family = 6
			default:
				p.argErrorf(n, 0, "invalid ip_family '%s': expected inet or inet6", n.arg(0))
			}
		case "lb_algo", "lvs_sched":
			if !schedulers[n.arg(0)] {
				p.argErrorf(n, 0, "unknown scheduler '%s'", n.arg(0))
				continue
			}
			vs.Scheduler = n.arg(0)
		case "hashed":
			p.warnf(n, "hashed is deprecated - use mh-port")
			vs.SchedFlags = append(vs.SchedFlags, "mh-port")
		case "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback":
			vs.SchedFlags = append(vs.SchedFlags, k)
		case "ops":
			vs.OPS = true
		case "lb_kind", "lvs_method":
			if m, ok := p.parseMethod(n); ok {
				vs.Method = m
			}
		case "persistence_engine":
			if p.needArgs(n, 1, "engine name") {
				vs.PersistenceEngine = n.arg(0)
			}
		case "persistence_timeout":
			vs.PersistenceTimeout = conf.Duration(360 * time.Second)
			if len(n.args) > 0 {
				if v, ok := p.intArg(n, 0, 1, math.MaxInt32); ok {
					vs.PersistenceTimeout = conf.Duration(time.Duration(v) * time.Second)
				}
			}
		case "persistence_granularity":
			if a, ok := p.addrArg(n, 0); ok {
				vs.PersistenceGranularity = a
			}
		case "protocol":
			switch v := strings.ToUpper(n.arg(0)); v {
			case "TCP", "UDP", "SCTP":
				vs.Protocol = v
			default:
				p.argErrorf(n, 0, "unknown protocol '%s': expected TCP, UDP or SCTP", n.arg(0))
			}
		case "ha_suspend":
			vs.HASuspend = true
		case "smtp_alert":
			if v, ok := p.boolArg(n, 0); ok {
				st.t.smtpAlert = &v
			}
		case "virtualhost":
			if p.needArgs(n, 1, "virtual host") {
				v := n.arg(0)
				st.t.virtualhost = &v
			}
		case "snmp_name":
			vs.SNMPName = n.arg(0)
		case "omega":
			vs.Omega = true
		case "quorum":
			if v, ok := p.intArg(n, 0, 1, math.MaxInt32); ok {
				vs.Quorum = v
			}
		case "hysteresis":
			if v, ok := p.intArg(n, 0, 0, math.MaxInt32); ok {
				vs.Hysteresis = v
			}
		case "quorum_up":
			vs.QuorumUp = p.notifyScript(n)
		case "quorum_down":
			vs.QuorumDown = p.notifyScript(n)
		case "weight":
			if v, ok := p.intArg(n, 0, 0, 65535); ok {
				vs.Weight = v
			}
		case "sorry_server":
			a, ok := p.addrArg(n, 0)
			if !ok {
				continue
			}
			ss := &conf.SorryServer{Addr: a}
			if vs.SorryServer != nil {
				ss.Inhibit, ss.Method = vs.SorryServer.Inhibit, vs.SorryServer.Method
			}
			if len(n.args) > 1 {
				if v, ok := p.intArg(n, 1, 0, 65535); ok {
					ss.Port = v
				}
			}
			vs.SorryServer = ss
		case "sorry_server_inhibit":
			if vs.SorryServer == nil {
				vs.SorryServer = &conf.SorryServer{}
			}
			vs.SorryServer.Inhibit = true
		case "sorry_server_lvs_method":
			if m, ok := p.parseMethod(n); ok {
				if vs.SorryServer == nil {
					vs.SorryServer = &conf.SorryServer{}
				}
				vs.SorryServer.Method = m
			}
		case "real_server":
			if p.needBlock(n) {
				p.parseRealServer(n, &vs, st)
			}
		default:
			p.unknown(n, "virtual_server")
		}
	}
	if vs.SorryServer != nil && !vs.SorryServer.Addr.IsValid() {
		p.errorf(b, "sorry_server_inhibit or sorry_server_lvs_method given without sorry_server")
		vs.SorryServer = nil
	}
	p.vss = append(p.vss, st)
	p.cfg.VirtualServers = append(p.cfg.VirtualServers, vs)
}

// parseRealServer parses a real_server block into vs.
func (p *parser) parseRealServer(b *node, vs *conf.VirtualServer, vst *vsState) {
	a, ok := p.addrArg(b, 0)
	if !ok {
		return
	}
	rs := conf.RealServer{Pos: pos(b), Addr: a, Checkers: []conf.Checker{}}
	if len(b.args) > 1 {
		v, ok := p.intArg(b, 1, 0, 65535)
		if !ok {
			return
		}
		rs.Port = v
	}
	p.maxArgs(b, 2)
	st := &rsState{n: b}
	for _, n := range b.block {
		if !checkerTypes[n.name()] {
			p.noBlock(n)
		}
		if p.timerKeyword(n, &st.t) {
			continue
		}
		switch k := n.name(); k {
		case "weight":
			if v, ok := p.intArg(n, 0, 0, 65535); ok {
				rs.Weight, st.weightSet = v, true
			}
		case "lvs_method", "lb_kind":
			if m, ok := p.parseMethod(n); ok {
				rs.Method, st.methodSet = m, true
			}
		case "notify_up":
			rs.NotifyUp = p.notifyScript(n)
		case "notify_down":
			rs.NotifyDown = p.notifyScript(n)
		case "uthreshold":
			if v, ok := p.intArg(n, 0, 0, math.MaxInt32); ok {
				rs.UThreshold = v
			}
		case "lthreshold":
			if v, ok := p.intArg(n, 0, 0, math.MaxInt32); ok {
				rs.LThreshold = v
			}
		case "smtp_alert":
			if v, ok := p.boolArg(n, 0); ok {
				st.t.smtpAlert = &v
			}
		case "virtualhost":
			if p.needArgs(n, 1, "virtual host") {
				v := n.arg(0)
				st.t.virtualhost = &v
			}
		case "snmp_name":
			rs.SNMPName = n.arg(0)
		default:
			if checkerTypes[k] {
				if p.needBlock(n) {
					p.parseChecker(n, &rs, st)
				}
				continue
			}
			p.unknown(n, "real_server")
		}
	}
	if rs.UThreshold != 0 && rs.LThreshold > rs.UThreshold {
		p.errorf(b, "lthreshold %d is greater than uthreshold %d", rs.LThreshold, rs.UThreshold)
	}
	vst.rss = append(vst.rss, st)
	vs.RealServers = append(vs.RealServers, rs)
}

// parseSSL parses the SSL block.
func (p *parser) parseSSL(b *node) {
	s := &conf.SSL{}
	for _, n := range b.block {
		p.noBlock(n)
		var dst *string
		switch n.name() {
		case "password":
			dst = &s.Password
		case "ca":
			dst = &s.CA
		case "certificate":
			dst = &s.Certificate
		case "key":
			dst = &s.Key
		default:
			p.unknown(n, "SSL")
			continue
		}
		if p.needArgs(n, 1, "value") {
			p.maxArgs(n, 1)
			*dst = n.arg(0)
		}
	}
	p.cfg.SSL = s
}
