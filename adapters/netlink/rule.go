package netlink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events/conf"
	"github.com/vigil-ha/vigil/internal/rtnames"
)

// fibRuleInvert is FIB_RULE_INVERT, the flag of a `not` rule.
const fibRuleInvert = 0x2

// ruleActions maps a rule's action to FR_ACT_*.
var ruleActions = map[string]uint8{
	"":            nl.FR_ACT_TO_TBL,
	"goto":        nl.FR_ACT_GOTO,
	"nop":         nl.FR_ACT_NOP,
	"blackhole":   nl.FR_ACT_BLACKHOLE,
	"unreachable": nl.FR_ACT_UNREACHABLE,
	"prohibit":    nl.FR_ACT_PROHIBIT,
}

// toRule builds the RTM_NEWRULE (add) or RTM_DELRULE request for a rule
// line, as keepalived's netlink_rule does. A lookup rule without a table
// looks up main when added, as with ip(8); a delete without one matches
// any table.
func toRule(r conf.Rule, add bool) (*rtReq, error) {
	q := &rtReq{typ: unix.RTM_DELRULE}
	if add {
		q.typ, q.flags = unix.RTM_NEWRULE, unix.NLM_F_CREATE|unix.NLM_F_EXCL
	}
	h := &q.hdr
	switch r.Family {
	case 4, unix.AF_INET, 0:
		h.Family = unix.AF_INET
	case 6, unix.AF_INET6:
		h.Family = unix.AF_INET6
	default:
		return nil, fmt.Errorf("invalid family %d", r.Family)
	}
	if r.From.IsValid() && r.To.IsValid() && r.From.Addr().Is4() != r.To.Addr().Is4() {
		return nil, errors.New("from and to differ in family")
	}
	if r.From.IsValid() {
		m := r.From.Masked()
		h.Family, h.Src_len = uint8(family(m.Addr())), uint8(m.Bits())
		q.addr(unix.FRA_SRC, m.Addr())
	}
	if r.To.IsValid() {
		m := r.To.Masked()
		h.Family, h.Dst_len = uint8(family(m.Addr())), uint8(m.Bits())
		q.addr(unix.FRA_DST, m.Addr())
	}
	act, ok := ruleActions[r.Action]
	if !ok {
		return nil, fmt.Errorf("unsupported rule action %q", r.Action)
	}
	h.Type = act
	if r.Not {
		h.Flags |= fibRuleInvert
	}
	h.Tos = uint8(r.Tos)
	if act == nl.FR_ACT_TO_TBL && !r.L3MDev {
		table := r.Table
		if table == 0 && add {
			table = unix.RT_TABLE_MAIN
		}
		if table < 256 {
			h.Table = uint8(table)
		} else {
			q.u32(unix.FRA_TABLE, uint32(table))
		}
	}
	if r.PrioritySet || r.Priority > 0 {
		q.u32(unix.FRA_PRIORITY, uint32(r.Priority))
	}
	if r.FwMark != "" {
		mark, mask, hasMask := strings.Cut(r.FwMark, "/")
		v, ok := rtnames.ParseCUint(mark, 0xFFFFFFFF)
		m, okMask := rtnames.ParseCUint(mask, 0xFFFFFFFF)
		if !ok || hasMask && !okMask {
			return nil, fmt.Errorf("invalid fwmark %q", r.FwMark)
		}
		q.u32(unix.FRA_FWMARK, uint32(v))
		if hasMask {
			q.u32(unix.FRA_FWMASK, uint32(m))
		}
	}
	if r.Realms != 0 {
		q.u32(unix.FRA_FLOW, r.Realms)
	}
	if r.SuppressPrefixLength != nil {
		q.u32(unix.FRA_SUPPRESS_PREFIXLEN, uint32(*r.SuppressPrefixLength))
	}
	if r.SuppressIfGroup != nil {
		q.u32(unix.FRA_SUPPRESS_IFGROUP, uint32(*r.SuppressIfGroup))
	}
	if r.IIf != "" {
		q.add(unix.FRA_IIFNAME, append([]byte(r.IIf), 0))
	}
	if r.OIf != "" {
		q.add(unix.FRA_OIFNAME, append([]byte(r.OIf), 0))
	}
	if r.TunnelID != 0 {
		q.add(unix.FRA_TUN_ID, nl.BEUint64Attr(r.TunnelID))
	}
	if r.UIDRange != nil {
		b := make([]byte, 8)
		binary.NativeEndian.PutUint32(b[0:4], r.UIDRange.Start)
		binary.NativeEndian.PutUint32(b[4:8], r.UIDRange.End)
		q.add(unix.FRA_UID_RANGE, b)
	}
	if r.L3MDev {
		q.u8(unix.FRA_L3MDEV, 1)
	}
	if r.Protocol != 0 {
		q.u8(unix.FRA_PROTOCOL, uint8(r.Protocol))
	}
	if r.IPProto != 0 {
		q.u8(unix.FRA_IP_PROTO, uint8(r.IPProto))
	}
	for _, pr := range []struct {
		rng *conf.Range
		typ int
	}{{r.SPort, unix.FRA_SPORT_RANGE}, {r.DPort, unix.FRA_DPORT_RANGE}} {
		if pr.rng != nil {
			b := make([]byte, 4)
			binary.NativeEndian.PutUint16(b[0:2], uint16(pr.rng.Start))
			binary.NativeEndian.PutUint16(b[2:4], uint16(pr.rng.End))
			q.add(pr.typ, b)
		}
	}
	if act == nl.FR_ACT_GOTO {
		q.u32(unix.FRA_GOTO, uint32(r.Goto))
	}
	return q, nil
}

// ruleText names a rule in errors.
func ruleText(r conf.Rule) string {
	var b strings.Builder
	if r.Not {
		b.WriteString("not ")
	}
	b.WriteString("from ")
	if r.From.IsValid() {
		b.WriteString(r.From.String())
	} else {
		b.WriteString("all")
	}
	if r.To.IsValid() {
		b.WriteString(" to " + r.To.String())
	}
	if r.PrioritySet || r.Priority > 0 {
		fmt.Fprintf(&b, " pref %d", r.Priority)
	}
	return b.String()
}

// addRule installs a rule; an identical rule already present is not an
// error.
func (x *Executor) addRule(r conf.Rule) error {
	q, err := toRule(r, true)
	if err != nil {
		return fmt.Errorf("add rule %s: %w", ruleText(r), err)
	}
	if err := x.exec(q); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add rule %s: %w", ruleText(r), err)
	}
	return nil
}

// delRule removes a rule; a rule already gone is not an error.
func (x *Executor) delRule(r conf.Rule) error {
	q, err := toRule(r, false)
	if err != nil {
		return fmt.Errorf("delete rule %s: %w", ruleText(r), err)
	}
	if err := x.exec(q); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("delete rule %s: %w", ruleText(r), err)
	}
	return nil
}
