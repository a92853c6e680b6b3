package netlink

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"

	vnl "github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/effects"
)

// The sysctls keepalived sets when it creates a VMAC. On the VMAC:
// arp_ignore=1 so it answers ARP only for its own addresses; for IPv4 also
// accept_local=1 and rp_filter=0 so adverts sent by the parent's other VMACs
// are accepted, and promote_secondaries=1 so deleting one VIP keeps the
// others. On an IPv4 VMAC's parent: arp_ignore=1 and arp_filter=1 so the
// parent does not answer ARP for the VIPs with its own MAC (restored when
// its last VMAC goes).
var (
	vmacSysctls4 = []sysctlSetting{{"arp_ignore", 1}, {"accept_local", 1}, {"rp_filter", 0}, {"promote_secondaries", 1}}
	vmacSysctls6 = []sysctlSetting{{"arp_ignore", 1}}
	parentSysctl = []sysctlSetting{{"arp_ignore", 1}, {"arp_filter", 1}}
)

// sysctlSetting is one net/ipv4/conf/IFACE/NAME value.
type sysctlSetting struct {
	name  string
	value int
}

// parentState remembers a VMAC parent's ARP settings for restoring.
type parentState struct {
	refs  int
	saved []sysctlSetting
}

// isIPv6VMAC reports whether mac is an IPv6 VRRP virtual MAC
// (00:00:5e:00:02:VRID).
func isIPv6VMAC(mac net.HardwareAddr) bool {
	return len(mac) == 6 && bytes.Equal(mac[:5], []byte{0, 0, 0x5e, 0, 2})
}

// createVMAC creates a private-mode macvlan with the virtual MAC on the
// parent, sets keepalived's sysctls, disables IPv6 address autogeneration
// (RFC 5798 §7.4: the VMAC must not get an EUI-64 link-local address) and
// brings it up. An existing macvlan of that name, parent and MAC is reused;
// one of another parent, MAC or mode is replaced.
func (x *Executor) createVMAC(e *effects.CreateVMAC) error {
	mac, err := net.ParseMAC(e.MAC)
	if err != nil || len(mac) != 6 {
		return fmt.Errorf("create vmac %s: bad MAC %q", e.Name, e.MAC)
	}
	parent, err := x.h.LinkByName(e.Parent)
	if err != nil {
		return fmt.Errorf("create vmac %s: parent %s: %w", e.Name, e.Parent, err)
	}
	link, err := x.h.LinkByName(e.Name)
	if err == nil {
		mv, ok := link.(*vnl.Macvlan)
		switch {
		case !ok:
			return fmt.Errorf("create vmac %s: a different interface of that name exists", e.Name)
		case mv.ParentIndex != parent.Attrs().Index || !bytes.Equal(mv.HardwareAddr, mac) || mv.Mode != vnl.MACVLAN_MODE_PRIVATE:
			// A macvlan of that name but another parent, MAC or mode
			// (left by an earlier configuration): replaced, as
			// keepalived does.
			if err := x.h.LinkDel(link); err != nil && !isLinkNotFound(err) {
				return fmt.Errorf("create vmac %s: remove the old macvlan: %w", e.Name, err)
			}
			err = vnl.LinkNotFoundError{}
		}
	}
	switch {
	case err == nil:
	case isLinkNotFound(err):
		mv := &vnl.Macvlan{
			LinkAttrs: vnl.LinkAttrs{Name: e.Name, ParentIndex: parent.Attrs().Index, HardwareAddr: mac},
			Mode:      vnl.MACVLAN_MODE_PRIVATE,
		}
		if err := x.h.LinkAdd(mv); err != nil {
			return fmt.Errorf("create vmac %s on %s: %w", e.Name, e.Parent, err)
		}
		if link, err = x.h.LinkByName(e.Name); err != nil {
			return fmt.Errorf("create vmac %s: %w", e.Name, err)
		}
	default:
		return fmt.Errorf("create vmac %s: %w", e.Name, err)
	}
	v6 := isIPv6VMAC(mac)
	if err := x.vmacSysctls(e.Name, e.Parent, v6); err != nil {
		return fmt.Errorf("create vmac %s: %w", e.Name, err)
	}
	if err := x.h.LinkSetIP6AddrGenMode(link, nl.IN6_ADDR_GEN_MODE_NONE); err != nil && !ipv6Disabled() {
		return fmt.Errorf("create vmac %s: addrgenmode none: %w", e.Name, err)
	}
	if err := x.h.LinkSetUp(link); err != nil {
		return fmt.Errorf("create vmac %s: set up: %w", e.Name, err)
	}
	if v6 {
		// An IPv6 VMAC sends adverts from the parent's link-local address
		// (its EUI-64), as keepalived configures it.
		ll := linkLocal(parent.Attrs().HardwareAddr)
		if ll != nil {
			a := &vnl.Addr{IPNet: &net.IPNet{IP: ll, Mask: net.CIDRMask(64, 128)}, Flags: unix.IFA_F_NODAD}
			if err := x.h.AddrAdd(link, a); err != nil && !errors.Is(err, unix.EEXIST) {
				return fmt.Errorf("create vmac %s: link-local address: %w", e.Name, err)
			}
		}
	}
	return nil
}

// vmacSysctls applies the VMAC's and, for IPv4, its parent's sysctls, in
// the executor's namespace.
func (x *Executor) vmacSysctls(name, parent string, v6 bool) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return InNamespace(x.ns, func() error {
		settings := vmacSysctls4
		if v6 {
			settings = vmacSysctls6
		} else if err := x.clearAllRPFilter(); err != nil {
			return err
		}
		for _, s := range settings {
			if err := writeSysctl(sysctlPath("ipv4", name, s.name), s.value); err != nil {
				return err
			}
		}
		if v6 {
			return nil
		}
		if _, ours := x.vmacs[name]; ours {
			return nil // re-created: the parent is already counted
		}
		ps := x.parents[parent]
		if ps == nil {
			ps = &parentState{}
			for _, s := range parentSysctl {
				v, err := readSysctl(sysctlPath("ipv4", parent, s.name))
				if err != nil {
					return err
				}
				ps.saved = append(ps.saved, sysctlSetting{s.name, v})
				if err := writeSysctl(sysctlPath("ipv4", parent, s.name), s.value); err != nil {
					return err
				}
			}
			x.parents[parent] = ps
		}
		ps.refs++
		x.vmacs[name] = parent
		return nil
	})
}

// deleteVMAC removes a VMAC; one already gone is not an error. When the last
// IPv4 VMAC this executor created on a parent goes, the parent's ARP
// settings are restored.
func (x *Executor) deleteVMAC(e *effects.DeleteVMAC) error {
	link, err := x.h.LinkByName(e.Name)
	switch {
	case err == nil:
		if _, ok := link.(*vnl.Macvlan); !ok {
			return fmt.Errorf("delete vmac %s: not a macvlan", e.Name)
		}
		if err := x.h.LinkDel(link); err != nil && !isLinkNotFound(err) {
			return fmt.Errorf("delete vmac %s: %w", e.Name, err)
		}
	case !isLinkNotFound(err):
		return fmt.Errorf("delete vmac %s: %w", e.Name, err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	parent, ok := x.vmacs[e.Name]
	if !ok {
		return nil
	}
	delete(x.vmacs, e.Name)
	ps := x.parents[parent]
	if ps.refs--; ps.refs > 0 {
		return nil
	}
	delete(x.parents, parent)
	err = InNamespace(x.ns, func() error {
		for _, s := range ps.saved {
			if err := writeSysctl(sysctlPath("ipv4", parent, s.name), s.value); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete vmac %s: restore %s: %w", e.Name, parent, err)
	}
	return nil
}

// linkLocal returns the EUI-64 link-local address of a MAC address.
func linkLocal(mac net.HardwareAddr) net.IP {
	if len(mac) != 6 {
		return nil
	}
	ip := make(net.IP, 16)
	ip[0], ip[1] = 0xfe, 0x80
	ip[8], ip[9], ip[10] = mac[0]^0x02, mac[1], mac[2]
	ip[11], ip[12] = 0xff, 0xfe
	ip[13], ip[14], ip[15] = mac[3], mac[4], mac[5]
	return ip
}

// ipv6Disabled reports whether the kernel runs without IPv6, in which case
// there is no address generation mode to set.
func ipv6Disabled() bool {
	_, err := os.Stat("/proc/sys/net/ipv6")
	return err != nil
}

// LinkInfo is an interface of the caller's namespace as config.Options.Links
// wants it: its name, and for a private-mode macvlan its lower interface
// and MAC.
type LinkInfo struct {
	Name        string
	Macvlan     bool
	Parent, MAC string
}

// Links lists the interfaces of the caller's network namespace, for
// naming VMACs at load (vigil run).
func Links() ([]LinkInfo, error) {
	links, err := vnl.LinkList()
	if err != nil {
		return nil, err
	}
	names := make(map[int]string, len(links))
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	out := make([]LinkInfo, 0, len(links))
	for _, l := range links {
		li := LinkInfo{Name: l.Attrs().Name}
		if mv, ok := l.(*vnl.Macvlan); ok && mv.Mode == vnl.MACVLAN_MODE_PRIVATE {
			li.Macvlan, li.Parent, li.MAC = true, names[mv.ParentIndex], mv.HardwareAddr.String()
		}
		out = append(out, li)
	}
	return out, nil
}
