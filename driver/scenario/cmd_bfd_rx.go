package scenario

import (
	"fmt"
	"net/netip"

	"github.com/vigil-ha/vigil/events"
)

var bfdRxSpec = spec{steps: true,
	args: []arg{
		{key: "name", kind: value, required: true, hint: "name=NAME"},
		{key: "state", kind: value, required: true, hint: "state=admindown|down|init|up"},
		{key: "my", kind: value, hint: "my=N"},
		{key: "your", kind: value, hint: "your=N"},
		{key: "mult", kind: value, hint: "mult=N"},
		{key: "tx", kind: value, hint: "tx=MICROSECONDS"},
		{key: "rx", kind: value, hint: "rx=MICROSECONDS"},
		{key: "diag", kind: value, hint: "diag=N"},
		{key: "ver", kind: value, hint: "ver=N"},
		{key: "ttl", kind: value, hint: "ttl=N"},
		{key: "from", kind: value, hint: "from=ADDR"},
		{key: "dst", kind: value, hint: "dst=ADDR"},
		{key: "verdict", kind: value, hint: "verdict=ok|too-short|bad-version|bad-length"},
		{key: "poll", kind: flag},
		{key: "final", kind: flag},
		{key: "demand", kind: flag},
		{key: "multipoint", kind: flag},
		{key: "auth", kind: flag},
		{key: "multihop", kind: flag},
	},
}

// cmdBFDRx delivers a BFDReceived: a control packet from the neighbour of
// the bfd_instance name= (its neighbor_ip, to its source_ip), in state
// state=. Its fields default to a valid packet of a keepalived peer:
// version 1, My Discriminator 0x1000 (my=), Your Discriminator the
// session's current local discriminator (your=, 0 for a peer that has
// not heard from us), Detect Mult 5 (mult=), Desired Min TX and Required
// Min RX 10000 µs (tx=, rx=), TTL 255 (ttl=), single hop; the flags
// poll, final, demand, multipoint, auth and multihop set what they name;
// verdict= is the decoder's verdict.
//
// Syntax:
//
//	bfd-rx name=NAME state=admindown|down|init|up [my=N] [your=N] [mult=N]
//	       [tx=US] [rx=US] [diag=N] [ver=N] [ttl=N] [from=ADDR] [dst=ADDR]
//	       [verdict=NAME] [poll] [final] [demand] [multipoint] [auth]
//	       [multihop] [only=(Kind, ...)]
//
// Example:
//
//	bfd-rx name=b1 state=down your=0 tx=1000000
//	bfd-rx name=b1 state=up poll only=(SendBFD)
func (h *Harness) cmdBFDRx(a *params) error {
	if h.Config == nil {
		return fmt.Errorf("%s: no configuration loaded", a.cmd)
	}
	name := a.Str("name", "")
	var neighbor, source netip.Addr
	for _, b := range h.Config.BFDInstances {
		if b.Name == name {
			neighbor, source = b.Neighbor, b.Source
		}
	}
	if !neighbor.IsValid() {
		return fmt.Errorf("%s: no bfd_instance %q", a.cmd, name)
	}
	var ours uint32
	for _, s := range h.Engine.BFDSessions() {
		if s.Name == name {
			ours = s.LocalDisc
		}
	}
	ev := &events.BFDReceived{Src: a.Addr("from", neighbor), Dst: a.Addr("dst", source), TTL: uint8(a.Int("ttl", 255, 0, 255)),
		Multihop: a.Has("multihop")}
	p := &ev.Packet
	p.Version = uint8(a.Int("ver", 1, 0, 7))
	p.Diag = uint8(a.Int("diag", 0, 0, 31))
	switch st := a.Str("state", ""); st {
	case "admindown":
		p.State = events.BFDAdminDown
	case "down":
		p.State = events.BFDDown
	case "init":
		p.State = events.BFDInit
	case "up":
		p.State = events.BFDUp
	default:
		a.fail("state", "%q is not admindown, down, init or up", st)
	}
	p.Poll, p.Final, p.Demand, p.Multipoint, p.Auth = a.Has("poll"), a.Has("final"), a.Has("demand"), a.Has("multipoint"), a.Has("auth")
	p.DetectMult = uint8(a.Int("mult", 5, 0, 255))
	p.Length = 24
	p.MyDisc = uint32(a.Uint64("my", 0x1000))
	p.YourDisc = uint32(a.Uint64("your", uint64(ours)))
	p.DesiredMinTx = uint32(a.Uint64("tx", 10000))
	p.RequiredMinRx = uint32(a.Uint64("rx", 10000))
	if v := a.Str("verdict", "ok"); v != "ok" {
		found := false
		for k := events.BFDVerdict(1); k < 8; k++ {
			if k.String() == v {
				ev.Verdict, found = k, true
			}
		}
		if !found {
			a.fail("verdict", "%q is not ok, too-short, bad-version or bad-length", v)
		}
	}
	if err := a.Err(); err != nil {
		return err
	}
	return h.Step(ev)
}
