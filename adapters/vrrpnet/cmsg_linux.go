//go:build linux

package vrrpnet

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/internal/cmsg"
)

// appendTx6 appends the IPv6 send control messages: the source address and
// outgoing interface (IPV6_PKTINFO), and the hop limit (IPV6_HOPLIMIT).
func appendTx6(b []byte, src netip.Addr, ifindex int, hops uint8) []byte {
	var pi [unix.SizeofInet6Pktinfo]byte
	s := src.As16()
	copy(pi[:16], s[:])
	binary.NativeEndian.PutUint32(pi[16:], uint32(ifindex))
	b = cmsg.Append(b, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, pi[:])
	var hl [4]byte
	binary.NativeEndian.PutUint32(hl[:], uint32(hops))
	return cmsg.Append(b, unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT, hl[:])
}
