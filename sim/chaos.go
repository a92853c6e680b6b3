package sim

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// ChaosInputs is what a chaos schedule may perturb in a cluster given by
// the user (vigil sim chaos): the swarm's fault kinds, drawn over the
// cluster's own nodes, links, segments and trackers instead of a generated
// cluster's.
type ChaosInputs struct {
	// Nodes are the node names, in declaration order.
	Nodes []string
	// Configs are the nodes' config references (the scenario's
	// `node NAME config=REF`), for reloads of the same file.
	Configs []string
	// Links are the NODE:IFACE interfaces attached to a segment.
	Links []string
	// Segments are the segments and the nodes on each.
	Segments []ChaosSegment
	// Scripts, Files and Procs are the nodes' vrrp_script, track_file
	// and vrrp_track_process blocks; VIPs the addresses they may hold.
	Scripts []ChaosInput
	Files   []ChaosInput
	Procs   []ChaosInput
	VIPs    []ChaosInput
}

// ChaosSegment is a segment and the nodes attached to it.
type ChaosSegment struct {
	Name  string
	Nodes []string
}

// ChaosInput is one controllable input of one node: a script, track file
// or tracked process by name (Quorum, QuorumMax for a process), or an
// address.
type ChaosInput struct {
	Node, Name        string
	Quorum, QuorumMax int
}

// Fault is one scheduled fault: Cmd runs at At and, for a fault that
// ends, Undo at End. A shrink keeps or drops both together.
type Fault struct {
	At, End   time.Duration
	Cmd, Undo string
}

// ChaosSchedule draws a fault schedule over d for the cluster in, from
// seed alone: faults at the swarm's random gaps (2 to 41 s), each lasting
// 1 to 30 s, on nodes not already under a fault; one network fault
// (partition, loss burst) at a time.
func ChaosSchedule(seed uint64, in ChaosInputs, d time.Duration) []Fault {
	r := rand.New(rand.NewPCG(seed, 0xc4a05))
	var fs []Fault
	busy := make([]time.Duration, len(in.Nodes))
	var netBusy time.Duration
	pick := func(l []ChaosInput, node string) []ChaosInput {
		var out []ChaosInput
		for _, x := range l {
			if x.Node == node {
				out = append(out, x)
			}
		}
		return out
	}
	t := 10 * time.Second
	for {
		t += time.Duration(2+r.IntN(40)) * time.Second
		if t >= d {
			break
		}
		n := r.IntN(len(in.Nodes))
		if busy[n] > t {
			continue
		}
		name := in.Nodes[n]
		dur := time.Duration(1+r.IntN(30)) * time.Second
		f := Fault{At: t, End: t + dur}
		switch r.IntN(12) {
		case 0:
			f.Cmd, f.Undo = "kill "+name, "restart "+name
		case 1:
			f.Cmd, f.Undo = "stop "+name, "restart "+name
		case 2:
			f.Cmd = "restart " + name
		case 3:
			f.Cmd = fmt.Sprintf("stall %s %s", name, time.Duration(1+r.IntN(8))*500*time.Millisecond)
		case 4, 5:
			var links []string
			for _, l := range in.Links {
				if strings.HasPrefix(l, name+":") {
					links = append(links, l)
				}
			}
			if len(links) == 0 {
				continue
			}
			l := links[r.IntN(len(links))]
			f.Cmd, f.Undo = "link-down "+l, "link-up "+l
		case 6:
			if netBusy > t || len(in.Segments) == 0 {
				continue
			}
			seg := in.Segments[r.IntN(len(in.Segments))]
			if !slices.Contains(seg.Nodes, name) || len(seg.Nodes) < 2 {
				continue
			}
			var side, other []string
			for _, nm := range seg.Nodes {
				if nm == name || r.IntN(3) == 0 {
					side = append(side, nm)
				} else {
					other = append(other, nm)
				}
			}
			if len(other) == 0 {
				continue
			}
			f.Cmd, f.Undo = "partition "+strings.Join(side, ",")+" | "+strings.Join(other, ","), "heal"
			netBusy = f.End
		case 7:
			s := pick(in.Scripts, name)
			if len(s) == 0 {
				continue
			}
			x := s[r.IntN(len(s))].Name
			f.Cmd, f.Undo = fmt.Sprintf("script %s %s exit=1", name, x), fmt.Sprintf("script %s %s exit=0", name, x)
		case 8:
			s := pick(in.Files, name)
			if len(s) == 0 {
				continue
			}
			x := s[r.IntN(len(s))].Name
			f.Cmd, f.Undo = fmt.Sprintf("track-file %s %s value=%d", name, x, r.IntN(41)-20),
				fmt.Sprintf("track-file %s %s value=0", name, x)
		case 9:
			s := pick(in.Procs, name)
			if len(s) == 0 {
				continue
			}
			p := s[r.IntN(len(s))]
			f.Cmd = fmt.Sprintf("process %s %s count=%d", name, p.Name, r.IntN(max(p.Quorum, p.QuorumMax)+3))
			f.Undo = fmt.Sprintf("process %s %s count=%d", name, p.Name, max(p.Quorum, 1))
		case 10:
			s := pick(in.VIPs, name)
			if len(s) == 0 {
				continue
			}
			f.Cmd = fmt.Sprintf("del-addr %s %s", name, s[r.IntN(len(s))].Name)
		case 11:
			switch {
			case r.IntN(2) == 0 && n < len(in.Configs):
				// SIGHUP with the same file: must change nothing.
				f.Cmd = fmt.Sprintf("reload %s config=%s", name, in.Configs[n])
			case netBusy <= t && len(in.Segments) > 0:
				seg := in.Segments[r.IntN(len(in.Segments))]
				f.Cmd, f.Undo = fmt.Sprintf("loss %s %d", seg.Name, 10+r.IntN(60)), fmt.Sprintf("loss %s 0", seg.Name)
				netBusy = f.End
			default:
				continue
			}
		}
		if f.Undo == "" {
			f.End = t
		}
		busy[n] = f.End + time.Second
		fs = append(fs, f)
	}
	return fs
}

// ChaosScenario renders a schedule as a scenario `vigil sim` runs: the
// comment lines, the seed, the header (nodes and segments), invariants
// on, the nodes started, the faults at their times, time run up to d, and
// `expect no-violations`.
func ChaosScenario(comment, header string, start []string, seed uint64, fs []Fault, d time.Duration) string {
	type step struct {
		at  time.Duration
		cmd string
	}
	var steps []step
	for _, f := range fs {
		steps = append(steps, step{f.At, f.Cmd})
		if f.Undo != "" {
			steps = append(steps, step{f.End, f.Undo})
		}
	}
	slices.SortStableFunc(steps, func(x, y step) int { return int(x.at - y.at) })
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(comment, "\n"), "\n") {
		if l != "" {
			fmt.Fprintf(&b, "# %s\n", l)
		}
	}
	fmt.Fprintf(&b, "seed %d\n%s", seed, header)
	fmt.Fprintf(&b, "invariants on\nstart %s\n", strings.Join(start, " "))
	var now time.Duration
	for _, s := range steps {
		if s.at >= d {
			break
		}
		if s.at > now {
			fmt.Fprintf(&b, "run %s\n", fmtDur(s.at-now))
			now = s.at
		}
		b.WriteString(s.cmd + "\n")
	}
	if d > now {
		fmt.Fprintf(&b, "run %s\n", fmtDur(d-now))
	}
	b.WriteString("expect no-violations\n")
	return b.String()
}

// RunChecked runs a scenario as the swarm does: invariants on and the
// run halted at the first violation, which it returns (nil: none);
// expectations are skipped. trace, when set, receives the event trace and
// timeline the timeline. It also returns the engine steps taken.
func RunChecked(s *Scenario, b Backend, seed uint64, trace, timeline io.Writer) (*Violation, uint64, error) {
	r := NewRunner(s, b, seed, timeline)
	r.W.SetStrict(true, true)
	r.W.SetTrace(trace)
	for _, c := range s.Cmds {
		if c.Verb == "trace" || c.Verb == "invariants" || c.Verb == "expect" {
			continue
		}
		if err := r.Exec(c); err != nil {
			return nil, r.W.steps, fmt.Errorf("%s:%d: %w", s.Name, c.Line, err)
		}
		if vs := r.W.Violations(); len(vs) > 0 {
			return &vs[0], r.W.steps, nil
		}
	}
	return nil, r.W.steps, nil
}

// Shrink returns a sub-list of fs that still fails: it drops chunks of
// faults, halving the chunk size down to one fault (delta debugging), and
// keeps each removal after which fails still reports true. Its last pass,
// one fault at a time from the end, is the swarm's shrinker.
func Shrink[T any](fs []T, fails func([]T) bool) []T {
	for chunk := len(fs) / 2; chunk > 1; chunk /= 2 {
		for i := len(fs) - chunk; i >= 0; i -= chunk {
			if try := append(fs[:i:i], fs[i+chunk:]...); fails(try) {
				fs = try
			}
		}
	}
	return shrinkOne(fs, fails)
}

// shrinkOne drops single faults, last first, while fails holds.
func shrinkOne[T any](fs []T, fails func([]T) bool) []T {
	for i := len(fs) - 1; i >= 0; i-- {
		if try := append(fs[:i:i], fs[i+1:]...); fails(try) {
			fs = try
		}
	}
	return fs
}

// SetProbe installs fn, called after each queued item the world processes
// (nil: none). The chaos failure matrix measures how long each VIP goes
// unanswered with it.
func (w *World) SetProbe(fn func()) { w.probe = fn }

// ConvergenceBound is the protocol's convergence bound for the whole
// cluster, as the invariants use it (see the README's scenario language).
func (w *World) ConvergenceBound() time.Duration { return w.mon.bound() }

// Answering returns the node that answers for addr on the segment: the one
// its neighbour view points at, if that node is running, not stalled, and
// holds addr on an interface that is up; nil when nobody answers.
func (s *Segment) Answering(addr netip.Addr) *Node {
	n := s.neigh[addr]
	if n == nil || !n.running || n.stalled() {
		return nil
	}
	for _, i := range n.ifaces {
		if i.linkUp() && i.hasAddr(addr) {
			return n
		}
	}
	return nil
}
