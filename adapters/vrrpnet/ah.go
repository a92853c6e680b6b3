package vrrpnet

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/binary"
	"net/netip"
)

// keepalived's AH: an IPSEC-AH header (RFC 2402) built in user space between
// the IPv4 header and the VRRPv2 message. The ICV is HMAC-MD5-96 (RFC 2403)
// keyed with the 8-byte zero-padded auth_pass, computed over the IPv4 header
// with its mutable fields (TOS, fragment field, header checksum, and the TTL
// when the advert is unicast) zeroed, then the AH header with a zero ICV,
// then the VRRP message. The SPI is the sender's IPv4 address.

const hmacBlock = 64

// hmacMD5 returns HMAC-MD5(key, hdr || rest) without allocating: key is at
// most 8 bytes, so it never needs hashing down to the block size.
func hmacMD5(key *[8]byte, hdr, rest []byte) [md5.Size]byte {
	var in [hmacBlock + 60 + ahLen + MaxIPv4Len]byte
	for i := range hmacBlock {
		in[i] = 0x36
	}
	for i, k := range key {
		in[i] ^= k
	}
	n := hmacBlock + copy(in[hmacBlock:], hdr)
	n += copy(in[n:], rest)
	inner := md5.Sum(in[:n])

	var out [hmacBlock + md5.Size]byte
	for i := range hmacBlock {
		out[i] = 0x5c
	}
	for i, k := range key {
		out[i] ^= k
	}
	copy(out[hmacBlock:], inner[:])
	return md5.Sum(out[:])
}

// ahICV computes the 96-bit ICV of pkt, an IPv4 packet whose IP header is
// ihl bytes long and followed by the AH header. The TTL is zeroed too when
// the destination is unicast, as keepalived does.
func ahICV(pkt []byte, ihl int, key *[8]byte) [icvLen]byte {
	var hdr [60 + ahLen]byte
	n := copy(hdr[:], pkt[:ihl+ahLen])
	hdr[1] = 0              // TOS
	hdr[6], hdr[7] = 0, 0   // flags and fragment offset
	hdr[10], hdr[11] = 0, 0 // header checksum
	if !netip.AddrFrom4([4]byte(pkt[16:20])).IsMulticast() {
		hdr[8] = 0 // TTL may change on a routed unicast path
	}
	clear(hdr[ihl+12 : ihl+ahLen])
	sum := hmacMD5(key, hdr[:n], pkt[ihl+ahLen:])
	return [icvLen]byte(sum[:icvLen])
}

// checkAH verifies the AH header at pkt[ihl:]: HMAC, and the SPI being the
// source address as keepalived requires. It reports the sequence number.
func checkAH(pkt []byte, ihl int, key *[8]byte) (seq uint32, ok bool) {
	ah := pkt[ihl : ihl+ahLen]
	icv := ahICV(pkt, ihl, key)
	if subtle.ConstantTimeCompare(icv[:], ah[12:24]) != 1 {
		return 0, false
	}
	if [4]byte(ah[4:8]) != [4]byte(pkt[12:16]) {
		return 0, false
	}
	return binary.BigEndian.Uint32(ah[8:12]), true
}
