package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/vigil-ha/vigil/config"
)

func init() {
	register("dump", "print the parsed configuration as JSON", dumpDoc, runDump)
}

func dumpDoc() helpDoc {
	var lf loadFlags
	return helpDoc{
		synopsis: []string{"dump [-f FILE] [-i ID]"},
		text:     "Print the parsed configuration as indented JSON (the model documented in docs/dump-json.md). A configuration with errors is not dumped.",
		options:  flagDocs(dumpFlags(&lf)),
	}
}

func dumpFlags(lf *loadFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("vigil dump", flag.ContinueOnError)
	lf.define(fs, false)
	return fs
}

// runDump loads the configuration and writes the model as indented JSON
// (documented in docs/dump-json.md). Diagnostics go to stderr; a
// configuration with errors is not dumped (exit 1).
func runDump(args []string, stdout, stderr io.Writer) int {
	var lf loadFlags
	fs := dumpFlags(&lf)
	if done, code := parseFlags(fs, "dump", args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigil dump: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, diags, err := config.Load(lf.file, config.Options{ConfigID: lf.id})
	for _, d := range diags {
		fmt.Fprintln(stderr, d)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vigil dump: %s: %v\n", lf.file, err)
		return 1
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "vigil dump: %v\n", err)
		return 1
	}
	b = append(b, '\n')
	if _, err := stdout.Write(b); err != nil {
		fmt.Fprintf(stderr, "vigil dump: %v\n", err)
		return 1
	}
	return 0
}
