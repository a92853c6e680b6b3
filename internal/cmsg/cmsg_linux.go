//go:build linux

// Package cmsg parses and builds the socket control messages vigil's raw
// sockets use (TTL/hop limit and packet info), by hand and without
// allocating: unix.ParseSocketControlMessage allocates a slice per packet,
// and the receive paths (VRRP, BFD) should not.
package cmsg

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// lenSize is the size of cmsghdr's length field (size_t).
const lenSize = unix.SizeofCmsghdr - 8

func align(n int) int {
	const a = lenSize // size_t alignment
	return (n + a - 1) &^ (a - 1)
}

// RX is what a received packet's control messages say.
type RX struct {
	// TTL is the IPv4 TTL (IP_TTL) or IPv6 hop limit (IPV6_HOPLIMIT),
	// when HasTTL.
	TTL    uint8
	HasTTL bool
	// Dst is the header's destination and Ifindex the receiving
	// interface (IP_PKTINFO, IPV6_PKTINFO); zero when absent.
	Dst     netip.Addr
	Ifindex int
}

// Parse reads oob. Malformed or truncated messages end the parse; what
// was read until then is kept.
func Parse(oob []byte) RX {
	var r RX
	hdr := align(unix.SizeofCmsghdr)
	for len(oob) >= unix.SizeofCmsghdr {
		var l int
		if lenSize == 8 {
			l = int(binary.NativeEndian.Uint64(oob))
		} else {
			l = int(binary.NativeEndian.Uint32(oob))
		}
		if l < unix.SizeofCmsghdr || l > len(oob) {
			break
		}
		level := int32(binary.NativeEndian.Uint32(oob[lenSize:]))
		typ := int32(binary.NativeEndian.Uint32(oob[lenSize+4:]))
		data := oob[min(hdr, l):l]
		switch {
		case level == unix.IPPROTO_IP && typ == unix.IP_TTL && len(data) >= 4,
			level == unix.IPPROTO_IPV6 && typ == unix.IPV6_HOPLIMIT && len(data) >= 4:
			r.TTL, r.HasTTL = uint8(binary.NativeEndian.Uint32(data)), true
		case level == unix.IPPROTO_IP && typ == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			r.Ifindex = int(int32(binary.NativeEndian.Uint32(data)))
			r.Dst = netip.AddrFrom4([4]byte(data[8:12])) // ipi_addr: the header's destination
		case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			r.Dst = netip.AddrFrom16([16]byte(data[:16])).Unmap()
			r.Ifindex = int(binary.NativeEndian.Uint32(data[16:]))
		}
		oob = oob[min(align(l), len(oob)):]
	}
	return r
}

// Append appends one control message carrying data, growing b in place
// when it has the room.
func Append(b []byte, level, typ int32, data []byte) []byte {
	l := align(unix.SizeofCmsghdr) + len(data)
	start := len(b)
	b = append(b, make([]byte, align(l))...) // no allocation once b has room
	m := b[start:]
	clear(m)
	if lenSize == 8 {
		binary.NativeEndian.PutUint64(m, uint64(l))
	} else {
		binary.NativeEndian.PutUint32(m, uint32(l))
	}
	binary.NativeEndian.PutUint32(m[lenSize:], uint32(level))
	binary.NativeEndian.PutUint32(m[lenSize+4:], uint32(typ))
	copy(m[align(unix.SizeofCmsghdr):], data)
	return b
}
