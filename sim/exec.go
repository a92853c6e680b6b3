package sim

import (
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

// Result summarises a scenario run.
type Result struct {
	Passed, Failed int
	// Failures lists the failed expectations, as printed.
	Failures []string
}

// Runner executes a scenario against a world.
type Runner struct {
	W  *World
	sc *Scenario
	// out receives the timeline and expectation results.
	out io.Writer
	res Result
}

// RunScenario executes s on a fresh world seeded with seed, printing the
// timeline to out (nil: discard). An error means the scenario itself is
// wrong (unknown node, bad config); failed expectations are in Result.
func RunScenario(s *Scenario, b Backend, seed uint64, out io.Writer) (Result, error) {
	r := NewRunner(s, b, seed, out)
	for _, c := range s.Cmds {
		if err := r.Exec(c); err != nil {
			return r.res, fmt.Errorf("%s:%d: %s: %w", s.Name, c.Line, c.Verb, err)
		}
	}
	return r.res, nil
}

// NewRunner returns a runner for s on a fresh world.
func NewRunner(s *Scenario, b Backend, seed uint64, out io.Writer) *Runner {
	w := NewWorld(b, seed)
	w.SetOutput(out)
	return &Runner{W: w, sc: s, out: out}
}

// Result returns the expectation counts so far.
func (r *Runner) Result() Result { return r.res }

// faults are the commands that perturb the cluster: convergence and
// takeover bounds count from the last of them.
var faults = map[string]bool{"start": true, "stop": true, "kill": true, "restart": true,
	"stall": true, "link-down": true, "link-up": true, "partition": true, "heal": true,
	"loss": true, "script": true, "track-file": true, "process": true, "del-addr": true, "reload": true,
	"drop": true, "undrop": true}

// Exec executes one command.
func (r *Runner) Exec(c Cmd) error {
	w := r.W
	switch c.Verb {
	case "run", "expect", "trace", "echo", "seed", "node", "segment", "invariants":
	default:
		w.logf("> %s", c.Text)
	}
	err := r.exec(c)
	if err == nil && faults[c.Verb] {
		w.mon.fault()
	}
	return err
}

func (r *Runner) exec(c Cmd) error {
	w := r.W
	switch c.Verb {
	case "echo":
		if r.out != nil {
			fmt.Fprintf(r.out, "%s  # %s\n", stamp(w.now), c.Args[0])
		}
	case "seed":
		n, err := strconv.ParseUint(c.Args[0], 10, 64)
		if err != nil {
			return fmt.Errorf("bad seed: %w", err)
		}
		w.Reseed(n)
	case "trace":
		if c.Args[0] == "on" {
			w.SetTrace(r.out)
		} else {
			w.SetTrace(nil)
		}
	case "invariants":
		w.SetStrict(c.Args[0] == "on", false)
	case "node":
		return r.node(c)
	case "segment":
		return r.segment(c)
	case "run":
		d, err := time.ParseDuration(c.Args[0])
		if err != nil {
			return fmt.Errorf("bad duration: %w", err)
		}
		w.Run(d)
	case "start", "stop", "kill", "restart":
		return r.lifecycle(c)
	case "stall":
		n, err := r.nodeArg(c.Args[0])
		if err != nil {
			return err
		}
		d, err := time.ParseDuration(c.Args[1])
		if err != nil {
			return fmt.Errorf("bad duration: %w", err)
		}
		if !n.running {
			w.logf("%s is down; stall ignored", n.Name)
			return nil
		}
		return w.Stall(n, d)
	case "link-down", "link-up":
		for _, a := range c.Args {
			i, err := r.ifaceArg(a)
			if err != nil {
				return err
			}
			w.SetLink(i, c.Verb == "link-up")
		}
	case "partition":
		return r.partition(c)
	case "heal":
		w.Heal()
	case "drop", "undrop":
		return r.drop(c)
	case "loss":
		s := w.segBy[c.Args[0]]
		if s == nil {
			return fmt.Errorf("unknown segment %q", c.Args[0])
		}
		p, err := parsePct(c.Args[1])
		if err != nil {
			return err
		}
		w.SetLoss(s, p)
	case "script", "track-file", "process":
		return r.tracker(c)
	case "del-addr":
		n, err := r.nodeArg(c.Args[0])
		if err != nil {
			return err
		}
		a, err := netip.ParseAddr(c.Args[1])
		if err != nil {
			return fmt.Errorf("bad address: %w", err)
		}
		return w.DelAddr(n, a)
	case "reload":
		n, err := r.nodeArg(c.Args[0])
		if err != nil {
			return err
		}
		ref, ok := c.Opt("config")
		if !ok {
			return fmt.Errorf("want config=FILE")
		}
		cfg, err := r.loadConfig(ref)
		if err != nil {
			return err
		}
		w.Reload(n, cfg, ref)
	case "expect":
		return r.expect(c)
	}
	return nil
}

func (r *Runner) nodeArg(name string) (*Node, error) {
	n := r.W.byName[name]
	if n == nil {
		return nil, fmt.Errorf("unknown node %q", name)
	}
	return n, nil
}

func (r *Runner) ifaceArg(s string) (*Iface, error) {
	nn, in, ok := cutColon(s)
	if !ok {
		return nil, fmt.Errorf("%q is not NODE:IFACE", s)
	}
	n, err := r.nodeArg(nn)
	if err != nil {
		return nil, err
	}
	i := n.iface(in)
	if i == nil {
		return nil, fmt.Errorf("node %s has no interface %s", nn, in)
	}
	return i, nil
}

// loadConfig resolves a config reference: an inline config of that name,
// else a file relative to the scenario.
func (r *Runner) loadConfig(ref string) (*conf.Config, error) {
	var (
		cfg  *conf.Config
		warn []string
		err  error
	)
	if text, ok := r.sc.Configs[ref]; ok {
		cfg, warn, err = r.W.backend.LoadString(ref, text)
	} else {
		path := ref
		if !filepath.IsAbs(path) {
			path = filepath.Join(r.sc.Dir, path)
		}
		cfg, warn, err = r.W.backend.LoadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", ref, err)
	}
	for _, wl := range warn {
		r.W.logf("config %s: %s", ref, wl)
	}
	return cfg, nil
}

func (r *Runner) node(c Cmd) error {
	ref, ok := c.Opt("config")
	if !ok {
		return fmt.Errorf("want config=FILE")
	}
	cfg, err := r.loadConfig(ref)
	if err != nil {
		return err
	}
	var ifs []IfaceSpec
	for _, o := range c.Opts {
		if o.Key == "config" {
			continue
		}
		spec := IfaceSpec{Name: o.Key}
		for _, a := range strings.Split(o.Value, ",") {
			p, err := netip.ParsePrefix(a)
			if err != nil {
				return fmt.Errorf("interface %s: %w", o.Key, err)
			}
			spec.Addrs = append(spec.Addrs, p)
		}
		ifs = append(ifs, spec)
	}
	return r.W.AddNode(c.Args[0], cfg, ref, ifs)
}

func (r *Runner) segment(c Cmd) error {
	var o SegmentOpts
	var err error
	for _, kv := range c.Opts {
		switch kv.Key {
		case "latency":
			o.Latency, err = time.ParseDuration(kv.Value)
		case "jitter":
			o.Jitter, err = time.ParseDuration(kv.Value)
		case "loss":
			o.Loss, err = parsePct(kv.Value)
		case "dup":
			o.Dup, err = parsePct(kv.Value)
		case "reorder":
			o.Reorder, err = parsePct(kv.Value)
		case "net4":
			o.Net4, err = netip.ParsePrefix(kv.Value)
		case "net6":
			o.Net6, err = netip.ParsePrefix(kv.Value)
		default:
			err = fmt.Errorf("unknown option %q", kv.Key)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", kv.Key, err)
		}
	}
	return r.W.AddSegment(c.Args[0], c.Args[1:], o)
}

func parsePct(s string) (float64, error) {
	p, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || p < 0 || p > 100 {
		return 0, fmt.Errorf("bad percentage %q", s)
	}
	return p, nil
}

func (r *Runner) lifecycle(c Cmd) error {
	w := r.W
	for _, name := range c.Args {
		n, err := r.nodeArg(name)
		if err != nil {
			return err
		}
		// Starting a running node or stopping a stopped one changes
		// nothing: say so and go on (shrunk swarm schedules do this).
		if c.Verb != "restart" && n.running == (c.Verb == "start") {
			w.logf("%s is %s already; %s ignored", n.Name, map[bool]string{true: "running", false: "down"}[n.running], c.Verb)
			continue
		}
		switch c.Verb {
		case "start":
			err = w.Start(n)
		case "stop":
			w.mon.expectTakeover(n, true)
			err = w.Stop(n)
		case "kill":
			w.mon.expectTakeover(n, false)
			err = w.Kill(n)
		case "restart":
			// No takeover bound: the restarted node may take its
			// instances straight back (an address owner does).
			err = w.Restart(n)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) partition(c Cmd) error {
	var groups [][]*Node
	var cur []*Node
	for _, a := range append(c.Args, "|") {
		if a == "|" {
			if len(cur) == 0 {
				return fmt.Errorf("empty partition side in %q", c.Text)
			}
			groups = append(groups, cur)
			cur = nil
			continue
		}
		for _, name := range strings.Split(a, ",") {
			n, err := r.nodeArg(name)
			if err != nil {
				return err
			}
			cur = append(cur, n)
		}
	}
	r.W.Partition(groups)
	return nil
}

func (r *Runner) tracker(c Cmd) error {
	n, err := r.nodeArg(c.Args[0])
	if err != nil {
		return err
	}
	key := map[string]string{"script": "exit", "track-file": "value", "process": "count"}[c.Verb]
	v, ok := c.Opt(key)
	if !ok {
		return fmt.Errorf("want %s=N", key)
	}
	x, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return fmt.Errorf("bad %s: %w", key, err)
	}
	switch c.Verb {
	case "script":
		r.W.SetScript(n, c.Args[1], int(x))
	case "track-file":
		r.W.SetTrackFile(n, c.Args[1], x)
	case "process":
		r.W.SetProcess(n, c.Args[1], int(x))
	}
	return nil
}

// drop executes `drop FROM TO [both]` and `undrop FROM TO [both]`: the
// packets from FROM to TO (and back, with both) are lost, or pass again.
func (r *Runner) drop(c Cmd) error {
	a, err := r.nodeArg(c.Args[0])
	if err != nil {
		return err
	}
	b, err := r.nodeArg(c.Args[1])
	if err != nil {
		return err
	}
	if a == b {
		return fmt.Errorf("%s to itself", c.Verb)
	}
	both := len(c.Args) == 3
	if both && c.Args[2] != "both" {
		return fmt.Errorf("third argument %q: want both", c.Args[2])
	}
	r.W.Drop(a, b, c.Verb == "drop")
	if both {
		r.W.Drop(b, a, c.Verb == "drop")
	}
	return nil
}
