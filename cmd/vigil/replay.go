package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/replay"
)

func init() {
	register("replay", "read a journal back: timeline, verify, explain, at, what-if, svg", runReplay)
}

// replayUsage lists the replay subcommands.
const replayUsage = `usage: vigil replay COMMAND PATH [ARGS]
PATH is a journal file or directory, or a directory of node journals
(vigil sim --journal DIR).
commands:
  timeline PATH [--instance NAME] [--all]     state changes and what they did, in time
  verify   PATH                               re-run the events, compare effects byte for byte
  explain  PATH INSTANCE [--at TIME] [--node N]  why the instance changed state
  at       PATH TIME [--node N]               the engine state at TIME, as JSON
  what-if  PATH --config FILE [--node N]      the same inputs through another configuration
  svg      PATH -o FILE                       a picture of the incident
TIME is an event time as timelines print it (12.5s, 1m30s) or RFC 3339.
`

// replayCommands are the replay subcommands; each returns an exit code.
var replayCommands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"timeline": replayTimeline,
	"verify":   replayVerify,
	"explain":  replayExplain,
	"at":       replayAt,
	"what-if":  replayWhatIf,
	"svg":      replaySVG,
}

// runReplay is `vigil replay COMMAND ...`. Exit status: 0 success, 1 the
// check failed (verify: a divergence), 2 bad usage or an unreadable
// journal.
func runReplay(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, replayUsage)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, replayUsage)
		return 0
	}
	cmd, ok := replayCommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "vigil replay: unknown command %q\n%s", args[0], replayUsage)
		return 2
	}
	return cmd(args[1:], stdout, stderr)
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// replayFlags starts a subcommand's flag set.
func replayFlags(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("vigil replay "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: vigil replay %s %s\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// fail prints err for the named subcommand and returns exit code 2.
func fail(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "vigil replay %s: %v\n", name, err)
	return 2
}

// openNode opens PATH and picks one node's journal.
func openNode(path, node string) ([]*replay.Journal, *replay.Journal, error) {
	set, err := replay.OpenSet(path)
	if err != nil {
		return nil, nil, err
	}
	j, err := replay.PickNode(set, node)
	if err != nil {
		replay.CloseSet(set)
		return nil, nil, err
	}
	return set, j, nil
}

func replayTimeline(args []string, stdout, stderr io.Writer) int {
	fs := replayFlags("timeline", stderr, "PATH [--instance NAME] [--all]")
	var opts replay.TimelineOptions
	fs.StringVar(&opts.Instance, "instance", "", "only this instance's lines")
	fs.BoolVar(&opts.All, "all", false, "include every effect (timers, counters, logs, adverts)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	set, err := replay.OpenSet(pos[0])
	if err != nil {
		return fail(stderr, "timeline", err)
	}
	defer replay.CloseSet(set)
	if _, err := replay.Timeline(set, opts, stdout); err != nil {
		return fail(stderr, "timeline", err)
	}
	return 0
}

func replayVerify(args []string, stdout, stderr io.Writer) int {
	fs := replayFlags("verify", stderr, "PATH")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	set, err := replay.OpenSet(pos[0])
	if err != nil {
		return fail(stderr, "verify", err)
	}
	defer replay.CloseSet(set)
	code := 0
	for _, j := range set {
		rep, err := replay.Verify(j)
		if err != nil {
			return fail(stderr, "verify", err)
		}
		rep.Print(stdout)
		if rep.Divergence != nil {
			code = 1
		}
	}
	return code
}

func replayExplain(args []string, stdout, stderr io.Writer) int {
	fs := replayFlags("explain", stderr, "PATH INSTANCE [--at TIME] [--node NODE]")
	at := fs.String("at", "", "explain the last transition at or before `TIME` (default: the last one)")
	node := fs.String("node", "", "the node, when PATH holds several")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 2 {
		fs.Usage()
		return 2
	}
	set, j, err := openNode(pos[0], *node)
	if err != nil {
		return fail(stderr, "explain", err)
	}
	defer replay.CloseSet(set)
	var t *replay.TimeSpec
	if *at != "" {
		ts, err := replay.ParseTime(*at)
		if err != nil {
			return fail(stderr, "explain", err)
		}
		t = &ts
	}
	ex, err := replay.Explain(j, pos[1], t)
	if err != nil {
		return fail(stderr, "explain", err)
	}
	ex.Print(stdout)
	return 0
}

func replayAt(args []string, stdout, stderr io.Writer) int {
	fs := replayFlags("at", stderr, "PATH TIME [--node NODE]")
	node := fs.String("node", "", "the node, when PATH holds several")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 2 {
		fs.Usage()
		return 2
	}
	t, err := replay.ParseTime(pos[1])
	if err != nil {
		return fail(stderr, "at", err)
	}
	set, j, err := openNode(pos[0], *node)
	if err != nil {
		return fail(stderr, "at", err)
	}
	defer replay.CloseSet(set)
	seq, origin, err := j.At(t, stdout)
	if err != nil {
		return fail(stderr, "at", err)
	}
	fmt.Fprintf(stderr, "state after seq %d (%s)\n", seq, origin)
	return 0
}

func replayWhatIf(args []string, stdout, stderr io.Writer) int {
	fs := replayFlags("what-if", stderr, "PATH --config FILE [--node NODE]")
	cfgPath := fs.String("config", "", "the other keepalived.conf `FILE`")
	node := fs.String("node", "", "the node, when PATH holds several")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 || *cfgPath == "" {
		fs.Usage()
		return 2
	}
	cfg, diags, err := config.Load(*cfgPath, config.Options{})
	for _, d := range diags {
		fmt.Fprintln(stderr, d.String())
	}
	if err != nil {
		return fail(stderr, "what-if", fmt.Errorf("%s: %w", *cfgPath, err))
	}
	set, j, err := openNode(pos[0], *node)
	if err != nil {
		return fail(stderr, "what-if", err)
	}
	defer replay.CloseSet(set)
	res, err := replay.WhatIf(j, cfg, *cfgPath)
	if err != nil {
		return fail(stderr, "what-if", err)
	}
	res.Print(stdout)
	return 0
}

func replaySVG(args []string, stdout, stderr io.Writer) int {
	fs := replayFlags("svg", stderr, "PATH -o FILE")
	out := fs.String("o", "", "write the SVG to `FILE` (- for standard output)")
	title := fs.String("title", "", "the picture's title (default: PATH)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 || *out == "" {
		fs.Usage()
		return 2
	}
	set, err := replay.OpenSet(pos[0])
	if err != nil {
		return fail(stderr, "svg", err)
	}
	defer replay.CloseSet(set)
	var b strings.Builder
	if err := replay.SVG(set, replay.SVGOptions{Title: or(*title, pos[0])}, &b); err != nil {
		return fail(stderr, "svg", err)
	}
	if *out == "-" {
		_, err = io.WriteString(stdout, b.String())
	} else {
		err = os.WriteFile(*out, []byte(b.String()), 0o644)
	}
	if err != nil {
		return fail(stderr, "svg", err)
	}
	return 0
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
