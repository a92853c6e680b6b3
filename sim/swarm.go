package sim

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
)

// SwarmOptions configure a swarm run.
type SwarmOptions struct {
	// Seeds is how many seeds to run, starting at First.
	Seeds int
	First uint64
	// Duration is the simulated time per seed.
	Duration time.Duration
	// Out receives progress, failures and the speed figure.
	Out io.Writer
	// TraceLines is how much of the event trace before a violation to
	// print (default 60).
	TraceLines int
}

// SwarmResult summarises a swarm run.
type SwarmResult struct {
	Seeds  int
	Failed []uint64
	// Violations holds each failed seed's first violation, in seed order.
	Violations []Violation
	Simulated  time.Duration
	Wall       time.Duration
	Events     uint64
}

// Speed is simulated seconds per wall second.
func (r SwarmResult) Speed() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return r.Simulated.Seconds() / r.Wall.Seconds()
}

// Swarm runs random clusters under random faults, one per seed, checking
// the invariants continuously. A failing seed is shrunk (faults dropped
// while it still fails the same way) and printed as a reproducing
// scenario with the tail of its trace.
func Swarm(b Backend, o SwarmOptions) (SwarmResult, error) {
	if o.TraceLines == 0 {
		o.TraceLines = 60
	}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	var res SwarmResult
	start := time.Now()
	for i := range o.Seeds {
		seed := o.First + uint64(i)
		sw, err := newSwarmCase(seed, o.Duration)
		if err != nil {
			return res, err
		}
		v, events, err := sw.run(b, sw.faults, nil)
		if err != nil {
			return res, fmt.Errorf("seed %d: %w", seed, err)
		}
		res.Seeds++
		res.Simulated += o.Duration
		res.Events += events
		if v == nil {
			continue
		}
		res.Failed = append(res.Failed, seed)
		res.Violations = append(res.Violations, *v)
		if err := sw.report(b, out, *v, o.TraceLines); err != nil {
			return res, err
		}
	}
	res.Wall = time.Since(start)
	fmt.Fprintf(out, "swarm: %d seeds x %s simulated, %d failed; %d events; %.0f simulated seconds per wall second\n",
		res.Seeds, o.Duration, len(res.Failed), res.Events, res.Speed())
	return res, nil
}

// swarmCase is one seed's cluster and fault schedule.
type swarmCase struct {
	seed     uint64
	cluster  *clusterSpec
	faults   []fault
	duration time.Duration
}

func newSwarmCase(seed uint64, d time.Duration) (*swarmCase, error) {
	// Generation has its own PRNG stream so that the world's random
	// choices depend only on the seed and the commands run.
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	c := genCluster(r)
	fs := genFaults(r, c, d)
	// BFD comes from a stream of its own, drawn last (genbfd.go).
	rb := rand.New(rand.NewPCG(seed, bfdSeedStream))
	if c.bfd = genBFD(rb, c); c.bfd != nil {
		fs = append(fs, genBFDFaults(rb, c, d)...)
	}
	return &swarmCase{seed: seed, cluster: c, faults: fs, duration: d}, nil
}

// run executes the case with the given faults; trace, when set, receives
// the event trace. It returns the first violation, if any.
func (sc *swarmCase) run(b Backend, fs []fault, trace io.Writer, timeline ...io.Writer) (*Violation, uint64, error) {
	text := scenarioText(sc.seed, sc.cluster, fs, sc.duration)
	s, err := Parse(fmt.Sprintf("swarm-%d.scn", sc.seed), ".", text)
	if err != nil {
		return nil, 0, fmt.Errorf("generated scenario: %w", err)
	}
	var out io.Writer
	if len(timeline) > 0 {
		out = timeline[0]
	}
	v, steps, err := RunChecked(s, b, sc.seed, trace, out)
	if err != nil {
		return nil, steps, fmt.Errorf("%w\n%s", err, text)
	}
	return v, steps, nil
}

// shrink drops faults while the case still fails with the same rule.
func (sc *swarmCase) shrink(b Backend, rule string) []fault {
	return shrinkOne(sc.faults, func(try []fault) bool {
		v, _, err := sc.run(b, try, nil)
		return err == nil && v != nil && v.Rule == rule
	})
}

// report prints a failing seed: the violation, the shrunk reproducer and
// the end of its trace.
func (sc *swarmCase) report(b Backend, out io.Writer, v Violation, lines int) error {
	fs := sc.shrink(b, v.Rule)
	var tr, tl bytes.Buffer
	v2, _, err := sc.run(b, fs, &tr, &tl)
	if err != nil {
		return err
	}
	if v2 != nil {
		v = *v2
		// Cut the reproducer just after the violation.
		sc.duration = time.Duration(v.At) + time.Second
	}
	fmt.Fprintf(out, "FAIL seed %d: %s\n", sc.seed, v)
	fmt.Fprintf(out, "reproduce: vigil sim swarm --seed %d   (or save the scenario below and run vigil sim FILE)\n", sc.seed)
	fmt.Fprintf(out, "--- scenario (%d of %d faults kept) ---\n%s", len(fs), len(sc.faults),
		scenarioText(sc.seed, sc.cluster, fs, sc.duration))
	fmt.Fprintf(out, "--- timeline ---\n%s", tl.String())
	t := strings.Split(strings.TrimRight(tr.String(), "\n"), "\n")
	if len(t) > lines {
		t = t[len(t)-lines:]
	}
	fmt.Fprintf(out, "--- last %d trace lines ---\n%s\n", len(t), strings.Join(t, "\n"))
	return nil
}

// SwarmTrace runs one seed with tracing on and returns the trace bytes:
// the same seed always gives the same bytes.
func SwarmTrace(b Backend, seed uint64, d time.Duration) ([]byte, *Violation, error) {
	sc, err := newSwarmCase(seed, d)
	if err != nil {
		return nil, nil, err
	}
	var tr bytes.Buffer
	v, _, err := sc.run(b, sc.faults, &tr)
	return tr.Bytes(), v, err
}

// SwarmScenario returns the scenario text of a seed's generated case.
func SwarmScenario(seed uint64, d time.Duration) string {
	sc, _ := newSwarmCase(seed, d)
	return scenarioText(seed, sc.cluster, sc.faults, d)
}
