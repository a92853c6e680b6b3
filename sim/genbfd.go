package sim

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// The swarm's BFD: some seeds' clusters run BFD sessions and suffer path
// breaks. Everything BFD is drawn from a PRNG stream of its own, after
// the cluster and its fault schedule: a seed's VRRP cluster and
// schedule are the same bytes whether or not it also gets BFD, and a
// seed without BFD is exactly what it was before the simulator knew BFD.

// bfdSeedStream is the BFD stream's PCG increment (the generation stream
// uses 0x5eed).
const bfdSeedStream = 0xbfd

// bfdShare is one in how many seeds runs BFD.
const bfdShare = 8

// genBFDSpec is a cluster's BFD: a star of sessions between node a and
// every other node, each node's timing, and what VI_1 tracks.
type genBFDSpec struct {
	// minRx, minTx and mult are each node's bfd_instance settings.
	minRx, minTx []time.Duration
	mult         []int
	// weights[n][p] is node n's track_bfd weight for its session to node
	// p (nil: not tracked; 0: unweighted, FAULT while down).
	weights []map[int]*int
}

// peers lists the nodes node n has a session with.
func (g *genBFDSpec) peers(n, nodes int) []int {
	if n != 0 {
		return []int{0}
	}
	var ps []int
	for p := 1; p < nodes; p++ {
		ps = append(ps, p)
	}
	return ps
}

// genBFD draws, from the BFD stream, whether the cluster runs BFD and how.
func genBFD(r *rand.Rand, c *clusterSpec) *genBFDSpec {
	if r.IntN(bfdShare) != 0 {
		return nil
	}
	nn := len(c.nodes)
	g := &genBFDSpec{weights: make([]map[int]*int, nn)}
	ivs := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 500 * time.Millisecond}
	for n := range nn {
		g.minRx = append(g.minRx, ivs[r.IntN(len(ivs))])
		g.minTx = append(g.minTx, ivs[r.IntN(len(ivs))])
		g.mult = append(g.mult, 2+r.IntN(4))
		g.weights[n] = map[int]*int{}
		for _, p := range g.peers(n, nn) {
			if r.IntN(2) == 0 {
				continue
			}
			w := 0
			switch r.IntN(3) {
			case 1:
				w = -(10 + r.IntN(60))
			case 2:
				w = 10 + r.IntN(60)
			}
			g.weights[n][p] = &w
		}
	}
	return g
}

// sessionName names node n's session to node p.
func sessionName(p int) string { return fmt.Sprintf("bfd_%c", 'a'+p) }

// sessions renders node n's bfd_instance blocks (the neighbours' eth0
// addresses: lan assigns 10.0.0.N+1 to the N-th node).
func (g *genBFDSpec) sessions(b *strings.Builder, n int) {
	for _, p := range g.peers(n, len(g.mult)) {
		fmt.Fprintf(b, "bfd_instance %s {\n    neighbor_ip 10.0.0.%d\n    min_rx %d\n    min_tx %d\n    multiplier %d\n}\n",
			sessionName(p), p+1, g.minRx[n].Milliseconds(), g.minTx[n].Milliseconds(), g.mult[n])
	}
}

// track renders VI_1's track_bfd block on node n, if any.
func (g *genBFDSpec) track(b *strings.Builder, n int) {
	ps := g.peers(n, len(g.mult))
	var lines []string
	for _, p := range ps {
		if w := g.weights[n][p]; w != nil {
			line := "        " + sessionName(p)
			if *w != 0 {
				line += fmt.Sprintf(" weight %d", *w)
			}
			lines = append(lines, line+"\n")
		}
	}
	if len(lines) > 0 {
		b.WriteString("    track_bfd {\n" + strings.Join(lines, "") + "    }\n")
	}
}

// genBFDFaults draws path breaks between nodes that run a session: one
// way (packets from one node to the other dropped) or both ways, each
// healed after a while.
func genBFDFaults(r *rand.Rand, c *clusterSpec, d time.Duration) []fault {
	var fs []fault
	nn := len(c.nodes)
	t := 10 * time.Second
	for {
		t += time.Duration(5+r.IntN(60)) * time.Second
		if t >= d {
			break
		}
		p := 1 + r.IntN(nn-1) // a session is a - p
		from, to := c.nodes[0], c.nodes[p]
		if r.IntN(2) == 0 {
			from, to = to, from
		}
		dur := time.Duration(1+r.IntN(20)) * time.Second
		f := fault{at: t, end: t + dur}
		if r.IntN(3) == 0 {
			f.cmd, f.undo = fmt.Sprintf("drop %s %s both", from, to), fmt.Sprintf("undrop %s %s both", from, to)
		} else {
			f.cmd, f.undo = fmt.Sprintf("drop %s %s", from, to), fmt.Sprintf("undrop %s %s", from, to)
		}
		fs = append(fs, f)
		t = f.end
	}
	return fs
}
