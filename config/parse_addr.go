package config

import (
	"net/netip"
	"strconv"

	"github.com/vigil-ha/vigil/events/conf"
)

// addrKind says which list an address line belongs to: the options
// allowed differ slightly.
type addrKind int

const (
	addrStatic addrKind = iota
	addrVIP
	addrEVIP
)

// tokens returns a statement's keyword and arguments as one list: address,
// route and rule lines have no keyword of their own.
func tokens(n *node) []string {
	out := make([]string, 0, len(n.args)+1)
	out = append(out, n.kw.Text)
	return append(out, argTexts(n)...)
}

// tokCol returns the column of token i of tokens(n).
func tokCol(n *node, i int) int {
	if i == 0 {
		return n.kw.Col
	}
	return argCol(n, i-1)
}

func (p *parser) tokErrorf(n *node, i int, isErr bool, format string, args ...any) {
	p.report(n, tokCol(n, i), isErr, format, args...)
}

// parseAddress parses `ADDR[/LEN] [brd ADDR|+|-] [dev IF] [use_vmac]
// [scope S] [label L] [peer ADDR[/LEN]] [home] [-nodad] [mngtmpaddr]
// [noprefixroute] [autojoin] [no_track] [preferred_lft N|forever]
// [track_group G]`. An address that cannot be parsed is an error for VIPs
// (an instance silently missing a VIP breaks failover) and a warning,
// skipping the line, for static addresses, as keepalived does.
func (p *parser) parseAddress(n *node, kind addrKind) (conf.Address, bool) {
	p.noBlock(n)
	t := tokens(n)
	var a conf.Address
	pfx, err := parsePrefix(t[0])
	if err != nil {
		p.tokErrorf(n, 0, kind != addrStatic, "invalid IP address '%s' - address skipped", t[0])
		return a, false
	}
	a.Prefix = pfx
	brd := ""
	brdIdx := 0
	dad := false
	for i := 1; i < len(t); i++ {
		k := t[i]
		val := func() (string, bool) {
			if i+1 >= len(t) {
				p.tokErrorf(n, i, true, "'%s' needs a value", k)
				return "", false
			}
			i++
			return t[i], true
		}
		switch k {
		case "brd", "broadcast":
			if v, ok := val(); ok {
				brd, brdIdx = v, i
			}
		case "dev":
			if v, ok := val(); ok {
				if !validIfName(v) {
					p.tokErrorf(n, i, true, "invalid interface name '%s'", v)
					return a, false
				}
				a.Dev = v
			}
		case "use_vmac":
			if kind == addrStatic {
				p.tokErrorf(n, i, false, "use_vmac is only valid for virtual addresses - ignored")
			} else {
				a.UseVMAC = true
			}
		case "scope":
			if v, ok := val(); ok {
				switch v {
				case "site", "link", "host", "nowhere", "global":
					a.Scope = v
				default:
					if _, err := strconv.ParseUint(v, 10, 8); err != nil {
						p.tokErrorf(n, i, true, "invalid scope '%s': expected site, link, host, nowhere or global", v)
						return a, false
					}
					a.Scope = v
				}
			}
		case "label":
			if v, ok := val(); ok {
				a.Label = v
			}
		case "peer":
			if v, ok := val(); ok {
				pp, err := parsePrefix(v)
				if err != nil || pp.Addr().Is4() != pfx.Addr().Is4() {
					p.tokErrorf(n, i, true, "invalid peer address '%s'", v)
					return a, false
				}
				a.Peer = pp
			}
		case "home":
			a.Home = true
		case "-nodad":
			// keepalived adds IPv6 addresses with IFA_F_NODAD unless
			// -nodad is written: it keeps duplicate address detection.
			dad = true
		case "nodad":
			p.tokErrorf(n, i, false, "unknown configuration entry 'nodad' for ip address - ignored (IPv6 addresses get nodad unless -nodad is written)")
		case "mngtmpaddr":
			a.MngTmpAddr = true
		case "noprefixroute":
			a.NoPrefixRoute = true
		case "autojoin":
			a.AutoJoin = true
		case "no_track":
			a.NoTrack = true
		case "preferred_lft":
			if v, ok := val(); ok {
				var lft int64 = -1
				if v != "forever" {
					x, err := strconv.ParseUint(v, 10, 32)
					if err != nil {
						p.tokErrorf(n, i, true, "invalid preferred_lft '%s': expected seconds or forever", v)
						return a, false
					}
					lft = int64(x)
				}
				a.PreferredLft = &lft
			}
		case "track_group":
			if v, ok := val(); ok {
				if kind != addrStatic {
					p.tokErrorf(n, i, false, "track_group only applies to static addresses - ignored")
				} else {
					a.TrackGroup = v
				}
			}
		default:
			p.tokErrorf(n, i, true, "unknown address option '%s'", k)
			return a, false
		}
	}
	a.NoDAD = pfx.Addr().Is6() && !pfx.Addr().Is4In6() && !dad
	if brd != "" {
		switch brd {
		case "+", "-":
			a.Broadcast = hostBits(pfx, brd == "+")
		default:
			b, err := parseAddr(brd)
			if err != nil || b.Is4() != pfx.Addr().Is4() {
				p.tokErrorf(n, brdIdx, true, "invalid broadcast address '%s'", brd)
				return a, false
			}
			a.Broadcast = b
		}
	}
	return a, true
}

// hostBits returns the prefix's address with its host bits all set (or
// all cleared).
func hostBits(pfx netip.Prefix, set bool) netip.Addr {
	b := pfx.Addr().AsSlice()
	for i := pfx.Bits(); i < len(b)*8; i++ {
		if set {
			b[i/8] |= 0x80 >> (i % 8)
		} else {
			b[i/8] &^= 0x80 >> (i % 8)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
