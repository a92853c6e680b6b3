package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/vigil-ha/vigil/sim"
)

// RandomOptions configure the random schedules.
type RandomOptions struct {
	// Seeds schedules are run, seeds First, First+1, ...
	Seeds int
	First uint64
	// Duration is each schedule's virtual time.
	Duration time.Duration
	// Workers run seeds in parallel (0: GOMAXPROCS). Results do not
	// depend on it.
	Workers int
}

// Random is the outcome of the random schedules.
type Random struct {
	Seeds    int       `json:"seeds"`
	First    uint64    `json:"first_seed"`
	Duration string    `json:"duration"`
	Faults   int       `json:"faults"`
	Events   uint64    `json:"engine_steps"`
	WallMS   float64   `json:"wall_ms"`
	Failures []Failure `json:"failures"`
}

// Failure is a seed whose schedule broke an invariant.
type Failure struct {
	Seed uint64 `json:"seed"`
	// Rule, Message and AtMS are the first violation of the shrunk
	// schedule (of the full one when shrinking lost it).
	Rule    string  `json:"rule"`
	Message string  `json:"message"`
	AtMS    float64 `json:"at_ms"`
	// Faults is how many faults the schedule had up to the violation,
	// Kept how many the shrunk scenario keeps.
	Faults int `json:"faults"`
	Kept   int `json:"kept"`
	// Scenario is the written scenario file; Reproduced says that
	// running it as `vigil sim FILE` does fails `expect no-violations`.
	Scenario   string `json:"scenario"`
	Reproduced bool   `json:"reproduced"`
}

// seedResult is one seed's run.
type seedResult struct {
	faults int
	steps  uint64
	fail   *Failure
	err    error
}

// Random runs the random schedules, in parallel, and writes a shrunk
// scenario for each failing seed to the work directory.
func (c *Cluster) Random(b sim.Backend, o RandomOptions) (*Random, error) {
	start := time.Now()
	bound, err := c.settle(b)
	if err != nil {
		return nil, err
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	res := make([]seedResult, o.Seeds)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(o.Seeds, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res[i] = c.runSeed(b, o.First+uint64(i), o.Duration, bound)
			}
		}()
	}
	for i := range o.Seeds {
		next <- i
	}
	close(next)
	wg.Wait()
	out := &Random{Seeds: o.Seeds, First: o.First, Duration: o.Duration.String(), Failures: []Failure{}}
	for i, r := range res {
		if r.err != nil {
			return nil, fmt.Errorf("seed %d: %w", o.First+uint64(i), r.err)
		}
		out.Faults += r.faults
		out.Events += r.steps
		if r.fail != nil {
			out.Failures = append(out.Failures, *r.fail)
		}
	}
	out.WallMS = ms(time.Since(start))
	return out, nil
}

func (c *Cluster) scenario(seed uint64, fs []sim.Fault, d time.Duration, note string) string {
	comment := fmt.Sprintf("vigil sim chaos: seed %d%s\nreproduce: vigil sim %s", seed, note, c.scenarioName(seed))
	return sim.ChaosScenario(comment, c.Header(), c.Inputs.Nodes, seed, fs, d)
}

func (c *Cluster) scenarioName(seed uint64) string { return fmt.Sprintf("chaos-seed-%d.scn", seed) }

// check runs a schedule and returns its first violation.
func (c *Cluster) check(b sim.Backend, seed uint64, fs []sim.Fault, d time.Duration) (*sim.Violation, uint64, error) {
	s, err := sim.Parse(c.scenarioName(seed), c.Dir, c.scenario(seed, fs, d, ""))
	if err != nil {
		return nil, 0, fmt.Errorf("generated scenario: %w", err)
	}
	return sim.RunChecked(s, b, seed, nil, nil)
}

// runSeed runs one seed's schedule; on a violation it shrinks the
// schedule, writes it and checks that `vigil sim FILE` reproduces it.
func (c *Cluster) runSeed(b sim.Backend, seed uint64, d, bound time.Duration) seedResult {
	fs := sim.ChaosSchedule(seed, c.Inputs, d)
	v, steps, err := c.check(b, seed, fs, d)
	r := seedResult{faults: len(fs), steps: steps, err: err}
	if err != nil || v == nil {
		return r
	}
	// Faults after the violation never ran; the shrunk schedules run a
	// little past it (they may fail a bit later than the full one).
	at := time.Duration(v.At)
	var ran []sim.Fault
	for _, f := range fs {
		if f.At <= at {
			ran = append(ran, f)
		}
	}
	horizon := min(d, at+2*bound+time.Minute)
	kept := sim.Shrink(ran, func(try []sim.Fault) bool {
		v2, _, err := c.check(b, seed, try, horizon)
		return err == nil && v2 != nil && v2.Rule == v.Rule
	})
	final := v
	if v2, _, err := c.check(b, seed, kept, horizon); err == nil && v2 != nil {
		final = v2
		// Move the kept faults as early as the settled cluster allows,
		// when it still fails so: a shorter scenario to read.
		if early := shift(kept, bound); len(early) > 0 && early[0].At < kept[0].At {
			h := horizon - (kept[0].At - early[0].At)
			if v3, _, err := c.check(b, seed, early, h); err == nil && v3 != nil && v3.Rule == v.Rule {
				kept, final = early, v3
			}
		}
	} else {
		kept = ran // shrinking lost it: keep every fault that ran
	}
	end := min(d, time.Duration(final.At)+time.Second)
	f := &Failure{Seed: seed, Rule: final.Rule, Message: final.Msg, AtMS: ms(time.Duration(final.At)),
		Faults: len(ran), Kept: len(kept), Scenario: filepath.Join(c.Dir, c.scenarioName(seed))}
	note := fmt.Sprintf(" (%d of %d faults kept)\n%s", len(kept), len(ran), final)
	if err := os.WriteFile(f.Scenario, []byte(c.scenario(seed, kept, end, note)), 0o644); err != nil {
		r.err = fmt.Errorf("write scenario: %w", err)
		return r
	}
	f.Reproduced, r.err = Reproduces(f.Scenario, b)
	r.fail = f
	return r
}

// Reproduces runs a scenario file as `vigil sim FILE` does and reports
// whether an expectation failed.
func Reproduces(path string, b sim.Backend) (bool, error) {
	s, err := sim.ParseFile(path)
	if err != nil {
		return false, err
	}
	res, err := sim.RunScenario(s, b, 1, nil)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return res.Failed > 0, nil
}

// shift moves a schedule so that its first fault comes at start, keeping
// the faults' spacing.
func shift(fs []sim.Fault, start time.Duration) []sim.Fault {
	if len(fs) == 0 {
		return nil
	}
	d := fs[0].At - start
	out := make([]sim.Fault, len(fs))
	for i, f := range fs {
		f.At -= d
		if f.Undo != "" {
			f.End -= d
		} else {
			f.End = f.At
		}
		out[i] = f
	}
	return out
}
