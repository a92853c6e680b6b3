package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/vigil-ha/vigil/sim"
	"github.com/vigil-ha/vigil/sim/harness"
	"github.com/vigil-ha/vigil/sim/simjournal"
)

func init() {
	register("sim", "run a simulated cluster scenario (no file: a demo), `sim swarm`, or `sim chaos -f A -f B` (your cluster under faults)", runSim)
}

// runSim is `vigil sim [-seed N] [-trace] [FILE]` and `vigil sim swarm ...`.
// Exit status: 0 all expectations held, 1 some failed, 2 bad usage or a
// broken scenario.
func runSim(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "swarm" {
		return runSwarm(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "chaos" {
		return runChaos(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("vigil sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "seed for every random choice of the run")
	trace := fs.Bool("trace", false, "print every event and effect")
	journal := fs.String("journal", "", "write each node's journal to `DIR`/NODE/ (for vigil replay)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vigil sim [-seed N] [-trace] [-journal DIR] [FILE.scn]\n       vigil sim swarm [--seeds N] [--duration D] [--seed S]\n       vigil sim chaos -f FILE -f FILE... [--topology FILE] [--duration D] [--seeds N] [--out DIR] [--json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var (
		s   *sim.Scenario
		err error
	)
	switch fs.NArg() {
	case 0:
		s, err = sim.Parse("demo.scn", ".", sim.Demo)
	case 1:
		s, err = sim.ParseFile(fs.Arg(0))
	default:
		fs.Usage()
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "vigil sim: %v\n", err)
		return 2
	}
	if *trace {
		s.Cmds = append([]sim.Cmd{{Verb: "trace", Args: []string{"on"}}}, s.Cmds...)
	}
	res, err := runScenario(s, *seed, *journal, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "vigil sim: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "%d expectations held, %d failed\n", res.Passed, res.Failed)
	if res.Failed > 0 {
		return 1
	}
	return 0
}

// runSwarm is `vigil sim swarm`: random clusters and fault schedules.
func runSwarm(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigil sim swarm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seeds := fs.Int("seeds", 100, "number of seeds to run")
	first := fs.Uint64("seed", 1, "first seed (with --seeds 1: just this one)")
	dur := fs.Duration("duration", 10*time.Minute, "simulated time per seed")
	show := fs.Bool("print", false, "print the seed's generated scenario and exit")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return 2
	}
	if *show {
		fmt.Fprint(stdout, sim.SwarmScenario(*first, *dur))
		return 0
	}
	// A lone --seed means "reproduce this one".
	seedSet, seedsSet := false, false
	fs.Visit(func(f *flag.Flag) {
		seedSet = seedSet || f.Name == "seed"
		seedsSet = seedsSet || f.Name == "seeds"
	})
	if seedSet && !seedsSet {
		*seeds = 1
	}
	res, err := sim.Swarm(harness.Backend(), sim.SwarmOptions{Seeds: *seeds, First: *first, Duration: *dur, Out: stdout})
	if err != nil {
		fmt.Fprintf(stderr, "vigil sim swarm: %v\n", err)
		return 2
	}
	if len(res.Failed) > 0 {
		return 1
	}
	return 0
}

// runScenario runs s, recording each node's journal under journalDir when
// it is set.
func runScenario(s *sim.Scenario, seed uint64, journalDir string, stdout io.Writer) (sim.Result, error) {
	if journalDir == "" {
		return sim.RunScenario(s, harness.Backend(), seed, stdout)
	}
	rec, err := simjournal.New(journalDir)
	if err != nil {
		return sim.Result{}, err
	}
	res, err := sim.RunScenarioRecorded(s, harness.Backend(), seed, stdout, rec)
	if cerr := rec.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return res, err
}
