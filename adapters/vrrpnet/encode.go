package vrrpnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// Wire holds what a SendAdvert leaves to the adapter for one packet: the
// resolved source, one destination (the group or one unicast peer), and the
// per-instance counters.
type Wire struct {
	Src netip.Addr
	Dst netip.Addr
	// TTL is the IPv4 TTL (IPv6: unused, the hop limit travels as a control
	// message); 0 means 255.
	TTL uint8
	// ID is the IPv4 identification. keepalived never sends 0, which would
	// let the kernel choose one the AH ICV did not cover.
	ID uint16
	// AHSeq is the IPSEC-AH sequence number (auth_type AH only).
	AHSeq uint32
	// AHKey keys the IPSEC-AH ICV (auth_type AH only): the auth_pass, zero
	// padded to 8 bytes, that Conn.SetAuthKey holds. It is not the
	// SendAdvert's AuthData: that is the VRRP message's authentication
	// field, which is zero under AH (the engine leaves it so), and keying
	// the HMAC with it made every peer refuse our adverts.
	AHKey [8]byte
}

// Encoding errors.
var (
	ErrVersion  = errors.New("vrrpnet: VRRP version must be 2 or 3")
	ErrFamily   = errors.New("vrrpnet: address of the wrong family")
	ErrTooMany  = errors.New("vrrpnet: more than 255 addresses")
	ErrInterval = errors.New("vrrpnet: advert interval out of range")
)

// AppendIPv4 appends the IPv4 packet for a, from the IP header on, to b
// (keepalived's IP_HDRINCL layout). With AuthType AH and version 2 the VRRP
// message travels inside an IPSEC-AH header keyed by w.AHKey; a.AuthData is
// then not sent (the message's authentication field is zero) and not used.
func AppendIPv4(b []byte, a *effects.SendAdvert, w *Wire) ([]byte, error) {
	if !w.Src.Is4() || !w.Dst.Is4() {
		return b, fmt.Errorf("%w: IPv4 packet from %v to %v", ErrFamily, w.Src, w.Dst)
	}
	ah := a.Version == 2 && a.AuthType == AuthAH
	vlen := vrrpHeaderLen + 4*len(a.Addrs)
	if a.Version == 2 {
		vlen += authDataLen
	}
	hlen := ipv4HeaderLen
	if ah {
		hlen += ahLen
	}
	start := len(b)
	b = grow(b, hlen+vlen)
	pkt := b[start:]

	// IPv4 header; the checksum is filled in last.
	ttl := w.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	pkt[0] = 0x45
	pkt[1] = ipTOS
	binary.BigEndian.PutUint16(pkt[2:], uint16(hlen+vlen))
	binary.BigEndian.PutUint16(pkt[4:], w.ID)
	pkt[6], pkt[7] = 0, 0 // keepalived sets no DF
	pkt[8] = ttl
	pkt[9] = ProtoVRRP
	pkt[10], pkt[11] = 0, 0
	src, dst := w.Src.As4(), w.Dst.As4()
	copy(pkt[12:16], src[:])
	copy(pkt[16:20], dst[:])
	if ah {
		pkt[9] = ProtoAH
		h := pkt[ipv4HeaderLen:hlen]
		h[0], h[1], h[2], h[3] = ProtoVRRP, ahPayloadLen, 0, 0
		copy(h[4:8], src[:]) // SPI: the sender's address
		binary.BigEndian.PutUint32(h[8:], w.AHSeq)
		clear(h[12:])
	}

	vr := pkt[hlen:]
	if err := putVRRP(vr, a, 4); err != nil {
		return b[:start], err
	}
	var sum uint32
	if a.Version == 3 {
		switch a.Checksum {
		case events.ChecksumAsV2:
		case events.ChecksumOldUnicast:
			g := a.ChecksumGroup
			if !g.Is4() {
				g = Group4
			}
			sum = pseudo4(w.Src, g, vlen)
		default:
			sum = pseudo4(w.Src, w.Dst, vlen)
		}
	}
	binary.BigEndian.PutUint16(vr[6:], csumFold(csumAdd(sum, vr)))

	if ah {
		icv := ahICV(pkt, ipv4HeaderLen, &w.AHKey)
		copy(pkt[ipv4HeaderLen+12:hlen], icv[:])
	}
	// The kernel rewrites the header checksum of an IP_HDRINCL packet; we
	// fill it so the bytes are the wire's.
	binary.BigEndian.PutUint16(pkt[10:], csumFold(csumAdd(0, pkt[:ipv4HeaderLen])))
	return b, nil
}

// AppendVRRP6 appends the VRRP message of a, for IPv6, to b, with the
// checksum over the IPv6 pseudo-header of w.Src and w.Dst. The kernel builds
// the IPv6 header.
func AppendVRRP6(b []byte, a *effects.SendAdvert, w *Wire) ([]byte, error) {
	if !w.Src.Is6() || w.Src.Is4In6() || !w.Dst.Is6() || w.Dst.Is4In6() {
		return b, fmt.Errorf("%w: IPv6 packet from %v to %v", ErrFamily, w.Src, w.Dst)
	}
	vlen := vrrpHeaderLen + 16*len(a.Addrs)
	start := len(b)
	b = grow(b, vlen)
	vr := b[start:]
	if err := putVRRP(vr, a, 6); err != nil {
		return b[:start], err
	}
	sum := pseudo6(w.Src, w.Dst, vlen)
	binary.BigEndian.PutUint16(vr[6:], csumFold(csumAdd(sum, vr)))
	return b, nil
}

// putVRRP writes the VRRP message of a into vr (exactly its length) with a
// zero checksum. family is 4 or 6; VRRPv2 authentication data exists only
// for IPv4, as in keepalived.
func putVRRP(vr []byte, a *effects.SendAdvert, family int) error {
	if a.Version != 2 && a.Version != 3 {
		return fmt.Errorf("%w: %d", ErrVersion, a.Version)
	}
	if len(a.Addrs) > 255 {
		return fmt.Errorf("%w: %d", ErrTooMany, len(a.Addrs))
	}
	vr[0] = a.Version<<4 | advertType
	vr[1] = a.VRID
	vr[2] = a.Priority
	vr[3] = uint8(len(a.Addrs))
	if a.Version == 2 {
		secs := (int(a.Interval) + 50) / 100
		if secs > 255 {
			return fmt.Errorf("%w: %d cs is more than 255 s for VRRPv2", ErrInterval, a.Interval)
		}
		vr[4] = a.AuthType
		vr[5] = uint8(secs)
	} else {
		if a.Interval > 0x0fff {
			return fmt.Errorf("%w: %d cs is more than 4095 cs for VRRPv3", ErrInterval, a.Interval)
		}
		binary.BigEndian.PutUint16(vr[4:], a.Interval) // the top 4 bits are reserved, zero
	}
	vr[6], vr[7] = 0, 0
	off := vrrpHeaderLen
	for _, ip := range a.Addrs {
		if family == 4 {
			if !ip.Is4() {
				return fmt.Errorf("%w: %v in an IPv4 advert", ErrFamily, ip)
			}
			v := ip.As4()
			off += copy(vr[off:], v[:])
		} else {
			// Any 16-byte address goes, ::ffff:a.b.c.d included: a peer
			// may advertise one and the decoder hands it over as such;
			// only a 4-byte IPv4 address is the wrong family here.
			if !ip.Is6() {
				return fmt.Errorf("%w: %v in an IPv6 advert", ErrFamily, ip)
			}
			v := ip.As16()
			off += copy(vr[off:], v[:])
		}
	}
	if family == 4 && a.Version == 2 {
		if a.AuthType == AuthPass {
			copy(vr[off:], a.AuthData[:])
		} else {
			clear(vr[off : off+authDataLen])
		}
	}
	return nil
}

// grow extends b by n bytes, reallocating only when its capacity is short.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}
