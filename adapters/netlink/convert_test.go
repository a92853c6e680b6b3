package netlink

import (
	"net"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events/conf"
)

// These run without root: they check the translation of configuration
// lines into netlink requests.

func noLinks(string) (int, error) { return 7, nil }

func TestToRouteDefaults(t *testing.T) {
	r, err := toRoute(conf.Route{Dst: netip.MustParsePrefix("10.77.5.9/24"), Dev: "eth0"}, true, noLinks)
	if err != nil {
		t.Fatal(err)
	}
	if r.Dst.String() != "10.77.5.0/24" || r.Scope != unix.RT_SCOPE_LINK || r.Protocol != rtprotKeepalived || r.LinkIndex != 7 {
		t.Errorf("device route: %+v", r)
	}
	r, _ = toRoute(conf.Route{Dst: netip.MustParsePrefix("10.77.5.0/24"), Via: netip.MustParseAddr("10.77.1.1")}, true, noLinks)
	if r.Scope != unix.RT_SCOPE_UNIVERSE || !r.Gw.Equal(net.ParseIP("10.77.1.1")) {
		t.Errorf("gateway route: %+v", r)
	}
	r, _ = toRoute(conf.Route{Dst: netip.MustParsePrefix("10.77.5.0/24"), Via: netip.MustParseAddr("fd77::1")}, true, noLinks)
	if r.Gw != nil || r.Via == nil {
		t.Errorf("IPv4 via IPv6 should use RTA_VIA: %+v", r)
	}
	r, _ = toRoute(conf.Route{Type: "local", Dst: netip.MustParsePrefix("10.77.5.1/32")}, true, noLinks)
	if r.Scope != unix.RT_SCOPE_HOST || r.Type != unix.RTN_LOCAL {
		t.Errorf("local route: %+v", r)
	}
	r, _ = toRoute(conf.Route{Dst: netip.MustParsePrefix("10.77.5.0/24")}, false, noLinks)
	if r.Scope != unix.RT_SCOPE_NOWHERE || r.Protocol != 0 {
		t.Errorf("delete must match any scope and protocol: %+v", r)
	}
	if _, err := toRoute(conf.Route{Dst: netip.MustParsePrefix("10.77.5.0/24"), Or: netip.MustParseAddr("10.77.1.2")}, true, noLinks); err == nil {
		t.Error(`"or" without "via" accepted`)
	}
	if _, err := toRoute(conf.Route{Type: "bogus", Dst: netip.MustParsePrefix("10.77.5.0/24")}, true, noLinks); err == nil {
		t.Error("unknown type accepted")
	}
}

func TestToRule(t *testing.T) {
	r, err := toRule(conf.Rule{From: netip.MustParsePrefix("fd77::/64"), FwMark: "0x10/0xff", Other: []conf.KeyValue{{Key: "not"}, {Key: "sport", Value: "1000-2000"}}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if r.Family != unix.AF_INET6 || r.Table != unix.RT_TABLE_MAIN || r.Mark != 0x10 || r.Mask == nil || *r.Mask != 0xff ||
		!r.Invert || r.Sport == nil || r.Sport.Start != 1000 || r.Sport.End != 2000 || r.Priority != -1 {
		t.Errorf("got %+v", r)
	}
	r, _ = toRule(conf.Rule{Family: 4, Action: "unreachable"}, true)
	if r.Table != 0 || r.Type != 7 {
		t.Errorf("unreachable rule: %+v", r)
	}
	for _, bad := range []conf.Rule{
		{Action: "goto"},
		{Action: "jump 3"},
		{From: netip.MustParsePrefix("10.77.0.0/16"), To: netip.MustParsePrefix("fd77::/64")},
		{Other: []conf.KeyValue{{Key: "l3mdev"}}},
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
