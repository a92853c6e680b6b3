package rtnames

import "golang.org/x/sys/unix"

// RTProtKeepalived is RTPROT_KEEPALIVED: keepalived marks the routes and
// rules it tracks with it, and so does vigil.
const RTProtKeepalived = 18

// The names every system knows, whatever its files say: keepalived's
// built-in defaults, plus the protocols Debian's rt_protos names (vigil
// accepted them before it read the files).
var (
	defaultTables = []entry{
		{unix.RT_TABLE_DEFAULT, "default"}, {unix.RT_TABLE_MAIN, "main"}, {unix.RT_TABLE_LOCAL, "local"},
	}
	defaultScopes = []entry{
		{unix.RT_SCOPE_UNIVERSE, "global"}, {unix.RT_SCOPE_NOWHERE, "nowhere"},
		{unix.RT_SCOPE_HOST, "host"}, {unix.RT_SCOPE_LINK, "link"}, {unix.RT_SCOPE_SITE, "site"},
	}
	defaultProtocols = []entry{
		{unix.RTPROT_UNSPEC, "none"}, {unix.RTPROT_REDIRECT, "redirect"}, {unix.RTPROT_KERNEL, "kernel"},
		{unix.RTPROT_BOOT, "boot"}, {unix.RTPROT_STATIC, "static"}, {unix.RTPROT_GATED, "gated"},
		{unix.RTPROT_RA, "ra"}, {unix.RTPROT_MRT, "mrt"}, {unix.RTPROT_ZEBRA, "zebra"},
		{unix.RTPROT_BIRD, "bird"}, {unix.RTPROT_BABEL, "babel"}, {unix.RTPROT_DNROUTED, "dnrouted"},
		{unix.RTPROT_XORP, "xorp"}, {unix.RTPROT_NTK, "ntk"}, {unix.RTPROT_DHCP, "dhcp"},
		{RTProtKeepalived, "keepalived"}, {unix.RTPROT_BGP, "bgp"}, {unix.RTPROT_ISIS, "isis"},
		{unix.RTPROT_OSPF, "ospf"}, {unix.RTPROT_RIP, "rip"}, {unix.RTPROT_EIGRP, "eigrp"},
	}
)

// RouteType resolves a route type: one of the names below or a number up
// to 255 (keepalived's find_rttables_rtntype; no file names them).
func RouteType(s string) (uint8, bool) {
	if v, ok := routeTypes[s]; ok {
		return v, true
	}
	v, ok := ParseCUint(s, maxByte)
	return uint8(v), ok
}

// IsRouteTypeName reports whether s is a route type's name (not a number).
func IsRouteTypeName(s string) bool {
	_, ok := routeTypes[s]
	return ok
}

var routeTypes = map[string]uint8{
	"local": unix.RTN_LOCAL, "nat": unix.RTN_NAT, "broadcast": unix.RTN_BROADCAST, "brd": unix.RTN_BROADCAST,
	"anycast": unix.RTN_ANYCAST, "multicast": unix.RTN_MULTICAST, "prohibit": unix.RTN_PROHIBIT,
	"unreachable": unix.RTN_UNREACHABLE, "blackhole": unix.RTN_BLACKHOLE, "xresolve": unix.RTN_XRESOLVE,
	"unicast": unix.RTN_UNICAST, "throw": unix.RTN_THROW,
}

// defaultIPProtos stand in for a missing protocols(5) file.
var defaultIPProtos = []entry{
	{unix.IPPROTO_ICMP, "icmp"}, {unix.IPPROTO_ICMP, "ICMP"}, {unix.IPPROTO_TCP, "tcp"}, {unix.IPPROTO_TCP, "TCP"},
	{unix.IPPROTO_UDP, "udp"}, {unix.IPPROTO_UDP, "UDP"}, {unix.IPPROTO_GRE, "gre"}, {unix.IPPROTO_GRE, "GRE"},
	{unix.IPPROTO_ESP, "esp"}, {unix.IPPROTO_ESP, "IPSEC-ESP"}, {unix.IPPROTO_AH, "ah"}, {unix.IPPROTO_AH, "IPSEC-AH"},
	{unix.IPPROTO_ICMPV6, "ipv6-icmp"}, {unix.IPPROTO_ICMPV6, "IPv6-ICMP"}, {unix.IPPROTO_SCTP, "sctp"},
	{unix.IPPROTO_SCTP, "SCTP"}, {unix.IPPROTO_UDPLITE, "udplite"}, {unix.IPPROTO_UDPLITE, "UDPLite"},
	{unix.IPPROTO_IPIP, "ipencap"}, {unix.IPPROTO_IPV6, "ipv6"}, {unix.IPPROTO_IPV6, "IPv6"},
	{112, "vrrp"}, {112, "VRRP"},
}

// BuiltinScope resolves a scope with the built-in names only (no file):
// what every system knows. It is safe for concurrent use.
func BuiltinScope(name string) (uint8, bool) {
	v, ok := builtin(name, defaultScopes)
	return uint8(v), ok
}

// BuiltinProtocol resolves a route protocol with the built-in names only.
// It is safe for concurrent use.
func BuiltinProtocol(name string) (uint8, bool) {
	v, ok := builtin(name, defaultProtocols)
	return uint8(v), ok
}

func builtin(name string, l []entry) (uint32, bool) {
	if v, ok := ParseCUint(name, maxByte); ok {
		return uint32(v), true
	}
	for _, e := range l {
		if e.name == name {
			return e.id, true
		}
	}
	return 0, false
}
