package netlink

import (
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// The names iproute2 and keepalived accept for scopes, route types and
// route protocols (the rt_scopes and rt_protos files of a stock system).
var (
	scopeNames = map[string]uint8{
		"global": unix.RT_SCOPE_UNIVERSE, "universe": unix.RT_SCOPE_UNIVERSE,
		"site": unix.RT_SCOPE_SITE, "link": unix.RT_SCOPE_LINK,
		"host": unix.RT_SCOPE_HOST, "nowhere": unix.RT_SCOPE_NOWHERE,
	}
	routeTypeNames = map[string]uint8{
		"unicast": unix.RTN_UNICAST, "local": unix.RTN_LOCAL,
		"broadcast": unix.RTN_BROADCAST, "anycast": unix.RTN_ANYCAST,
		"multicast": unix.RTN_MULTICAST, "blackhole": unix.RTN_BLACKHOLE,
		"unreachable": unix.RTN_UNREACHABLE, "prohibit": unix.RTN_PROHIBIT,
		"throw": unix.RTN_THROW, "nat": unix.RTN_NAT,
	}
	protocolNames = map[string]uint8{
		"redirect": unix.RTPROT_REDIRECT, "kernel": unix.RTPROT_KERNEL,
		"boot": unix.RTPROT_BOOT, "static": unix.RTPROT_STATIC,
		"gated": unix.RTPROT_GATED, "ra": unix.RTPROT_RA, "mrt": unix.RTPROT_MRT,
		"zebra": unix.RTPROT_ZEBRA, "bird": unix.RTPROT_BIRD,
		"dnrouted": unix.RTPROT_DNROUTED, "xorp": unix.RTPROT_XORP,
		"ntk": unix.RTPROT_NTK, "dhcp": unix.RTPROT_DHCP,
		"keepalived": rtprotKeepalived, "babel": unix.RTPROT_BABEL,
		"bgp": unix.RTPROT_BGP, "isis": unix.RTPROT_ISIS,
		"ospf": unix.RTPROT_OSPF, "rip": unix.RTPROT_RIP, "eigrp": unix.RTPROT_EIGRP,
	}
)

// rtprotKeepalived is RTPROT_KEEPALIVED: keepalived marks the routes it adds
// with it unless the configuration names a protocol, and so does vigil.
const rtprotKeepalived = 18

// lookupName resolves a named or numeric 8-bit value.
func lookupName(what, s string, names map[string]uint8) (uint8, error) {
	if v, ok := names[s]; ok {
		return v, nil
	}
	n, err := strconv.ParseUint(s, 0, 8)
	if err != nil {
		return 0, fmt.Errorf("unknown %s %q", what, s)
	}
	return uint8(n), nil
}
