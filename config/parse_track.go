package config

import (
	"math"
	"slices"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

// defineName registers a named block, reporting a duplicate.
func (p *parser) defineName(m map[string]*node, b *node, what, name string) bool {
	if prev, dup := m[name]; dup {
		p.errorf(b, "%s %s already defined at %s:%d", what, name, prev.file, prev.line)
		return false
	}
	m[name] = b
	return true
}

// weightArgs parses `weight N [reverse]` starting at argument i.
func (p *parser) weightArgs(n *node, i int, min, max int64) (int, bool, bool) {
	w, ok := p.intArg(n, i, min, max)
	if !ok {
		return 0, false, false
	}
	rev := false
	if len(n.args) > i+1 {
		switch n.arg(i + 1) {
		case "reverse":
			rev = true
		case "noreverse", "no_reverse":
		default:
			p.argErrorf(n, i+1, "unknown weight option '%s': expected reverse", n.arg(i+1))
			return 0, false, false
		}
		p.maxArgs(n, i+2)
	}
	return w, rev, true
}

// parseVRRPScript parses a vrrp_script block.
func (p *parser) parseVRRPScript(b *node) {
	name, ok := p.nameArg(b, "vrrp_script")
	if !ok || !p.defineName(p.scripts, b, "vrrp_script", name) {
		return
	}
	s := conf.VRRPScript{Pos: pos(b), Name: name, Interval: conf.Duration(time.Second), Rise: 1, Fall: 1}
	hasScript, timeoutSet := false, false
	var user *node
	for _, n := range b.block {
		p.noBlock(n)
		switch n.name() {
		case "script":
			if sc, ok := p.commandScript(n); ok {
				s.Script, hasScript = sc, true
			}
		case "interval", "timeout":
			v, ok := p.timerArg(n, 0, 0, maxSecs*time.Second)
			if !ok {
				continue
			}
			if v == 0 {
				p.argWarnf(n, 0, "%s must be greater than 0 - using 1", n.name())
				v = conf.Duration(time.Second)
			}
			if n.name() == "interval" {
				s.Interval = v
			} else {
				s.Timeout, timeoutSet = v, true
			}
		case "weight":
			if w, rev, ok := p.weightArgs(n, 0, -253, 253); ok {
				s.Weight, s.WeightReverse = w, rev
			}
		case "rise":
			if v, ok := p.intArg(n, 0, 1, math.MaxInt32); ok {
				s.Rise = v
			}
		case "fall":
			if v, ok := p.intArg(n, 0, 1, math.MaxInt32); ok {
				s.Fall = v
			}
		case "user":
			if p.needArgs(n, 1, "user name") {
				p.maxArgs(n, 2)
				user = n
			}
		case "init_fail":
			p.maxArgs(n, 0)
			s.InitFail = true
		default:
			p.unknown(n, "vrrp_script")
		}
	}
	if !timeoutSet {
		s.Timeout = s.Interval
	}
	if !hasScript {
		p.warnf(b, "no script set for vrrp_script %s - removing it", name)
		p.dropped["script:"+name] = true
		return
	}
	if user != nil {
		s.Script.User, s.Script.Group = user.arg(0), user.arg(1)
	}
	p.cfg.VRRPScripts = append(p.cfg.VRRPScripts, s)
}

// parseTrackFile parses a track_file (or vrrp_track_file) block.
func (p *parser) parseTrackFile(b *node) {
	name, ok := p.nameArg(b, b.name())
	if !ok || !p.defineName(p.files, b, "track_file", name) {
		return
	}
	f := conf.TrackFile{Pos: pos(b), Name: name, Weight: 1}
	for _, n := range b.block {
		p.noBlock(n)
		switch n.name() {
		case "file":
			if p.needArgs(n, 1, "file name") {
				p.maxArgs(n, 1)
				f.File = n.arg(0)
			}
		case "weight":
			if w, rev, ok := p.weightArgs(n, 0, -math.MaxInt32, math.MaxInt32); ok {
				f.Weight, f.WeightReverse = w, rev
			}
		case "init_file":
			f.InitFile = true
			for i := 0; i < len(n.args); i++ {
				if n.arg(i) == "overwrite" {
					f.InitOverwrite = true
					continue
				}
				if i == 0 {
					if v, ok := p.intArg(n, 0, math.MinInt32, math.MaxInt32); ok {
						f.InitValue = int64(v)
					}
					continue
				}
				p.argWarnf(n, i, "unknown init_file option '%s' - ignored", n.arg(i))
			}
		default:
			p.unknown(n, "track_file")
		}
	}
	if f.File == "" {
		p.warnf(b, "no file set for track_file %s - removing it", name)
		p.dropped["file:"+name] = true
		return
	}
	p.cfg.TrackFiles = append(p.cfg.TrackFiles, f)
}

// parseTrackProcess parses a vrrp_track_process block.
func (p *parser) parseTrackProcess(b *node) {
	name, ok := p.nameArg(b, "vrrp_track_process")
	if !ok || !p.defineName(p.processes, b, "vrrp_track_process", name) {
		return
	}
	// keepalived 2.2.7 leaves an unset weight at 0 (an unweighted tracker
	// that faults the instance), although the man page says 1; vigil
	// matches what keepalived does, so mixed clusters agree.
	t := conf.TrackProcess{Pos: pos(b), Name: name, Quorum: 1}
	quorumMaxSet := false
	for _, n := range b.block {
		p.noBlock(n)
		switch n.name() {
		case "process":
			if !p.needArgs(n, 1, "process name") {
				continue
			}
			if t.Process != "" {
				p.warnf(n, "process already set for vrrp_track_process %s - ignored", name)
				continue
			}
			t.Process = n.arg(0)
			t.Params = argTexts(n)[1:]
		case "param_match":
			switch {
			case len(n.args) == 0:
				// keepalived: match the whole command line exactly
				// (with no process parameters: the process has none).
				t.ParamMatch = "exact"
			case n.arg(0) == "initial" || n.arg(0) == "partial":
				t.ParamMatch = n.arg(0)
				p.maxArgs(n, 1)
			default:
				p.argWarnf(n, 0, "invalid param_match type '%s' (expected initial or partial) - ignored", n.arg(0))
			}
		case "weight":
			if w, rev, ok := p.weightArgs(n, 0, -254, 254); ok {
				t.Weight, t.WeightReverse = w, rev
			}
		case "quorum":
			v, ok := p.intArg(n, 0, 1, 65535)
			if !ok {
				continue
			}
			if quorumMaxSet && v > t.QuorumMax {
				p.argErrorf(n, 0, "quorum %d is greater than quorum_max %d", v, t.QuorumMax)
				continue
			}
			t.Quorum = v
		case "quorum_max":
			v, ok := p.intArg(n, 0, 0, 65535)
			if !ok {
				continue
			}
			if (v > 0 || t.Quorum > 1) && v < t.Quorum {
				p.argErrorf(n, 0, "quorum_max %d is less than quorum %d", v, t.Quorum)
				continue
			}
			t.QuorumMax, quorumMaxSet = v, true
			if v == 0 {
				t.Quorum = 0 // no matching process may run
			}
		case "delay", "fork_delay", "terminate_delay":
			v, ok := p.timerArg(n, 0, time.Microsecond, time.Hour)
			if !ok {
				continue
			}
			if n.name() != "terminate_delay" {
				t.ForkDelay = v
			}
			if n.name() != "fork_delay" {
				t.TerminateDelay = v
			}
		case "full_command":
			p.maxArgs(n, 0)
			t.FullCommand = true
		default:
			p.unknown(n, "vrrp_track_process")
		}
	}
	if t.Process == "" {
		p.warnf(b, "no process set for vrrp_track_process %s - removing it", name)
		p.dropped["process:"+name] = true
		return
	}
	if len(t.Params) > 0 && t.ParamMatch == "" {
		t.ParamMatch = "exact" // keepalived's default once parameters are given
	}
	p.cfg.TrackProcesses = append(p.cfg.TrackProcesses, t)
}

// parseBFDInstance parses a bfd_instance block, applying the documented
// defaults (min_rx/min_tx 10 ms, idle_tx 1000 ms, multiplier 5, ttl 255
// for an IPv4 neighbour, hoplimit 64 for an IPv6 one). As in keepalived
// 2.2.7, ttl and hoplimit are one setting under two names: the last one
// given sets both TTL and Hoplimit. A max_hops above it is lowered to it.
func (p *parser) parseBFDInstance(b *node) {
	name, ok := p.nameArg(b, "bfd_instance")
	if !ok || !p.defineName(p.bfds, b, "bfd_instance", name) {
		return
	}
	bi := conf.BFDInstance{
		Pos: pos(b), Name: name,
		MinRx: conf.Duration(10 * time.Millisecond), MinTx: conf.Duration(10 * time.Millisecond),
		IdleTx: conf.Duration(time.Second), Multiplier: 5, TTL: 255, Hoplimit: 64,
	}
	ms := func(n *node, dst *conf.Duration) {
		// The value is in milliseconds with microsecond resolution: parse
		// it as a timer and scale.
		if v, ok := p.timerArg(n, 0, time.Microsecond, 4294*time.Second); ok {
			*dst = conf.Duration(time.Duration(v) / 1000)
		}
	}
	for _, n := range b.block {
		p.noBlock(n)
		switch n.name() {
		case "neighbor_ip", "neighbour_ip":
			if a, ok := p.addrArg(n, 0); ok {
				bi.Neighbor = a
			}
		case "source_ip":
			if a, ok := p.addrArg(n, 0); ok {
				bi.Source = a
			}
		case "min_rx":
			ms(n, &bi.MinRx)
		case "min_tx":
			ms(n, &bi.MinTx)
		case "idle_tx":
			ms(n, &bi.IdleTx)
		case "multiplier":
			if v, ok := p.intArg(n, 0, 1, 255); ok {
				bi.Multiplier = v
			}
		case "passive":
			bi.Passive = true
		case "ttl", "hoplimit":
			if v, ok := p.intArg(n, 0, 1, 255); ok {
				bi.TTL, bi.Hoplimit = v, v
			}
		case "multihop":
			if on, ok := p.boolArg(n, 0); ok {
				bi.Multihop = on
			}
		case "max_hops":
			if v, ok := p.intArg(n, 0, 0, 255); ok {
				bi.MaxHops = v
			}
		case "weight":
			if w, rev, ok := p.weightArgs(n, 0, -253, 253); ok {
				bi.Weight, bi.WeightReverse = w, rev
			}
		case "vrrp":
			bi.VRRPOnly = true
		case "checker":
			bi.CheckerOnly = true
		default:
			p.unknown(n, "bfd_instance")
		}
	}
	if !bi.Neighbor.IsValid() {
		p.errorf(b, "bfd_instance %s has no neighbor_ip", name)
		p.dropped["bfd:"+name] = true
		return
	}
	if bi.Source.IsValid() && bi.Source.Is4() != bi.Neighbor.Is4() {
		p.errorf(b, "bfd_instance %s: source_ip and neighbor_ip are of different address families", name)
	}
	ttl := bi.TTL
	if !bi.Neighbor.Is4() {
		ttl = bi.Hoplimit
	}
	if bi.MaxHops > ttl {
		p.errorf(b, "bfd_instance %s: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit", name)
		bi.MaxHops = ttl
	}
	p.cfg.BFDInstances = append(p.cfg.BFDInstances, bi)
}

// parseGARPGroup parses a garp_group block.
func (p *parser) parseGARPGroup(b *node) {
	p.maxArgs(b, 0)
	g := conf.GARPGroup{Pos: pos(b)}
	set := false
	for _, n := range b.block {
		if n.name() != "interfaces" {
			p.noBlock(n)
		}
		switch n.name() {
		case "garp_interval":
			if v, ok := p.timerArg(n, 0, 0, time.Second); ok {
				g.Interval, set = v, true
			}
		case "gna_interval":
			if v, ok := p.timerArg(n, 0, 0, time.Second); ok {
				g.GNAInterval, set = v, true
			}
		case "interface":
			if v, ok := p.ifArg(n, 0); ok {
				if len(g.Interfaces) > 0 {
					p.warnf(n, "only one of interface or interfaces should be used per garp_group")
				}
				g.Interface = v
			}
		case "interfaces":
			if !p.needBlock(n) {
				continue
			}
			if g.Interface != "" {
				p.warnf(n, "only one of interface or interfaces should be used per garp_group")
			}
			for _, c := range entries(n) {
				if validIfName(c.name()) {
					g.Interfaces = append(g.Interfaces, c.name())
				} else {
					p.errorf(c, "invalid interface name '%s'", c.name())
				}
			}
			if len(n.block) == 0 {
				p.warnf(n, "empty interfaces block")
			}
		default:
			p.unknown(n, "garp_group")
		}
	}
	if !set {
		p.warnf(b, "garp_group has no garp_interval or gna_interval - removing it")
		return
	}
	if g.Interface == "" && len(g.Interfaces) == 0 {
		p.warnf(b, "garp_group has no interface - removing it")
		return
	}
	ifaces := g.Interfaces
	if g.Interface != "" {
		ifaces = []string{g.Interface}
	}
	for _, name := range ifaces {
		for _, o := range p.cfg.GARPGroups {
			if o.Interface == name || slices.Contains(o.Interfaces, name) {
				p.warnf(b, "garp_group already specified for %s - ignoring", name)
			}
		}
	}
	p.cfg.GARPGroups = append(p.cfg.GARPGroups, g)
}
