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
	register("replay", "read a journal back: timeline, verify, explain, at, what-if, svg", replayDoc, runReplay)
}

// replayCommand is one replay subcommand.
type replayCommand struct {
	name, args, summary string
	run                 func(args []string, stdout, stderr io.Writer) int
}

// replayCommands are the replay subcommands, in the order help lists them.
var replayCommands []replayCommand

func init() {
	replayCommands = []replayCommand{
		{"timeline", "PATH [--instance NAME] [--all]", "state changes and what they did, in time", replayTimeline},
		{"verify", "PATH", "re-run the events, compare effects byte for byte", replayVerify},
		{"explain", "PATH INSTANCE [--at TIME] [--node NODE]", "why the instance changed state", replayExplain},
		{"at", "PATH TIME [--node NODE]", "the engine state at TIME, as JSON", replayAt},
		{"what-if", "PATH --config FILE [--node NODE]", "the same inputs through another configuration", replayWhatIf},
		{"svg", "PATH -o FILE [--title TITLE]", "a picture of the incident", replaySVG},
	}
}

func replayDoc() helpDoc {
	d := helpDoc{
		synopsis: []string{"replay COMMAND PATH [ARGS]"},
		text: "Read a journal back. PATH is a journal file or directory, or a directory of node journals " +
			"(vigil sim --journal DIR). TIME is an event time as timelines print it (12.5s, 1m30s) or RFC 3339.",
		notes: "Exit status: 0 success, 1 the check failed (verify: a divergence), 2 bad usage or an unreadable journal.",
	}
	for _, c := range replayCommands {
		var a replayArgs
		d.subs = append(d.subs, subDoc{usage: c.name + " " + c.args, summary: c.summary,
			options: flagDocs(replayFlagSet(c.name, &a))})
	}
	return d
}

// replayArgs are the options of every replay subcommand.
type replayArgs struct {
	instance                  string
	all                       bool
	at, node, cfg, out, title string
}

// replayFlagSet is the flag set of one replay subcommand.
func replayFlagSet(name string, a *replayArgs) *flag.FlagSet {
	fs := flag.NewFlagSet("vigil replay "+name, flag.ContinueOnError)
	node := func() { fs.StringVar(&a.node, "node", "", "the `NODE`, when PATH holds several") }
	switch name {
	case "timeline":
		fs.StringVar(&a.instance, "instance", "", "only the lines of instance `NAME`")
		fs.BoolVar(&a.all, "all", false, "include every effect (timers, counters, logs, adverts)")
	case "explain":
		fs.StringVar(&a.at, "at", "", "explain the last transition at or before `TIME` (default: the last one)")
		node()
	case "at":
		node()
	case "what-if":
		fs.StringVar(&a.cfg, "config", "", "the other keepalived.conf `FILE`")
		node()
	case "svg":
		fs.StringVar(&a.out, "o", "", "write the SVG to `FILE` (- for standard output)")
		fs.StringVar(&a.title, "title", "", "the picture's `TITLE` (default: PATH)")
	}
	return fs
}

// runReplay is `vigil replay COMMAND ...`. Exit status: 0 success, 1 the
// check failed (verify: a divergence), 2 bad usage or an unreadable
// journal.
func runReplay(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeHelp(stderr, "replay")
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		writeHelp(stdout, "replay")
		return 0
	}
	for _, c := range replayCommands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "vigil replay: unknown command %q\n", args[0])
	writeHelp(stderr, "replay")
	return 2
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, and returns the positional ones. -h prints
// the help (done, exit 0); a bad flag the error (done, exit 2).
func parseInterspersed(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (pos []string, done bool, code int) {
	for {
		if done, code := parseFlags(fs, "replay", args, stdout, stderr); done {
			return nil, true, code
		}
		if fs.NArg() == 0 {
			return pos, false, 0
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// replayUsage prints a subcommand's usage line to stderr and returns 2.
func replayUsage(stderr io.Writer, name string) int {
	for _, c := range replayCommands {
		if c.name == name {
			fmt.Fprintf(stderr, "usage: vigil replay %s %s\nTry 'vigil replay --help' for more information.\n", c.name, c.args)
		}
	}
	return 2
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
	var a replayArgs
	pos, done, code := parseInterspersed(replayFlagSet("timeline", &a), args, stdout, stderr)
	if done {
		return code
	}
	opts := replay.TimelineOptions{Instance: a.instance, All: a.all}
	if len(pos) != 1 {
		return replayUsage(stderr, "timeline")
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
	var a replayArgs
	pos, done, code := parseInterspersed(replayFlagSet("verify", &a), args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 {
		return replayUsage(stderr, "verify")
	}
	set, err := replay.OpenSet(pos[0])
	if err != nil {
		return fail(stderr, "verify", err)
	}
	defer replay.CloseSet(set)
	code = 0
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
	var a replayArgs
	pos, done, code := parseInterspersed(replayFlagSet("explain", &a), args, stdout, stderr)
	if done {
		return code
	}
	at, node := &a.at, &a.node
	if len(pos) != 2 {
		return replayUsage(stderr, "explain")
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
	var a replayArgs
	pos, done, code := parseInterspersed(replayFlagSet("at", &a), args, stdout, stderr)
	if done {
		return code
	}
	node := &a.node
	if len(pos) != 2 {
		return replayUsage(stderr, "at")
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
	var a replayArgs
	pos, done, code := parseInterspersed(replayFlagSet("what-if", &a), args, stdout, stderr)
	if done {
		return code
	}
	cfgPath, node := &a.cfg, &a.node
	if len(pos) != 1 || *cfgPath == "" {
		return replayUsage(stderr, "what-if")
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
	var a replayArgs
	pos, done, code := parseInterspersed(replayFlagSet("svg", &a), args, stdout, stderr)
	if done {
		return code
	}
	out, title := &a.out, &a.title
	if len(pos) != 1 || *out == "" {
		return replayUsage(stderr, "svg")
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
