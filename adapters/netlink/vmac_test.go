package netlink

import (
	"net"
	"slices"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/vigil-ha/vigil/effects"
)

// ipLinkDetail is the part of `ip -j -d link show` a VMAC test checks.
type ipLinkDetail struct {
	Ifname   string   `json:"ifname"`
	Link     string   `json:"link"`
	Flags    []string `json:"flags"`
	Address  string   `json:"address"`
	AddrGen  string   `json:"inet6_addr_gen_mode"`
	LinkInfo struct {
		Kind string `json:"info_kind"`
		Data struct {
			Mode string `json:"mode"`
		} `json:"info_data"`
	} `json:"linkinfo"`
}

func linkDetail(t *testing.T, ns, dev string) ipLinkDetail {
	t.Helper()
	var ls []ipLinkDetail
	ipJSON(t, ns, &ls, "-d", "link", "show", "dev", dev)
	if len(ls) != 1 {
		t.Fatalf("ip link show %s: %d links", dev, len(ls))
	}
	return ls[0]
}

func linkExists(t *testing.T, ns, dev string) bool {
	t.Helper()
	var ls []ipLinkDetail
	ipJSON(t, ns, &ls, "link", "show")
	return slices.ContainsFunc(ls, func(l ipLinkDetail) bool { return l.Ifname == dev })
}

func TestVMACv4(t *testing.T) {
	requireRoot(t)
	ns := vethNS(t, "vmac4")
	// A host-wide strict rp_filter must be lowered for the VMAC's 0 to
	// count, without loosening any other interface.
	setNSSysctl(t, ns, "/proc/sys/net/ipv4/conf/all/rp_filter", "2")
	setNSSysctl(t, ns, "/proc/sys/net/ipv4/conf/vb/rp_filter", "0")
	x := newExecutor(t, ns)
	create := &effects.CreateVMAC{Instance: "VI_1", Name: "vrrp.77", Parent: "va", MAC: "00:00:5e:00:01:4d"}
	for range 2 { // the second create reuses the interface
		if err := x.Apply(create); err != nil {
			t.Fatal(err)
		}
	}
	l := linkDetail(t, ns, "vrrp.77")
	if l.LinkInfo.Kind != "macvlan" || l.LinkInfo.Data.Mode != "private" {
		t.Errorf("kind %q mode %q, want macvlan private", l.LinkInfo.Kind, l.LinkInfo.Data.Mode)
	}
	if l.Address != "00:00:5e:00:01:4d" || l.Link != "va" || !slices.Contains(l.Flags, "UP") || l.AddrGen != "none" {
		t.Errorf("got %+v", l)
	}
	for _, c := range []struct{ path, want string }{
		{"/proc/sys/net/ipv4/conf/vrrp.77/arp_ignore", "1"},
		{"/proc/sys/net/ipv4/conf/vrrp.77/accept_local", "1"},
		{"/proc/sys/net/ipv4/conf/vrrp.77/rp_filter", "0"},
		{"/proc/sys/net/ipv4/conf/vrrp.77/promote_secondaries", "1"},
		{"/proc/sys/net/ipv4/conf/va/arp_ignore", "1"},
		{"/proc/sys/net/ipv4/conf/va/arp_filter", "1"},
		{"/proc/sys/net/ipv4/conf/all/rp_filter", "0"},
		{"/proc/sys/net/ipv4/conf/vb/rp_filter", "2"},
	} {
		if got := nsSysctl(t, ns, c.path); got != c.want {
			t.Errorf("%s = %s, want %s", c.path, got, c.want)
		}
	}
	if addrs := addrsOf(t, ns, "vrrp.77"); len(addrs) != 0 {
		t.Errorf("VMAC has addresses %v, want none (addrgenmode none)", addrs)
	}

	if err := x.Apply(&effects.CreateVMAC{Name: "va", Parent: "vb", MAC: "00:00:5e:00:01:4d"}); err == nil {
		t.Error("create over a non-macvlan interface succeeded")
	}
	for range 2 {
		if err := x.Apply(&effects.DeleteVMAC{Instance: "VI_1", Name: "vrrp.77"}); err != nil {
			t.Fatal(err)
		}
	}
	if linkExists(t, ns, "vrrp.77") {
		t.Error("VMAC still present after delete")
	}
	for _, p := range []string{"/proc/sys/net/ipv4/conf/va/arp_ignore", "/proc/sys/net/ipv4/conf/va/arp_filter"} {
		if got := nsSysctl(t, ns, p); got != "0" {
			t.Errorf("%s = %s after the last VMAC went, want 0 restored", p, got)
		}
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if got := nsSysctl(t, ns, "/proc/sys/net/ipv4/conf/all/rp_filter"); got != "2" {
		t.Errorf("all/rp_filter = %s after Close, want 2 restored", got)
	}
	if got := nsSysctl(t, ns, "/proc/sys/net/ipv4/conf/vb/rp_filter"); got != "0" {
		t.Errorf("vb/rp_filter = %s after Close, want 0 restored", got)
	}
}

func TestVMACv6(t *testing.T) {
	requireRoot(t)
	ns := vethNS(t, "vmac6")
	x := newExecutor(t, ns)
	if err := x.Apply(&effects.CreateVMAC{Name: "vrrp6.77", Parent: "va", MAC: "00:00:5e:00:02:4d"}); err != nil {
		t.Fatal(err)
	}
	l := linkDetail(t, ns, "vrrp6.77")
	if l.Address != "00:00:5e:00:02:4d" || l.LinkInfo.Data.Mode != "private" || l.AddrGen != "none" {
		t.Errorf("got %+v", l)
	}
	parent := linkDetail(t, ns, "va")
	mac, _ := net.ParseMAC(parent.Address)
	want := linkLocal(mac).String()
	addrs := addrsOf(t, ns, "vrrp6.77")
	if _, ok := addrs[want]; !ok || len(addrs) != 1 {
		t.Errorf("VMAC addresses %v, want only the parent's link-local %s", addrs, want)
	}
	if got := nsSysctl(t, ns, "/proc/sys/net/ipv4/conf/vrrp6.77/arp_ignore"); got != "1" {
		t.Errorf("arp_ignore = %s, want 1", got)
	}
	if got := nsSysctl(t, ns, "/proc/sys/net/ipv4/conf/va/arp_filter"); got != "0" {
		t.Errorf("parent arp_filter = %s, want 0 (untouched for IPv6)", got)
	}
	if err := x.Apply(&effects.DeleteVMAC{Name: "vrrp6.77"}); err != nil {
		t.Fatal(err)
	}
}

// TestVMACReplacesOtherMacvlan: a macvlan of the VMAC's name with another
// MAC (left by an earlier configuration) is replaced, as keepalived
// replaces it; Links reports a VMAC with its parent and MAC, for naming
// VMACs at load.
func TestVMACReplacesOtherMacvlan(t *testing.T) {
	requireRoot(t)
	ns := vethNS(t, "vmacr")
	ipn(t, ns, "link", "add", "vrrp.9", "link", "va", "address", "02:00:00:00:00:09", "type", "macvlan", "mode", "bridge")
	x := newExecutor(t, ns)
	if err := x.Apply(&effects.CreateVMAC{Instance: "VI_1", Name: "vrrp.9", Parent: "va", MAC: "00:00:5e:00:01:09"}); err != nil {
		t.Fatal(err)
	}
	l := linkDetail(t, ns, "vrrp.9")
	if l.Address != "00:00:5e:00:01:09" || l.Link != "va" || l.LinkInfo.Data.Mode != "private" {
		t.Errorf("got %+v", l)
	}
	var links []LinkInfo
	h, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := InNamespace(h, func() (err error) { links, err = Links(); return err }); err != nil {
		t.Fatal(err)
	}
	want := LinkInfo{Name: "vrrp.9", Macvlan: true, Parent: "va", MAC: "00:00:5e:00:01:09"}
	if !slices.Contains(links, want) || !slices.Contains(links, LinkInfo{Name: "vb"}) {
		t.Errorf("Links = %+v, want %+v and vb among them", links, want)
	}
}
