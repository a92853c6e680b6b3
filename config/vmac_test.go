package config

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/events/conf"
)

// vmacInst is one vrrp_instance for the VMAC naming tests.
func vmacInst(name, iface string, vrid int, body string) string {
	return fmt.Sprintf("vrrp_instance %s {\n interface %s\n virtual_router_id %d\n%s\n}\n", name, iface, vrid, body)
}

func loadVMAC(t *testing.T, text string, links []Link) (*conf.Config, string) {
	t.Helper()
	opts := Options{ConfigID: "t"}
	if links != nil {
		opts.Links = func() ([]Link, error) { return links, nil }
	}
	cfg, diags, err := LoadString("vmac.conf", text, opts)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, list(diags))
	}
	return cfg, list(diags)
}

// vmacNames lists each instance's VMAC and each address's own VMAC.
func vmacNames(cfg *conf.Config) string {
	var b strings.Builder
	for _, in := range cfg.Instances {
		fmt.Fprintf(&b, "%s:%s", in.Name, in.VMACName)
		for _, as := range [][]conf.Address{in.VirtualIPAddresses, in.VirtualIPAddressesExcluded} {
			for _, a := range as {
				if a.VMAC != "" {
					fmt.Fprintf(&b, " %s=%s", a.Prefix, a.VMAC)
				}
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestVMACNames: the names keepalived 2.2.7 gives the same configurations
// (observed with `ip -d link` in a namespace; e2e/vmac_test.go compares
// the two daemons on the kernel): PREFIX.VRID, then PREFIXn.VRID for a
// name already taken (an IPv6 instance tries n = 6 first), explicit
// names kept and avoided, the prefix shortened to 15 characters, the
// addresses' VMACs named from vmac_addr_prefix.
func TestVMACNames(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{{
		name: "same VRID, both families and two interfaces",
		text: vmacInst("A4", "eth0", 1, " use_vmac\n virtual_ipaddress {\n  10.77.0.100/24\n }") +
			vmacInst("A6", "eth0", 1, " use_vmac\n virtual_ipaddress {\n  fd77::100/64\n }") +
			vmacInst("B", "eth1", 1, " use_vmac\n virtual_ipaddress {\n  10.78.0.101/24\n }") +
			vmacInst("C", "eth1", 1, " use_vmac\n virtual_ipaddress {\n  fd78::101/64\n }") +
			vmacInst("D", "eth2", 1, " use_vmac\n virtual_ipaddress {\n  fd79::101/64\n }"),
		want: "A4:vrrp.1\nA6:vrrp6.1\nB:vrrp1.1\nC:vrrp2.1\nD:vrrp3.1\n",
	}, {
		// C's explicit vrrp.1 is avoided by A4, named before it.
		name: "explicit names are avoided",
		text: vmacInst("A4", "eth0", 1, " use_vmac\n virtual_ipaddress {\n  10.77.0.100/24\n  10.78.0.100/24 dev eth1 use_vmac\n }") +
			vmacInst("A6", "eth0", 1, " use_vmac\n virtual_ipaddress {\n  fd77::100/64\n }") +
			vmacInst("C", "eth1", 2, " use_vmac vrrp.1\n virtual_ipaddress {\n  10.78.0.102/24\n }"),
		want: "A4:vrrp1.1 10.78.0.100/24=vrrp2.1\nA6:vrrp6.1\nC:vrrp.1\n",
	}, {
		name: "prefixes, shortened",
		text: "global_defs {\n vmac_prefix averyverylongprefix\n vmac_addr_prefix va\n}\n" +
			vmacInst("A4", "eth0", 1, " use_vmac\n use_vmac_addr\n virtual_ipaddress {\n  10.77.0.100/24\n  10.78.0.100/24 dev eth1\n }") +
			vmacInst("A6", "eth0", 1, " use_vmac\n virtual_ipaddress {\n  fd77::100/64\n }") +
			vmacInst("B", "eth1", 3, " use_vmac\n virtual_ipaddress {\n  10.78.0.101/24\n }") +
			vmacInst("B2", "eth0", 3, " use_vmac\n virtual_ipaddress {\n  10.77.0.101/24\n }") +
			vmacInst("B3", "eth0", 3, " use_vmac\n virtual_ipaddress {\n  fd77::101/64\n }"),
		want: "A4:averyverylong.1 10.78.0.100/24=va.1\nA6:averyverylon6.1\nB:averyverylong.3\nB2:averyverylon1.3\nB3:averyverylon6.3\n",
	}, {
		// use_vmac_addr gives the other family's eVIPs on the instance's
		// interface a VMAC; several addresses share one.
		name: "use_vmac_addr",
		text: vmacInst("A", "eth0", 9, " use_vmac_addr\n virtual_ipaddress {\n  10.77.0.100/24\n  10.78.0.100/24 dev eth1\n  10.78.0.101/24 dev eth1\n }\n virtual_ipaddress_excluded {\n  fd77::100/64\n }"),
		want: "A: 10.78.0.100/24=vrrp.9 10.78.0.101/24=vrrp.9 fd77::100/64=vrrp6.9\n",
	}, {
		name: "an address's use_vmac on the instance's own VMAC does nothing",
		text: vmacInst("A", "eth0", 9, " use_vmac\n virtual_ipaddress {\n  10.77.0.100/24 use_vmac\n  10.77.0.101/24 dev eth0 use_vmac\n }"),
		want: "A:vrrp.9\n",
	}, {
		name: "an interface the configuration names is avoided",
		text: vmacInst("A", "vrrp.4", 4, " use_vmac\n virtual_ipaddress {\n  10.77.0.100/24\n }"),
		want: "A:vrrp1.4\n",
	}, {
		name: "a duplicate explicit name is dropped",
		text: vmacInst("A", "eth0", 4, " use_vmac vm0\n virtual_ipaddress {\n  10.77.0.100/24\n }") +
			vmacInst("B", "eth1", 4, " use_vmac vm0\n virtual_ipaddress {\n  10.78.0.100/24\n }"),
		want: "A:vm0\nB:vrrp.4\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := loadVMAC(t, tc.text, nil)
			if got := vmacNames(cfg); got != tc.want {
				t.Errorf("names:\n%s\nwant:\n%s\ndiagnostics:\n%s", got, tc.want, diags)
			}
		})
	}
}

// TestVMACNamesHost: with the host's interfaces known (vigil run), a
// name in use is skipped and a VMAC already there (left by an earlier
// run, or before a reload) is reused under its name, as keepalived does.
func TestVMACNamesHost(t *testing.T) {
	text := vmacInst("Z", "eth1", 1, " use_vmac\n virtual_ipaddress {\n  10.78.0.100/24\n }") +
		vmacInst("A", "eth0", 1, " use_vmac\n virtual_ipaddress {\n  10.77.0.100/24\n }") +
		vmacInst("N", "eth0", 7, " use_vmac vrrp.7\n virtual_ipaddress {\n  10.77.0.107/24\n }")
	links := []Link{
		{Name: "eth0"}, {Name: "eth1"}, {Name: "vrrp.7"},
		{Name: "vrrp.1", Macvlan: true, Parent: "eth0", MAC: "00:00:5e:00:01:01"},
	}
	cfg, diags := loadVMAC(t, text, links)
	if got, want := vmacNames(cfg), "Z:vrrp1.1\nA:vrrp.1\nN:vrrp1.7\n"; got != want {
		t.Errorf("names:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(diags, "(N) interface vrrp.7 already exists and is not a private macvlan; ignoring vmac if_name") {
		t.Errorf("no warning for vrrp.7:\n%s", diags)
	}
}

// TestVMACAddr: use_vmac's MAC, its 5-octet form (the VRID completes it),
// and the addresses keepalived refuses.
func TestVMACAddr(t *testing.T) {
	cfg, diags := loadVMAC(t, vmacInst("A", "eth0", 18, " use_vmac 2:0:5e:1:2\n virtual_ipaddress {\n  10.77.0.100/24\n }")+
		vmacInst("B", "eth0", 19, " use_vmac 03:00:5e:01:02:03\n virtual_ipaddress {\n  10.77.0.101/24\n }")+
		vmacInst("C", "eth0", 20, " use_vmac 00:00:5e:00:01:20\n virtual_ipaddress {\n  10.77.0.102/24\n }"), nil)
	if got := cfg.Instances[0].VMACAddr; got != "02:00:5e:01:02:12" {
		t.Errorf("A's MAC = %q", got)
	}
	for k, w := range []string{"VMAC MAC address is multicast 03:00:5e:01:02:03 - ignored", "not allowed to be an RFC 5798 address"} {
		if cfg.Instances[k+1].VMACAddr != "" || !strings.Contains(diags, w) {
			t.Errorf("%s: MAC %q, diagnostics:\n%s", cfg.Instances[k+1].Name, cfg.Instances[k+1].VMACAddr, diags)
		}
	}
}

// TestVMACShared: an address's VMAC that is another instance's VMAC is an
// error (keepalived disables that instance for good).
func TestVMACShared(t *testing.T) {
	_, diags, err := LoadString("vmac.conf", vmacInst("A", "eth0", 1, " use_vmac\n virtual_ipaddress {\n  10.77.0.100/24\n }")+
		vmacInst("B", "eth1", 1, " virtual_ipaddress {\n  10.78.0.100/24\n  10.77.0.101/24 dev eth0 use_vmac\n }"), Options{ConfigID: "t"})
	if err == nil || !strings.Contains(list(diags), "(B) VIP/eVIP 10.77.0.101/24 uses the same VMAC") {
		t.Errorf("err %v, diagnostics:\n%s", err, list(diags))
	}
}

// freeName resumes its search where the last one stopped; it must name
// exactly what the full search from PREFIX.VRID names, whatever the mix
// of VRIDs, families, prefixes and names taken by others in between.
func TestVMACFreeNameResumes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	taken := map[string]bool{}
	ds := &vmacDevs{next: map[vmacNameKey]int{}}
	for i := range 5000 {
		prefix := []string{"vrrp", "vm", "averyverylongprefix"}[rng.IntN(3)]
		vrid, fam := 1+rng.IntN(4), []int{4, 6}[rng.IntN(2)]
		if rng.IntN(5) == 0 {
			// A name taken by something else: an explicit use_vmac
			// name or a host interface.
			taken[fmt.Sprintf("%s%d.%d", prefix, rng.IntN(20), vrid)] = true
			continue
		}
		want := vmacIfName(prefix, vrid, fam, taken)
		got := ds.freeName(prefix, vrid, fam, taken)
		if got != want {
			t.Fatalf("step %d: %s/%d/IPv%d: freeName %q, full search %q", i, prefix, vrid, fam, got, want)
		}
		taken[got] = true
	}
}
