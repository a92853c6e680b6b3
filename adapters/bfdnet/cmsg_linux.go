//go:build linux

package bfdnet

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events"
)

// Control messages are parsed and built by hand:
// unix.ParseSocketControlMessage allocates per packet.

// cmsgLenSize is the size of cmsghdr's length field (size_t).
const cmsgLenSize = unix.SizeofCmsghdr - 8

func cmsgAlign(n int) int {
	const a = cmsgLenSize
	return (n + a - 1) &^ (a - 1)
}

// parseCmsgs sets ev's TTL (IP_TTL, IPV6_HOPLIMIT), destination and
// interface (IP_PKTINFO, IPV6_PKTINFO) from oob.
func parseCmsgs(oob []byte, ev *events.BFDReceived) {
	hdr := cmsgAlign(unix.SizeofCmsghdr)
	for len(oob) >= unix.SizeofCmsghdr {
		var l int
		if cmsgLenSize == 8 {
			l = int(binary.NativeEndian.Uint64(oob))
		} else {
			l = int(binary.NativeEndian.Uint32(oob))
		}
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return
		}
		level := int32(binary.NativeEndian.Uint32(oob[cmsgLenSize:]))
		typ := int32(binary.NativeEndian.Uint32(oob[cmsgLenSize+4:]))
		data := oob[min(hdr, l):l]
		switch {
		case level == unix.IPPROTO_IP && typ == unix.IP_TTL && len(data) >= 4,
			level == unix.IPPROTO_IPV6 && typ == unix.IPV6_HOPLIMIT && len(data) >= 4:
			ev.TTL = uint8(binary.NativeEndian.Uint32(data))
		case level == unix.IPPROTO_IP && typ == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			ev.Ifindex = int(int32(binary.NativeEndian.Uint32(data)))
			ev.Dst = netip.AddrFrom4([4]byte(data[8:12]))
		case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			ev.Dst = netip.AddrFrom16([16]byte(data[:16])).Unmap()
			ev.Ifindex = int(binary.NativeEndian.Uint32(data[16:]))
		}
		oob = oob[min(cmsgAlign(l), len(oob)):]
	}
}

// appendCmsg appends one control message carrying data.
func appendCmsg(b []byte, level, typ int32, data []byte) []byte {
	l := cmsgAlign(unix.SizeofCmsghdr) + len(data)
	start := len(b)
	for range cmsgAlign(l) {
		b = append(b, 0)
	}
	m := b[start:]
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
