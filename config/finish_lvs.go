package config

import (
	"math"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

func orDur(v *conf.Duration, def conf.Duration) conf.Duration {
	if v != nil {
		return *v
	}
	return def
}

// finishLVS applies keepalived's defaults and inheritance to virtual
// servers, real servers and checkers (virtual server → real server →
// checker), with the corrections keepalived makes.
func (p *parser) finishLVS() {
	g := &p.cfg.GlobalDefs
	groups := map[string]*conf.VirtualServerGroup{}
	for i := range p.cfg.VirtualServerGroups {
		groups[p.cfg.VirtualServerGroups[i].Name] = &p.cfg.VirtualServerGroups[i]
	}
	trackFiles := map[string]int{}
	for _, f := range p.cfg.TrackFiles {
		trackFiles[f.Name] = f.Weight
	}
	kept := p.cfg.VirtualServers[:0]
	for _, st := range p.vss {
		vs := p.cfg.VirtualServers[st.idx]
		b := st.n
		var vsg *conf.VirtualServerGroup
		if vs.Group != "" {
			if vsg = groups[vs.Group]; vsg == nil {
				p.errorf(b, "virtual_server_group %s not found", vs.Group)
			}
		}
		if len(vs.RealServers) == 0 {
			p.warnf(b, "virtual server %s has no real servers - ignored", vs.Key)
			continue
		}
		hasAddrs, hasFwmarks := vs.Addr.IsValid(), vs.FwMark != 0
		if vsg != nil {
			for _, e := range vsg.Ranges {
				if e.FwMark != 0 {
					hasFwmarks = true
				} else {
					hasAddrs = true
				}
			}
		}
		if vs.HASuspend && hasFwmarks {
			p.warnf(b, "virtual server %s: ha_suspend cannot be used with fwmarks - cleared", vs.Key)
			vs.HASuspend = false
		}
		if hasAddrs {
			if vs.Protocol == "" {
				p.warnf(b, "virtual server %s: no protocol set - using UDP", vs.Key)
				vs.Protocol = "UDP"
			}
			if vs.OPS && vs.Protocol != "UDP" {
				p.warnf(b, "virtual server %s: one-packet scheduling (ops) requires UDP - cleared", vs.Key)
				vs.OPS = false
			}
			if vs.PersistenceTimeout == 0 && vsg == nil && vs.FwMark == 0 && vs.Port == 0 {
				p.warnf(b, "virtual server %s: port 0 is only valid for persistent services - setting persistence_timeout 360", vs.Key)
				vs.PersistenceTimeout = conf.Duration(360 * time.Second)
			}
		} else if vs.Protocol != "" {
			p.warnf(b, "virtual server %s: protocol specified for a fwmark service - ignored", vs.Key)
			vs.Protocol = ""
		}
		if vs.PersistenceTimeout == 0 && vsg != nil {
			for _, e := range vsg.Ranges {
				if e.FwMark == 0 && e.Port == 0 {
					p.warnf(b, "virtual server %s: port 0 is only valid for persistent services - setting persistence_timeout 360", vs.Key)
					vs.PersistenceTimeout = conf.Duration(360 * time.Second)
					break
				}
			}
		}
		if vs.Scheduler == "" {
			p.warnf(b, "virtual server %s: no scheduler set - using %s", vs.Key, conf.DefaultLVSScheduler)
			vs.Scheduler = conf.DefaultLVSScheduler
		}
		vs.SMTPAlert = orBool(st.t.smtpAlert, orBool(g.SMTPAlertChecker, orBool(g.SMTPAlert, false)))
		vs.ConnectTimeout = orDur(st.t.connectTimeout, conf.Duration(5*time.Second))
		vs.DelayLoop = orDur(st.t.delayLoop, conf.Duration(60*time.Second))
		vs.Alpha = orBool(st.t.alpha, false)
		vs.InhibitOnFailure = orBool(st.t.inhibit, false)
		vs.Retry, vs.DelayBeforeRetry, vs.Warmup = st.t.retry, st.t.delayBeforeRetry, st.t.warmup
		if st.t.virtualhost != nil {
			vs.VirtualHost = *st.t.virtualhost
		}

		methodNeeded := false
		for _, rst := range st.rss {
			if !rst.methodSet {
				methodNeeded = true
			}
		}
		if vs.SorryServer != nil && vs.SorryServer.Method.Method == "" {
			methodNeeded = true
		}
		if vs.Method.Method == "" {
			vs.Method.Method = "NAT"
			if methodNeeded {
				p.warnf(b, "virtual server %s: no forwarding method set - using NAT", vs.Key)
			}
		}
		if vs.Family == 0 {
			vs.Family = p.vsFamily(&vs, vsg)
		}

		rss := vs.RealServers[:0]
		weightSum := 0
		for ri, rst := range st.rss {
			rs := vs.RealServers[ri]
			dup := false
			for _, o := range rss {
				if o.Addr == rs.Addr && o.Port == rs.Port {
					dup = true
				}
			}
			if dup {
				p.warnf(rst.n, "virtual server %s: real server %s is duplicated - removed", vs.Key, rs.Addr)
				continue
			}
			p.finishRealServer(&vs, st, &rs, rst, trackFiles)
			weightSum += rs.Weight
			rss = append(rss, rs)
		}
		vs.RealServers = rss
		if ss := vs.SorryServer; ss != nil {
			if ss.Method.Method == "" {
				ss.Method = vs.Method
			}
			p.fixPort(b, &vs, &ss.Port, ss.Method.Method, "sorry server")
		}
		if vs.Quorum > weightSum {
			p.warnf(b, "virtual server %s: quorum %d exceeds the total weight of the real servers %d - using %d", vs.Key, vs.Quorum, weightSum, weightSum)
			vs.Quorum = weightSum
		}
		if vs.Hysteresis >= vs.Quorum && vs.Hysteresis > 0 {
			h := max(vs.Quorum-1, 0)
			p.warnf(b, "virtual server %s: hysteresis %d >= quorum %d - using %d", vs.Key, vs.Hysteresis, vs.Quorum, h)
			vs.Hysteresis = h
		}
		kept = append(kept, vs)
	}
	p.cfg.VirtualServers = kept
}

// vsFamily decides the family of a fwmark or group service: the group's
// addresses, else ip_family (already applied), else the real servers'
// common family, else IPv4.
func (p *parser) vsFamily(vs *conf.VirtualServer, vsg *conf.VirtualServerGroup) int {
	if vsg != nil {
		for _, e := range vsg.Ranges {
			if e.Family != 0 {
				return e.Family
			}
		}
	}
	fam := 0
	for _, rs := range vs.RealServers {
		f := family(rs.Addr)
		if fam != 0 && f != fam {
			return 4
		}
		fam = f
	}
	if fam == 0 {
		return 4
	}
	return fam
}

// fixPort applies keepalived's port rules to a real or sorry server: NAT
// takes the virtual server's port when none is given; other methods must
// use the virtual server's port (fwmark services: none).
func (p *parser) fixPort(n *node, vs *conf.VirtualServer, port *int, method, what string) {
	if vs.Group != "" {
		return
	}
	if method == "NAT" {
		if vs.FwMark == 0 && *port == 0 {
			*port = vs.Port
		}
		return
	}
	if vs.FwMark != 0 {
		if *port != 0 {
			p.warnf(n, "fwmark virtual server %s: %s has a port - cleared", vs.Key, what)
			*port = 0
		}
		return
	}
	if *port == 0 {
		*port = vs.Port
	} else if *port != vs.Port {
		p.warnf(n, "virtual server %s and %s ports don't match - using %d", vs.Key, what, vs.Port)
		*port = vs.Port
	}
}

func (p *parser) finishRealServer(vs *conf.VirtualServer, vst *vsState, rs *conf.RealServer, st *rsState, trackFiles map[string]int) {
	g := &p.cfg.GlobalDefs
	if !st.methodSet {
		rs.Method = vs.Method
	}
	if rs.Method.Method != "TUN" && family(rs.Addr) != vs.Family {
		p.errorf(st.n, "real server %s is not of the virtual server's address family (IPv%d); only tunnelled real servers may differ", rs.Addr, vs.Family)
	}
	p.fixPort(st.n, vs, &rs.Port, rs.Method.Method, "real server "+rs.Addr.String())
	if !st.weightSet {
		rs.Weight = vs.Weight
	}
	rs.Alpha = orBool(st.t.alpha, vs.Alpha)
	rs.InhibitOnFailure = orBool(st.t.inhibit, vs.InhibitOnFailure)
	rs.ConnectTimeout = orDur(st.t.connectTimeout, vs.ConnectTimeout)
	rs.DelayLoop = orDur(st.t.delayLoop, vs.DelayLoop)
	rs.Retry = st.t.retry
	if rs.Retry == nil {
		rs.Retry = vs.Retry
	}
	rs.DelayBeforeRetry = st.t.delayBeforeRetry
	if rs.DelayBeforeRetry == nil {
		rs.DelayBeforeRetry = vs.DelayBeforeRetry
	}
	rs.Warmup = st.t.warmup
	if rs.Warmup == nil {
		rs.Warmup = vs.Warmup
	}
	// keepalived's one inconsistency: real servers alert by default.
	rs.SMTPAlert = orBool(st.t.smtpAlert, orBool(g.SMTPAlertChecker, orBool(g.SMTPAlert, true)))
	rs.VirtualHost = vs.VirtualHost
	if st.t.virtualhost != nil {
		rs.VirtualHost = *st.t.virtualhost
	}
	for ci, cst := range st.checkers {
		c := &rs.Checkers[ci]
		c.Alpha = orBool(cst.t.alpha, rs.Alpha)
		switch c.Type {
		case conf.CheckBFD:
			if _, ok := p.bfds[c.BFD.Name]; !ok {
				p.errorf(cst.n, "BFD_CHECK: bfd_instance %s not found", c.BFD.Name)
			}
			continue
		case conf.CheckFile:
			w, ok := trackFiles[c.File.TrackFile]
			if !ok {
				p.errorf(cst.n, "FILE_CHECK: track_file %s not found", c.File.TrackFile)
			}
			if c.File.Weight == math.MinInt32 {
				c.File.Weight = w
			}
			continue
		}
		defRetry, defDBR := 1, conf.Duration(time.Second)
		switch c.Type {
		case conf.CheckDNS:
			defRetry, defDBR = 3, 0
		case conf.CheckMisc:
			defRetry = 0
		case conf.CheckHTTP, conf.CheckSSL:
			defDBR = conf.Duration(3 * time.Second)
		}
		if c.Type != conf.CheckMisc {
			c.ConnectTimeout = orDur(cst.t.connectTimeout, rs.ConnectTimeout)
		}
		c.DelayLoop = orDur(cst.t.delayLoop, rs.DelayLoop)
		c.Retry = defRetry
		switch {
		case cst.t.retry != nil:
			c.Retry = *cst.t.retry
		case rs.Retry != nil:
			c.Retry = *rs.Retry
		}
		c.Warmup = orDur(cst.t.warmup, orDur(rs.Warmup, c.DelayLoop))
		if defDBR == 0 {
			defDBR = c.DelayLoop // DNS_CHECK: delay_loop
		}
		c.DelayBeforeRetry = orDur(cst.t.delayBeforeRetry, orDur(rs.DelayBeforeRetry, defDBR))
		if c.HTTP != nil {
			c.HTTP.VirtualHost = rs.VirtualHost
			if cst.t.virtualhost != nil {
				c.HTTP.VirtualHost = *cst.t.virtualhost
			}
		}
		if c.SMTP != nil && c.SMTP.HeloName == "" {
			c.SMTP.HeloName = g.SMTPHeloName
		}
		if c.Misc != nil && c.Misc.Timeout == 0 {
			c.Misc.Timeout = c.DelayLoop
		}
	}
}
