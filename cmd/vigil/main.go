// Command vigil is a keepalived-compatible high-availability daemon built
// as an event-sourced state machine. One binary serves every role:
//
//	vigil check   -f FILE   load and validate a keepalived.conf (keepalived -t)
//	vigil dump    -f FILE   print the parsed configuration as JSON
//	vigil sim     [FILE]    run a simulated cluster scenario
//	vigil replay  ...       read a journal back
//	vigil run     ...       the daemon (keepalived's command line)
//	vigil status  ...       ask the running daemon
//	vigil genhash ...       keepalived's genhash
//	vigil --man             print vigil(8), generated from the same tables as --help
//
// Each subcommand lives in its own file and registers itself in init.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/vigil-ha/vigil/daemon"
)

// command is one subcommand: it gets its arguments (without the subcommand
// name) and the standard streams, and returns the process exit code. Its
// summary and doc are the source of `vigil --help`, its own --help and
// vigil(8) (help.go, man.go).
type command struct {
	summary string
	doc     func() helpDoc
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{}

func register(name, summary string, doc func() helpDoc, run func(args []string, stdout, stderr io.Writer) int) {
	if _, dup := commands[name]; dup {
		panic("vigil: command registered twice: " + name)
	}
	commands[name] = command{summary: summary, doc: doc, run: run}
}

// commandNames lists the commands in order.
func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: vigil COMMAND [ARGS]")
	fmt.Fprintln(w, "commands:")
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "Each command takes --help; vigil --man prints the manual page, vigil(8).")
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return 0
	case "--man":
		if err := writeMan(stdout); err != nil {
			fmt.Fprintf(stderr, "vigil: %v\n", err)
			return 1
		}
		return 0
	case "--version":
		fmt.Fprintln(stdout, daemon.Version)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "vigil: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(args[1:], stdout, stderr)
}
