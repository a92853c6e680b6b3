package netlink

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	vnl "github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events/conf"
)

// ruleActions maps `ip rule` action keywords to FR_ACT_* values.
var ruleActions = map[string]uint8{
	"nop":         nl.FR_ACT_NOP,
	"blackhole":   nl.FR_ACT_BLACKHOLE,
	"unreachable": nl.FR_ACT_UNREACHABLE,
	"prohibit":    nl.FR_ACT_PROHIBIT,
}

// toRule converts a rule line into the request `ip rule add` (add true) or
// `ip rule del` would send. Priority and Table 0 mean unset. Action is one
// of goto N, nop, blackhole, unreachable, prohibit, or empty for a table
// lookup (table main when no table is given, as ip(8) does).
func toRule(r conf.Rule, add bool) (*vnl.Rule, error) {
	rule := vnl.NewRule()
	switch r.Family {
	case 4, unix.AF_INET:
		rule.Family = unix.AF_INET
	case 6, unix.AF_INET6:
		rule.Family = unix.AF_INET6
	case 0:
		rule.Family = unix.AF_INET
	default:
		return nil, fmt.Errorf("invalid family %d", r.Family)
	}
	if r.From.IsValid() {
		rule.Src = ipNet(r.From.Masked())
		rule.Family = family(r.From.Addr())
	}
	if r.To.IsValid() {
		rule.Dst = ipNet(r.To.Masked())
		if r.From.IsValid() && family(r.To.Addr()) != rule.Family {
			return nil, errors.New("from and to differ in family")
		}
		rule.Family = family(r.To.Addr())
	}
	if r.Priority > 0 {
		rule.Priority = r.Priority
	}
	rule.Table = r.Table
	rule.IifName = r.IIf
	rule.OifName = r.OIf
	if r.FwMark != "" {
		mark, mask, hasMask := strings.Cut(r.FwMark, "/")
		v, err := strconv.ParseUint(mark, 0, 32)
		if err != nil {
			return nil, fmt.Errorf("fwmark %q: %w", r.FwMark, err)
		}
		rule.Mark = uint32(v)
		if hasMask {
			m, err := strconv.ParseUint(mask, 0, 32)
			if err != nil {
				return nil, fmt.Errorf("fwmark %q: %w", r.FwMark, err)
			}
			m32 := uint32(m)
			rule.Mask = &m32
		}
	}
	if err := ruleAction(rule, r.Action); err != nil {
		return nil, err
	}
	if add && rule.Table == 0 && rule.Goto < 0 && rule.Type == 0 {
		rule.Table = unix.RT_TABLE_MAIN
	}
	if err := ruleOptions(rule, r.Other); err != nil {
		return nil, err
	}
	return rule, nil
}

// ruleAction applies the action word(s) of a rule.
func ruleAction(rule *vnl.Rule, action string) error {
	words := strings.Fields(action)
	if len(words) == 0 {
		return nil
	}
	if words[0] == "goto" {
		if len(words) != 2 {
			return fmt.Errorf("action %q: goto needs a priority", action)
		}
		n, err := strconv.ParseUint(words[1], 0, 32)
		if err != nil {
			return fmt.Errorf("action %q: %w", action, err)
		}
		rule.Goto = int(n)
		return nil
	}
	a, ok := ruleActions[words[0]]
	if !ok || len(words) != 1 {
		return fmt.Errorf("unsupported rule action %q", action)
	}
	rule.Type = a
	return nil
}

// ruleOptions applies the rule options the configuration model keeps
// untyped. Unknown options are refused rather than silently dropped.
func ruleOptions(rule *vnl.Rule, opts []conf.KeyValue) error {
	for _, o := range opts {
		var err error
		switch o.Key {
		case "not":
			rule.Invert = true
		case "tos", "dsfield":
			rule.Tos, err = parseUint[uint](o.Value, 8)
		case "suppress_prefixlength", "sup_pl":
			rule.SuppressPrefixlen, err = parseUint[int](o.Value, 32)
		case "suppress_ifgroup", "sup_group":
			rule.SuppressIfgroup, err = parseUint[int](o.Value, 32)
		case "realms":
			rule.Flow, err = parseUint[int](o.Value, 32)
		case "ipproto":
			rule.IPProto, err = parseIPProto(o.Value)
		case "protocol":
			var p uint8
			p, err = lookupName("protocol", o.Value, protocolNames)
			rule.Protocol = p
		case "sport", "dport":
			var lo, hi uint16
			lo, hi, err = parseRange[uint16](o.Value, 16)
			pr := vnl.NewRulePortRange(lo, hi)
			if o.Key == "sport" {
				rule.Sport = pr
			} else {
				rule.Dport = pr
			}
		case "uidrange":
			var lo, hi uint32
			lo, hi, err = parseRange[uint32](o.Value, 32)
			rule.UIDRange = vnl.NewRuleUIDRange(lo, hi)
		default:
			return fmt.Errorf("unsupported rule option %q", o.Key)
		}
		if err != nil {
			return fmt.Errorf("rule option %s %q: %w", o.Key, o.Value, err)
		}
	}
	return nil
}

// parseUint parses an unsigned decimal or 0x-prefixed number.
func parseUint[T ~int | ~uint | ~uint16 | ~uint32](s string, bits int) (T, error) {
	n, err := strconv.ParseUint(s, 0, bits)
	return T(n), err
}

// parseRange parses "N" or "N-M".
func parseRange[T ~uint16 | ~uint32](s string, bits int) (T, T, error) {
	a, b, ok := strings.Cut(s, "-")
	lo, err := parseUint[T](a, bits)
	if err != nil || !ok {
		return lo, lo, err
	}
	hi, err := parseUint[T](b, bits)
	return lo, hi, err
}

// parseIPProto parses an ipproto option: a number or tcp, udp, icmp, ...
func parseIPProto(s string) (int, error) {
	switch s {
	case "tcp":
		return unix.IPPROTO_TCP, nil
	case "udp":
		return unix.IPPROTO_UDP, nil
	case "icmp":
		return unix.IPPROTO_ICMP, nil
	case "ipv6-icmp", "icmpv6":
		return unix.IPPROTO_ICMPV6, nil
	case "sctp":
		return unix.IPPROTO_SCTP, nil
	}
	return parseUint[int](s, 8)
}

// addRule installs a rule; an identical rule already present is not an
// error.
func (x *Executor) addRule(r conf.Rule) error {
	rule, err := toRule(r, true)
	if err != nil {
		return fmt.Errorf("add rule: %w", err)
	}
	if err := x.h.RuleAdd(rule); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add rule %s: %w", rule, err)
	}
	return nil
}

// delRule removes a rule; a rule already gone is not an error.
func (x *Executor) delRule(r conf.Rule) error {
	rule, err := toRule(r, false)
	if err != nil {
		return fmt.Errorf("delete rule: %w", err)
	}
	if err := x.h.RuleDel(rule); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("delete rule %s: %w", rule, err)
	}
	return nil
}
