package scenario

import (
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

var advertSpec = spec{steps: true, args: []arg{
	{key: "from", kind: value, required: true, hint: "from=ADDR"},
	{key: "prio", kind: value, required: true, hint: "prio=N"},
	{key: "inst", kind: value, hint: "inst=NAME"},
	{key: "if", kind: value, hint: "if=NAME"},
	{key: "dst", kind: value, hint: "dst=ADDR"},
	{key: "vrid", kind: value, hint: "vrid=N"},
	{key: "ver", kind: value, hint: "ver=2|3"},
	{key: "type", kind: value, hint: "type=N"},
	{key: "ttl", kind: value, hint: "ttl=N"},
	{key: "interval", kind: value, hint: "interval=CENTISECONDS"},
	{key: "authtype", kind: value, hint: "authtype=N"},
	{key: "pass", kind: value, hint: "pass=TEXT"},
	{key: "addrs", kind: list, hint: "addrs=(ADDR, ...)"},
	{key: "verdict", kind: value, hint: "verdict=ok|too-short|bad-version|..."},
	{key: "checksum", kind: value, hint: "checksum=standard|old-unicast|as-v2"},
	{key: "count", kind: value, hint: "count=N"},
}}

// cmdAdvert delivers an AdvertReceived from a peer. Its fields default
// to a valid advert of the instance named by inst= (else the first
// instance of the configuration): that instance's interface, VRID,
// version, interval, virtual addresses and authentication, sent to the
// VRRP group (the unicast_src_ip with unicast peers), TTL 255; the other
// arguments override them. verdict= is the decoder's verdict (default
// ok), checksum= the checksum form the decoder verified (default
// standard), count= how many packets a rejected advert stands for (the
// adapter's coalescing; default 1).
//
// Syntax:
//
//	advert from=ADDR prio=N [inst=NAME] [if=NAME] [dst=ADDR] [vrid=N] [ver=2|3]
//	       [type=N] [ttl=N] [interval=CENTISECONDS] [authtype=N] [pass=TEXT]
//	       [addrs=(ADDR, ...)] [verdict=NAME] [checksum=FORM] [count=N]
//	       [only=(Kind, ...)]
//
// Example:
//
//	advert from=10.0.0.2 prio=150 inst=VI_1 only=(StateChanged)
//	advert from=10.0.0.2 prio=150 addrs=(10.0.0.7) ttl=64 verdict=bad-checksum
func (h *Harness) cmdAdvert(a *params) error {
	if h.Config == nil {
		return fmt.Errorf("%s: no configuration loaded", a.cmd)
	}
	var c *conf.Instance
	name := a.Str("inst", "")
	for k := range h.Config.Instances {
		if name == "" || h.Config.Instances[k].Name == name {
			c = &h.Config.Instances[k]
			break
		}
	}
	if c == nil {
		return fmt.Errorf("%s: no instance %q", a.cmd, name)
	}
	ev := &events.AdvertReceived{Interface: a.Str("if", c.Interface), TTL: 255, Length: 20}
	adv := &ev.Advert
	adv.Version, adv.Type, adv.VRID = uint8(c.Version), 1, uint8(c.VRID)
	adv.Interval = uint16(c.AdvertInt.Std() / (10 * time.Millisecond))
	for _, v := range c.VirtualIPAddresses {
		adv.Addrs = append(adv.Addrs, v.Prefix.Addr())
	}
	if c.AuthType == "PASS" {
		adv.AuthType = 1
		copy(adv.AuthData[:], c.AuthPass)
	}
	ev.Dst = netip.MustParseAddr("224.0.0.18")
	if c.Family == 6 {
		ev.Dst = netip.MustParseAddr("ff02::12")
	}
	if len(c.UnicastPeers) > 0 {
		ev.Dst = c.UnicastSrcIP
	}

	ev.Src = a.Addr("from", netip.Addr{})
	ev.Dst = a.Addr("dst", ev.Dst)
	adv.Priority = uint8(a.Int("prio", 0, 0, 255))
	adv.VRID = uint8(a.Int("vrid", int(adv.VRID), 0, 255))
	adv.Version = uint8(a.Int("ver", int(adv.Version), 0, 15))
	adv.Type = uint8(a.Int("type", int(adv.Type), 0, 15))
	ev.TTL = uint8(a.Int("ttl", int(ev.TTL), 0, 255))
	adv.Interval = uint16(a.Int("interval", int(adv.Interval), 0, math.MaxUint16))
	adv.AuthType = uint8(a.Int("authtype", int(adv.AuthType), 0, 255))
	if a.Has("pass") {
		adv.AuthData = [8]byte{}
		copy(adv.AuthData[:], a.Str("pass", ""))
	}
	if a.Has("addrs") {
		adv.Addrs = a.Addrs("addrs")
	}
	ev.Count = a.Int("count", 0, 0, math.MaxInt32)
	if v := a.Str("verdict", ""); v != "" {
		ev.Verdict = verdictNamed(a, v)
	}
	switch v := a.Str("checksum", "standard"); v {
	case "standard":
	case "old-unicast":
		adv.Checksum = events.ChecksumOldUnicast
	case "as-v2":
		adv.Checksum = events.ChecksumAsV2
	default:
		a.fail("checksum", "%q is not standard, old-unicast or as-v2", v)
	}
	if err := a.Err(); err != nil {
		return err
	}
	adv.CountAddrs = uint8(len(adv.Addrs))
	return h.Step(ev)
}

// verdictNamed returns the decoder verdict named s.
func verdictNamed(a *params, s string) events.Verdict {
	var names []string
	for k := events.Verdict(0); ; k++ {
		n := k.String()
		if n == s {
			return k
		}
		if n == "verdict("+fmt.Sprint(int(k))+")" {
			break
		}
		names = append(names, n)
	}
	a.fail("verdict", "%q is not a verdict (%v)", s, names)
	return 0
}
