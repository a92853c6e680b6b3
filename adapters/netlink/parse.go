package netlink

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// The monitor parses rtnetlink messages itself, dumps and notifications
// alike, into these comparable records: only the facts events carry and
// those that tell two kernel objects apart.

// linkRec is an interface's state.
type linkRec struct {
	name    string
	up      bool
	running bool
	mtu     int
	hwaddr  string
	// promote is the interface's IPv4 promote_secondaries setting
	// (IFLA_AF_SPEC's AF_INET devconf), as keepalived reads it.
	promote bool
}

// addrRec identifies an address on an interface.
type addrRec struct {
	index  int
	prefix netip.Prefix
}

// routeRec identifies a route: what the kernel keys it by (table, prefix,
// tos, metric) plus its first next hop, so alternatives stay distinct.
type routeRec struct {
	family int
	table  int
	dst    netip.Prefix
	tos    uint8
	metric uint32
	typ    uint8
	oif    int
	gw     netip.Addr
}

// ruleRec identifies a policy routing rule.
type ruleRec struct {
	family   int
	priority int
	from, to netip.Prefix
	table    int
	action   uint8
	mark     uint32
	iif, oif string
	goTo     int
	invert   bool
}

// attrs splits the attributes following a fixed header of size hdr.
func attrs(data []byte, hdr int) map[uint16][]byte {
	if len(data) < hdr {
		return nil
	}
	list, err := nl.ParseRouteAttr(data[hdr:])
	if err != nil {
		return nil
	}
	m := make(map[uint16][]byte, len(list))
	for _, a := range list {
		m[a.Attr.Type&^unix.NLA_F_NESTED] = a.Value
	}
	return m
}

// parseLink decodes an RTM_NEWLINK/RTM_DELLINK payload. ok is false for
// messages that are not about an interface's own state (bridge port
// notifications carry AF_BRIDGE).
func parseLink(data []byte) (index int, rec linkRec, ok bool) {
	if len(data) < unix.SizeofIfInfomsg {
		return 0, rec, false
	}
	ifi := nl.DeserializeIfInfomsg(data)
	if ifi.Family != unix.AF_UNSPEC {
		return 0, rec, false
	}
	a := attrs(data, unix.SizeofIfInfomsg)
	rec.name = strings.TrimRight(string(a[unix.IFLA_IFNAME]), "\x00")
	rec.up = ifi.Flags&unix.IFF_UP != 0
	rec.running = ifi.Flags&unix.IFF_RUNNING != 0
	if v := a[unix.IFLA_MTU]; len(v) == 4 {
		rec.mtu = int(binary.NativeEndian.Uint32(v))
	}
	if v := a[unix.IFLA_ADDRESS]; len(v) > 0 {
		rec.hwaddr = net.HardwareAddr(v).String()
	}
	rec.promote = inetDevconf(a[unix.IFLA_AF_SPEC], ipv4DevconfPromoteSecondaries) == 1
	return int(ifi.Index), rec, rec.name != ""
}

// ipv4DevconfPromoteSecondaries is IPV4_DEVCONF_PROMOTE_SECONDARIES
// (include/uapi/linux/ip.h).
const ipv4DevconfPromoteSecondaries = 20

// inetDevconf returns IPv4 devconf setting k of an IFLA_AF_SPEC
// attribute (its AF_INET entry's IFLA_INET_CONF: one u32 per setting,
// from setting 1), or -1 when absent.
func inetDevconf(spec []byte, k int) int64 {
	inet := attrs(spec, 0)[unix.AF_INET]
	conf := attrs(inet, 0)[unix.IFLA_INET_CONF]
	if off := (k - 1) * 4; k >= 1 && len(conf) >= off+4 {
		return int64(binary.NativeEndian.Uint32(conf[off:]))
	}
	return -1
}

// ipAttr decodes an address attribute.
func ipAttr(v []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(v)
	return a
}

// parseAddr decodes an RTM_NEWADDR/RTM_DELADDR payload. The address is the
// local one (IFA_LOCAL); IFA_ADDRESS is the peer on point-to-point links.
func parseAddr(data []byte) (addrRec, bool) {
	if len(data) < unix.SizeofIfAddrmsg {
		return addrRec{}, false
	}
	ifa := nl.DeserializeIfAddrmsg(data)
	a := attrs(data, unix.SizeofIfAddrmsg)
	ip := ipAttr(a[unix.IFA_LOCAL])
	if !ip.IsValid() {
		ip = ipAttr(a[unix.IFA_ADDRESS])
	}
	p, err := ip.Prefix(int(ifa.Prefixlen))
	if err != nil || !ip.IsValid() {
		return addrRec{}, false
	}
	// Keep the host bits: the prefix is the address as configured.
	return addrRec{index: int(ifa.Index), prefix: netip.PrefixFrom(ip, p.Bits())}, true
}

// parseRoute decodes an RTM_NEWROUTE/RTM_DELROUTE payload. Cached clones
// and non-IP families are skipped.
func parseRoute(data []byte) (routeRec, bool) {
	if len(data) < unix.SizeofRtMsg {
		return routeRec{}, false
	}
	rtm := nl.DeserializeRtMsg(data)
	if (rtm.Family != unix.AF_INET && rtm.Family != unix.AF_INET6) || rtm.Flags&unix.RTM_F_CLONED != 0 {
		return routeRec{}, false
	}
	a := attrs(data, unix.SizeofRtMsg)
	r := routeRec{family: int(rtm.Family), table: int(rtm.Table), tos: rtm.Tos, typ: rtm.Type}
	if v := a[unix.RTA_TABLE]; len(v) == 4 {
		r.table = int(binary.NativeEndian.Uint32(v))
	}
	dst := ipAttr(a[unix.RTA_DST])
	if !dst.IsValid() {
		dst = netip.IPv4Unspecified()
		if rtm.Family == unix.AF_INET6 {
			dst = netip.IPv6Unspecified()
		}
	}
	r.dst = netip.PrefixFrom(dst, int(rtm.Dst_len))
	if v := a[unix.RTA_PRIORITY]; len(v) == 4 {
		r.metric = binary.NativeEndian.Uint32(v)
	}
	if v := a[unix.RTA_OIF]; len(v) == 4 {
		r.oif = int(binary.NativeEndian.Uint32(v))
	}
	r.gw = ipAttr(a[unix.RTA_GATEWAY])
	if mp := a[unix.RTA_MULTIPATH]; len(mp) >= unix.SizeofRtNexthop && r.oif == 0 && !r.gw.IsValid() {
		// The first next hop stands for the route.
		// struct rtnexthop: u16 len, u8 flags, u8 hops, s32 ifindex.
		n := int(binary.NativeEndian.Uint16(mp[0:2]))
		r.oif = int(int32(binary.NativeEndian.Uint32(mp[4:8])))
		if n <= len(mp) {
			r.gw = ipAttr(attrs(mp[:n], unix.SizeofRtNexthop)[unix.RTA_GATEWAY])
		}
	}
	return r, true
}

// parseRule decodes an RTM_NEWRULE/RTM_DELRULE payload (a fib_rule_hdr,
// laid out as an rtmsg whose type byte is the action).
func parseRule(data []byte) (ruleRec, bool) {
	if len(data) < unix.SizeofRtMsg {
		return ruleRec{}, false
	}
	h := nl.DeserializeRtMsg(data)
	if h.Family != unix.AF_INET && h.Family != unix.AF_INET6 {
		return ruleRec{}, false
	}
	a := attrs(data, unix.SizeofRtMsg)
	r := ruleRec{family: int(h.Family), table: int(h.Table), action: h.Type, invert: h.Flags&fibRuleInvert != 0}
	if v := a[nl.FRA_TABLE]; len(v) == 4 {
		r.table = int(binary.NativeEndian.Uint32(v))
	}
	if v := a[nl.FRA_PRIORITY]; len(v) == 4 {
		r.priority = int(binary.NativeEndian.Uint32(v))
	}
	if v := a[nl.FRA_FWMARK]; len(v) == 4 {
		r.mark = binary.NativeEndian.Uint32(v)
	}
	if v := a[nl.FRA_GOTO]; len(v) == 4 {
		r.goTo = int(binary.NativeEndian.Uint32(v))
	}
	r.iif = strings.TrimRight(string(a[nl.FRA_IIFNAME]), "\x00")
	r.oif = strings.TrimRight(string(a[nl.FRA_OIFNAME]), "\x00")
	if ip := ipAttr(a[nl.FRA_SRC]); ip.IsValid() {
		r.from = netip.PrefixFrom(ip, int(h.Src_len))
	}
	if ip := ipAttr(a[nl.FRA_DST]); ip.IsValid() {
		r.to = netip.PrefixFrom(ip, int(h.Dst_len))
	}
	return r, true
}

// isKernel reports whether a netlink message came from the kernel.
func isKernel(from *unix.SockaddrNetlink) bool { return from != nil && from.Pid == 0 }
