package config

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/vigil-ha/vigil/events/conf"
)

// addrKind says which list an address line belongs to: the options
// allowed differ slightly.
type addrKind int

const (
	addrStatic addrKind = iota
	addrVIP
	addrEVIP
)

// tokens returns a statement's keyword and arguments as one list: address,
// route and rule lines have no keyword of their own.
func tokens(n *node) []string {
	out := make([]string, 0, len(n.args)+1)
	out = append(out, n.kw.Text)
	return append(out, argTexts(n)...)
}

// tokCol returns the column of token i of tokens(n).
func tokCol(n *node, i int) int {
	if i == 0 {
		return n.kw.Col
	}
	return argCol(n, i-1)
}

func (p *parser) tokErrorf(n *node, i int, isErr bool, format string, args ...any) {
	p.report(n, tokCol(n, i), isErr, format, args...)
}

// parseAddress parses `ADDR[/LEN] [brd ADDR|+|-] [dev IF] [use_vmac]
// [scope S] [label L] [peer ADDR[/LEN]] [home] [-nodad] [mngtmpaddr]
// [noprefixroute] [autojoin] [no_track] [preferred_lft N|forever]
// [track_group G]`. An address that cannot be parsed is an error for VIPs
// (an instance silently missing a VIP breaks failover) and a warning,
// skipping the line, for static addresses, as keepalived does.
func (p *parser) parseAddress(n *node, kind addrKind) (conf.Address, bool) {
	p.noBlock(n)
	t := tokens(n)
	var a conf.Address
	pfx, err := parsePrefix(t[0])
	if err != nil {
		p.tokErrorf(n, 0, kind != addrStatic, "invalid IP address '%s' - address skipped", t[0])
		return a, false
	}
	a.Prefix = pfx
	brd := ""
	brdIdx := 0
	dad := false
	for i := 1; i < len(t); i++ {
		k := t[i]
		val := func() (string, bool) {
			if i+1 >= len(t) {
				p.tokErrorf(n, i, true, "'%s' needs a value", k)
				return "", false
			}
			i++
			return t[i], true
		}
		switch k {
		case "brd", "broadcast":
			if v, ok := val(); ok {
				brd, brdIdx = v, i
			}
		case "dev":
			if v, ok := val(); ok {
				if !validIfName(v) {
					p.tokErrorf(n, i, true, "invalid interface name '%s'", v)
					return a, false
				}
				a.Dev = v
			}
		case "use_vmac":
			if kind == addrStatic {
				p.tokErrorf(n, i, false, "use_vmac is only valid for virtual addresses - ignored")
			} else {
				a.UseVMAC = true
			}
		case "scope":
			if v, ok := val(); ok {
				switch v {
				case "site", "link", "host", "nowhere", "global":
					a.Scope = v
				default:
					if _, err := strconv.ParseUint(v, 10, 8); err != nil {
						p.tokErrorf(n, i, true, "invalid scope '%s': expected site, link, host, nowhere or global", v)
						return a, false
					}
					a.Scope = v
				}
			}
		case "label":
			if v, ok := val(); ok {
				a.Label = v
			}
		case "peer":
			if v, ok := val(); ok {
				pp, err := parsePrefix(v)
				if err != nil || pp.Addr().Is4() != pfx.Addr().Is4() {
					p.tokErrorf(n, i, true, "invalid peer address '%s'", v)
					return a, false
				}
				a.Peer = pp
			}
		case "home":
			a.Home = true
		case "-nodad":
			// keepalived adds IPv6 addresses with IFA_F_NODAD unless
			// -nodad is written: it keeps duplicate address detection.
			dad = true
		case "nodad":
			p.tokErrorf(n, i, false, "unknown configuration entry 'nodad' for ip address - ignored (IPv6 addresses get nodad unless -nodad is written)")
		case "mngtmpaddr":
			a.MngTmpAddr = true
		case "noprefixroute":
			a.NoPrefixRoute = true
		case "autojoin":
			a.AutoJoin = true
		case "no_track":
			a.NoTrack = true
		case "preferred_lft":
			if v, ok := val(); ok {
				var lft int64 = -1
				if v != "forever" {
					x, err := strconv.ParseUint(v, 10, 32)
					if err != nil {
						p.tokErrorf(n, i, true, "invalid preferred_lft '%s': expected seconds or forever", v)
						return a, false
					}
					lft = int64(x)
				}
				a.PreferredLft = &lft
			}
		case "track_group":
			if v, ok := val(); ok {
				if kind != addrStatic {
					p.tokErrorf(n, i, false, "track_group only applies to static addresses - ignored")
				} else {
					a.TrackGroup = v
				}
			}
		default:
			p.tokErrorf(n, i, true, "unknown address option '%s'", k)
			return a, false
		}
	}
	a.NoDAD = pfx.Addr().Is6() && !pfx.Addr().Is4In6() && !dad
	if brd != "" {
		switch brd {
		case "+", "-":
			a.Broadcast = hostBits(pfx, brd == "+")
		default:
			b, err := parseAddr(brd)
			if err != nil || b.Is4() != pfx.Addr().Is4() {
				p.tokErrorf(n, brdIdx, true, "invalid broadcast address '%s'", brd)
				return a, false
			}
			a.Broadcast = b
		}
	}
	return a, true
}

// hostBits returns the prefix's address with its host bits all set (or
// all cleared).
func hostBits(pfx netip.Prefix, set bool) netip.Addr {
	b := pfx.Addr().AsSlice()
	for i := pfx.Bits(); i < len(b)*8; i++ {
		if set {
			b[i/8] |= 0x80 >> (i % 8)
		} else {
			b[i/8] &^= 0x80 >> (i % 8)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// routeTypes are the route types of `ip route`.
var routeTypes = map[string]bool{
	"unicast": true, "local": true, "broadcast": true, "multicast": true, "throw": true,
	"unreachable": true, "prohibit": true, "blackhole": true, "nat": true, "anycast": true,
}

// routeOpts are the `ip route` options vigil keeps verbatim in Route.Other;
// lockable ones accept a `lock` before the value.
var routeOpts = map[string]bool{
	"tos": false, "dsfield": false, "mtu": true, "advmss": true, "rtt": true, "rttvar": true,
	"reordering": true, "window": true, "cwnd": true, "ssthresh": true, "realms": false,
	"rto_min": true, "initcwnd": true, "initrwnd": true, "features": false, "quickack": false,
	"congctl": true, "pref": false, "fastopen_no_cookie": false, "hoplimit": true, "vrf": false,
	"expires": false,
}

// tableNum resolves the table names iproute2 predefines.
func tableNum(s string) (int, string, bool) {
	switch s {
	case "main":
		return 254, "", true
	case "local":
		return 255, "", true
	case "default":
		return 253, "", true
	case "unspec":
		return 0, "", true
	}
	if v, err := strconv.ParseUint(s, 10, 32); err == nil {
		return int(v), "", true
	}
	if s == "" || strings.ContainsAny(s, "/ ") {
		return 0, "", false
	}
	return 0, s, true // a name from rt_tables, resolved at run time
}

// parseRoute parses one virtual_routes / static_routes line with the
// syntax of `ip route add`. Lines keepalived would skip (bad addresses)
// are skipped with a warning.
func (p *parser) parseRoute(n *node, static bool) (conf.Route, bool) {
	p.noBlock(n)
	t := tokens(n)
	var r conf.Route
	fam := 0
	dstSet := false
	bad := func(i int, format string, args ...any) (conf.Route, bool) {
		p.tokErrorf(n, i, false, format+" - route skipped", args...)
		return r, false
	}
	for i := 0; i < len(t); i++ {
		k := t[i]
		val := func() (string, bool) {
			if i+1 >= len(t) {
				return "", false
			}
			i++
			return t[i], true
		}
		switch {
		case i == 0 && routeTypes[k]:
			r.Type = k
		case k == "src":
			v, ok := val()
			a, err := parseAddr(v)
			if !ok || err != nil {
				return bad(i, "invalid src address '%s'", v)
			}
			r.Src = a
		case k == "to":
			v, ok := val()
			if !ok {
				return bad(i, "'to' needs a destination")
			}
			d, ok := p.routeDst(v)
			if !ok {
				return bad(i, "invalid destination '%s'", v)
			}
			r.Dst, dstSet = d, true
		case k == "via" || k == "gw" || k == "or":
			if k == "gw" {
				p.tokErrorf(n, i, false, `"gw" for routes is deprecated - use "via"`)
			}
			if k == "or" {
				p.tokErrorf(n, i, false, `"or" for routes is deprecated - use "nexthop"`)
			}
			v, ok := val()
			if v == "inet" || v == "inet6" {
				v, ok = val()
			}
			a, err := parseAddr(v)
			if !ok || err != nil {
				return bad(i, "invalid gateway address '%s'", v)
			}
			if k == "or" {
				r.Or = a
			} else {
				r.Via = a
			}
		case k == "dev" || k == "oif":
			v, ok := val()
			if !ok || !validIfName(v) {
				return bad(i, "invalid interface name '%s'", v)
			}
			r.Dev = v
		case k == "scope":
			v, ok := val()
			if !ok {
				return bad(i, "scope needs a value")
			}
			r.Scope = v
		case k == "table":
			v, _ := val()
			num, name, ok := tableNum(v)
			if !ok {
				return bad(i, "invalid table '%s'", v)
			}
			r.Table, r.TableName = num, name
		case k == "metric" || k == "priority" || k == "preference":
			v, _ := val()
			x, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return bad(i, "invalid metric '%s'", v)
			}
			r.Metric = int(x)
		case k == "protocol" || k == "proto":
			v, ok := val()
			if !ok {
				return bad(i, "protocol needs a value")
			}
			r.Protocol = v
		case k == "nexthop":
			nh, next, ok := p.nexthop(n, t, i+1)
			if !ok {
				return r, false
			}
			r.Nexthops = append(r.Nexthops, nh)
			i = next - 1
		case k == "onlink":
			r.OnLink = true
		case k == "inet":
			fam = 4
		case k == "inet6":
			fam = 6
		case k == "append":
			r.Append = true
		case k == "no_track":
			r.NoTrack = true
		case k == "track_group":
			v, ok := val()
			if !ok {
				return bad(i, "track_group needs a name")
			}
			if !static {
				p.tokErrorf(n, i, false, "track_group only applies to static routes - ignored")
			} else {
				r.TrackGroup = v
			}
		default:
			if lockable, known := routeOpts[k]; known {
				v, ok := val()
				if ok && lockable && v == "lock" {
					var w string
					w, ok = val()
					v += " " + w
				}
				if !ok {
					return bad(i, "'%s' needs a value", k)
				}
				r.Other = append(r.Other, conf.KeyValue{Key: k, Value: v})
				continue
			}
			if dstSet {
				p.tokErrorf(n, i, true, "unknown route option '%s'", k)
				return r, false
			}
			d, ok := p.routeDst(k)
			if !ok {
				return bad(i, "invalid destination '%s'", k)
			}
			r.Dst, dstSet = d, true
		}
	}
	if !dstSet {
		p.tokErrorf(n, 0, true, "route has no destination")
		return r, false
	}
	if !r.Dst.IsValid() { // "default": family from the gateway or inet6
		if fam == 0 && r.Via.IsValid() {
			fam = family(r.Via)
		}
		if fam == 6 {
			r.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		} else {
			r.Dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
	}
	r.Family = family(r.Dst.Addr())
	for _, a := range []netip.Addr{r.Via, r.Src, r.Or} {
		if a.IsValid() && family(a) != r.Family {
			p.tokErrorf(n, 0, true, "route mixes IPv4 and IPv6 addresses")
			return r, false
		}
	}
	return r, true
}

func (p *parser) routeDst(s string) (netip.Prefix, bool) {
	if s == "default" || s == "all" {
		return netip.Prefix{}, true
	}
	d, err := parsePrefix(s)
	if err != nil {
		return d, false
	}
	return d, true
}

// nexthop parses the options after `nexthop` from token i, returning the
// index of the first token that is not one of them.
func (p *parser) nexthop(n *node, t []string, i int) (conf.Nexthop, int, bool) {
	var nh conf.Nexthop
	for i < len(t) {
		switch t[i] {
		case "via":
			if i+1 >= len(t) {
				p.tokErrorf(n, i, false, "nexthop via needs an address - route skipped")
				return nh, i, false
			}
			v := t[i+1]
			if (v == "inet" || v == "inet6") && i+2 < len(t) {
				i++
				v = t[i+1]
			}
			a, err := parseAddr(v)
			if err != nil {
				p.tokErrorf(n, i+1, false, "invalid nexthop address '%s' - route skipped", v)
				return nh, i, false
			}
			nh.Via = a
			i += 2
		case "dev":
			if i+1 >= len(t) || !validIfName(t[i+1]) {
				p.tokErrorf(n, i, false, "nexthop dev needs an interface name - route skipped")
				return nh, i, false
			}
			nh.Dev = t[i+1]
			i += 2
		case "weight":
			if i+1 >= len(t) {
				p.tokErrorf(n, i, false, "nexthop weight needs a value - route skipped")
				return nh, i, false
			}
			w, err := strconv.Atoi(t[i+1])
			if err != nil || w < 1 || w > 256 {
				p.tokErrorf(n, i+1, false, "invalid nexthop weight '%s' (1-256) - route skipped", t[i+1])
				return nh, i, false
			}
			nh.Weight = w
			i += 2
		case "onlink":
			nh.OnLink = true
			i++
		default:
			return nh, i, true
		}
	}
	return nh, i, true
}

// parseRule parses one virtual_rules / static_rules line with the syntax
// of `ip rule add`.
func (p *parser) parseRule(n *node, static bool) (conf.Rule, bool) {
	p.noBlock(n)
	t := tokens(n)
	var r conf.Rule
	bad := func(i int, format string, args ...any) (conf.Rule, bool) {
		p.tokErrorf(n, i, false, format+" - rule skipped", args...)
		return r, false
	}
	fam := 0
	for i := 0; i < len(t); i++ {
		k := t[i]
		val := func() (string, bool) {
			if i+1 >= len(t) {
				return "", false
			}
			i++
			return t[i], true
		}
		switch k {
		case "from", "to":
			v, ok := val()
			if !ok {
				return bad(i, "'%s' needs an address", k)
			}
			var pf netip.Prefix
			if v != "all" {
				x, err := parsePrefix(v)
				if err != nil {
					return bad(i, "invalid rule %s address '%s'", k, v)
				}
				pf = x
			}
			if k == "from" {
				r.From = pf
			} else {
				r.To = pf
			}
		case "table", "lookup":
			v, _ := val()
			num, name, ok := tableNum(v)
			if !ok {
				return bad(i, "invalid table '%s'", v)
			}
			r.Table, r.TableName = num, name
		case "priority", "preference", "pref":
			v, _ := val()
			x, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return bad(i, "invalid preference '%s'", v)
			}
			r.Priority, r.PrioritySet = int(x), true
		case "fwmark":
			v, ok := val()
			if !ok {
				return bad(i, "fwmark needs a value")
			}
			r.FwMark = v
		case "iif", "dev":
			v, ok := val()
			if !ok {
				return bad(i, "iif needs an interface")
			}
			r.IIf = v
		case "oif":
			v, ok := val()
			if !ok {
				return bad(i, "oif needs an interface")
			}
			r.OIf = v
		case "goto":
			v, _ := val()
			x, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return bad(i, "invalid goto target '%s'", v)
			}
			r.Action, r.Goto = "goto", int(x)
		case "blackhole", "prohibit", "unreachable", "nop":
			r.Action = k
		case "not":
			r.Not = true
		case "no_track":
			r.NoTrack = true
		case "inet":
			fam = 4
		case "inet6":
			fam = 6
		case "track_group":
			v, ok := val()
			if !ok {
				return bad(i, "track_group needs a name")
			}
			if !static {
				p.tokErrorf(n, i, false, "track_group only applies to static rules - ignored")
			} else {
				r.TrackGroup = v
			}
		case "tos", "dsfield", "realms", "uidrange", "ip_proto", "ipproto", "sport", "dport",
			"suppress_prefixlength", "suppress_ifgroup", "protocol", "type":
			v, ok := val()
			if !ok {
				return bad(i, "'%s' needs a value", k)
			}
			r.Other = append(r.Other, conf.KeyValue{Key: k, Value: v})
		case "l3mdev":
			r.Other = append(r.Other, conf.KeyValue{Key: k})
		default:
			p.tokErrorf(n, i, true, "unknown rule option '%s'", k)
			return r, false
		}
	}
	switch {
	case r.From.IsValid():
		r.Family = family(r.From.Addr())
	case r.To.IsValid():
		r.Family = family(r.To.Addr())
	case fam != 0:
		r.Family = fam
	default:
		r.Family = 4
	}
	if r.From.IsValid() && r.To.IsValid() && r.From.Addr().Is4() != r.To.Addr().Is4() {
		return bad(0, "rule mixes IPv4 and IPv6 addresses")
	}
	if !r.PrioritySet {
		p.tokErrorf(n, 0, false, "rule has no preference - keepalived assigns one, which is probably not what you want")
	}
	return r, true
}
