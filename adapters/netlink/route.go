package netlink

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	vnl "github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events/conf"
)

// family returns unix.AF_INET or AF_INET6 for an address.
func family(a netip.Addr) int {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// toRoute converts a route line into the request `ip route add` (add true)
// or `ip route del` would send. linkIndex resolves interface names; it
// returns 0 and no error for an interface that does not exist, which only a
// delete tolerates.
func toRoute(r conf.Route, add bool, linkIndex func(string) (int, error)) (*vnl.Route, error) {
	if !r.Dst.IsValid() {
		return nil, errors.New("invalid destination")
	}
	fam := family(r.Dst.Addr())
	rt := &vnl.Route{Dst: ipNet(r.Dst.Masked()), Family: fam, Table: r.Table, Priority: r.Metric}
	if r.Type != "" {
		t, err := lookupName("route type", r.Type, routeTypeNames)
		if err != nil {
			return nil, err
		}
		rt.Type = int(t)
	}
	if r.Src.IsValid() {
		rt.Src = net.IP(r.Src.AsSlice())
	}
	if r.Dev != "" {
		idx, err := linkIndex(r.Dev)
		if err != nil {
			return nil, err
		}
		rt.LinkIndex = idx
	}
	switch {
	case r.Or.IsValid():
		// keepalived's deprecated "via A or B": a two-way multipath route.
		if !r.Via.IsValid() {
			return nil, errors.New(`"or" without "via"`)
		}
		for _, gw := range []netip.Addr{r.Via, r.Or} {
			nh := &vnl.NexthopInfo{LinkIndex: rt.LinkIndex}
			setGateway(fam, gw, &nh.Gw, &nh.Via)
			rt.MultiPath = append(rt.MultiPath, nh)
		}
		rt.LinkIndex = 0
	case r.Via.IsValid():
		setGateway(fam, r.Via, &rt.Gw, &rt.Via)
	}
	if r.Protocol != "" {
		p, err := lookupName("protocol", r.Protocol, protocolNames)
		if err != nil {
			return nil, err
		}
		rt.Protocol = vnl.RouteProtocol(p)
	} else if add {
		rt.Protocol = rtprotKeepalived
	}
	if r.Scope != "" {
		s, err := lookupName("scope", r.Scope, scopeNames)
		if err != nil {
			return nil, err
		}
		rt.Scope = vnl.Scope(s)
	} else if add {
		rt.Scope = vnl.Scope(defaultRouteScope(rt))
	} else {
		rt.Scope = unix.RT_SCOPE_NOWHERE // matches any scope
	}
	if err := routeOptions(rt, r.Other); err != nil {
		return nil, err
	}
	return rt, nil
}

// setGateway sets a gateway of the route's own family, or an RTA_VIA of the
// other family (an IPv4 route via an IPv6 next hop).
func setGateway(fam int, gw netip.Addr, ip *net.IP, via *vnl.Destination) {
	if family(gw) == fam {
		*ip = net.IP(gw.AsSlice())
		return
	}
	*via = &vnl.Via{AddrFamily: family(gw), Addr: net.IP(gw.AsSlice())}
}

// defaultRouteScope is the scope ip(8) gives a route that names none.
func defaultRouteScope(rt *vnl.Route) uint8 {
	switch rt.Type {
	case unix.RTN_LOCAL, unix.RTN_NAT:
		return unix.RT_SCOPE_HOST
	case unix.RTN_BROADCAST, unix.RTN_MULTICAST, unix.RTN_ANYCAST:
		return unix.RT_SCOPE_LINK
	case 0, unix.RTN_UNICAST:
		if rt.Gw == nil && rt.Via == nil && len(rt.MultiPath) == 0 {
			return unix.RT_SCOPE_LINK
		}
	}
	return unix.RT_SCOPE_UNIVERSE
}

// routeOptions applies the route options the configuration model keeps
// untyped. Unknown options are refused rather than silently dropped.
func routeOptions(rt *vnl.Route, opts []conf.KeyValue) error {
	for _, o := range opts {
		if o.Key == "onlink" {
			rt.Flags |= unix.RTNH_F_ONLINK
			continue
		}
		v, err := strconv.ParseUint(o.Value, 0, 32)
		if err != nil {
			return fmt.Errorf("route option %s %q: %w", o.Key, o.Value, err)
		}
		n := int(v)
		switch o.Key {
		case "mtu":
			rt.MTU = n
		case "advmss":
			rt.AdvMSS = n
		case "hoplimit":
			rt.Hoplimit = n
		case "initcwnd":
			rt.InitCwnd = n
		case "initrwnd":
			rt.InitRwnd = n
		case "realm", "realms":
			rt.Realm = n
		case "tos", "dsfield":
			rt.Tos = n
		default:
			return fmt.Errorf("unsupported route option %q", o.Key)
		}
	}
	return nil
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

// errLinkGone reports that a route's or rule's interface does not exist.
var errLinkGone = errors.New("interface not found")

// addRoute installs a route; an identical route already present is not an
// error.
func (x *Executor) addRoute(r conf.Route) error {
	rt, err := toRoute(r, true, x.routeLinkIndex)
	if err != nil {
		return fmt.Errorf("add route %s: %w", r.Dst, err)
	}
	if err := x.h.RouteAdd(rt); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add route %s: %w", r.Dst, err)
	}
	return nil
}

// delRoute removes a route; a route (or interface) already gone is not an
// error.
func (x *Executor) delRoute(r conf.Route) error {
	rt, err := toRoute(r, false, x.routeLinkIndex)
	if errors.Is(err, errLinkGone) {
		return nil // the kernel removed its routes with the interface
	}
	if err != nil {
		return fmt.Errorf("delete route %s: %w", r.Dst, err)
	}
	if err := x.h.RouteDel(rt); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("delete route %s: %w", r.Dst, err)
	}
	return nil
}
