package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// vmacNamesConfs are configurations whose VMAC names keepalived 2.2.7
// makes unique: the same VRID for IPv4 and IPv6 on one interface and on
// a second interface, an explicit name that a generated one must avoid,
// an address's own VMAC (use_vmac on the address, use_vmac_addr), and
// vmac_prefix/vmac_addr_prefix with a prefix too long for 15 characters.
var vmacNamesConfs = []string{`global_defs {
  router_id vmac
}
vrrp_instance A4 {
  state MASTER
  interface eth0
  virtual_router_id 1
  priority 255
  advert_int 1
  use_vmac
  virtual_ipaddress {
    10.77.0.100/24
    10.78.0.100/24 dev eth1 use_vmac
  }
}
vrrp_instance A6 {
  state MASTER
  interface eth0
  virtual_router_id 1
  priority 255
  advert_int 1
  use_vmac
  virtual_ipaddress {
    fd77::100/64
  }
}
vrrp_instance B {
  state MASTER
  interface eth1
  virtual_router_id 2
  priority 255
  advert_int 1
  use_vmac vrrp.1
  virtual_ipaddress {
    10.78.0.102/24
  }
}
vrrp_instance C {
  state MASTER
  interface eth1
  virtual_router_id 2
  priority 255
  advert_int 1
  use_vmac
  virtual_ipaddress {
    fd78::102/64
  }
}
`, `global_defs {
  router_id vmac
  vmac_prefix averyverylongprefix
  vmac_addr_prefix va
}
vrrp_instance A {
  state MASTER
  interface eth0
  virtual_router_id 3
  priority 255
  advert_int 1
  use_vmac
  use_vmac_addr
  virtual_ipaddress {
    10.77.0.103/24
    10.78.0.103/24 dev eth1
    10.78.0.104/24 dev eth1
  }
  virtual_ipaddress_excluded {
    fd77::103/64
  }
}
vrrp_instance B {
  state MASTER
  interface eth1
  virtual_router_id 3
  priority 255
  advert_int 1
  use_vmac
  virtual_ipaddress {
    fd78::103/64
  }
}
vrrp_instance C {
  state MASTER
  interface eth0
  virtual_router_id 4
  priority 255
  advert_int 1
  use_vmac
  virtual_ipaddress {
    10.77.0.104/24
  }
}
`}

// vmacLink is the part of `ip -j -d link` and `ip -j addr` the test
// compares: a macvlan's name, lower interface, MAC and mode, and the
// global addresses on it.
type vmacLink struct {
	Name, Parent, MAC, Mode string
	Addrs                   []string
}

func (l vmacLink) String() string {
	return fmt.Sprintf("%s@%s %s %s %v", l.Name, l.Parent, l.MAC, l.Mode, l.Addrs)
}

// vmacLinks lists the node's macvlans, sorted by name.
func vmacLinks(t *testing.T, n *lab.Node) []vmacLink {
	t.Helper()
	var ls []struct {
		Ifname   string `json:"ifname"`
		Link     string `json:"link"`
		Address  string `json:"address"`
		LinkInfo struct {
			Kind string `json:"info_kind"`
			Data struct {
				Mode string `json:"mode"`
			} `json:"info_data"`
		} `json:"linkinfo"`
		AddrInfo []struct {
			Local     string `json:"local"`
			Prefixlen int    `json:"prefixlen"`
			Scope     string `json:"scope"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal([]byte(n.MustExec("ip", "-j", "-d", "addr", "show")), &ls); err != nil {
		t.Fatal(err)
	}
	var out []vmacLink
	for _, l := range ls {
		if l.LinkInfo.Kind != "macvlan" {
			continue
		}
		v := vmacLink{Name: l.Ifname, Parent: l.Link, MAC: l.Address, Mode: l.LinkInfo.Data.Mode}
		for _, a := range l.AddrInfo {
			if a.Scope == "global" {
				v.Addrs = append(v.Addrs, netip.PrefixFrom(netip.MustParseAddr(a.Local), a.Prefixlen).String())
			}
		}
		slices.Sort(v.Addrs)
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b vmacLink) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// vmacsSettled waits until the node has want VMACs holding every address
// of vips and returns them.
func vmacsSettled(t *testing.T, n *lab.Node, who string, want, vips int) []vmacLink {
	t.Helper()
	var got []vmacLink
	lab.MustWait(t, electTimeout, fmt.Sprintf("%s: %d VMACs holding %d VIPs", who, want, vips), func() bool {
		got = vmacLinks(t, n)
		k := 0
		for _, l := range got {
			k += len(l.Addrs)
		}
		return len(got) == want && k == vips
	})
	// A moment more: nothing else is coming.
	time.Sleep(500 * time.Millisecond)
	return vmacLinks(t, n)
}

// TestVMACNamesParity runs keepalived, then vigil, with each
// configuration of vmacNamesConfs on a node with two interfaces, and
// compares the VMACs they create (names, lower interfaces, MACs, mode)
// and the VIPs on each; both remove them all at shutdown.
func TestVMACNamesParity(t *testing.T) {
	l := lab.New(t, 1)
	n := l.Nodes[0]
	n.MustExec("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p")
	n.MustExec("ip", "link", "set", "eth1p", "up")
	n.MustExec("ip", "link", "set", "eth1", "up")
	n.MustExec("ip", "addr", "add", "10.78.0.11/24", "dev", "eth1")
	n.MustExec("ip", "addr", "add", "fd78::11/64", "dev", "eth1", "nodad")
	for k, text := range vmacNamesConfs {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			var kept []vmacLink
			for _, vigil := range []bool{false, true} {
				var p *lab.Proc
				who := "keepalived"
				if vigil {
					who = "vigil"
					p = n.StartVigil(t, text)
				} else {
					p = n.StartKeepalived(t, text)
				}
				want, vips := len(kept), 0
				for _, v := range kept {
					vips += len(v.Addrs)
				}
				if !vigil {
					// keepalived's count is learned: wait for its VMACs
					// to stop changing.
					lab.MustWait(t, electTimeout, "keepalived's VMACs and VIPs", func() bool {
						a := fmt.Sprint(vmacLinks(t, n))
						time.Sleep(1500 * time.Millisecond)
						b := vmacLinks(t, n)
						vips = 0
						for _, v := range b {
							vips += len(v.Addrs)
						}
						want = len(b)
						return a == fmt.Sprint(b) && vips >= 4
					})
				}
				got := vmacsSettled(t, n, who, want, vips)
				t.Logf("%s:\n%s", who, fmt.Sprint(got))
				if vigil {
					if fmt.Sprint(got) != fmt.Sprint(kept) {
						t.Errorf("VMACs differ:\nkeepalived: %v\nvigil:      %v", kept, got)
					}
				} else {
					kept = got
				}
				if err := p.Stop(10 * time.Second); err != nil {
					t.Logf("%s stop: %v", who, err)
				}
				lab.MustWait(t, 10*time.Second, who+" removing its VMACs", func() bool { return len(vmacLinks(t, n)) == 0 })
			}
		})
	}
}

// TestVMACNamesReloadParity: a reload that adds, before an instance with
// a VMAC, another instance with the same VRID on another interface keeps
// the first VMAC's name (it exists: keepalived reuses it, and so does
// vigil, which names VMACs with the host's interfaces in view) and names
// the new one around it; keepalived and vigil end with the same VMACs.
func TestVMACNamesReloadParity(t *testing.T) {
	l := lab.New(t, 1)
	n := l.Nodes[0]
	n.MustExec("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p")
	n.MustExec("ip", "link", "set", "eth1p", "up")
	n.MustExec("ip", "link", "set", "eth1", "up")
	n.MustExec("ip", "addr", "add", "10.78.0.11/24", "dev", "eth1")
	inst := func(name, iface, vip string) string {
		return fmt.Sprintf("vrrp_instance %s {\n  state MASTER\n  interface %s\n  virtual_router_id 1\n  priority 255\n  advert_int 1\n  use_vmac\n  virtual_ipaddress {\n    %s\n  }\n}\n", name, iface, vip)
	}
	before := "global_defs {\n  router_id reload\n}\n" + inst("A", "eth0", "10.77.0.100/24")
	after := "global_defs {\n  router_id reload\n}\n" + inst("Z", "eth1", "10.78.0.100/24") + inst("A", "eth0", "10.77.0.100/24")
	var kept string
	for _, vigil := range []bool{false, true} {
		who := "keepalived"
		var p *lab.Proc
		if vigil {
			who = "vigil"
			p = n.StartVigil(t, before)
		} else {
			p = n.StartKeepalived(t, before)
		}
		first := vmacsSettled(t, n, who, 1, 1)
		if err := os.WriteFile(filepath.Join(p.Dir, "keepalived.conf"), []byte(after), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := p.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		got := vmacsSettled(t, n, who+" after the reload", 2, 2)
		t.Logf("%s: %v, after the reload %v", who, first, got)
		if first[0].Name != "vrrp.1" || !slices.ContainsFunc(got, func(v vmacLink) bool { return v.Name == "vrrp.1" && v.Parent == "eth0" }) {
			t.Errorf("%s: A's VMAC renamed: %v, then %v", who, first, got)
		}
		if vigil && fmt.Sprint(got) != kept {
			t.Errorf("VMACs differ after the reload:\nkeepalived: %s\nvigil:      %v", kept, got)
		}
		kept = fmt.Sprint(got)
		if err := p.Stop(10 * time.Second); err != nil {
			t.Logf("%s stop: %v", who, err)
		}
		lab.MustWait(t, 10*time.Second, who+" removing its VMACs", func() bool { return len(vmacLinks(t, n)) == 0 })
	}
}
