package chaos

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/sim"
)

// Matrix is the failure matrix: one row per single fault.
type Matrix struct {
	Seed uint64 `json:"seed"`
	// SettleMS is how long each phase runs: the cluster's convergence
	// bound plus one second.
	SettleMS float64     `json:"settle_ms"`
	Rows     []MatrixRow `json:"rows"`
}

// Violations counts the rows that broke an invariant.
func (m *Matrix) Violations() int {
	n := 0
	for _, r := range m.Rows {
		if len(r.Violations) > 0 {
			n++
		}
	}
	return n
}

// MatrixRow is one fault applied to the settled cluster, then undone.
type MatrixRow struct {
	Fault   string          `json:"fault"`
	Undo    string          `json:"undo"`
	Routers []RouterOutcome `json:"routers"`
	// Violations are the invariants broken during the fault or its undo
	// (the simulator's rules, and vip-gap: a VIP unanswered for longer
	// than the protocol bound).
	Violations []string `json:"violations"`
	// Scenario is the written scenario reproducing a row with violations.
	Scenario string `json:"scenario,omitempty"`
}

// RouterOutcome is what the fault did to one virtual router.
type RouterOutcome struct {
	Router string `json:"router"`
	// Before, After and Back are the MASTER(s) when the fault came, when
	// it ended, and after its undo settled ("none": no MASTER).
	Before string `json:"before"`
	After  string `json:"after"`
	Back   string `json:"back"`
	// GapMS is the longest time one of the router's VIPs had no
	// answering node after the fault, BackGapMS after the undo.
	GapMS     float64 `json:"gap_ms"`
	BackGapMS float64 `json:"back_gap_ms"`
	// BoundMS is the protocol's bound on that gap: the new master's
	// master-down interval (down_timer_adverts x advert_int + skew, the
	// slowest of its sync group) plus two link delays and 1 ms; 0 when
	// there is no single new MASTER. BackBoundMS is the same after the
	// undo.
	BoundMS     float64 `json:"bound_ms"`
	BackBoundMS float64 `json:"back_bound_ms"`
	// Unanswered (BackUnanswered) is set when a VIP is still unanswered
	// when the undo comes (when the run ends).
	Unanswered     bool `json:"unanswered,omitempty"`
	BackUnanswered bool `json:"back_unanswered,omitempty"`
}

// changed reports whether the fault visibly affected the router.
func (o RouterOutcome) changed() bool {
	return o.Before != o.After || o.Back != o.Before || o.GapMS > 0 || o.BackGapMS > 0 || o.Unanswered || o.BackUnanswered
}

type matrixFault struct{ cmd, undo string }

// faults lists the matrix's single faults: node crashes, links down,
// track scripts failing, tracked processes gone, and each node of a
// segment isolated from the others.
func (c *Cluster) faults() []matrixFault {
	var fs []matrixFault
	for _, n := range c.Nodes {
		fs = append(fs, matrixFault{"kill " + n.Name, "restart " + n.Name})
	}
	for _, l := range c.Inputs.Links {
		fs = append(fs, matrixFault{"link-down " + l, "link-up " + l})
	}
	for _, s := range c.Inputs.Scripts {
		fs = append(fs, matrixFault{fmt.Sprintf("script %s %s exit=1", s.Node, s.Name), fmt.Sprintf("script %s %s exit=0", s.Node, s.Name)})
	}
	for _, p := range c.Inputs.Procs {
		fs = append(fs, matrixFault{fmt.Sprintf("process %s %s count=0", p.Node, p.Name),
			fmt.Sprintf("process %s %s count=%d", p.Node, p.Name, max(p.Quorum, 1))})
	}
	for _, s := range c.Segments {
		if len(s.Nodes) < 2 {
			continue
		}
		for k, n := range s.Nodes {
			if len(s.Nodes) == 2 && k == 1 {
				break // the same split as isolating the first
			}
			rest := slices.DeleteFunc(slices.Clone(s.Nodes), func(x string) bool { return x == n })
			f := matrixFault{"partition " + n + " | " + strings.Join(rest, ","), "heal"}
			if !slices.Contains(fs, f) {
				fs = append(fs, f)
			}
		}
	}
	return fs
}

// settle is how long the matrix lets the cluster settle: the convergence
// bound plus one second.
func (c *Cluster) settle(b sim.Backend) (time.Duration, error) {
	s, err := sim.Parse("bound.scn", c.Dir, c.Header())
	if err != nil {
		return 0, fmt.Errorf("world: %w", err)
	}
	r := sim.NewRunner(s, b, 1, nil)
	for _, cmd := range s.Cmds {
		if err := r.Exec(cmd); err != nil {
			return 0, fmt.Errorf("world: %s:%d: %w", s.Name, cmd.Line, err)
		}
	}
	return (r.W.ConvergenceBound() + time.Second).Round(100 * time.Millisecond), nil
}

// Matrix runs the failure matrix with the given seed. A row that breaks an
// invariant gets its scenario written to the work directory.
func (c *Cluster) Matrix(b sim.Backend, seed uint64) (*Matrix, error) {
	settle, err := c.settle(b)
	if err != nil {
		return nil, err
	}
	m := &Matrix{Seed: seed, SettleMS: ms(settle)}
	for k, f := range c.faults() {
		row, err := c.matrixRow(b, seed, settle, k+1, f)
		if err != nil {
			return nil, err
		}
		m.Rows = append(m.Rows, row)
	}
	return m, nil
}

// matrixScenario is one row's scenario: settle, fault, settle, undo,
// settle.
func (c *Cluster) matrixScenario(seed uint64, settle time.Duration, f matrixFault) string {
	d := strings.ReplaceAll(settle.String(), "µ", "u")
	return fmt.Sprintf("# vigil sim chaos: failure matrix, %s then %s\nseed %d\n%sinvariants on\n%s\nrun %s\n%s\nrun %s\n%s\nrun %s\nexpect no-violations\n",
		f.cmd, f.undo, seed, c.Header(), c.startAll(), d, f.cmd, d, f.undo, d)
}

func (c *Cluster) matrixRow(b sim.Backend, seed uint64, settle time.Duration, k int, f matrixFault) (MatrixRow, error) {
	row := MatrixRow{Fault: f.cmd, Undo: f.undo, Violations: []string{}}
	name := fmt.Sprintf("matrix-%d.scn", k)
	text := c.matrixScenario(seed, settle, f)
	s, err := sim.Parse(name, c.Dir, text)
	if err != nil {
		return row, fmt.Errorf("matrix: %w", err)
	}
	r := sim.NewRunner(s, b, seed, nil)
	r.W.SetStrict(true, false)
	gaps := newGapMeter(c, r.W)
	r.W.SetProbe(gaps.probe)
	out := make([]RouterOutcome, len(c.Routers))
	for i := range out {
		out[i].Router = c.Routers[i].Label
	}
	phase := 0
	// darkAtUndo: a VIP of the router was unanswered when the undo came
	// (its outage then includes the input's own recovery time: the
	// bound does not apply after the undo).
	darkAtUndo := make([]bool, len(out))
	for _, cmd := range s.Cmds {
		if cmd.Verb == "expect" {
			continue
		}
		switch cmd.Text {
		case f.cmd:
			if phase == 0 {
				for i := range out {
					out[i].Before = c.masters(r.W, i)
				}
				gaps.reset()
				phase = 1
			}
		case f.undo:
			if phase == 1 {
				for i := range out {
					out[i].After = c.masters(r.W, i)
					out[i].GapMS, out[i].Unanswered = gaps.phase(i)
					darkAtUndo[i] = out[i].Unanswered
					out[i].BoundMS = c.bound(r.W, i)
				}
				gaps.reset()
				phase = 2
			}
		}
		if err := r.Exec(cmd); err != nil {
			return row, fmt.Errorf("matrix: %s:%d: %w", name, cmd.Line, err)
		}
		gaps.probe()
	}
	for i := range out {
		out[i].Back = c.masters(r.W, i)
		out[i].BackBoundMS = c.bound(r.W, i)
		out[i].BackGapMS, out[i].BackUnanswered = gaps.phase(i)
	}
	for _, v := range r.W.Violations() {
		row.Violations = append(row.Violations, v.String())
	}
	for i, o := range out {
		if o.BoundMS > 0 && o.GapMS > o.BoundMS {
			row.Violations = append(row.Violations, fmt.Sprintf("vip-gap: %s: a VIP went unanswered for %s after %s, beyond the protocol bound %s",
				o.Router, fmtMS(o.GapMS), f.cmd, fmtMS(o.BoundMS)))
		}
		if o.BackBoundMS > 0 && o.BackGapMS > o.BackBoundMS && !darkAtUndo[i] {
			row.Violations = append(row.Violations, fmt.Sprintf("vip-gap: %s: a VIP went unanswered for %s after %s, beyond the protocol bound %s",
				o.Router, fmtMS(o.BackGapMS), f.undo, fmtMS(o.BackBoundMS)))
		}
	}
	row.Routers = out
	if len(row.Violations) > 0 {
		path := filepath.Join(c.Dir, name)
		if len(r.W.Violations()) == 0 {
			// The simulator has no rule for a VIP gap: the timeline's
			// neighbour lines show it.
			text = "# vip-gap: no simulator invariant covers it; read the eth0 neighbour lines of the timeline\n" + text
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return row, fmt.Errorf("write scenario: %w", err)
		}
		row.Scenario = path
	}
	return row, nil
}

// masters names the nodes where router i's instance is MASTER.
func (c *Cluster) masters(w *sim.World, i int) string {
	var ms []string
	for _, m := range c.Routers[i].Members {
		n := w.Node(m.Node)
		if n == nil {
			continue
		}
		for _, st := range n.Instances() {
			if st.Name == m.Instance && st.State == effects.StateMaster && !slices.Contains(ms, m.Node) {
				ms = append(ms, m.Node)
			}
		}
	}
	if len(ms) == 0 {
		return "none"
	}
	return strings.Join(ms, ",")
}

// bound is the protocol's bound on router i's VIP gap for its current
// single MASTER (0 when there is none or several): master-down interval
// (the slowest of the master's sync group) plus skew at its priority, and
// two link delays (the last advert's and the GARP's).
func (c *Cluster) bound(w *sim.World, i int) float64 {
	rt := &c.Routers[i]
	master := c.masters(w, i)
	if master == "none" || strings.Contains(master, ",") {
		return 0
	}
	var inst string
	for _, m := range rt.Members {
		if m.Node == master {
			inst = m.Instance
		}
	}
	n := w.Node(master)
	prio := 0
	for _, st := range n.Instances() {
		if st.Name == inst {
			prio = st.Priority
		}
	}
	down, adv := rt.downInt, rt.advInt
	// A sync group moves with its slowest member.
	var node *Node
	for _, x := range c.Nodes {
		if x.Name == master {
			node = x
		}
	}
	for _, g := range node.Config.SyncGroups {
		if !slices.Contains(g.Group, inst) {
			continue
		}
		for _, name := range g.Group {
			for _, r := range c.Routers {
				if slices.Contains(r.Members, Member{Node: master, Instance: name}) {
					down, adv = max(down, r.downInt), max(adv, r.advInt)
				}
			}
		}
	}
	skew := time.Duration(256-prio) * adv / 256
	return ms(down + skew + 2*Latency + time.Millisecond)
}

// gapMeter measures, per router, the longest stretch one of its VIPs had
// no answering node.
type gapMeter struct {
	c *Cluster
	w *sim.World
	// since[i][k] is when VIP k of router i stopped being answered
	// (-1: answered); longest[i] the longest closed stretch.
	since   [][]events.Time
	longest []time.Duration
}

func newGapMeter(c *Cluster, w *sim.World) *gapMeter {
	g := &gapMeter{c: c, w: w, since: make([][]events.Time, len(c.Routers)), longest: make([]time.Duration, len(c.Routers))}
	for i, r := range c.Routers {
		g.since[i] = make([]events.Time, len(r.VIPs))
	}
	g.reset()
	return g
}

// reset starts a new phase: stretches count from now.
func (g *gapMeter) reset() {
	now := g.w.Now()
	for i, r := range g.c.Routers {
		g.longest[i] = 0
		for k, v := range r.VIPs {
			g.since[i][k] = -1
			if !g.answered(v) {
				g.since[i][k] = now
			}
		}
	}
}

func (g *gapMeter) answered(v VIP) bool {
	s := g.w.Segment(v.Segment)
	return s != nil && s.Answering(v.Addr) != nil
}

func (g *gapMeter) probe() {
	now := g.w.Now()
	for i, r := range g.c.Routers {
		for k, v := range r.VIPs {
			ok := g.answered(v)
			switch {
			case ok && g.since[i][k] >= 0:
				g.longest[i] = max(g.longest[i], now.Sub(g.since[i][k]))
				g.since[i][k] = -1
			case !ok && g.since[i][k] < 0:
				g.since[i][k] = now
			}
		}
	}
}

// phase returns router i's longest stretch in this phase, in ms, and
// whether a VIP is still unanswered (its open stretch counts up to now).
func (g *gapMeter) phase(i int) (float64, bool) {
	now := g.w.Now()
	d, open := g.longest[i], false
	for k := range g.c.Routers[i].VIPs {
		if s := g.since[i][k]; s >= 0 {
			d, open = max(d, now.Sub(s)), true
		}
	}
	return ms(d), open
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// fmtMS prints milliseconds as a short ASCII duration: "0s", "0.4ms",
// "2.924s".
func fmtMS(v float64) string {
	switch {
	case v == 0:
		return "0s"
	case v < 1000:
		return strconv.FormatFloat(v, 'f', -1, 64) + "ms"
	default:
		return strconv.FormatFloat(math.Round(v)/1000, 'f', -1, 64) + "s"
	}
}
