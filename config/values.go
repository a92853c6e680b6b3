package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/config/lexer"
	"github.com/vigil-ha/vigil/events/conf"
)

// intArg parses argument i of n as a decimal integer in [min, max],
// reporting an error (and returning false) otherwise.
func (p *parser) intArg(n *node, i int, min, max int64) (int, bool) {
	if i >= len(n.args) {
		p.errorf(n, "missing value (an integer from %d to %d)", min, max)
		return 0, false
	}
	s := n.args[i].Text
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < min || v > max {
		p.argErrorf(n, i, "invalid value '%s': must be an integer from %d to %d", s, min, max)
		return 0, false
	}
	return int(v), true
}

// timerArg parses argument i of n as a <TIMER> (seconds, microsecond
// resolution) in [min, max].
func (p *parser) timerArg(n *node, i int, min, max time.Duration) (conf.Duration, bool) {
	if i >= len(n.args) {
		p.errorf(n, "missing value (a time in seconds)")
		return 0, false
	}
	s := n.args[i].Text
	d, err := parseTimer(s)
	if err != nil || d < min || d > max {
		p.argErrorf(n, i, "invalid time '%s': must be seconds from %s to %s", s, secs(min), secs(max))
		return 0, false
	}
	return conf.Duration(d), true
}

// secs formats a duration as keepalived.conf writes it: seconds.
func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

var errTimer = errors.New("not a decimal number of seconds")

// parseTimer reads a non-negative decimal number of seconds. Digits past
// the sixth decimal place are rounded to the microsecond.
func parseTimer(s string) (time.Duration, error) {
	if s == "" || len(s) > 32 {
		return 0, errTimer
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && (!hasDot || frac == "") {
		return 0, errTimer
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, errTimer
			}
		}
	}
	var w int64
	if whole != "" {
		v, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || v > 1<<31 {
			return 0, errTimer
		}
		w = v
	}
	us := w * 1e6
	if frac != "" {
		digits := frac
		round := false
		if len(digits) > 6 {
			round = digits[6] >= '5'
			digits = digits[:6]
		}
		digits += strings.Repeat("0", 6-len(digits))
		f, _ := strconv.ParseInt(digits, 10, 64)
		us += f
		if round {
			us++
		}
	}
	return time.Duration(us) * time.Microsecond, nil
}

// boolValue parses keepalived's <BOOL> spellings.
func boolValue(s string) (bool, bool) {
	switch s {
	case "on", "true", "yes":
		return true, true
	case "off", "false", "no":
		return false, true
	}
	return false, false
}

// boolArg parses optional <BOOL> argument i: absent means true.
func (p *parser) boolArg(n *node, i int) (bool, bool) {
	if i >= len(n.args) {
		return true, true
	}
	v, ok := boolValue(n.args[i].Text)
	if !ok {
		p.argErrorf(n, i, "invalid value '%s': expected on|off|true|false|yes|no", n.args[i].Text)
		return false, false
	}
	p.maxArgs(n, i+1)
	return v, true
}

// addrArg parses argument i as an IP address.
func (p *parser) addrArg(n *node, i int) (netip.Addr, bool) {
	if i >= len(n.args) {
		p.errorf(n, "missing IP address")
		return netip.Addr{}, false
	}
	a, err := parseAddr(n.args[i].Text)
	if err != nil {
		p.argErrorf(n, i, "invalid IP address '%s'", n.args[i].Text)
		return netip.Addr{}, false
	}
	return a, true
}

// parseAddr parses an address, unmapping IPv4-in-IPv6 and dropping zones
// keepalived would not accept.
func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("address %q: zones are not supported", s)
	}
	return a, nil
}

// parsePrefix parses ADDR[/LEN]; without a length the prefix is the host
// (/32 or /128).
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		addr, bits, _ := strings.Cut(s, "/")
		a, err := parseAddr(addr)
		if err != nil {
			return netip.Prefix{}, err
		}
		b, err := strconv.Atoi(bits)
		if err != nil || b < 0 || b > a.BitLen() {
			return netip.Prefix{}, fmt.Errorf("invalid prefix length in %q", s)
		}
		return netip.PrefixFrom(a, b), nil
	}
	a, err := parseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func family(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

// makeScript builds a Script from a command line as written.
func makeScript(raw string) conf.Script {
	argv := lexer.SplitCommand(raw)
	if argv == nil {
		argv = []string{}
	}
	return conf.Script{Raw: raw, Argv: argv}
}

// rawText is a token as keepalived hands it to its command splitter:
// quotes removed, backslash escapes not yet resolved.
func rawText(t lexer.Token) string {
	if t.Raw != "" {
		return t.Raw
	}
	return t.Text
}

// notifyScript parses `KEYWORD COMMAND [username [groupname]]`.
func (p *parser) notifyScript(n *node) *conf.Script {
	if !p.needArgs(n, 1, "script") {
		return nil
	}
	p.maxArgs(n, 3)
	s := makeScript(rawText(n.args[0]))
	if len(s.Argv) == 0 {
		p.argErrorf(n, 0, "empty script command")
		return nil
	}
	s.User = n.arg(1)
	s.Group = n.arg(2)
	return &s
}

// commandScript parses `KEYWORD COMMAND...` where every argument is part
// of the command (vrrp_script script, misc_path).
func (p *parser) commandScript(n *node) (conf.Script, bool) {
	if !p.needArgs(n, 1, "script") {
		return conf.Script{}, false
	}
	raw := rawText(n.args[0])
	if len(n.args) > 1 {
		parts := make([]string, len(n.args))
		for i, a := range n.args {
			if a.Quoted && strings.ContainsAny(a.Text, " \t") {
				parts[i] = "'" + rawText(a) + "'"
			} else {
				parts[i] = rawText(a)
			}
		}
		raw = strings.Join(parts, " ")
	}
	s := makeScript(raw)
	if len(s.Argv) == 0 {
		p.argErrorf(n, 0, "empty script command")
		return s, false
	}
	return s, true
}

// nameArg returns the block name (first argument) or reports it missing.
func (p *parser) nameArg(n *node, what string) (string, bool) {
	if len(n.args) == 0 || n.args[0].Text == "" {
		p.errorf(n, "%s must have a name", what)
		return "", false
	}
	p.maxArgs(n, 1)
	return n.args[0].Text, true
}

// validIfName reports whether s can be a Linux interface name.
func validIfName(s string) bool {
	if s == "" || len(s) > 15 || s == "." || s == ".." {
		return false
	}
	for _, c := range s {
		if c == '/' || c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// ifArg parses argument i as an interface name.
func (p *parser) ifArg(n *node, i int) (string, bool) {
	if i >= len(n.args) {
		p.errorf(n, "missing interface name")
		return "", false
	}
	s := n.args[i].Text
	if !validIfName(s) {
		p.argErrorf(n, i, "invalid interface name '%s' (at most 15 characters, no '/' or spaces)", s)
		return "", false
	}
	return s, true
}
