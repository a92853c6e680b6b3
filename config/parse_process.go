package config

import (
	"strconv"
	"strings"
)

// The process settings of global_defs (vrrp_rt_priority, vrrp_cpu_affinity,
// umask...): the daemon applies them to its process and to the engine's
// thread; the engine never reads them.

// SCHED_RR's priority range on Linux (sched_get_priority_min/max).
const (
	minRTPriority = 1
	maxRTPriority = 99
	// maxCPU is the highest CPU number a cpu_set_t holds (CPU_SETSIZE-1).
	maxCPU = 1023
)

// rtPriority parses a real-time priority as keepalived does: an integer,
// clamped to SCHED_RR's range with a warning.
func (p *parser) rtPriority(n *node) (int, bool) {
	if len(n.args) == 0 {
		p.errorf(n, "missing value (a real-time priority from %d to %d)", minRTPriority, maxRTPriority)
		return 0, false
	}
	p.maxArgs(n, 1)
	v, err := strconv.ParseInt(n.args[0].Text, 10, 32)
	if err != nil {
		p.argErrorf(n, 0, "invalid real-time priority '%s': must be an integer from %d to %d", n.args[0].Text, minRTPriority, maxRTPriority)
		return 0, false
	}
	switch {
	case v < minRTPriority:
		p.argWarnf(n, 0, "real-time priority %d less than minimum %d - setting to minimum", v, minRTPriority)
		v = minRTPriority
	case v > maxRTPriority:
		p.argWarnf(n, 0, "real-time priority %d greater than maximum %d - setting to maximum", v, maxRTPriority)
		v = maxRTPriority
	}
	return int(v), true
}

// uintArg parses argument i of n as a decimal unsigned integer in
// [min, max].
func (p *parser) uintArg(n *node, i int, min, max uint64) (uint64, bool) {
	if i >= len(n.args) {
		p.errorf(n, "missing value (an integer from %d to %d)", min, max)
		return 0, false
	}
	s := n.args[i].Text
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v < min || v > max {
		p.argErrorf(n, i, "invalid value '%s': must be an integer from %d to %d", s, min, max)
		return 0, false
	}
	return v, true
}

// cpuList parses a CPU affinity list: CPU numbers, at least one. As in
// keepalived, an invalid number empties the set (the affinity is left as
// it is). Whether the CPUs exist is the host's business: the daemon
// reports a set the kernel refuses.
func (p *parser) cpuList(n *node) []int {
	if len(n.args) == 0 {
		p.errorf(n, "missing value (CPU numbers)")
		return nil
	}
	seen := map[int]bool{}
	var out []int
	for i := range n.args {
		v, ok := p.intArg(n, i, 0, maxCPU)
		if !ok {
			return nil
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// umaskBits are the names keepalived's umask takes, with their bits.
var umaskBits = map[string]uint32{
	"IRUSR": 0o400, "IWUSR": 0o200, "IXUSR": 0o100,
	"IRGRP": 0o040, "IWGRP": 0o020, "IXGRP": 0o010,
	"IROTH": 0o004, "IWOTH": 0o002, "IXOTH": 0o001,
}

// umask parses `umask NUMBER` (decimal, 0octal or 0xhex, as strtol with
// base 0) or `umask BITS` (names such as IWGRP joined by '|', possibly
// spread over several words), as keepalived does.
func (p *parser) umask(n *node) (uint32, bool) {
	if len(n.args) == 0 {
		p.errorf(n, "missing value (a umask: a number or bits such as IWGRP|IWOTH)")
		return 0, false
	}
	first := n.args[0].Text
	if first[0] >= '0' && first[0] <= '9' {
		p.maxArgs(n, 1)
		v, err := strconv.ParseInt(first, 0, 64)
		if err != nil || v < 0 || v&^0o777 != 0 {
			p.argErrorf(n, 0, "invalid umask value '%s': must be a number from 0 to 0777", first)
			return 0, false
		}
		return uint32(v), true
	}
	var bits uint32
	words := make([]string, len(n.args))
	for i, a := range n.args {
		words[i] = a.Text
	}
	text := strings.Join(words, "")
	for _, name := range strings.Split(text, "|") {
		b, ok := umaskBits[name]
		if !ok {
			if name == "" {
				p.argErrorf(n, 0, "invalid umask '%s': a bit name is missing around '|'", text)
			} else {
				p.argErrorf(n, 0, "unknown umask bit '%s' (IRUSR, IWUSR, IXUSR, IRGRP, IWGRP, IXGRP, IROTH, IWOTH, IXOTH)", name)
			}
			return 0, false
		}
		bits |= b
	}
	return bits, true
}
