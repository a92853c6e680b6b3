package netlink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	vnl "github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events/conf"
	"github.com/vigil-ha/vigil/internal/rtnames"
)

// family returns unix.AF_INET or AF_INET6 for an address.
func family(a netip.Addr) int {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// routeMetrics maps a route's metric keywords to RTAX_* attributes.
var routeMetrics = map[string]int{
	"mtu": unix.RTAX_MTU, "window": unix.RTAX_WINDOW, "rtt": unix.RTAX_RTT, "rttvar": unix.RTAX_RTTVAR,
	"ssthresh": unix.RTAX_SSTHRESH, "cwnd": unix.RTAX_CWND, "advmss": unix.RTAX_ADVMSS,
	"reordering": unix.RTAX_REORDERING, "hoplimit": unix.RTAX_HOPLIMIT, "initcwnd": unix.RTAX_INITCWND,
	"features": unix.RTAX_FEATURES, "rto_min": unix.RTAX_RTO_MIN, "initrwnd": unix.RTAX_INITRWND,
	"quickack": unix.RTAX_QUICKACK, "fastopen_no_cookie": unix.RTAX_FASTOPEN_NO_COOKIE,
}

// routeLinks resolves the interfaces a route names.
type routeLinks struct {
	// index returns an interface's index; a missing interface yields
	// an error wrapping errLinkGone.
	index func(string) (int, error)
	// vrfTable returns a VRF device's routing table.
	vrfTable func(string) (int, error)
}

// toRoute builds the RTM_NEWROUTE (add) or RTM_DELROUTE request for a
// route line: keepalived's netlink_route, with ip(8)'s default scope. A
// delete matches any scope and protocol and carries no metrics.
func toRoute(r conf.Route, add bool, links routeLinks) (*rtReq, error) {
	if !r.Dst.IsValid() {
		return nil, errors.New("invalid destination")
	}
	fam := family(r.Dst.Addr())
	q := &rtReq{typ: unix.RTM_DELROUTE}
	if add {
		q.typ, q.flags = unix.RTM_NEWROUTE, unix.NLM_F_CREATE
		switch {
		case r.Add:
			q.flags |= unix.NLM_F_EXCL
		case r.Append:
			q.flags |= unix.NLM_F_APPEND
		}
	}
	h := &q.hdr
	h.Family = uint8(fam)
	h.Tos = uint8(r.Tos)

	table := r.Table
	if table == 0 && r.VRF != "" {
		t, err := links.vrfTable(r.VRF)
		if err != nil {
			return nil, err
		}
		table = t
	}
	if table == 0 {
		table = unix.RT_TABLE_MAIN
	}
	if table < 256 {
		h.Table = uint8(table)
	} else {
		h.Table = unix.RT_TABLE_UNSPEC
		q.u32(unix.RTA_TABLE, uint32(table))
	}

	if r.Type != "" {
		t, err := lookupName("route type", r.Type, rtnames.RouteType)
		if err != nil {
			return nil, err
		}
		h.Type = t
	} else if add {
		h.Type = unix.RTN_UNICAST
	}

	dst := r.Dst.Masked()
	h.Dst_len = uint8(dst.Bits())
	q.addr(unix.RTA_DST, dst.Addr())
	if r.From.IsValid() {
		from := r.From.Masked()
		h.Src_len = uint8(from.Bits())
		q.addr(unix.RTA_SRC, from.Addr())
	}
	if r.Src.IsValid() {
		q.addr(unix.RTA_PREFSRC, r.Src)
	}

	oif := 0
	if r.Dev != "" {
		idx, err := links.index(r.Dev)
		if err != nil {
			return nil, err
		}
		oif = idx
	}
	var hops []nexthop
	switch {
	case r.Or.IsValid():
		// keepalived's deprecated "via A or B": a two-way multipath route.
		if !r.Via.IsValid() {
			return nil, errors.New(`"or" without "via"`)
		}
		hops = []nexthop{{gw: r.Via, ifindex: oif}, {gw: r.Or, ifindex: oif}}
		oif = 0
	case len(r.Nexthops) > 0:
		if r.Via.IsValid() {
			gateway(q, fam, r.Via)
		}
		for _, c := range r.Nexthops {
			nh := nexthop{gw: c.Via, realms: c.Realms}
			if c.Dev != "" {
				idx, err := links.index(c.Dev)
				switch {
				case errors.Is(err, errLinkGone) && !add:
					// Gone: match any interface.
				case err != nil:
					return nil, err
				default:
					nh.ifindex = idx
				}
			}
			if c.Weight > 0 {
				nh.hops = uint8(c.Weight - 1)
			}
			if c.OnLink {
				nh.flags |= unix.RTNH_F_ONLINK
			}
			hops = append(hops, nh)
		}
	case r.Via.IsValid():
		gateway(q, fam, r.Via)
	}
	if len(hops) > 0 {
		q.add(unix.RTA_MULTIPATH, multipath(fam, hops))
	}
	if oif != 0 {
		q.u32(unix.RTA_OIF, uint32(oif))
	}
	if r.Metric != 0 {
		q.u32(unix.RTA_PRIORITY, uint32(r.Metric))
	}
	if r.OnLink {
		h.Flags |= unix.RTNH_F_ONLINK
	}
	if r.Realms != 0 {
		q.u32(unix.RTA_FLOW, r.Realms)
	}

	switch {
	case r.Protocol != "":
		p, err := lookupName("protocol", r.Protocol, rtnames.BuiltinProtocol)
		if err != nil {
			return nil, err
		}
		if add {
			h.Protocol = p
		}
	case add:
		h.Protocol = rtprotKeepalived
	}
	switch {
	case !add:
		h.Scope = unix.RT_SCOPE_NOWHERE // matches any scope
	case r.Scope != "":
		s, err := lookupName("scope", r.Scope, rtnames.BuiltinScope)
		if err != nil {
			return nil, err
		}
		h.Scope = s
	default:
		h.Scope = defaultRouteScope(h.Type, len(hops) > 0 || r.Via.IsValid())
	}
	if !add {
		return q, nil
	}

	if r.Expires != nil {
		q.u32(unix.RTA_EXPIRES, uint32(*r.Expires))
	}
	if r.Pref != nil {
		q.u8(unix.RTA_PREF, uint8(*r.Pref))
	}
	if m, err := routeMetricsAttr(r); err != nil {
		return nil, err
	} else if m != nil {
		q.attrs = append(q.attrs, m)
	}
	return q, nil
}

// routeMetricsAttr builds the RTA_METRICS nest (nil when there is none).
func routeMetricsAttr(r conf.Route) (*nl.RtAttr, error) {
	if len(r.Metrics) == 0 && r.Congctl == "" {
		return nil, nil
	}
	m := nl.NewRtAttr(unix.RTA_METRICS, nil)
	var lock uint32
	for _, x := range r.Metrics {
		typ, ok := routeMetrics[x.Name]
		if !ok {
			return nil, fmt.Errorf("unknown route metric %q", x.Name)
		}
		m.AddRtAttr(typ, nl.Uint32Attr(x.Value))
		if x.Lock {
			lock |= 1 << typ
		}
	}
	if r.Congctl != "" {
		m.AddRtAttr(unix.RTAX_CC_ALGO, []byte(r.Congctl))
		if r.CongctlLock {
			lock |= 1 << unix.RTAX_CC_ALGO
		}
	}
	if lock != 0 {
		m.AddRtAttr(unix.RTAX_LOCK, nl.Uint32Attr(lock))
	}
	return m, nil
}

// gateway adds the route's gateway: an RTA_GATEWAY of its own family, or
// an RTA_VIA of the other (an IPv4 route via an IPv6 next hop).
func gateway(q *rtReq, fam int, gw netip.Addr) {
	if family(gw) == fam {
		q.addr(unix.RTA_GATEWAY, gw)
	} else {
		q.add(unix.RTA_VIA, via(gw))
	}
}

// nexthop is one struct rtnexthop of an RTA_MULTIPATH and its attributes.
type nexthop struct {
	gw      netip.Addr
	ifindex int
	hops    uint8 // weight - 1
	flags   uint8
	realms  uint32
}

// multipath returns the payload of an RTA_MULTIPATH.
func multipath(fam int, hops []nexthop) []byte {
	var out []byte
	for _, nh := range hops {
		var attrs []byte
		if nh.gw.IsValid() {
			if family(nh.gw) == fam {
				attrs = append(attrs, nl.NewRtAttr(unix.RTA_GATEWAY, nh.gw.AsSlice()).Serialize()...)
			} else {
				attrs = append(attrs, nl.NewRtAttr(unix.RTA_VIA, via(nh.gw)).Serialize()...)
			}
		}
		if nh.realms != 0 {
			attrs = append(attrs, nl.NewRtAttr(unix.RTA_FLOW, nl.Uint32Attr(nh.realms)).Serialize()...)
		}
		rtnh := make([]byte, unix.SizeofRtNexthop)
		binary.NativeEndian.PutUint16(rtnh[0:2], uint16(unix.SizeofRtNexthop+len(attrs)))
		rtnh[2], rtnh[3] = nh.flags, nh.hops
		binary.NativeEndian.PutUint32(rtnh[4:8], uint32(int32(nh.ifindex)))
		out = append(append(out, rtnh...), attrs...)
	}
	return out
}

// defaultRouteScope is the scope ip(8) gives a route that names none.
func defaultRouteScope(typ uint8, gateway bool) uint8 {
	switch typ {
	case unix.RTN_LOCAL, unix.RTN_NAT:
		return unix.RT_SCOPE_HOST
	case unix.RTN_BROADCAST, unix.RTN_MULTICAST, unix.RTN_ANYCAST:
		return unix.RT_SCOPE_LINK
	case unix.RTN_UNSPEC, unix.RTN_UNICAST:
		if !gateway {
			return unix.RT_SCOPE_LINK
		}
	}
	return unix.RT_SCOPE_UNIVERSE
}

// routeLinks returns the executor's interface lookups for routes.
func (x *Executor) routeLinks() routeLinks {
	return routeLinks{index: x.routeLinkIndex, vrfTable: x.vrfTable}
}

// routeLinkIndex resolves an interface name for a route; a missing interface
// yields index 0 and errLinkGone.
func (x *Executor) routeLinkIndex(name string) (int, error) {
	l, err := x.h.LinkByName(name)
	if err != nil {
		if isLinkNotFound(err) {
			return 0, fmt.Errorf("dev %s: %w", name, errLinkGone)
		}
		return 0, fmt.Errorf("dev %s: %w", name, err)
	}
	return l.Attrs().Index, nil
}

// VRFTable returns the routing table of the VRF device name in the
// caller's network namespace: config.Options.VRFTable for vigil run.
func VRFTable(name string) (int, error) {
	return vrfTableOf(vnl.LinkByName(name))
}

// vrfTable is VRFTable in the executor's namespace, for a configuration
// loaded without a resolver.
func (x *Executor) vrfTable(name string) (int, error) {
	t, err := vrfTableOf(x.h.LinkByName(name))
	if err != nil {
		return 0, fmt.Errorf("vrf %s: %w", name, err)
	}
	return t, nil
}

// ErrNotVRF reports a `vrf` naming an interface that is not a VRF.
var ErrNotVRF = errors.New("not a VRF")

func vrfTableOf(l vnl.Link, err error) (int, error) {
	if err != nil {
		if isLinkNotFound(err) {
			return 0, errLinkGone
		}
		return 0, err
	}
	v, ok := l.(*vnl.Vrf)
	if !ok {
		return 0, ErrNotVRF
	}
	return int(v.Table), nil
}

// errLinkGone reports that a route's or rule's interface does not exist.
var errLinkGone = errors.New("interface not found")

// addRoute installs a route; an identical route already present is not an
// error.
func (x *Executor) addRoute(r conf.Route) error {
	q, err := toRoute(r, true, x.routeLinks())
	if err != nil {
		return fmt.Errorf("add route %s: %w", r.Dst, err)
	}
	if err := x.exec(q); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add route %s: %w", r.Dst, err)
	}
	return nil
}

// delRoute removes a route; a route (or interface) already gone is not an
// error.
func (x *Executor) delRoute(r conf.Route) error {
	q, err := toRoute(r, false, x.routeLinks())
	if errors.Is(err, errLinkGone) {
		return nil // the kernel removed its routes with the interface
	}
	if err != nil {
		return fmt.Errorf("delete route %s: %w", r.Dst, err)
	}
	if err := x.exec(q); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("delete route %s: %w", r.Dst, err)
	}
	return nil
}
