package config

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

var checkerTypes = map[string]bool{
	conf.CheckHTTP: true, conf.CheckSSL: true, conf.CheckTCP: true, conf.CheckSMTP: true,
	conf.CheckDNS: true, conf.CheckMisc: true, conf.CheckBFD: true, conf.CheckPing: true,
	conf.CheckUDP: true, conf.CheckFile: true,
}

// connKeyword parses the connection options shared by the network
// checkers; it reports whether n was one of them.
func (p *parser) connKeyword(n *node, c *conf.Checker) bool {
	switch n.name() {
	case "connect_ip":
		if a, ok := p.addrArg(n, 0); ok {
			c.ConnectIP = a
		}
	case "connect_port":
		if v, ok := p.intArg(n, 0, 1, 65535); ok {
			c.ConnectPort = v
		}
	case "bindto":
		if a, ok := p.addrArg(n, 0); ok {
			c.BindTo = a
		}
	case "bind_if":
		if v, ok := p.ifArg(n, 0); ok {
			c.BindIf = v
		}
	case "bind_port":
		if v, ok := p.intArg(n, 0, 1, 65535); ok {
			c.BindPort = v
		}
	case "fwmark":
		if v, ok := p.intArg(n, 0, 0, math.MaxUint32); ok {
			c.FwMark = uint32(v)
		}
	case "log_all_failures":
		if v, ok := p.boolArg(n, 0); ok {
			c.LogAllFailures = v
		}
	default:
		return false
	}
	return true
}

// parseChecker parses one checker block into rs.
func (p *parser) parseChecker(b *node, rs *conf.RealServer, rst *rsState) {
	typ := b.name()
	p.maxArgs(b, 0)
	c := conf.Checker{Pos: pos(b), Type: typ}
	st := &chkState{n: b}
	network := typ != conf.CheckMisc && typ != conf.CheckBFD && typ != conf.CheckFile
	switch typ {
	case conf.CheckHTTP, conf.CheckSSL:
		c.HTTP = &conf.HTTPCheck{URLs: []conf.URL{}}
	case conf.CheckSMTP:
		c.SMTP = &conf.SMTPCheck{}
	case conf.CheckDNS:
		c.DNS = &conf.DNSCheck{Type: "SOA", Name: "."}
	case conf.CheckMisc:
		c.Misc = &conf.MiscCheck{}
	case conf.CheckBFD:
		c.BFD = &conf.BFDCheck{}
	case conf.CheckUDP:
		c.UDP = &conf.UDPCheck{MaxReplyLength: 255}
	case conf.CheckFile:
		c.File = &conf.FileCheck{}
	}
	var hosts []*node
	weightSet := false
	for _, n := range b.block {
		if n.name() != "url" && n.name() != "host" {
			p.noBlock(n)
		}
		if typ == conf.CheckBFD || typ == conf.CheckFile {
			if n.name() == "alpha" && typ == conf.CheckBFD {
				p.timerKeyword(n, &st.t)
				continue
			}
		} else if network && p.connKeyword(n, &c) {
			continue
		} else if typ == conf.CheckMisc && n.name() == "log_all_failures" {
			p.connKeyword(n, &c)
			continue
		} else if p.timerKeyword(n, &st.t) {
			if n.name() == "inhibit_on_failure" {
				p.warnf(n, "inhibit_on_failure belongs to real_server or virtual_server - ignored in a checker")
			}
			continue
		}
		switch k := n.name(); {
		case c.HTTP != nil && k == "http_protocol":
			switch v := n.arg(0); v {
			case "1.0", "1.0C", "1.1":
				c.HTTP.Protocol = v
			default:
				p.argErrorf(n, 0, "invalid http_protocol '%s': expected 1.0, 1.0C or 1.1", v)
			}
		case c.HTTP != nil && k == "fast_recovery":
			if v, ok := p.boolArg(n, 0); ok {
				c.HTTP.FastRecovery = v
			}
		case c.HTTP != nil && k == "enable_sni":
			c.HTTP.EnableSNI = true
		case c.HTTP != nil && k == "virtualhost":
			if p.needArgs(n, 1, "virtual host") {
				v := n.arg(0)
				st.t.virtualhost = &v
			}
		case c.HTTP != nil && k == "url":
			if p.needBlock(n) {
				if u, ok := p.parseURL(n); ok {
					c.HTTP.URLs = append(c.HTTP.URLs, u)
				}
			}
		case c.SMTP != nil && k == "helo_name":
			if p.needArgs(n, 1, "name") {
				c.SMTP.HeloName = n.arg(0)
			}
		case c.SMTP != nil && k == "host":
			if p.needBlock(n) {
				hosts = append(hosts, n)
			}
		case c.DNS != nil && k == "type":
			switch v := strings.ToUpper(n.arg(0)); v {
			case "A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA":
				c.DNS.Type = v
			default:
				p.argErrorf(n, 0, "unknown DNS query type '%s': expected A, NS, CNAME, SOA, MX, TXT or AAAA", n.arg(0))
			}
		case c.DNS != nil && k == "name":
			if p.needArgs(n, 1, "domain name") {
				c.DNS.Name = n.arg(0)
			}
		case c.Misc != nil && k == "misc_path":
			if s, ok := p.commandScript(n); ok {
				c.Misc.Path.Raw, c.Misc.Path.Argv = s.Raw, s.Argv
			}
		case c.Misc != nil && k == "misc_timeout":
			if v, ok := p.timerArg(n, 0, time.Microsecond, maxSecs*time.Second); ok {
				c.Misc.Timeout = v
			}
		case c.Misc != nil && k == "misc_dynamic":
			c.Misc.Dynamic = true
		case c.Misc != nil && k == "user":
			if p.needArgs(n, 1, "user name") {
				p.maxArgs(n, 2)
				c.Misc.Path.User, c.Misc.Path.Group = n.arg(0), n.arg(1)
			}
		case c.BFD != nil && k == "name":
			if p.needArgs(n, 1, "bfd_instance name") {
				c.BFD.Name = n.arg(0)
			}
		case c.UDP != nil && k == "payload":
			if b, ok := p.hexArgs(n, false); ok {
				c.UDP.Payload = b
			}
		case c.UDP != nil && k == "require_reply":
			c.UDP.RequireReply = true
			if len(n.args) > 0 {
				if pat, ok := p.hexPattern(n); ok {
					c.UDP.ReplyPattern = pat
				}
			}
		case c.UDP != nil && k == "min_reply_length":
			if v, ok := p.intArg(n, 0, 0, 65535); ok {
				c.UDP.MinReplyLength = v
			}
		case c.UDP != nil && k == "max_reply_length":
			if v, ok := p.intArg(n, 0, 0, 65535); ok {
				c.UDP.MaxReplyLength = v
			}
		case c.File != nil && k == "track_file":
			if p.needArgs(n, 1, "track_file name") {
				c.File.TrackFile = n.arg(0)
			}
		case c.File != nil && k == "dynamic":
			c.File.Dynamic = true
		case c.File != nil && k == "weight":
			if w, rev, ok := p.weightArgs(n, 0, -math.MaxInt32, math.MaxInt32); ok {
				c.File.Weight, c.File.WeightReverse, weightSet = w, rev, true
			}
		default:
			p.unknown(n, typ)
		}
	}
	switch {
	case c.Misc != nil && len(c.Misc.Path.Argv) == 0:
		p.errorf(b, "MISC_CHECK has no misc_path - checker removed")
		return
	case c.BFD != nil && c.BFD.Name == "":
		p.errorf(b, "BFD_CHECK has no name - checker removed")
		return
	case c.File != nil && c.File.TrackFile == "":
		p.errorf(b, "FILE_CHECK has no track_file - checker removed")
		return
	case c.HTTP != nil && len(c.HTTP.URLs) == 0:
		p.errorf(b, "%s has no url - checker removed", typ)
		return
	case c.UDP != nil && c.UDP.MinReplyLength > c.UDP.MaxReplyLength:
		p.errorf(b, "min_reply_length %d is greater than max_reply_length %d", c.UDP.MinReplyLength, c.UDP.MaxReplyLength)
		return
	}
	if c.File != nil && !weightSet {
		c.File.Weight = math.MinInt32 // marker: take the track_file's weight in finish
	}
	rst.checkers = append(rst.checkers, st)
	rs.Checkers = append(rs.Checkers, c)
	// Deprecated SMTP host blocks: each is one more SMTP checker with its
	// own connection options.
	for _, h := range hosts {
		hc := c
		hc.Pos = pos(h)
		hc.SMTP = &conf.SMTPCheck{HeloName: c.SMTP.HeloName}
		hst := &chkState{n: h, t: st.t}
		for _, n := range h.block {
			p.noBlock(n)
			if !p.connKeyword(n, &hc) && !p.timerKeyword(n, &hst.t) {
				p.unknown(n, "SMTP_CHECK host")
			}
		}
		rst.checkers = append(rst.checkers, hst)
		rs.Checkers = append(rs.Checkers, hc)
	}
}

// parseURL parses an HTTP_GET/SSL_GET url block.
func (p *parser) parseURL(b *node) (conf.URL, bool) {
	u := conf.URL{}
	for _, n := range b.block {
		p.noBlock(n)
		switch n.name() {
		case "path":
			if p.needArgs(n, 1, "path") {
				u.Path = n.arg(0)
			}
		case "digest":
			if !p.needArgs(n, 1, "digest") {
				continue
			}
			d := strings.ToLower(n.arg(0))
			if _, err := hex.DecodeString(d); err != nil || len(d) != 32 {
				p.argErrorf(n, 0, "invalid digest '%s': expected 32 hexadecimal digits (MD5)", n.arg(0))
				continue
			}
			u.Digest = d
		case "status_code":
			for i := range n.args {
				r, ok := parseStatusRange(n.arg(i))
				if !ok {
					p.argErrorf(n, i, "invalid status code '%s': expected a code or range within 100-599", n.arg(i))
					continue
				}
				u.StatusCodes = append(u.StatusCodes, r)
			}
		case "virtualhost":
			if p.needArgs(n, 1, "virtual host") {
				u.VirtualHost = n.arg(0)
			}
		case "regex":
			if p.needArgs(n, 1, "regular expression") {
				u.Regex = n.arg(0)
			}
		case "regex_no_match":
			u.RegexNoMatch = true
		case "regex_options":
			u.RegexOptions = append(u.RegexOptions, argTexts(n)...)
		case "regex_stack":
			a, ok1 := p.intArg(n, 0, 1, math.MaxInt32)
			b, ok2 := p.intArg(n, 1, 1, math.MaxInt32)
			if ok1 && ok2 {
				u.RegexStack = []int{a, b}
			}
		case "regex_min_offset":
			if v, ok := p.intArg(n, 0, 0, math.MaxInt32); ok {
				u.RegexMinOffset = v
			}
		case "regex_max_offset":
			if v, ok := p.intArg(n, 0, 0, math.MaxInt32); ok {
				u.RegexMaxOffset = v
			}
		default:
			p.unknown(n, "url")
		}
	}
	if u.Path == "" {
		p.errorf(b, "url has no path - url ignored")
		return u, false
	}
	if len(u.StatusCodes) == 0 {
		u.StatusCodes = []conf.StatusRange{{Min: 200, Max: 299}}
	}
	return u, true
}

func parseStatusRange(s string) (conf.StatusRange, bool) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.Atoi(lo)
	if err != nil || a < 100 || a > 599 {
		return conf.StatusRange{}, false
	}
	b := a
	if isRange {
		if b, err = strconv.Atoi(hi); err != nil || b < a || b > 599 {
			return conf.StatusRange{}, false
		}
	}
	return conf.StatusRange{Min: a, Max: b}, true
}

// hexNibbles turns a free-format HEX_STR (the man page's "Ab12f 3 456")
// into pairs of nibbles: each word is split into pairs from the left, a
// final odd digit standing alone as 0X.
func hexNibbles(words []string, allowX bool) (string, bool) {
	var out strings.Builder
	for _, w := range words {
		for _, c := range w {
			isHex := strings.ContainsRune("0123456789abcdefABCDEF", c)
			if !isHex && !(allowX && (c == 'x' || c == 'X')) {
				return "", false
			}
		}
		w = strings.ToLower(w)
		for len(w) >= 2 {
			out.WriteString(w[:2])
			w = w[2:]
		}
		if len(w) == 1 {
			out.WriteString("0" + w)
		}
	}
	return out.String(), out.Len() > 0
}

func (p *parser) hexArgs(n *node, allowX bool) ([]byte, bool) {
	s, ok := hexNibbles(argTexts(n), allowX)
	if !ok {
		p.argErrorf(n, 0, "invalid hex string '%s'", joinArgs(n, 0))
		return nil, false
	}
	b, _ := hex.DecodeString(s)
	return b, true
}

func (p *parser) hexPattern(n *node) (string, bool) {
	s, ok := hexNibbles(argTexts(n), true)
	if !ok {
		p.argErrorf(n, 0, "invalid hex string '%s'", joinArgs(n, 0))
		return "", false
	}
	return s, true
}
