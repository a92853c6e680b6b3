package scenario

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/vigil-ha/vigil/effects"
)

// argKind says what an argument takes.
type argKind uint8

const (
	flag  argKind = iota // a bare word: `down`
	value                // exactly one value: `prio=150`
	list                 // a list: `addrs=(10.0.0.1, 10.0.0.2)`, `addrs=()`, or one value
)

// arg declares one argument a command accepts.
type arg struct {
	key      string
	kind     argKind
	required bool
	// hint shows the value in messages: prio=N, from=ADDR.
	hint string
}

// spec declares what a command accepts: its arguments, its exclusive
// choices, its input block, and whether it steps the engine (then it
// also accepts only=(Kinds)).
type spec struct {
	args []arg
	// oneOf are groups of flags of which at most one may be given;
	// a group whose first entry is "!" needs exactly one.
	oneOf [][]string
	// positional names a leading bare argument that is a value, not a
	// key: `advance 3s`. It is required.
	positional string
	// input: the command takes an input block (config, reload), which
	// must not be empty. Other commands refuse one.
	input bool
	// steps: the command feeds events to the engine and prints their
	// effects; only=(Kind, ...) keeps the lines of those effect kinds.
	steps bool
}

// params are a command's arguments, checked against its spec. The getters
// record the first unparsable value; Err returns it. Reading a key the
// spec does not declare is a bug of the harness and panics.
type params struct {
	cmd  string
	spec *spec
	// pos is the positional value, if the spec has one.
	pos string
	// input is the input block (config, reload).
	input string
	vals  map[string][]string
	err   error
}

// only is the argument every stepping command accepts.
var onlyArg = arg{key: "only", kind: list, hint: "only=(Kind, ...)"}

// parseArgs checks a directive's arguments against s: an unknown key, a
// repeated key, a flag with a value, a value-taking key without one, a
// missing required key, two exclusive flags, an input block where none
// belongs (or none where one is needed) are errors.
func parseArgs(d *datadriven.TestData, s *spec) (*params, error) {
	a := &params{cmd: d.Cmd, spec: s, input: d.Input, vals: map[string][]string{}}
	cas := d.CmdArgs
	if s.positional != "" {
		if len(cas) == 0 || len(cas[0].Vals) > 0 {
			return nil, fmt.Errorf("%s: needs %s first", d.Cmd, s.positional)
		}
		a.pos, cas = cas[0].Key, cas[1:]
	}
	for _, ca := range cas {
		sp, ok := s.lookup(ca.Key)
		if !ok {
			return nil, fmt.Errorf("%s: unknown argument %q (allowed: %s)", d.Cmd, ca.Key, s.allowed())
		}
		if _, dup := a.vals[ca.Key]; dup {
			return nil, fmt.Errorf("%s: %s given twice", d.Cmd, ca.Key)
		}
		switch sp.kind {
		case flag:
			if len(ca.Vals) > 0 {
				return nil, fmt.Errorf("%s: %s takes no value", d.Cmd, ca.Key)
			}
		case value:
			if len(ca.Vals) != 1 || ca.Vals[0] == "" {
				return nil, fmt.Errorf("%s: %s needs one value (%s)", d.Cmd, ca.Key, sp.show())
			}
		case list:
			if len(ca.Vals) == 0 {
				return nil, fmt.Errorf("%s: %s needs a value (%s)", d.Cmd, ca.Key, sp.show())
			}
		}
		vals := ca.Vals
		if vals == nil {
			vals = []string{}
		}
		a.vals[ca.Key] = vals
	}
	for _, sp := range s.args {
		if _, ok := a.vals[sp.key]; sp.required && !ok {
			return nil, fmt.Errorf("%s: missing %s", d.Cmd, sp.show())
		}
	}
	for _, g := range s.oneOf {
		need := g[0] == "!"
		if need {
			g = g[1:]
		}
		var got []string
		for _, k := range g {
			if _, ok := a.vals[k]; ok {
				got = append(got, k)
			}
		}
		switch {
		case len(got) > 1:
			return nil, fmt.Errorf("%s: %s exclude each other", d.Cmd, strings.Join(got, " and "))
		case need && len(got) == 0:
			return nil, fmt.Errorf("%s: needs one of %s", d.Cmd, strings.Join(g, ", "))
		}
	}
	switch {
	case s.input && strings.TrimSpace(d.Input) == "":
		return nil, fmt.Errorf("%s: needs an input block", d.Cmd)
	case !s.input && d.Input != "":
		return nil, fmt.Errorf("%s: takes no input block", d.Cmd)
	}
	if v, ok := a.vals["only"]; ok {
		for _, k := range v {
			if _, ok := kindByName(strings.TrimSpace(k)); !ok {
				return nil, fmt.Errorf("%s: only: %q is not an effect kind", d.Cmd, k)
			}
		}
	}
	return a, nil
}

func (s *spec) lookup(key string) (arg, bool) {
	if s.steps && key == "only" {
		return onlyArg, true
	}
	for _, a := range s.args {
		if a.key == key {
			return a, true
		}
	}
	return arg{}, false
}

func (s *spec) allowed() string {
	var ks []string
	for _, a := range s.args {
		ks = append(ks, a.key)
	}
	if s.steps {
		ks = append(ks, "only")
	}
	if len(ks) == 0 {
		return "none"
	}
	return strings.Join(ks, ", ")
}

func (a arg) show() string {
	switch {
	case a.hint != "":
		return a.hint
	case a.kind == flag:
		return a.key
	}
	return a.key + "="
}

// kindByName returns the effect kind named s.
func kindByName(s string) (effects.Kind, bool) {
	for k := effects.Kind(1); k < 64; k++ {
		if n := k.String(); n == s && !strings.HasPrefix(n, "Kind(") {
			return k, true
		}
	}
	return 0, false
}

// Err is the first value a getter could not parse.
func (a *params) Err() error { return a.err }

func (a *params) fail(key, format string, args ...any) {
	if a.err == nil {
		a.err = fmt.Errorf("%s: %s: %s", a.cmd, key, fmt.Sprintf(format, args...))
	}
}

// declared panics unless the spec declares key: a handler reading an
// undeclared key is a bug of the harness, not of the scenario.
func (a *params) declared(key string) {
	if _, ok := a.spec.lookup(key); !ok {
		panic(fmt.Sprintf("scenario: %s reads undeclared argument %q", a.cmd, key))
	}
}

// Has reports whether key was given.
func (a *params) Has(key string) bool {
	a.declared(key)
	_, ok := a.vals[key]
	return ok
}

// Str returns key's value, or def.
func (a *params) Str(key, def string) string {
	a.declared(key)
	if v, ok := a.vals[key]; ok && len(v) > 0 {
		return v[0]
	}
	return def
}

// List returns key's values (trimmed, empty ones dropped).
func (a *params) List(key string) []string {
	a.declared(key)
	var out []string
	for _, v := range a.vals[key] {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Int returns key's value as an integer in [lo, hi], or def.
func (a *params) Int(key string, def, lo, hi int) int {
	s := a.Str(key, "")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		a.fail(key, "%q is not an integer in [%d, %d]", s, lo, hi)
		return def
	}
	return n
}

// Int64 returns key's value as a 64-bit integer, or def.
func (a *params) Int64(key string, def int64) int64 {
	s := a.Str(key, "")
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		a.fail(key, "%q is not an integer", s)
		return def
	}
	return n
}

// Uint64 returns key's value as an unsigned integer, or def.
func (a *params) Uint64(key string, def uint64) uint64 {
	s := a.Str(key, "")
	if s == "" {
		return def
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		a.fail(key, "%q is not an unsigned integer", s)
		return def
	}
	return n
}

// Addr returns key's value as an IP address, or def.
func (a *params) Addr(key string, def netip.Addr) netip.Addr {
	s := a.Str(key, "")
	if s == "" {
		return def
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		a.fail(key, "%v", err)
		return def
	}
	return ip
}

// Addrs returns key's values as IP addresses.
func (a *params) Addrs(key string) []netip.Addr {
	var out []netip.Addr
	for _, s := range a.List(key) {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			a.fail(key, "%v", err)
			continue
		}
		out = append(out, ip)
	}
	return out
}

// Prefix returns key's value as an address prefix.
func (a *params) Prefix(key string) netip.Prefix {
	s := a.Str(key, "")
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a.fail(key, "%v", err)
	}
	return p
}

// Duration returns the positional value as a duration (advance 3s).
func (a *params) Duration() time.Duration {
	d, err := time.ParseDuration(a.pos)
	if err != nil || d < 0 {
		a.fail(a.spec.positional, "%q is not a duration >= 0", a.pos)
		return 0
	}
	return d
}

// only returns the kinds only= keeps, nil without only=.
func (a *params) only() []effects.Kind {
	if !a.spec.steps {
		return nil
	}
	var ks []effects.Kind
	for _, s := range a.vals["only"] {
		k, _ := kindByName(strings.TrimSpace(s))
		ks = append(ks, k)
	}
	return slices.Clip(ks)
}
