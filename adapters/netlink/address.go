package netlink

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"

	vnl "github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events/conf"
	"github.com/vigil-ha/vigil/internal/rtnames"
)

// addrInterface is the interface an address goes on: its own dev option,
// else the one the engine chose (the instance's interface or VMAC).
func addrInterface(a conf.Address, fallback string) (string, error) {
	if a.Dev != "" {
		return a.Dev, nil
	}
	if fallback != "" {
		return fallback, nil
	}
	return "", fmt.Errorf("address %s: no interface", a.Prefix)
}

// ipNet converts a prefix, keeping the host bits.
func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// toAddr converts an address line into the request `ip address add` would
// send. For a delete (add false) only the fields the kernel matches on are
// kept: the local address, the prefix length and the peer. The label is left
// out, as keepalived does, so a VIP re-added by hand without it still goes.
func toAddr(a conf.Address, add bool) (*vnl.Addr, error) {
	if !a.Prefix.IsValid() {
		return nil, errors.New("invalid address prefix")
	}
	addr := &vnl.Addr{IPNet: ipNet(a.Prefix)}
	v4 := a.Prefix.Addr().Is4()
	if a.Peer.IsValid() {
		// The prefix length of a point-to-point address is the peer's.
		addr.Peer = ipNet(a.Peer)
	}
	if v4 {
		// The library derives a broadcast address when none is given;
		// ip(8) and keepalived add one only on request (brd).
		addr.Broadcast = net.IPv4zero
	}
	if !add {
		return addr, nil
	}
	if v4 && a.Broadcast.IsValid() {
		addr.Broadcast = net.IP(a.Broadcast.AsSlice())
	}
	if v4 {
		addr.Label = a.Label
	}
	if a.Scope != "" {
		s, err := lookupName("scope", a.Scope, rtnames.BuiltinScope)
		if err != nil {
			return nil, err
		}
		addr.Scope = int(s)
	}
	for _, f := range []struct {
		set  bool
		flag int
	}{
		{a.Home, unix.IFA_F_HOMEADDRESS},
		{a.NoDAD, unix.IFA_F_NODAD},
		{a.MngTmpAddr, unix.IFA_F_MANAGETEMPADDR},
		{a.NoPrefixRoute, unix.IFA_F_NOPREFIXROUTE},
		{a.AutoJoin, unix.IFA_F_MCAUTOJOIN},
	} {
		if f.set {
			addr.Flags |= f.flag
		}
	}
	pref := a.PreferredLft
	if pref == nil && !v4 && a.Prefix.Bits() == 128 {
		// keepalived's default for an IPv6 /128 without preferred_lft:
		// deprecated, so it is never chosen as a source address.
		zero := int64(0)
		pref = &zero
	}
	if pref != nil && *pref >= 0 {
		if *pref > math.MaxUint32-1 {
			return nil, fmt.Errorf("preferred_lft %d out of range", *pref)
		}
		// The valid lifetime stays infinite; only the preferred one ends.
		addr.ValidLft = math.MaxUint32
		addr.PreferedLft = int(*pref)
	}
	return addr, nil
}

// addAddress adds an address; an address already present is not an error.
func (x *Executor) addAddress(a conf.Address, fallback string) error {
	ifname, err := addrInterface(a, fallback)
	if err != nil {
		return err
	}
	addr, err := toAddr(a, true)
	if err != nil {
		return fmt.Errorf("address %s: %w", a.Prefix, err)
	}
	link, err := x.h.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("add address %s dev %s: %w", a.Prefix, ifname, err)
	}
	if err := x.h.AddrAdd(link, addr); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add address %s dev %s: %w", a.Prefix, ifname, err)
	}
	return nil
}

// delAddress removes an address; an address (or interface) already gone is
// not an error.
func (x *Executor) delAddress(a conf.Address, fallback string) error {
	ifname, err := addrInterface(a, fallback)
	if err != nil {
		return err
	}
	addr, err := toAddr(a, false)
	if err != nil {
		return fmt.Errorf("address %s: %w", a.Prefix, err)
	}
	link, err := x.h.LinkByName(ifname)
	if err != nil {
		if isLinkNotFound(err) {
			return nil
		}
		return fmt.Errorf("delete address %s dev %s: %w", a.Prefix, ifname, err)
	}
	if err := x.h.AddrDel(link, addr); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete address %s dev %s: %w", a.Prefix, ifname, err)
	}
	return nil
}

// isLinkNotFound reports whether err says an interface does not exist.
func isLinkNotFound(err error) bool {
	var nf vnl.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV)
}
