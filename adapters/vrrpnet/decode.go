package vrrpnet

import (
	"encoding/binary"
	"net/netip"

	"github.com/vigil-ha/vigil/events"
)

// DecodeOptions carries what the decoder needs beyond the packet.
type DecodeOptions struct {
	// Group4 is the pseudo-header destination tried for keepalived's old
	// unicast VRRPv3 checksum (vrrp_mcast_group4); 224.0.0.18 when unset.
	Group4 netip.Addr
	// AHKey returns the auth_pass key (zero padded) for a VRID, for packets
	// inside IPSEC-AH. Without a key such packets are VerdictBadAuthAH.
	AHKey func(vrid uint8) (key [8]byte, ok bool)
}

// DecodeIPv4 decodes pkt, an IPv4 packet from its IP header on as a raw
// socket delivers it, into ev: Src, Dst, TTL (from the IP header), Verdict,
// Length and Advert. ev.Advert.Addrs is reused. Interface and At are the
// caller's. A malformed packet yields a verdict, never a panic; header
// fields decoded before the fault are kept so it can be attributed.
func DecodeIPv4(pkt []byte, ev *events.AdvertReceived, o *DecodeOptions) {
	resetEvent(ev)
	if len(pkt) < ipv4HeaderLen {
		ev.Verdict = events.VerdictTooShort
		return
	}
	if pkt[0]>>4 != 4 {
		ev.Verdict = events.VerdictBadVersion
		return
	}
	ihl := int(pkt[0]&0x0f) * 4
	ev.Src = netip.AddrFrom4([4]byte(pkt[12:16]))
	ev.Dst = netip.AddrFrom4([4]byte(pkt[16:20]))
	ev.TTL = pkt[8]
	if ihl < ipv4HeaderLen || len(pkt) < ihl {
		ev.Verdict = events.VerdictTooShort
		return
	}
	off := ihl
	ah := false
	switch pkt[9] {
	case ProtoVRRP:
	case ProtoAH:
		if len(pkt) < off+ahLen {
			ev.Verdict = events.VerdictTooShort
			return
		}
		if pkt[off] != ProtoVRRP {
			ev.Verdict = events.VerdictBadType // AH around something else
			return
		}
		if pkt[off+1] != ahPayloadLen {
			ev.Verdict = events.VerdictBadAuthAH
			return
		}
		ah = true
		off += ahLen
	default:
		ev.Verdict = events.VerdictBadType
		return
	}
	vr := pkt[off:]
	if !decodeVRRP(vr, ev, 4) {
		return
	}
	if int(binary.BigEndian.Uint16(pkt[2:])) != len(pkt) {
		ev.Verdict = events.VerdictBadLength
		return
	}
	if !verify4(vr, ev, o) {
		ev.Verdict = events.VerdictBadChecksum
		return
	}
	if ah {
		var key [8]byte
		ok := false
		if o != nil && o.AHKey != nil {
			key, ok = o.AHKey(ev.Advert.VRID)
		}
		if !ok {
			ev.Verdict = events.VerdictBadAuthAH
			return
		}
		seq, ok := checkAH(pkt, ihl, &key)
		if !ok {
			ev.Verdict = events.VerdictBadAuthAH
			return
		}
		ev.Advert.AH, ev.Advert.AHSeq = true, seq
	}
}

// DecodeIPv6 decodes vr, a VRRP message received over IPv6 (a raw IPv6
// socket delivers no IP header), into ev. src, dst and hopLimit come from
// the socket's address and control messages; the checksum is verified over
// the IPv6 pseudo-header of src and dst.
func DecodeIPv6(vr []byte, src, dst netip.Addr, hopLimit uint8, ev *events.AdvertReceived) {
	resetEvent(ev)
	ev.Src, ev.Dst, ev.TTL = src, dst, hopLimit
	if !decodeVRRP(vr, ev, 6) {
		return
	}
	if !src.Is6() || !dst.Is6() || csumFold(csumAdd(pseudo6(src, dst, len(vr)), vr)) != 0 {
		ev.Verdict = events.VerdictBadChecksum
	}
}

// resetEvent clears the decoder's fields of ev, keeping the Addrs array.
func resetEvent(ev *events.AdvertReceived) {
	addrs := ev.Advert.Addrs[:0]
	ev.Src, ev.Dst, ev.TTL, ev.Verdict, ev.Length = netip.Addr{}, netip.Addr{}, 0, events.VerdictOK, 0
	ev.Advert = events.Advert{Addrs: addrs}
}

// decodeVRRP parses the VRRP message vr into ev.Advert and checks version,
// type and length. It reports false with ev.Verdict set on a fault.
func decodeVRRP(vr []byte, ev *events.AdvertReceived, family int) bool {
	ev.Length = len(vr)
	a := &ev.Advert
	if len(vr) >= 2 {
		// Kept even when the rest is missing: a truncated advert is
		// still counted against its VRID's instance.
		a.Version, a.Type, a.VRID = vr[0]>>4, vr[0]&0x0f, vr[1]
	}
	if len(vr) < vrrpHeaderLen {
		ev.Verdict = events.VerdictTooShort
		return false
	}
	a.Priority, a.CountAddrs = vr[2], vr[3]
	switch a.Version {
	case 2:
		a.AuthType = vr[4]
		a.Interval = uint16(vr[5]) * 100
	case 3:
		a.Interval = binary.BigEndian.Uint16(vr[4:]) & 0x0fff
	default:
		ev.Verdict = events.VerdictBadVersion
		return false
	}
	if a.Type != advertType {
		ev.Verdict = events.VerdictBadType
		return false
	}
	size, want := 16, vrrpHeaderLen
	if family == 4 {
		size = 4
		if a.Version == 2 {
			want += authDataLen
		}
	}
	want += size * int(a.CountAddrs)
	switch {
	case len(vr) < want:
		ev.Verdict = events.VerdictTooShort
		return false
	case len(vr) > want:
		ev.Verdict = events.VerdictBadLength
		return false
	}
	off := vrrpHeaderLen
	for range a.CountAddrs {
		if size == 4 {
			a.Addrs = append(a.Addrs, netip.AddrFrom4([4]byte(vr[off:off+4])))
		} else {
			a.Addrs = append(a.Addrs, netip.AddrFrom16([16]byte(vr[off:off+16])))
		}
		off += size
	}
	if family == 4 && a.Version == 2 {
		a.AuthData = [8]byte(vr[off : off+authDataLen])
	}
	return true
}

// verify4 checks an IPv4 VRRP checksum, trying keepalived's variants for
// VRRPv3 in the order keepalived does (the real destination, then the
// multicast group for old unicast peers), then the pseudo-header-less
// v3_checksum_as_v2 form. It records the variant that verified.
func verify4(vr []byte, ev *events.AdvertReceived, o *DecodeOptions) bool {
	plain := csumAdd(0, vr)
	if ev.Advert.Version == 2 {
		return csumFold(plain) == 0
	}
	if csumFold(pseudo4(ev.Src, ev.Dst, len(vr))+plain) == 0 {
		return true
	}
	g := Group4
	if o != nil && o.Group4.Is4() {
		g = o.Group4
	}
	if g != ev.Dst && csumFold(pseudo4(ev.Src, g, len(vr))+plain) == 0 {
		ev.Advert.Checksum = events.ChecksumOldUnicast
		return true
	}
	if csumFold(plain) == 0 {
		ev.Advert.Checksum = events.ChecksumAsV2
		return true
	}
	return false
}
