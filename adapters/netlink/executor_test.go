package netlink

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events/conf"
)

// ipAddrInfo is one entry of `ip -j addr`'s addr_info.
type ipAddrInfo struct {
	Family        string `json:"family"`
	Local         string `json:"local"`
	Address       string `json:"address"`
	PrefixLen     int    `json:"prefixlen"`
	Broadcast     string `json:"broadcast"`
	Scope         string `json:"scope"`
	Label         string `json:"label"`
	NoDAD         bool   `json:"nodad"`
	Home          bool   `json:"home"`
	MngTmpAddr    bool   `json:"mngtmpaddr"`
	NoPrefixRoute bool   `json:"noprefixroute"`
	AutoJoin      bool   `json:"autojoin"`
	Preferred     uint64 `json:"preferred_life_time"`
	Valid         uint64 `json:"valid_life_time"`
}

// addrsOf lists an interface's addresses by local address.
func addrsOf(t *testing.T, ns, dev string) map[string]ipAddrInfo {
	t.Helper()
	var links []struct {
		AddrInfo []ipAddrInfo `json:"addr_info"`
	}
	ipJSON(t, ns, &links, "addr", "show", "dev", dev)
	m := map[string]ipAddrInfo{}
	for _, l := range links {
		for _, a := range l.AddrInfo {
			m[a.Local] = a
		}
	}
	return m
}

func ptr[T any](v T) *T { return &v }

func TestAddressOptions(t *testing.T) {
	requireRoot(t)
	ns := vethNS(t, "addr")
	x := newExecutor(t, ns)
	const forever = 4294967295

	cases := []struct {
		name string
		eff  effects.AddAddress
		want ipAddrInfo
	}{
		{"v4 brd label scope", effects.AddAddress{Interface: "va", Address: conf.Address{
			Prefix: netip.MustParsePrefix("10.77.1.10/24"), Broadcast: netip.MustParseAddr("10.77.1.255"),
			Label: "va:vip", Scope: "link"}},
			ipAddrInfo{Family: "inet", Local: "10.77.1.10", PrefixLen: 24, Broadcast: "10.77.1.255", Scope: "link", Label: "va:vip", Preferred: forever, Valid: forever}},
		{"v4 no brd unless asked", effects.AddAddress{Address: conf.Address{
			Prefix: netip.MustParsePrefix("10.77.3.10/24"), Dev: "va"}},
			ipAddrInfo{Family: "inet", Local: "10.77.3.10", PrefixLen: 24, Scope: "global", Label: "va", Preferred: forever, Valid: forever}},
		{"v4 peer", effects.AddAddress{Interface: "va", Address: conf.Address{
			Prefix: netip.MustParsePrefix("10.77.2.1/32"), Peer: netip.MustParsePrefix("10.77.2.2/32")}},
			ipAddrInfo{Family: "inet", Local: "10.77.2.1", Address: "10.77.2.2", PrefixLen: 32, Scope: "global", Label: "va", Preferred: forever, Valid: forever}},
		{"v6 flags preferred_lft", effects.AddAddress{Interface: "vb", Address: conf.Address{
			Prefix: netip.MustParsePrefix("fd77::10/64"), Dev: "va", NoDAD: true, Home: true, MngTmpAddr: true,
			NoPrefixRoute: true, PreferredLft: ptr[int64](30)}},
			ipAddrInfo{Family: "inet6", Local: "fd77::10", PrefixLen: 64, Scope: "global", NoDAD: true, Home: true, MngTmpAddr: true, NoPrefixRoute: true, Preferred: 30, Valid: forever}},
		{"v6 /128 deprecated by default", effects.AddAddress{Interface: "va", Address: conf.Address{
			Prefix: netip.MustParsePrefix("fd77::11/128"), NoDAD: true}},
			ipAddrInfo{Family: "inet6", Local: "fd77::11", PrefixLen: 128, Scope: "global", NoDAD: true, Preferred: 0, Valid: forever}},
		{"v6 forever", effects.AddAddress{Interface: "va", Address: conf.Address{
			Prefix: netip.MustParsePrefix("fd77::12/128"), NoDAD: true, PreferredLft: ptr[int64](-1)}},
			ipAddrInfo{Family: "inet6", Local: "fd77::12", PrefixLen: 128, Scope: "global", NoDAD: true, Preferred: forever, Valid: forever}},
		{"v4 autojoin multicast", effects.AddAddress{Interface: "va", Address: conf.Address{
			Prefix: netip.MustParsePrefix("239.77.0.1/32"), AutoJoin: true}},
			ipAddrInfo{Family: "inet", Local: "239.77.0.1", PrefixLen: 32, Scope: "global", Label: "va", AutoJoin: true, Preferred: forever, Valid: forever}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := x.Apply(&c.eff); err != nil {
				t.Fatal(err)
			}
			if err := x.Apply(&c.eff); err != nil {
				t.Fatalf("adding an existing address: %v", err)
			}
			got, ok := addrsOf(t, ns, "va")[c.want.Local]
			if !ok {
				t.Fatalf("%s not on va: %v", c.want.Local, addrsOf(t, ns, "va"))
			}
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
			del := &effects.DelAddress{Address: c.eff.Address, Interface: c.eff.Interface}
			if err := x.Apply(del); err != nil {
				t.Fatal(err)
			}
			if _, ok := addrsOf(t, ns, "va")[c.want.Local]; ok {
				t.Fatalf("%s still on va after delete", c.want.Local)
			}
			if err := x.Apply(del); err != nil {
				t.Fatalf("deleting a missing address: %v", err)
			}
		})
	}
}

func TestAddressErrors(t *testing.T) {
	requireRoot(t)
	ns := vethNS(t, "adderr")
	x := newExecutor(t, ns)
	a := conf.Address{Prefix: netip.MustParsePrefix("10.77.1.10/24")}
	if err := x.Apply(&effects.AddAddress{Address: a}); err == nil {
		t.Error("add without any interface succeeded")
	}
	if err := x.Apply(&effects.AddAddress{Address: a, Interface: "nosuch"}); err == nil {
		t.Error("add on a missing interface succeeded")
	}
	if err := x.Apply(&effects.DelAddress{Address: a, Interface: "nosuch"}); err != nil {
		t.Errorf("delete on a missing interface: %v", err)
	}
	if err := x.Apply(&effects.SendGARP{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("SendGARP: got %v, want ErrUnsupported", err)
	}
}

// ipRoute is one entry of `ip -j route`.
type ipRoute struct {
	Type     string `json:"type"`
	Dst      string `json:"dst"`
	Gateway  string `json:"gateway"`
	Dev      string `json:"dev"`
	Protocol string `json:"protocol"`
	Scope    string `json:"scope"`
	PrefSrc  string `json:"prefsrc"`
	Metric   int    `json:"metric"`
	Nexthops []struct {
		Gateway string `json:"gateway"`
		Dev     string `json:"dev"`
	} `json:"nexthops"`
}

func routesIn(t *testing.T, ns, table string) map[string]ipRoute {
	t.Helper()
	var rs []ipRoute
	ipJSON(t, ns, &rs, "route", "show", "table", table)
	m := map[string]ipRoute{}
	for _, r := range rs {
		m[r.Dst] = r
	}
	return m
}

func TestRoutes(t *testing.T) {
	requireRoot(t)
	ns := vethNS(t, "route")
	ipn(t, ns, "addr", "add", "10.77.1.10/24", "dev", "va")
	x := newExecutor(t, ns)

	routes := []struct {
		r     conf.Route
		table string
		check func(ipRoute) bool
	}{
		{conf.Route{Dst: netip.MustParsePrefix("10.77.50.0/24"), Via: netip.MustParseAddr("10.77.1.1"), Dev: "va",
			Src: netip.MustParseAddr("10.77.1.10"), Table: 100, Metric: 5, Protocol: "static"}, "100",
			func(r ipRoute) bool {
				return r.Gateway == "10.77.1.1" && r.Dev == "va" && r.PrefSrc == "10.77.1.10" && r.Metric == 5 && r.Protocol == "static"
			}},
		{conf.Route{Dst: netip.MustParsePrefix("10.77.51.0/24"), Dev: "va"}, "main",
			func(r ipRoute) bool { return r.Dev == "va" && r.Scope == "link" && r.Protocol == "keepalived" }},
		{conf.Route{Type: "blackhole", Dst: netip.MustParsePrefix("10.77.52.0/24")}, "main",
			func(r ipRoute) bool { return r.Type == "blackhole" }},
		{conf.Route{Dst: netip.MustParsePrefix("10.77.53.0/24"), Via: netip.MustParseAddr("10.77.1.1"),
			Or: netip.MustParseAddr("10.77.1.2"), Dev: "va"}, "main",
			func(r ipRoute) bool {
				return len(r.Nexthops) == 2 && r.Nexthops[0].Gateway == "10.77.1.1" && r.Nexthops[1].Gateway == "10.77.1.2"
			}},
		{conf.Route{Dst: netip.MustParsePrefix("fd77:1::/64"), Dev: "va", Scope: "global", Metrics: []conf.RouteMetric{{Name: "mtu", Value: 1400}}}, "main",
			func(r ipRoute) bool { return r.Dev == "va" }},
	}
	for _, c := range routes {
		t.Run(c.r.Dst.String(), func(t *testing.T) {
			for range 2 {
				if err := x.Apply(&effects.AddRoute{Route: c.r}); err != nil {
					t.Fatal(err)
				}
			}
			table := c.table
			if c.r.Dst.Addr().Is6() {
				table = "main"
				var rs []ipRoute
				ipJSON(t, ns, &rs, "-6", "route", "show", "table", table)
				found := false
				for _, r := range rs {
					found = found || r.Dst == c.r.Dst.String()
				}
				if !found {
					t.Fatalf("%s not installed: %+v", c.r.Dst, rs)
				}
			} else {
				got, ok := routesIn(t, ns, table)[c.r.Dst.String()]
				if !ok || !c.check(got) {
					t.Fatalf("route %s in table %s: got %+v (present %v)", c.r.Dst, table, got, ok)
				}
			}
			for range 2 {
				if err := x.Apply(&effects.DelRoute{Route: c.r}); err != nil {
					t.Fatal(err)
				}
			}
			if _, ok := routesIn(t, ns, table)[c.r.Dst.String()]; ok {
				t.Fatalf("route %s still present", c.r.Dst)
			}
		})
	}
	if err := x.Apply(&effects.AddRoute{Route: conf.Route{Dst: netip.MustParsePrefix("10.77.54.0/24"), Metrics: []conf.RouteMetric{{Name: "bogus", Value: 1}}}}); err == nil {
		t.Error("unknown route metric accepted")
	}
	if err := x.Apply(&effects.DelRoute{Route: conf.Route{Dst: netip.MustParsePrefix("10.77.54.0/24"), Dev: "gone"}}); err != nil {
		t.Errorf("delete via a missing interface: %v", err)
	}
}

// ipRule is one entry of `ip -j rule`.
type ipRule struct {
	Priority int    `json:"priority"`
	Src      string `json:"src"`
	SrcLen   int    `json:"srclen"`
	Dst      string `json:"dst"`
	Table    string `json:"table"`
	FwMark   string `json:"fwmark"`
	FwMask   string `json:"fwmask"`
	IIf      string `json:"iif"`
	OIf      string `json:"oif"`
	DstLen   int    `json:"dstlen"`
	Action   string `json:"action"`
	Goto     int    `json:"goto"`
}

func rulesByPrio(t *testing.T, ns string, fam string) map[int]ipRule {
	t.Helper()
	var rs []ipRule
	ipJSON(t, ns, &rs, fam, "rule", "show")
	m := map[int]ipRule{}
	for _, r := range rs {
		m[r.Priority] = r
	}
	return m
}

func TestRules(t *testing.T) {
	requireRoot(t)
	ns := vethNS(t, "rule")
	x := newExecutor(t, ns)
	cases := []struct {
		r    conf.Rule
		fam  string
		want ipRule
	}{
		{conf.Rule{From: netip.MustParsePrefix("10.77.9.0/24"), Priority: 1000, Table: 100}, "-4",
			ipRule{Priority: 1000, Src: "10.77.9.0", SrcLen: 24, Table: "100"}},
		{conf.Rule{To: netip.MustParsePrefix("10.77.8.0/24"), Priority: 1001, FwMark: "0x10/0xff", IIf: "va", Table: 101}, "-4",
			ipRule{Priority: 1001, Src: "all", Dst: "10.77.8.0", DstLen: 24, Table: "101", FwMark: "0x10", FwMask: "0xff", IIf: "va"}},
		{conf.Rule{Family: 4, Priority: 1002, OIf: "vb", Action: "blackhole"}, "-4",
			ipRule{Priority: 1002, Src: "all", OIf: "vb", Action: "blackhole"}},
		{conf.Rule{Family: 4, Priority: 1003, Action: "goto", Goto: 1005}, "-4",
			ipRule{Priority: 1003, Src: "all", Goto: 1005}},
		{conf.Rule{From: netip.MustParsePrefix("fd77::/64"), Priority: 1004}, "-6",
			ipRule{Priority: 1004, Src: "fd77::", SrcLen: 64, Table: "main"}},
	}
	for _, c := range cases {
		for range 2 {
			if err := x.Apply(&effects.AddRule{Rule: c.r}); err != nil {
				t.Fatalf("add %+v: %v", c.r, err)
			}
		}
		got := rulesByPrio(t, ns, c.fam)[c.r.Priority]
		if got != c.want {
			t.Errorf("rule %d:\n got  %+v\n want %+v", c.r.Priority, got, c.want)
		}
		for range 2 {
			if err := x.Apply(&effects.DelRule{Rule: c.r}); err != nil {
				t.Fatalf("delete %+v: %v", c.r, err)
			}
		}
		if _, ok := rulesByPrio(t, ns, c.fam)[c.r.Priority]; ok {
			t.Errorf("rule %d still present", c.r.Priority)
		}
	}
}
