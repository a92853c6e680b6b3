package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events/conf"
	"github.com/vigil-ha/vigil/internal/rtnames"
)

// Routes and rules are read as keepalived reads them (vrrp_iproute.c and
// vrrp_iprule.c), and every option is resolved here, at load: names from
// iproute2's files become numbers, times become kernel units. What the
// model carries can therefore always be applied, and the journal replays
// on any machine.
//
// Severity: a name that cannot be resolved (table, realms, tos,
// protocol, scope, VRF) is an error, as in `keepalived -t`; a value
// keepalived cannot read makes it skip the line, which vigil reports as
// a warning ending in "- route skipped" / "- rule skipped".

// ErrNotVRF is returned (wrapped) by an Options.VRFTable resolver for an
// interface that exists but is not a VRF.
var ErrNotVRF = errors.New("not a VRF")

// names returns the resolver of iproute2 names for this load.
func (p *parser) names() *rtnames.Files {
	if p.rtn == nil {
		p.rtn = &rtnames.Files{
			Etc: p.opts.IPRoute2Dir, Usr: p.opts.IPRoute2UsrDir, Protocols: p.opts.ProtocolsFile,
			ReadFile: p.opts.ReadFile, Glob: p.opts.Glob,
		}
	}
	return p.rtn
}

// tableOf resolves a routing table name or number.
func (p *parser) tableOf(s string) (num int, name string, ok bool) {
	v, ok := p.names().Table(s)
	if !ok {
		return 0, "", false
	}
	if _, isNum := rtnames.ParseCUint(s, ^uint64(0)); !isNum {
		name = s
	}
	return int(v), name, true
}

// canonName returns how the model keeps a resolved scope or protocol: the
// name when every system resolves it to the same number (the executor
// knows it), else the number.
func canonName(s string, v uint8, builtin func(string) (uint8, bool)) string {
	if b, ok := builtin(s); ok && b == v {
		return s
	}
	return strconv.Itoa(int(v))
}

// decUint parses a decimal number up to max, as keepalived's get_u32.
func decUint(s string, max uint64) (uint64, bool) {
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil && v <= max
}

// Keepalived's limits for rtt, rttvar and rto_min, in milliseconds.
const (
	rttMinMS = 200
	rttMaxMS = 120000
)

// rttValue reads an rtt, rttvar or rto_min value as keepalived's
// get_time_rtt: a raw number in kernel units (1/unit ms), or a time with
// a unit (s, sec, secs, ms, msec, msecs; up to three decimals for
// seconds). Values outside 200 ms to 120 s are clamped, with a note.
func rttValue(s string, unit uint64) (v uint64, note string, ok bool) {
	num, raw, shift := s, true, 0
	if i := strings.IndexAny(s, "sS"); i >= 0 {
		switch strings.ToLower(s[i:]) {
		case "s", "sec", "secs":
		default:
			return 0, "", false
		}
		raw, num, shift = false, s[:i], 3
		if strings.HasSuffix(strings.ToLower(num), "m") {
			num, shift = num[:len(num)-1], 0
		}
	}
	if num == "" || strings.ContainsAny(num, "eE-+") {
		return 0, "", false
	}
	whole, frac, hasDot := strings.Cut(num, ".")
	if hasDot && len(frac) > shift {
		return 0, "", false
	}
	digits := whole + frac + strings.Repeat("0", shift-len(frac))
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || v > rttMaxMS*unit {
		return 0, "", false
	}
	if !raw {
		v *= unit
	}
	switch {
	case v > rttMaxMS*unit:
		return rttMaxMS * unit, fmt.Sprintf("value %s exceeds maximum %ds, resetting", s, rttMaxMS/1000), true
	case v < rttMinMS*unit:
		return rttMinMS * unit, fmt.Sprintf("value %s below minimum %dms, resetting", s, rttMinMS), true
	}
	return v, "", true
}

// routeMetricMax are the numeric RTA_METRICS keywords with the largest
// value each takes; rtt, rttvar and rto_min are times (rttUnits),
// features and congctl words.
var routeMetricMax = map[string]uint64{
	"mtu": 0xFFFFFFFF, "advmss": 0xFFFFFFFF, "reordering": 0xFFFFFFFF, "window": 0xFFFFFFFF,
	"cwnd": 0xFFFFFFFF, "ssthresh": 0xFFFFFFFF, "initcwnd": 0xFFFFFFFF, "initrwnd": 0xFFFFFFFF,
	"hoplimit": 255, "quickack": 1, "fastopen_no_cookie": 1,
}

// rttUnits are the kernel units of the time metrics, per millisecond.
var rttUnits = map[string]uint64{"rtt": 8, "rttvar": 4, "rto_min": 1}

// routeLockable are the metrics `lock` may precede (those of ip-route(8)).
var routeLockable = map[string]bool{
	"mtu": true, "hoplimit": true, "advmss": true, "reordering": true, "rtt": true, "rttvar": true,
	"window": true, "cwnd": true, "ssthresh": true, "initcwnd": true, "initrwnd": true, "rto_min": true,
}

// routeNotImplemented are the route keywords keepalived reads and vigil
// does not: a line using one is skipped, with a warning.
var routeNotImplemented = map[string]string{
	"encap":         "lightweight tunnel encapsulation",
	"ttl-propagate": "MPLS TTL propagation",
	"as":            "MPLS label swap",
}

// Router preferences (RTA_PREF).
var routePrefs = map[string]int{"low": 3, "medium": 0, "high": 1}

// rtaxFeatureECN is RTAX_FEATURE_ECN.
const rtaxFeatureECN = 1

// parseRoute parses one virtual_routes / static_routes line with the
// syntax of `ip route add`, as keepalived does.
func (p *parser) parseRoute(n *node, static bool) (conf.Route, bool) {
	p.noBlock(n)
	t := tokens(n)
	var r conf.Route
	fam := 0
	dstSet := false
	protoSet := false
	var v4only, v6only string // the first option limited to one family
	bad := func(i int, format string, args ...any) (conf.Route, bool) {
		p.tokErrorf(n, i, false, format+" - route skipped", args...)
		return r, false
	}
	fail := func(i int, format string, args ...any) (conf.Route, bool) {
		p.tokErrorf(n, i, true, format, args...)
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
		// lockVal reads "[lock] VALUE".
		lockVal := func() (string, bool, bool) {
			v, ok := val()
			if ok && v == "lock" {
				v, ok = val()
				return v, true, ok
			}
			return v, false, ok
		}
		switch {
		case i == 0 && rtnames.IsRouteTypeName(k):
			r.Type = k
		case k == "src":
			v, ok := val()
			a, err := parseAddr(v)
			if !ok || err != nil {
				return bad(i, "invalid src address '%s'", v)
			}
			r.Src = a
		case k == "from":
			v, ok := val()
			pf, err := parsePrefix(v)
			if !ok || err != nil {
				return bad(i, "invalid route from address '%s'", v)
			}
			if !pf.Addr().Is6() {
				return bad(i, "route from address only supported with IPv6 (%s)", v)
			}
			r.From = pf
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
			v, _ := val()
			s, ok := p.names().Scope(v)
			if !ok {
				return fail(i, "Scope %s not found or invalid for route", v)
			}
			r.Scope = canonName(v, s, rtnames.BuiltinScope)
		case k == "table":
			v, _ := val()
			num, name, ok := p.tableOf(v)
			if !ok {
				return fail(i, "Routing table %s not found for route", v)
			}
			r.Table, r.TableName, r.VRF = num, name, ""
		case k == "vrf":
			v, ok := val()
			if !ok || !validIfName(v) {
				return bad(i, "invalid VRF name '%s'", v)
			}
			r.VRF, r.Table, r.TableName = v, 0, ""
		case k == "metric" || k == "priority" || k == "preference":
			v, _ := val()
			x, ok := decUint(v, 0xFFFFFFFF)
			if !ok {
				return bad(i, "invalid metric '%s'", v)
			}
			r.Metric = int(x)
		case k == "protocol" || k == "proto":
			v, _ := val()
			pr, ok := p.names().Protocol(v)
			if !ok {
				return fail(i, "Protocol %s not found or invalid for route", v)
			}
			r.Protocol, protoSet = canonName(v, pr, rtnames.BuiltinProtocol), true
		case k == "tos" || k == "dsfield":
			v, _ := val()
			tos, ok := p.names().DSField(v)
			if !ok {
				return fail(i, "TOS value %s is invalid", v)
			}
			r.Tos = int(tos)
		case k == "realms":
			v, _ := val()
			rl, ok := p.names().Realms(v)
			if !ok {
				return fail(i, "Invalid realms %s for route", v)
			}
			r.Realms = rl
			if v4only == "" {
				v4only = "realms"
			}
		case k == "nexthop":
			nh, next, ok := p.nexthop(n, t, i+1)
			if !ok {
				return r, false
			}
			if nh.Realms != 0 && v4only == "" {
				v4only = "realms"
			}
			r.Nexthops = append(r.Nexthops, nh)
			i = next - 1
		case k == "onlink":
			r.OnLink = true
		case k == "inet":
			fam = 4
		case k == "inet6":
			fam = 6
		case k == "add":
			r.Add, r.Append = true, false
		case k == "prepend":
			r.Add, r.Append = false, false
		case k == "append":
			r.Add, r.Append = false, true
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
		case k == "expires":
			v, _ := val()
			x, ok := decUint(v, 0xFFFFFFFF)
			if !ok {
				return bad(i, "invalid expires time '%s'", v)
			}
			e := int(x)
			r.Expires = &e
			if v6only == "" {
				v6only = "expires"
			}
		case k == "pref":
			v, _ := val()
			pv, ok := routePrefs[v]
			if !ok {
				x, okNum := decUint(v, 255)
				if !okNum {
					return bad(i, "invalid pref value '%s'", v)
				}
				pv = int(x)
			}
			r.Pref = &pv
			if v6only == "" {
				v6only = "pref"
			}
		case k == "features":
			v, _ := val()
			if v != "ecn" {
				p.tokErrorf(n, i, false, "feature %s not supported - ignored", v)
				continue
			}
			r.Metrics = setMetric(r.Metrics, conf.RouteMetric{Name: "features", Value: rtaxFeatureECN})
		case k == "congctl":
			v, lock, ok := lockVal()
			if !ok || v == "" {
				return bad(i, "congctl needs an algorithm")
			}
			r.Congctl, r.CongctlLock = v, lock
		case routeMetricMax[k] != 0 || rttUnits[k] != 0: // mtu, rtt, ...
			at := i
			v, lock, ok := lockVal()
			if !ok {
				return bad(i, "'%s' needs a value", k)
			}
			if lock && !routeLockable[k] {
				return bad(i, "'%s' cannot be locked", k)
			}
			var x uint64
			if unit := rttUnits[k]; unit != 0 {
				var note string
				x, note, ok = rttValue(v, unit)
				if ok && note != "" {
					p.tokErrorf(n, at, false, "%s %s", k, note)
				}
			} else {
				x, ok = decUint(v, routeMetricMax[k])
			}
			if !ok {
				return bad(i, "invalid %s value '%s'", k, v)
			}
			r.Metrics = setMetric(r.Metrics, conf.RouteMetric{Name: k, Value: uint32(x), Lock: lock})
		case routeNotImplemented[k] != "":
			return bad(i, "'%s' (%s) is not implemented by vigil", k, routeNotImplemented[k])
		default:
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
	if !r.Dst.IsValid() { // "default": family from the gateway, or inet6, or an IPv6-only option
		switch {
		case fam != 0:
		case r.Via.IsValid():
			fam = family(r.Via)
		case len(r.Nexthops) > 0 && r.Nexthops[0].Via.IsValid():
			fam = family(r.Nexthops[0].Via)
		case r.From.IsValid() || v6only != "":
			fam = 6
		}
		if fam == 6 {
			r.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		} else {
			r.Dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
	}
	r.Family = family(r.Dst.Addr())
	if fam != 0 && fam != r.Family {
		return bad(0, "inet%s specified for IPv%d route", map[int]string{4: "", 6: "6"}[fam], r.Family)
	}
	mixed := []netip.Addr{r.Via, r.Src, r.Or, r.From.Addr()}
	for _, nh := range r.Nexthops {
		mixed = append(mixed, nh.Via)
	}
	for _, a := range mixed {
		if a.IsValid() && family(a) != r.Family {
			p.tokErrorf(n, 0, true, "route mixes IPv4 and IPv6 addresses")
			return r, false
		}
	}
	if r.Or.IsValid() && len(r.Nexthops) > 0 {
		return bad(0, `Cannot specify nexthops with "or" route`)
	}
	if r.Family == 4 && v6only != "" {
		return bad(0, "%s is only valid for IPv6", v6only)
	}
	if r.Family == 6 && v4only != "" {
		return bad(0, "%s are only valid for IPv4", v4only)
	}
	// keepalived tracks a route with an interface (unless no_track) by
	// its protocol, which it forces to its own.
	if !r.NoTrack && r.Dev != "" {
		if protoSet {
			if pr, _ := p.names().Protocol(r.Protocol); pr != rtnames.RTProtKeepalived {
				p.tokErrorf(n, 0, false, "Route cannot be tracked if protocol is not RTPROT_KEEPALIVED(%d), resetting protocol", rtnames.RTProtKeepalived)
			}
		}
		r.Protocol = ""
	}
	// keepalived cannot track a route without an interface: it says so
	// (keepalived -t fails on it) and does not track it. (A route with
	// nexthops was seen not to be reported.)
	if !r.NoTrack && r.Dev == "" && len(r.Nexthops) == 0 {
		p.tokErrorf(n, 0, false, "Warning - cannot track route %s with no interface specified, not tracking", r.Dst)
	}
	if r.VRF != "" && p.opts.VRFTable != nil {
		tb, err := p.opts.VRFTable(r.VRF)
		switch {
		case errors.Is(err, ErrNotVRF):
			p.tokErrorf(n, 0, true, "Route specified VRF %s is not a VRF", r.VRF)
			return r, false
		case err != nil:
			p.tokErrorf(n, 0, true, "VRF %s not found for route", r.VRF)
			return r, false
		}
		r.Table = tb
	}
	return r, true
}

// setMetric sets a metric, replacing an earlier value of the same one.
func setMetric(ms []conf.RouteMetric, m conf.RouteMetric) []conf.RouteMetric {
	for i := range ms {
		if ms[i].Name == m.Name {
			ms[i] = m
			return ms
		}
	}
	return append(ms, m)
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
		case "realms":
			v := ""
			if i+1 < len(t) {
				v = t[i+1]
			}
			rl, ok := p.names().Realms(v)
			if !ok {
				p.tokErrorf(n, i, true, "Invalid realms %s for route", v)
				return nh, i, false
			}
			nh.Realms = rl
			i += 2
		default:
			return nh, i, true
		}
	}
	return nh, i, true
}

// ruleActions are the rule actions a route type names (`type X` or X),
// by the type's number.
var ruleActions = map[uint8]string{unix.RTN_BLACKHOLE: "blackhole", unix.RTN_UNREACHABLE: "unreachable", unix.RTN_PROHIBIT: "prohibit"}

// parseRule parses one virtual_rules / static_rules line with the syntax
// of `ip rule add`, as keepalived does.
func (p *parser) parseRule(n *node, static bool) (conf.Rule, bool) {
	p.noBlock(n)
	t := tokens(n)
	var r conf.Rule
	bad := func(i int, format string, args ...any) (conf.Rule, bool) {
		p.tokErrorf(n, i, false, format+" - rule skipped", args...)
		return r, false
	}
	fail := func(i int, format string, args ...any) (conf.Rule, bool) {
		p.tokErrorf(n, i, true, format, args...)
		return r, false
	}
	const oneAction = "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule"
	hasAction := false
	tableOption := "" // an option valid only with a table lookup
	protoSet := false
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
			num, name, ok := p.tableOf(v)
			if !ok {
				return fail(i, "Routing table %s not found for rule", v)
			}
			if num == 0 {
				return bad(i, "Table 0 is not valid")
			}
			if hasAction {
				return bad(i, oneAction)
			}
			r.Table, r.TableName, hasAction = num, name, true
		case "priority", "preference", "pref", "order":
			v, _ := val()
			x, ok := rtnames.ParseCUint(v, 0xFFFFFFFF)
			if !ok {
				return bad(i, "invalid preference '%s'", v)
			}
			r.Priority, r.PrioritySet = int(x), true
		case "tos", "dsfield":
			v, _ := val()
			tos, ok := p.names().DSField(v)
			if !ok {
				return fail(i, "TOS value %s is invalid", v)
			}
			r.Tos = int(tos)
		case "fwmark":
			v, ok := val()
			if !ok || !validFwMark(v) {
				return bad(i, "invalid rule fwmark '%s'", v)
			}
			r.FwMark = v
		case "realms":
			v, _ := val()
			rl, ok := p.names().Realms(v)
			if !ok {
				return fail(i, "invalid realms %s for rule", v)
			}
			r.Realms, tableOption = rl, k
			if fam == 6 {
				return bad(i, "realms is only valid for IPv4")
			}
			fam = 4
		case "suppress_prefixlength", "sup_pl":
			v, _ := val()
			x, ok := decUint(v, 0x7FFFFFFF)
			if !ok {
				return bad(i, "invalid suppress_prefixlength '%s'", v)
			}
			sp := int(x)
			r.SuppressPrefixLength, tableOption = &sp, k
		case "suppress_ifgroup", "sup_group":
			v, _ := val()
			g, ok := p.names().Group(v)
			if !ok {
				return fail(i, "suppress_group %s is invalid", v)
			}
			sg := int(g)
			r.SuppressIfGroup, tableOption = &sg, k
		case "iif", "dev":
			v, ok := val()
			if !ok || !validIfName(v) {
				return bad(i, "invalid interface name '%s'", v)
			}
			r.IIf = v
		case "oif":
			v, ok := val()
			if !ok || !validIfName(v) {
				return bad(i, "invalid interface name '%s'", v)
			}
			r.OIf = v
		case "tunnel-id":
			v, _ := val()
			x, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return bad(i, "invalid tunnel-id '%s'", v)
			}
			r.TunnelID = x
		case "uidrange":
			v, _ := val()
			lo, hi, ok := parseNumRange(v, 0xFFFFFFFF, false)
			if !ok {
				return bad(i, "invalid uidrange '%s'", v)
			}
			r.UIDRange = &conf.Range{Start: lo, End: hi}
		case "sport", "dport":
			v, _ := val()
			lo, hi, ok := parseNumRange(v, 0xFFFF, true)
			if !ok {
				return bad(i, "invalid %s range '%s'", k, v)
			}
			if k == "sport" {
				r.SPort = &conf.Range{Start: lo, End: hi}
			} else {
				r.DPort = &conf.Range{Start: lo, End: hi}
			}
		case "ipproto", "ip_proto":
			v, _ := val()
			pr, ok := p.names().IPProto(v)
			if !ok {
				return bad(i, "invalid ipproto '%s'", v)
			}
			r.IPProto = int(pr)
		case "protocol":
			v, _ := val()
			pr, ok := p.names().Protocol(v)
			if !ok {
				return fail(i, "Protocol %s not found or invalid for rule", v)
			}
			r.Protocol, protoSet = int(pr), true
		case "l3mdev":
			if hasAction {
				return bad(i, oneAction)
			}
			r.L3MDev, hasAction = true, true
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
		default:
			// [type] goto N | nop | blackhole | unreachable | prohibit
			at := i
			if k == "type" {
				k, _ = val()
			}
			action := ""
			switch {
			case k == "goto":
				v, _ := val()
				x, ok := decUint(v, 0xFFFFFFFF)
				if !ok {
					return bad(i, "invalid goto target '%s'", v)
				}
				action, r.Goto = "goto", int(x)
			case k == "nop":
				action = k
			default:
				typ, ok := rtnames.RouteType(k)
				if !ok {
					if t[at] == "type" {
						return bad(at, "invalid rule type '%s'", k)
					}
					p.tokErrorf(n, at, true, "unknown rule option '%s'", k)
					return r, false
				}
				if action = ruleActions[typ]; action == "" {
					return bad(at, "Invalid rule action %s", k)
				}
			}
			if hasAction {
				return bad(at, oneAction)
			}
			r.Action, hasAction = action, true
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
	if fam != 0 && fam != r.Family {
		return bad(0, "rule mixes IPv4 and IPv6")
	}
	if r.Action == "goto" {
		if !r.PrioritySet {
			return bad(0, "Invalid rule - goto target %d specified without preference", r.Goto)
		}
		if r.Priority >= r.Goto {
			return bad(0, "Invalid rule - preference %d >= goto target %d", r.Priority, r.Goto)
		}
	}
	if tableOption != "" && (r.Action != "" || r.L3MDev) {
		return bad(0, "suppressor/realm specified for non table action")
	}
	// keepalived tracks a rule (unless no_track) by its protocol, which
	// it forces to its own.
	if !r.NoTrack {
		if protoSet && r.Protocol != rtnames.RTProtKeepalived {
			p.tokErrorf(n, 0, false, "Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED(%d), resetting protocol", rtnames.RTProtKeepalived)
		}
		r.Protocol = rtnames.RTProtKeepalived
	}
	if !r.PrioritySet {
		// keepalived numbers them down from 16384, per family and load.
		next := &p.rulePrio[0]
		if r.Family == 6 {
			next = &p.rulePrio[1]
		}
		r.Priority = ruleStartPriority - *next
		*next++
		p.tokErrorf(n, 0, false, "Rule has no preference specified - setting to %d. This is probably not what you want.", r.Priority)
	}
	return r, true
}

// ruleStartPriority is the first preference keepalived gives a rule that
// has none.
const ruleStartPriority = 16384

// validFwMark reports whether s is MARK or MARK/MASK, 32-bit numbers as C's
// strtoul reads them.
func validFwMark(s string) bool {
	mark, mask, hasMask := strings.Cut(s, "/")
	if _, ok := rtnames.ParseCUint(mark, 0xFFFFFFFF); !ok {
		return false
	}
	if hasMask {
		_, ok := rtnames.ParseCUint(mask, 0xFFFFFFFF)
		return ok
	}
	return true
}

// parseNumRange parses "LO-HI" (or, when single, also "N") of decimal numbers
// up to max.
func parseNumRange(s string, max uint64, single bool) (uint32, uint32, bool) {
	a, b, ok := strings.Cut(s, "-")
	lo, okLo := decUint(a, max)
	if !ok {
		return uint32(lo), uint32(lo), okLo && single
	}
	hi, okHi := decUint(b, max)
	return uint32(lo), uint32(hi), okLo && okHi
}
