package vrrpnet

import (
	"fmt"

	"golang.org/x/net/bpf"

	"github.com/vigil-ha/vigil/effects"
)

// The kernel filter. A raw VRRP socket sees every VRRP packet on its
// interface; most of what a hostile or misconfigured node can send is
// something the engine would only count and drop (engine/vrrp check), or
// not even look at (a VRID no instance runs). A classic BPF program
// attached to the socket (SO_ATTACH_FILTER) drops those in the kernel,
// before they wake the reader: packets of another protocol, packets for
// a VRID not configured on the socket, and packets whose IPv4 TTL or IPv6
// hop limit is not 255 for a VRID whose instance requires 255 (every
// multicast instance; a unicast one accepts any TTL, bounded only by its
// peers' min_ttl/max_ttl, which the engine checks). The program is built
// from the engine's Receivers and rebuilt whenever they change (a reload).
//
// What the kernel drops is not counted anywhere: a socket filter's drops
// do not reach the socket's drop counter. keepalived counts ip_ttl_err for
// a TTL≠255 advert of one of its VRIDs; vigil no longer does once the
// filter is in place (the README's "Hostile traffic" says so). The rest of
// the junk (bad checksum, truncated, version mismatch, bad AH) reaches
// user space, where the reader counts it without allocating and delivers
// one coalesced event per cause (mux_linux.go).

// skfNetOff is the kernel's SKF_NET_OFF: a load at skfNetOff+k reads byte
// k of the network (IP) header, wherever the socket's data starts (an IPv6
// raw socket's data is the VRRP message, without the IPv6 header).
const skfNetOff = 0xfff00000 // -0x100000 as a uint32

// acceptAll is the snapshot length a filter returns to accept a packet
// whole.
const acceptAll = 0x40000

// filterProgram assembles the filter of a socket of family (IPv4, IPv6)
// and protocol proto (ProtoVRRP, or ProtoAH for the IPv4 IPSEC-AH socket)
// that accepts only the receivers rs (already those of this interface and
// family). With no receiver the program drops everything.
func filterProgram(family, proto int, rs []effects.Receiver) ([]bpf.RawInstruction, error) {
	var any, strict []uint8
	all := false
	for _, r := range rs {
		if r.AllVRIDs {
			all = true
			continue
		}
		if r.AnyTTL {
			any = append(any, r.VRID)
		} else {
			strict = append(strict, r.VRID)
		}
	}
	p := []bpf.Instruction{}
	drop := bpf.RetConstant{Val: 0}
	var ttl bpf.Instruction
	if family == IPv4 {
		// Data starts at the IPv4 header.
		p = append(p,
			bpf.LoadAbsolute{Off: 9, Size: 1},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(proto), SkipTrue: 1},
			drop,
			bpf.LoadMemShift{Off: 0}, // X = IP header length
		)
		vrid := uint32(1)
		if proto == ProtoAH {
			p = append(p,
				bpf.LoadIndirect{Off: 0, Size: 1}, // AH next header
				bpf.JumpIf{Cond: bpf.JumpEqual, Val: ProtoVRRP, SkipTrue: 1},
				drop,
			)
			vrid += ahLen
		}
		p = append(p, bpf.LoadIndirect{Off: vrid, Size: 1})
		ttl = bpf.LoadAbsolute{Off: 8, Size: 1}
	} else {
		// Data starts at the VRRP message; the hop limit is byte 7 of
		// the IPv6 header.
		p = append(p, bpf.LoadAbsolute{Off: 1, Size: 1})
		ttl = bpf.LoadAbsolute{Off: skfNetOff + 7, Size: 1}
	}
	// A = VRID. Each membership test is "not v: skip the jump to accept".
	var toAccept []int
	member := func(vrids []uint8) {
		for _, v := range vrids {
			p = append(p, bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(v), SkipTrue: 1})
			toAccept = append(toAccept, len(p))
			p = append(p, bpf.Jump{})
		}
	}
	member(any)
	if all {
		// log_unknown_vrids: a VRID no instance runs passes whatever its
		// TTL (the engine logs it); a configured strict VRID still needs
		// 255.
		var toTTL []int
		for _, v := range strict {
			p = append(p, bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(v), SkipTrue: 1})
			toTTL = append(toTTL, len(p))
			p = append(p, bpf.Jump{})
		}
		toAccept = append(toAccept, len(p))
		p = append(p, bpf.Jump{})
		check := len(p)
		for _, at := range toTTL {
			p[at] = bpf.Jump{Skip: uint32(check - at - 1)}
		}
		p = append(p,
			ttl,
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: DefaultTTL, SkipFalse: 1},
		)
		toAccept = append(toAccept, len(p))
		p = append(p, bpf.Jump{})
		strict = nil
	}
	if len(strict) > 0 {
		p = append(p,
			bpf.StoreScratch{Src: bpf.RegA, N: 0},
			ttl,
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: DefaultTTL, SkipTrue: 1},
			drop,
			bpf.LoadScratch{Dst: bpf.RegA, N: 0},
		)
		member(strict)
	}
	p = append(p, drop)
	accept := len(p)
	p = append(p, bpf.RetConstant{Val: acceptAll})
	for _, at := range toAccept {
		p[at] = bpf.Jump{Skip: uint32(accept - at - 1)}
	}
	raw, err := bpf.Assemble(p)
	if err != nil {
		return nil, fmt.Errorf("vrrpnet: assemble the socket filter: %w", err)
	}
	return raw, nil
}
