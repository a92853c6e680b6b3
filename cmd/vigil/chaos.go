package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/cluster"
	"github.com/vigil-ha/vigil/sim/chaos"
	"github.com/vigil-ha/vigil/sim/harness"
)

// chaosArgs are vigil sim chaos's options.
type chaosArgs struct {
	files            fileList
	topoFile, out    string
	dur              time.Duration
	seeds, workers   int
	first            uint64
	asJSON, noMatrix bool
}

func (a *chaosArgs) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("vigil sim chaos", flag.ContinueOnError)
	fs.Var(&a.files, "f", "a node's configuration `FILE` (repeat: one per node)")
	fs.Var(&a.files, "use-file", "configuration `FILE` (same as -f)")
	fs.StringVar(&a.topoFile, "topology", "", "cluster topology `FILE` (as vigil check's): which node interfaces share a segment, the nodes' addresses")
	fs.DurationVar(&a.dur, "duration", time.Hour, "virtual time `D` of each random schedule")
	fs.IntVar(&a.seeds, "seeds", 20, "number `N` of random schedules (0: the failure matrix only)")
	fs.Uint64Var(&a.first, "seed", 1, "first seed `S` of the random schedules, and the failure matrix's seed")
	fs.StringVar(&a.out, "out", "", "write the config copies and reproducing scenarios to `DIR` (default: a new temporary directory, kept only when something failed)")
	fs.BoolVar(&a.asJSON, "json", false, "print one JSON document on stdout instead of text")
	fs.BoolVar(&a.noMatrix, "no-matrix", false, "skip the failure matrix")
	fs.IntVar(&a.workers, "workers", 0, "seeds run in parallel (`N`, 0: one per CPU); results do not depend on it")
	return fs
}

// runChaos is `vigil sim chaos -f A -f B ...`: the failure matrix and
// random fault schedules against the cluster the files describe (package
// sim/chaos). Exit status: 0 when no invariant broke, 1 when one did, 2 on
// bad usage or a configuration or topology file that does not load.
func runChaos(args []string, stdout, stderr io.Writer) int {
	var a chaosArgs
	fs := a.flags()
	if done, code := parseFlags(fs, "sim", args, stdout, stderr); done {
		return code
	}
	files := a.files
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigil sim chaos: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "vigil sim chaos: give each node's configuration with -f")
		return 2
	}
	if a.seeds < 0 || a.dur <= 0 || a.workers < 0 {
		fmt.Fprintln(stderr, "vigil sim chaos: --seeds, --duration and --workers must not be negative (--duration above zero)")
		return 2
	}
	for _, f := range files {
		if _, _, hasID := splitFileID(f); hasID {
			fmt.Fprintf(stderr, "vigil sim chaos: %s: FILE@ID is not supported (the simulator loads configurations without a config id)\n", f)
			return 2
		}
	}
	var topo *cluster.Topology
	if a.topoFile != "" {
		b, err := os.ReadFile(a.topoFile)
		if err != nil {
			fmt.Fprintf(stderr, "vigil sim chaos: %v\n", err)
			return 2
		}
		var ds []string
		t, tds := cluster.ParseTopology(a.topoFile, b)
		for _, d := range tds {
			ds = append(ds, d.String())
		}
		if tds.HasErrors() {
			fmt.Fprintf(stderr, "vigil sim chaos: %s\n", strings.Join(ds, "\n"))
			return 2
		}
		topo = t
	}
	if os.Getenv("GOGC") == "" {
		// Simulated worlds allocate small short-lived items at a high
		// rate over a small live heap: collect less often.
		debug.SetGCPercent(400)
	}
	dir, temp := a.out, false
	if dir == "" {
		d, err := chaos.TempDir()
		if err != nil {
			fmt.Fprintf(stderr, "vigil sim chaos: %v\n", err)
			return 2
		}
		dir, temp = d, true
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "vigil sim chaos: %v\n", err)
		return 2
	}
	rep, err := chaos.Run(harness.Backend(), chaos.Options{Files: files, Topology: topo, Dir: dir, Seed: a.first,
		NoMatrix: a.noMatrix, Random: chaos.RandomOptions{Seeds: a.seeds, First: a.first, Duration: a.dur, Workers: a.workers}})
	if err != nil {
		if temp {
			os.RemoveAll(dir)
		}
		fmt.Fprintf(stderr, "vigil sim chaos: %v\n", err)
		return 2
	}
	bad := rep.Violations() > 0
	if temp && !bad {
		os.RemoveAll(dir)
		rep.Dir = ""
	}
	if a.asJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "vigil sim chaos: %v\n", err)
			return 2
		}
		stdout.Write(append(b, '\n'))
	} else {
		rep.WriteText(stdout)
		if bad {
			fmt.Fprintf(stdout, "the configuration copies and scenarios are in %s\n", dir)
		}
	}
	if bad {
		return 1
	}
	return 0
}
