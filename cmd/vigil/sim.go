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
	register("sim", "run a simulated cluster scenario (no file: a demo), `sim swarm`, or `sim chaos -f A -f B` (your cluster under faults)", simDoc, runSim)
}

func simDoc() helpDoc {
	var a simArgs
	var w swarmArgs
	var c chaosArgs
	return helpDoc{
		synopsis: []string{"sim [-seed N] [-trace] [-journal DIR] [FILE.scn]", "sim swarm [--seeds N] [--duration D] [--seed S] [--print]",
			"sim chaos -f FILE -f FILE... [--topology FILE] [--duration D] [--seeds N] [--out DIR] [--json]"},
		text: "Run a simulated cluster scenario on virtual time: every node runs vigil's engine on its own keepalived.conf, " +
			"on simulated L2 segments with faults; no root and no network needed. Without FILE, an embedded three-node demo runs.",
		options: flagDocs(a.flags()),
		subs: []subDoc{{usage: "swarm [--seeds N] [--duration D] [--seed S] [--print]",
			summary: "random clusters and fault schedules, with the invariants checked; a failing seed is printed to reproduce it",
			options: flagDocs(w.flags())},
			{usage: "chaos -f FILE -f FILE... [--topology FILE] [--duration D] [--seeds N] [--seed S] [--out DIR] [--json]",
				summary: "your cluster's configurations under faults: a failure matrix of single faults and random fault schedules, with the invariants checked; a failure is shrunk to a scenario file vigil sim reproduces",
				options: flagDocs(c.flags())}},
		notes: "Exit status: 0 all expectations (or invariants) held, 1 some failed, 2 bad usage or a broken scenario.",
	}
}

// simArgs are vigil sim's options.
type simArgs struct {
	seed    uint64
	trace   bool
	journal string
}

func (a *simArgs) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("vigil sim", flag.ContinueOnError)
	fs.Uint64Var(&a.seed, "seed", 1, "seed `N` for every random choice of the run")
	fs.BoolVar(&a.trace, "trace", false, "print every event and effect")
	fs.StringVar(&a.journal, "journal", "", "write each node's journal to `DIR`/NODE/ (for vigil replay)")
	return fs
}

// swarmArgs are vigil sim swarm's options.
type swarmArgs struct {
	seeds int
	first uint64
	dur   time.Duration
	show  bool
}

func (a *swarmArgs) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("vigil sim swarm", flag.ContinueOnError)
	fs.IntVar(&a.seeds, "seeds", 100, "run `N` seeds")
	fs.Uint64Var(&a.first, "seed", 1, "first seed `S` (with --seeds 1: just this one)")
	fs.DurationVar(&a.dur, "duration", 10*time.Minute, "simulated time `D` per seed")
	fs.BoolVar(&a.show, "print", false, "print the seed's generated scenario and exit")
	return fs
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
	var a simArgs
	fs := a.flags()
	if done, code := parseFlags(fs, "sim", args, stdout, stderr); done {
		return code
	}
	seed, trace, journal := &a.seed, &a.trace, &a.journal
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
		writeHelp(stderr, "sim")
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
	var a swarmArgs
	fs := a.flags()
	if done, code := parseFlags(fs, "sim", args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigil sim swarm: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	seeds, first, dur, show := &a.seeds, &a.first, &a.dur, &a.show
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
