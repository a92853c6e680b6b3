package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Scenario is a parsed scenario file: commands executed in order.
type Scenario struct {
	// Name is the file name used in messages; Dir resolves config paths.
	Name string
	Dir  string
	Cmds []Cmd
	// Configs holds inline configurations (`config NAME <<EOF`).
	Configs map[string]string
}

// Cmd is one scenario command: a verb, positional arguments and key=value
// options, in the order written.
type Cmd struct {
	Line int
	Verb string
	Args []string
	Opts []KV
	Text string
}

// KV is a key=value option.
type KV struct{ Key, Value string }

// Opt returns the value of option key and whether it was given.
func (c Cmd) Opt(key string) (string, bool) {
	for _, o := range c.Opts {
		if o.Key == key {
			return o.Value, true
		}
	}
	return "", false
}

// ParseFile reads and parses a scenario file.
func ParseFile(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return Parse(filepath.Base(path), filepath.Dir(path), string(b))
}

// Parse parses scenario text. Lines hold one command; `#` starts a
// comment; `config NAME <<WORD` takes the following lines up to a line
// holding only WORD as an inline configuration.
func Parse(name, dir, text string) (*Scenario, error) {
	s := &Scenario{Name: name, Dir: dir, Configs: map[string]string{}}
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		raw := lines[i]
		line := raw
		if k := strings.IndexByte(line, '#'); k >= 0 {
			line = line[:k]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		c := Cmd{Line: i + 1, Verb: f[0], Text: strings.TrimSpace(line)}
		if c.Verb == "echo" {
			c.Args = []string{strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(raw), "echo"))}
			s.Cmds = append(s.Cmds, c)
			continue
		}
		if c.Verb == "config" {
			if len(f) != 3 || !strings.HasPrefix(f[2], "<<") || len(f[2]) < 3 {
				return nil, fmt.Errorf("%s:%d: want `config NAME <<EOF`", name, i+1)
			}
			end, start := f[2][2:], i+1
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != end; i++ {
			}
			if i == len(lines) {
				return nil, fmt.Errorf("%s:%d: config %s: no closing %s", name, start, f[1], end)
			}
			s.Configs[f[1]] = strings.Join(lines[start:i], "\n") + "\n"
			continue
		}
		for _, t := range f[1:] {
			if k := strings.IndexByte(t, '='); k > 0 && isWord(t[:k]) {
				c.Opts = append(c.Opts, KV{t[:k], t[k+1:]})
			} else {
				c.Args = append(c.Args, t)
			}
		}
		if err := checkArity(c); err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", name, c.Line, c.Verb, err)
		}
		s.Cmds = append(s.Cmds, c)
	}
	return s, nil
}

// arity gives each verb's minimum and maximum positional argument counts
// (-1: unbounded).
var arity = map[string][2]int{
	"seed": {1, 1}, "node": {1, 1}, "segment": {2, -1}, "start": {1, -1}, "stop": {1, -1},
	"kill": {1, -1}, "restart": {1, -1}, "stall": {2, 2}, "run": {1, 1},
	"link-down": {1, -1}, "link-up": {1, -1}, "partition": {1, -1}, "heal": {0, 0},
	"loss": {2, 2}, "script": {2, 2}, "track-file": {2, 2}, "process": {2, 2},
	"del-addr": {2, 2}, "reload": {1, 1}, "expect": {1, -1}, "trace": {1, 1},
	"invariants": {1, 1}, "drop": {2, 3}, "undrop": {2, 3},
}

func checkArity(c Cmd) error {
	a, ok := arity[c.Verb]
	if !ok {
		return fmt.Errorf("unknown command")
	}
	if len(c.Args) < a[0] || (a[1] >= 0 && len(c.Args) > a[1]) {
		return fmt.Errorf("wrong number of arguments in %q", c.Text)
	}
	return nil
}

// isWord reports whether s can be an option key: letters, digits, '_'
// and '-' (so "<=" stays an argument).
func isWord(s string) bool {
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
