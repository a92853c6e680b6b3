//go:build linux

package vrrpnet

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// srcTTL bounds how long a resolved source address is trusted. Adverts go
// out every interval; a netlink dump per advert per instance is waste, and
// an address change is picked up within this time (the engine normally
// names the source itself).
const srcTTL = time.Second

type cachedSrc struct {
	addr netip.Addr
	at   time.Time
}

// source resolves the advert source when the effect leaves it unset: the
// Conn's interface's primary IPv4 address or IPv6 link-local address, else
// that of base (the VMAC's parent). c.mu is held. The netlink handle was
// opened with the Conn, so lookups happen in the socket's namespace.
func (c *Conn) source(base string) (netip.Addr, error) {
	now := time.Now()
	if e, ok := c.src[base]; ok && now.Sub(e.at) < srcTTL {
		return e.addr, nil
	}
	addr, err := c.addrOf(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: c.ifindex}})
	if err == nil && !addr.IsValid() && base != "" && base != c.ifname {
		var l netlink.Link
		if l, err = c.nl.LinkByName(base); err == nil {
			addr, err = c.addrOf(l)
		}
	}
	if err != nil {
		return netip.Addr{}, fmt.Errorf("vrrpnet: source address on %s: %w", c.ifname, err)
	}
	if !addr.IsValid() {
		return netip.Addr{}, fmt.Errorf("vrrpnet: no IPv%d source address on %s", c.family, c.ifname)
	}
	c.src[base] = cachedSrc{addr, now}
	return addr, nil
}

// addrOf returns link's primary IPv4 address or its first usable IPv6
// link-local address, or the zero Addr when there is none.
func (c *Conn) addrOf(link netlink.Link) (netip.Addr, error) {
	fam := netlink.FAMILY_V4
	if c.family == IPv6 {
		fam = netlink.FAMILY_V6
	}
	addrs, err := c.nl.AddrList(link, fam)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if c.family == IPv4 {
			if ip.Is4() && a.Flags&unix.IFA_F_SECONDARY == 0 {
				return ip, nil
			}
			continue
		}
		if ip.IsLinkLocalUnicast() && a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) == 0 {
			return ip, nil
		}
	}
	return netip.Addr{}, nil
}
