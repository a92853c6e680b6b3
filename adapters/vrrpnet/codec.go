package vrrpnet

import (
	"encoding/binary"
	"net/netip"
)

// Protocol numbers and fixed sizes of the VRRP wire format.
const (
	// ProtoVRRP is VRRP's IP protocol number.
	ProtoVRRP = 112
	// ProtoAH is IPSEC-AH's IP protocol number (VRRPv2 auth_type AH).
	ProtoAH = 51

	ipv4HeaderLen = 20
	vrrpHeaderLen = 8
	authDataLen   = 8  // VRRPv2 authentication data (IPv4 only)
	ahLen         = 24 // next header, length, reserved, SPI, sequence, 96-bit ICV
	ahPayloadLen  = 4  // AH length field: 32-bit words minus 2
	icvLen        = 12 // HMAC-MD5-96

	// advertType is the only VRRP packet type (RFC 3768 5.3.2).
	advertType = 1
	// ipTOS is "internetwork control" precedence, as keepalived sends.
	ipTOS = 0xc0
	// DefaultTTL is the TTL/hop limit VRRP requires on multicast adverts.
	DefaultTTL = 255
)

// VRRPv2 authentication types (RFC 2338 5.3.6; keepalived's auth_type).
const (
	AuthNone = 0
	AuthPass = 1
	AuthAH   = 2
)

// Default multicast groups (RFC 5798 5.1.1.2, 5.1.2.2).
var (
	Group4 = netip.AddrFrom4([4]byte{224, 0, 0, 18})
	Group6 = netip.MustParseAddr("ff02::12")
)

// MaxIPv4Len is the largest IPv4 advert: header, AH and a v2 message with
// 255 addresses. Buffers of this size never need to grow.
const MaxIPv4Len = ipv4HeaderLen + ahLen + vrrpHeaderLen + 255*4 + authDataLen

// MaxIPv6Len is the largest IPv6 VRRP message (255 addresses).
const MaxIPv6Len = vrrpHeaderLen + 255*16

// csumAdd adds b to the 32-bit ones'-complement accumulator sum, as 16-bit
// big-endian words (an odd last byte is padded with zero).
func csumAdd(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

// csumFold folds the accumulator and returns the Internet checksum.
func csumFold(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// pseudo4 returns the accumulated IPv4 pseudo-header sum (RFC 768 layout)
// for a VRRP message of length n.
func pseudo4(src, dst netip.Addr, n int) uint32 {
	s, d := src.As4(), dst.As4()
	sum := csumAdd(0, s[:])
	sum = csumAdd(sum, d[:])
	return sum + ProtoVRRP + uint32(n)
}

// pseudo6 returns the accumulated IPv6 pseudo-header sum (RFC 8200 8.1)
// for a VRRP message of length n.
func pseudo6(src, dst netip.Addr, n int) uint32 {
	s, d := src.As16(), dst.As16()
	sum := csumAdd(0, s[:])
	sum = csumAdd(sum, d[:])
	return sum + uint32(n>>16) + uint32(n&0xffff) + ProtoVRRP
}
