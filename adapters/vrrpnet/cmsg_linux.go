//go:build linux

package vrrpnet

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Control messages are parsed and built by hand: unix.ParseSocketControlMessage
// allocates a slice per packet, and the receive path should not.

// cmsgLenSize is the size of cmsghdr's length field (size_t).
const cmsgLenSize = unix.SizeofCmsghdr - 8

func cmsgAlign(n int) int {
	const a = cmsgLenSize // size_t alignment
	return (n + a - 1) &^ (a - 1)
}

// rxInfo is what the receive path takes from control messages.
type rxInfo struct {
	ttl    uint8
	hasTTL bool
	dst    netip.Addr
}

// parseCmsgs extracts the TTL or hop limit (IP_TTL, IPV6_HOPLIMIT) and the
// destination address (IP_PKTINFO, IPV6_PKTINFO) from oob.
func parseCmsgs(oob []byte) rxInfo {
	var ri rxInfo
	hdr := cmsgAlign(unix.SizeofCmsghdr)
	for len(oob) >= unix.SizeofCmsghdr {
		var l int
		if cmsgLenSize == 8 {
			l = int(binary.NativeEndian.Uint64(oob))
		} else {
			l = int(binary.NativeEndian.Uint32(oob))
		}
		if l < unix.SizeofCmsghdr || l > len(oob) {
			break
		}
		level := int32(binary.NativeEndian.Uint32(oob[cmsgLenSize:]))
		typ := int32(binary.NativeEndian.Uint32(oob[cmsgLenSize+4:]))
		data := oob[min(hdr, l):l]
		switch {
		case level == unix.IPPROTO_IP && typ == unix.IP_TTL && len(data) >= 4,
			level == unix.IPPROTO_IPV6 && typ == unix.IPV6_HOPLIMIT && len(data) >= 4:
			ri.ttl, ri.hasTTL = uint8(binary.NativeEndian.Uint32(data)), true
		case level == unix.IPPROTO_IP && typ == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			ri.dst = netip.AddrFrom4([4]byte(data[8:12])) // ipi_addr: the header's destination
		case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			ri.dst = netip.AddrFrom16([16]byte(data[:16]))
		}
		oob = oob[min(cmsgAlign(l), len(oob)):]
	}
	return ri
}

// appendCmsg appends one control message carrying data.
func appendCmsg(b []byte, level, typ int32, data []byte) []byte {
	l := cmsgAlign(unix.SizeofCmsghdr) + len(data)
	start := len(b)
	b = grow(b, cmsgAlign(l))
	m := b[start:]
	clear(m)
	if cmsgLenSize == 8 {
		binary.NativeEndian.PutUint64(m, uint64(l))
	} else {
		binary.NativeEndian.PutUint32(m, uint32(l))
	}
	binary.NativeEndian.PutUint32(m[cmsgLenSize:], uint32(level))
	binary.NativeEndian.PutUint32(m[cmsgLenSize+4:], uint32(typ))
	copy(m[cmsgAlign(unix.SizeofCmsghdr):], data)
	return b
}

// appendTx6 appends the IPv6 send control messages: the source address and
// outgoing interface (IPV6_PKTINFO), and the hop limit (IPV6_HOPLIMIT).
func appendTx6(b []byte, src netip.Addr, ifindex int, hops uint8) []byte {
	var pi [unix.SizeofInet6Pktinfo]byte
	s := src.As16()
	copy(pi[:16], s[:])
	binary.NativeEndian.PutUint32(pi[16:], uint32(ifindex))
	b = appendCmsg(b, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, pi[:])
	var hl [4]byte
	binary.NativeEndian.PutUint32(hl[:], uint32(hops))
	return appendCmsg(b, unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT, hl[:])
}
