package chaos

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-ha/vigil/cluster"
	"github.com/vigil-ha/vigil/sim"
)

// Options configure a chaos run.
type Options struct {
	// Files are the nodes' configurations; Topology, when set, maps
	// interfaces to segments and gives nodes addresses (vigil check's
	// topology file).
	Files    []string
	Topology *cluster.Topology
	// Dir is the work directory (config copies, scenario files).
	Dir string
	// Seed is the failure matrix's seed.
	Seed uint64
	// NoMatrix skips the failure matrix; Random.Seeds 0 skips the
	// random schedules.
	NoMatrix bool
	Random   RandomOptions
}

// Report is everything a chaos run found.
type Report struct {
	Dir      string             `json:"dir"`
	Nodes    []NodeInfo         `json:"nodes"`
	Segments []sim.ChaosSegment `json:"segments"`
	Routers  []Router           `json:"routers"`
	Warnings []string           `json:"warnings"`
	Matrix   *Matrix            `json:"matrix,omitempty"`
	Random   *Random            `json:"random,omitempty"`
}

// NodeInfo names a node and its file.
type NodeInfo struct {
	Name string `json:"name"`
	File string `json:"file"`
}

// Violations counts the matrix rows and seeds that broke an invariant.
func (r *Report) Violations() int {
	n := 0
	if r.Matrix != nil {
		n += r.Matrix.Violations()
	}
	if r.Random != nil {
		n += len(r.Random.Failures)
	}
	return n
}

// Run loads the cluster and runs the failure matrix and the random
// schedules. A returned error is a usage or configuration problem; the
// violations are in the report.
func Run(b sim.Backend, o Options) (*Report, error) {
	c, err := Load(o.Files, o.Topology, b, o.Dir)
	if err != nil {
		return nil, err
	}
	rep := &Report{Dir: c.Dir, Segments: c.Segments, Routers: c.Routers, Warnings: c.Warnings}
	if rep.Warnings == nil {
		rep.Warnings = []string{}
	}
	for _, n := range c.Nodes {
		rep.Nodes = append(rep.Nodes, NodeInfo{Name: n.Name, File: n.File})
	}
	if !o.NoMatrix {
		if rep.Matrix, err = c.Matrix(b, o.Seed); err != nil {
			return nil, err
		}
	}
	if o.Random.Seeds > 0 {
		if rep.Random, err = c.Random(b, o.Random); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// WriteText prints the report: the cluster, the failure matrix as an
// aligned table, then the random schedules' result and failures.
func (r *Report) WriteText(w io.Writer) {
	var names, segs []string
	for _, n := range r.Nodes {
		names = append(names, n.Name)
	}
	for _, s := range r.Segments {
		segs = append(segs, fmt.Sprintf("%s (%s)", s.Name, strings.Join(s.Nodes, " ")))
	}
	fmt.Fprintf(w, "cluster: %d node(s) (%s), %d virtual router(s), segments %s\n",
		len(r.Nodes), strings.Join(names, ", "), len(r.Routers), strings.Join(segs, ", "))
	for _, x := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
	if m := r.Matrix; m != nil {
		fmt.Fprintf(w, "\nfailure matrix (seed %d): each fault hits the settled cluster, runs %s, is undone, runs %s\n",
			m.Seed, fmtMS(m.SettleMS), fmtMS(m.SettleMS))
		var table strings.Builder
		tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "FAULT\tROUTER\tBEFORE\tAFTER\tVIP GAP\tBOUND\tUNDO\tBACK\tVIP GAP\tINVARIANTS")
		for _, row := range m.Rows {
			verdict := "ok"
			if len(row.Violations) > 0 {
				verdict = fmt.Sprintf("%d violation(s)", len(row.Violations))
			}
			first := true
			line := func(o RouterOutcome, router string) {
				fault, undo, v := "", "", ""
				if first {
					fault, undo, v = row.Fault, row.Undo, verdict
				}
				first = false
				bound := "-"
				if o.BoundMS > 0 {
					bound = fmtMS(o.BoundMS)
				}
				gap, back := fmtMS(o.GapMS), fmtMS(o.BackGapMS)
				if o.Unanswered {
					gap += "+"
				}
				if o.BackUnanswered {
					back += "+"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
					fault, router, o.Before, o.After, gap, bound, undo, o.Back, back, v)
			}
			for _, o := range row.Routers {
				if o.changed() {
					line(o, o.Router)
				}
			}
			if first {
				fmt.Fprintf(tw, "%s\t(no master moved, no VIP gap)\t\t\t\t\t%s\t\t\t%s\n", row.Fault, row.Undo, verdict)
			}
		}
		tw.Flush()
		for _, l := range strings.SplitAfter(table.String(), "\n") {
			if l != "" {
				fmt.Fprintln(w, strings.TrimRight(l, " \n"))
			}
		}
		for _, row := range m.Rows {
			for _, v := range row.Violations {
				fmt.Fprintf(w, "VIOLATION (%s): %s\n", row.Fault, v)
			}
			if row.Scenario != "" {
				fmt.Fprintf(w, "  reproduce: vigil sim %s\n", row.Scenario)
			}
		}
		fmt.Fprintf(w, "failure matrix: %d fault(s), %d with violations\n", len(m.Rows), m.Violations())
	}
	if x := r.Random; x != nil {
		fmt.Fprintf(w, "\nrandom schedules: %d seed(s) from %d x %s, %d faults, %d engine steps, %d failed, %s wall\n",
			x.Seeds, x.First, x.Duration, x.Faults, x.Events, len(x.Failures),
			time.Duration(x.WallMS*float64(time.Millisecond)).Round(time.Millisecond))
		for _, f := range x.Failures {
			fmt.Fprintf(w, "FAIL seed %d: %s: %s: %s\n", f.Seed, fmtMS(f.AtMS), f.Rule, f.Message)
			repro := "reproduces it"
			if !f.Reproduced {
				repro = "does NOT reproduce it"
			}
			if f.Kept == 0 {
				fmt.Fprintf(w, "  no fault needed (the cluster fails on its own): vigil sim %s %s\n", f.Scenario, repro)
				continue
			}
			fmt.Fprintf(w, "  shrunk to %d of %d faults: vigil sim %s %s\n", f.Kept, f.Faults, f.Scenario, repro)
		}
	}
}

// TempDir makes a fresh work directory under the system's temporary one.
func TempDir() (string, error) {
	d, err := os.MkdirTemp("", "vigil-chaos-")
	if err != nil {
		return "", fmt.Errorf("work directory: %w", err)
	}
	return d, nil
}
