package netlink

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events/conf"
)

// These run without root: they check the translation of configuration
// lines into netlink requests.

var noLinks = routeLinks{
	index:    func(string) (int, error) { return 7, nil },
	vrfTable: func(string) (int, error) { return 1001, nil },
}

// reqAttrs returns a request's attributes by type, as the kernel reads them.
func reqAttrs(t *testing.T, q *rtReq) map[uint16][]byte {
	t.Helper()
	var b []byte
	for _, a := range q.attrs {
		b = append(b, a.Serialize()...)
	}
	list, err := nl.ParseRouteAttr(b)
	if err != nil {
		t.Fatal(err)
	}
	m := map[uint16][]byte{}
	for _, a := range list {
		m[a.Attr.Type&^unix.NLA_F_NESTED] = a.Value
	}
	return m
}

func u32(b []byte) uint32 { return binary.NativeEndian.Uint32(b) }

func TestToRouteDefaults(t *testing.T) {
	q, err := toRoute(conf.Route{Dst: netip.MustParsePrefix("10.77.5.9/24"), Dev: "eth0"}, true, noLinks)
	if err != nil {
		t.Fatal(err)
	}
	a := reqAttrs(t, q)
	if !net.IP(a[unix.RTA_DST]).Equal(net.ParseIP("10.77.5.0")) || q.hdr.Dst_len != 24 || q.hdr.Scope != unix.RT_SCOPE_LINK ||
		q.hdr.Protocol != rtprotKeepalived || u32(a[unix.RTA_OIF]) != 7 || q.hdr.Table != unix.RT_TABLE_MAIN ||
		q.hdr.Type != unix.RTN_UNICAST || q.flags != unix.NLM_F_CREATE {
		t.Errorf("device route: %+v %v", q.hdr, a)
	}
	q, _ = toRoute(conf.Route{Dst: netip.MustParsePrefix("10.77.5.0/24"), Via: netip.MustParseAddr("10.77.1.1")}, true, noLinks)
	if a := reqAttrs(t, q); q.hdr.Scope != unix.RT_SCOPE_UNIVERSE || !net.IP(a[unix.RTA_GATEWAY]).Equal(net.ParseIP("10.77.1.1")) {
		t.Errorf("gateway route: %+v %v", q.hdr, a)
	}
	q, _ = toRoute(conf.Route{Dst: netip.MustParsePrefix("10.77.5.0/24"), Via: netip.MustParseAddr("fd77::1")}, true, noLinks)
	if a := reqAttrs(t, q); a[unix.RTA_GATEWAY] != nil || len(a[unix.RTA_VIA]) != 18 || binary.NativeEndian.Uint16(a[unix.RTA_VIA]) != unix.AF_INET6 {
		t.Errorf("IPv4 via IPv6 should use RTA_VIA: %v", a)
	}
	q, _ = toRoute(conf.Route{Type: "local", Dst: netip.MustParsePrefix("10.77.5.1/32")}, true, noLinks)
	if q.hdr.Scope != unix.RT_SCOPE_HOST || q.hdr.Type != unix.RTN_LOCAL {
		t.Errorf("local route: %+v", q.hdr)
	}
	q, _ = toRoute(conf.Route{Dst: netip.MustParsePrefix("10.77.5.0/24"), Protocol: "bird", Metrics: []conf.RouteMetric{{Name: "mtu", Value: 1400}}}, false, noLinks)
	if a := reqAttrs(t, q); q.typ != unix.RTM_DELROUTE || q.hdr.Scope != unix.RT_SCOPE_NOWHERE || q.hdr.Protocol != 0 || q.hdr.Type != 0 || a[unix.RTA_METRICS] != nil {
		t.Errorf("delete must match any scope, protocol and type, without metrics: %+v %v", q.hdr, a)
	}
	if _, err := toRoute(conf.Route{Dst: netip.MustParsePrefix("10.77.5.0/24"), Or: netip.MustParseAddr("10.77.1.2")}, true, noLinks); err == nil {
		t.Error(`"or" without "via" accepted`)
	}
	if _, err := toRoute(conf.Route{Type: "bogus", Dst: netip.MustParsePrefix("10.77.5.0/24")}, true, noLinks); err == nil {
		t.Error("unknown type accepted")
	}
}

func TestToRouteOptions(t *testing.T) {
	pref, expires := 1, 100
	r := conf.Route{
		Dst: netip.MustParsePrefix("10.77.5.0/24"), Table: 6909, Tos: 4, Realms: 12<<16 | 20, OnLink: true, Add: true,
		Metrics: []conf.RouteMetric{{Name: "ssthresh", Value: 107, Lock: true}, {Name: "rtt", Value: 1600}, {Name: "features", Value: 1}},
		Congctl: "cubic", CongctlLock: true, Pref: &pref, Expires: &expires,
	}
	q, err := toRoute(r, true, noLinks)
	if err != nil {
		t.Fatal(err)
	}
	a := reqAttrs(t, q)
	if q.hdr.Table != unix.RT_TABLE_UNSPEC || u32(a[unix.RTA_TABLE]) != 6909 || q.hdr.Tos != 4 || u32(a[unix.RTA_FLOW]) != 12<<16|20 ||
		q.hdr.Flags&unix.RTNH_F_ONLINK == 0 || q.flags != unix.NLM_F_CREATE|unix.NLM_F_EXCL ||
		a[unix.RTA_PREF][0] != 1 || u32(a[unix.RTA_EXPIRES]) != 100 {
		t.Errorf("options: %+v %v", q.hdr, a)
	}
	ml, err := nl.ParseRouteAttr(a[unix.RTA_METRICS])
	if err != nil {
		t.Fatal(err)
	}
	m := map[uint16][]byte{}
	for _, x := range ml {
		m[x.Attr.Type] = x.Value
	}
	if u32(m[unix.RTAX_SSTHRESH]) != 107 || u32(m[unix.RTAX_RTT]) != 1600 || u32(m[unix.RTAX_FEATURES]) != 1 ||
		string(m[unix.RTAX_CC_ALGO]) != "cubic" || u32(m[unix.RTAX_LOCK]) != 1<<unix.RTAX_SSTHRESH|1<<unix.RTAX_CC_ALGO {
		t.Errorf("metrics: %v", m)
	}
	r = conf.Route{Dst: netip.MustParsePrefix("10.77.6.0/24"), VRF: "blue", Append: true, Nexthops: []conf.Nexthop{
		{Via: netip.MustParseAddr("10.77.1.1"), Dev: "eth0", Weight: 1, OnLink: true},
		{Via: netip.MustParseAddr("10.77.1.2"), Weight: 3, Realms: 5},
	}}
	q, err = toRoute(r, true, noLinks)
	if err != nil {
		t.Fatal(err)
	}
	a = reqAttrs(t, q)
	if u32(a[unix.RTA_TABLE]) != 1001 || q.flags != unix.NLM_F_CREATE|unix.NLM_F_APPEND || q.hdr.Scope != unix.RT_SCOPE_UNIVERSE {
		t.Errorf("vrf route: %+v %v", q.hdr, a)
	}
	mp := a[unix.RTA_MULTIPATH]
	// struct rtnexthop: len, flags, hops, ifindex; then its attributes.
	n1 := int(binary.NativeEndian.Uint16(mp[0:2]))
	if mp[2] != unix.RTNH_F_ONLINK || mp[3] != 0 || u32(mp[4:8]) != 7 || n1 != 16 || !net.IP(mp[12:16]).Equal(net.ParseIP("10.77.1.1")) {
		t.Errorf("first nexthop: % x", mp[:n1])
	}
	nh2 := mp[n1:]
	if nh2[2] != 0 || nh2[3] != 2 || u32(nh2[4:8]) != 0 || len(nh2) != 24 {
		t.Errorf("second nexthop: % x", nh2)
	}
}

func TestToRule(t *testing.T) {
	r := conf.Rule{From: netip.MustParsePrefix("fd77::/64"), Family: 6, FwMark: "0x10/0xff", Not: true,
		SPort: &conf.Range{Start: 1000, End: 2000}, Protocol: 18}
	q, err := toRule(r, true)
	if err != nil {
		t.Fatal(err)
	}
	a := reqAttrs(t, q)
	if q.hdr.Family != unix.AF_INET6 || q.hdr.Table != unix.RT_TABLE_MAIN || u32(a[unix.FRA_FWMARK]) != 0x10 || u32(a[unix.FRA_FWMASK]) != 0xff ||
		q.hdr.Flags&fibRuleInvert == 0 || binary.NativeEndian.Uint16(a[unix.FRA_SPORT_RANGE][2:]) != 2000 ||
		a[unix.FRA_PRIORITY] != nil || a[unix.FRA_PROTOCOL][0] != 18 || q.hdr.Type != nl.FR_ACT_TO_TBL || q.hdr.Src_len != 64 {
		t.Errorf("got %+v %v", q.hdr, a)
	}
	q, _ = toRule(conf.Rule{Family: 4, Action: "unreachable", Priority: 5}, true)
	if a := reqAttrs(t, q); q.hdr.Table != 0 || q.hdr.Type != nl.FR_ACT_UNREACHABLE || u32(a[unix.FRA_PRIORITY]) != 5 {
		t.Errorf("unreachable rule: %+v %v", q.hdr, a)
	}
	q, _ = toRule(conf.Rule{Family: 4, Action: "goto", Goto: 40, Priority: 39}, true)
	if a := reqAttrs(t, q); q.hdr.Type != nl.FR_ACT_GOTO || u32(a[unix.FRA_GOTO]) != 40 || q.hdr.Table != 0 {
		t.Errorf("goto rule: %+v %v", q.hdr, a)
	}
	q, _ = toRule(conf.Rule{Family: 4, L3MDev: true, Priority: 1000}, true)
	if a := reqAttrs(t, q); q.hdr.Type != nl.FR_ACT_TO_TBL || q.hdr.Table != 0 || a[unix.FRA_L3MDEV][0] != 1 || a[unix.FRA_TABLE] != nil {
		t.Errorf("l3mdev rule: %+v %v", q.hdr, a)
	}
	q, _ = toRule(conf.Rule{Family: 4, Table: 100000, TunnelID: 7}, false)
	if a := reqAttrs(t, q); q.typ != unix.RTM_DELRULE || u32(a[unix.FRA_TABLE]) != 100000 || binary.BigEndian.Uint64(a[unix.FRA_TUN_ID]) != 7 {
		t.Errorf("big table: %+v %v", q.hdr, a)
	}
	for _, bad := range []conf.Rule{
		{Action: "jump"},
		{From: netip.MustParsePrefix("10.77.0.0/16"), To: netip.MustParsePrefix("fd77::/64")},
		{FwMark: "x"},
	} {
		if _, err := toRule(bad, true); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestToAddr(t *testing.T) {
	a, err := toAddr(conf.Address{Prefix: netip.MustParsePrefix("10.77.1.10/24"), Label: "eth0:1"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Broadcast.Equal(net.IPv4zero) || a.Label != "eth0:1" || a.PreferedLft != 0 || a.ValidLft != 0 {
		t.Errorf("got %+v", a)
	}
	a, _ = toAddr(conf.Address{Prefix: netip.MustParsePrefix("10.77.1.10/24"), Label: "eth0:1"}, false)
	if a.Label != "" {
		t.Errorf("delete carries the label: %+v", a)
	}
	if ll := linkLocal(net.HardwareAddr{0x02, 0x77, 0, 0, 0, 1}).String(); ll != "fe80::77:ff:fe00:1" {
		t.Errorf("linkLocal = %s", ll)
	}
}
