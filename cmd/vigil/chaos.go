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

// runChaos is `vigil sim chaos -f A -f B ...`: the failure matrix and
// random fault schedules against the cluster the files describe (package
// sim/chaos). Exit status: 0 when no invariant broke, 1 when one did, 2 on
// bad usage or a configuration or topology file that does not load.
func runChaos(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigil sim chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var files fileList
	fs.Var(&files, "f", "a node's configuration `FILE` (repeat: one per node)")
	fs.Var(&files, "use-file", "configuration `FILE` (same as -f)")
	topoFile := fs.String("topology", "", "cluster topology `FILE` (as vigil check's): which node interfaces share a segment, the nodes' addresses")
	dur := fs.Duration("duration", time.Hour, "virtual time of each random schedule")
	seeds := fs.Int("seeds", 20, "number of random schedules (0: the failure matrix only)")
	first := fs.Uint64("seed", 1, "first seed of the random schedules, and the failure matrix's seed")
	out := fs.String("out", "", "write the config copies and reproducing scenarios to `DIR` (default: a new temporary directory, kept only when something failed)")
	asJSON := fs.Bool("json", false, "print one JSON document on stdout instead of text")
	noMatrix := fs.Bool("no-matrix", false, "skip the failure matrix")
	workers := fs.Int("workers", 0, "seeds run in parallel (0: one per CPU); results do not depend on it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vigil sim chaos -f FILE -f FILE... [--topology FILE] [--duration 1h] [--seeds 20] [--seed 1] [--out DIR] [--json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigil sim chaos: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "vigil sim chaos: give each node's configuration with -f")
		return 2
	}
	if *seeds < 0 || *dur <= 0 || *workers < 0 {
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
	if *topoFile != "" {
		b, err := os.ReadFile(*topoFile)
		if err != nil {
			fmt.Fprintf(stderr, "vigil sim chaos: %v\n", err)
			return 2
		}
		var ds []string
		t, tds := cluster.ParseTopology(*topoFile, b)
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
	dir, temp := *out, false
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
	rep, err := chaos.Run(harness.Backend(), chaos.Options{Files: files, Topology: topo, Dir: dir, Seed: *first,
		NoMatrix: *noMatrix, Random: chaos.RandomOptions{Seeds: *seeds, First: *first, Duration: *dur, Workers: *workers}})
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
	if *asJSON {
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
