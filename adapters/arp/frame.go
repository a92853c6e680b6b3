package arp

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
)

// allNodes is ff02::1 and its Ethernet multicast address.
var (
	allNodes    = netip.MustParseAddr("ff02::1")
	allNodesMAC = net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1}
)

// garpFrame builds a gratuitous ARP: an Ethernet broadcast carrying the
// request "who-has addr tell addr" from mac, with the broadcast address as
// target hardware address (as keepalived sends it). The frame is padded to
// the Ethernet minimum.
func garpFrame(mac net.HardwareAddr, addr netip.Addr) ([]byte, error) {
	if !addr.Is4() {
		return nil, fmt.Errorf("gratuitous ARP for non-IPv4 address %s", addr)
	}
	p, err := arp.NewPacket(arp.OperationRequest, mac, addr, ethernet.Broadcast, addr)
	if err != nil {
		return nil, fmt.Errorf("arp packet: %w", err)
	}
	payload, err := p.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("arp packet: %w", err)
	}
	f := &ethernet.Frame{Destination: ethernet.Broadcast, Source: mac, EtherType: ethernet.EtherTypeARP, Payload: payload}
	return f.MarshalBinary()
}

// naFrame builds an unsolicited neighbour advertisement for addr from mac:
// sent from addr to ff02::1 with hop limit 255, the override flag, the
// router flag when the interface forwards, and a target link-layer address
// option.
func naFrame(mac net.HardwareAddr, addr netip.Addr, router bool) ([]byte, error) {
	if !addr.Is6() || addr.Is4In6() {
		return nil, fmt.Errorf("neighbour advertisement for non-IPv6 address %s", addr)
	}
	na := &ndp.NeighborAdvertisement{
		Router:        router,
		Override:      true,
		TargetAddress: addr,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: mac}},
	}
	icmp, err := ndp.MarshalMessageChecksum(na, addr, allNodes)
	if err != nil {
		return nil, fmt.Errorf("neighbour advertisement: %w", err)
	}
	ip6 := make([]byte, 40, 40+len(icmp))
	ip6[0] = 6 << 4
	binary.BigEndian.PutUint16(ip6[4:6], uint16(len(icmp)))
	ip6[6] = 58  // next header: ICMPv6
	ip6[7] = 255 // hop limit, required by RFC 4861 §7.1.2
	src, dst := addr.As16(), allNodes.As16()
	copy(ip6[8:24], src[:])
	copy(ip6[24:40], dst[:])
	f := &ethernet.Frame{Destination: allNodesMAC, Source: mac, EtherType: ethernet.EtherTypeIPv6, Payload: append(ip6, icmp...)}
	return f.MarshalBinary()
}
