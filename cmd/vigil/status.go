package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/vigil-ha/vigil/status"
)

func init() {
	register("status", "ask the running daemon: instances, priorities, masters, transitions (status explain INSTANCE: why)", statusDoc, runStatus)
}

var statusOptions = []option{
	{short: 's', long: "socket", arg: requiredArg, argName: "PATH", help: "the daemon's control socket (default " + status.DefaultSocket + ")"},
	{short: 'j', long: "json", help: "print the answer as JSON, for tools"},
	{long: "timeout", arg: requiredArg, argName: "DURATION", help: "give up after DURATION (default 5s)"},
	{short: 'h', long: "help", help: "display this help"},
}

func statusDoc() helpDoc {
	return helpDoc{
		synopsis: []string{"status [OPTION...]", "status explain INSTANCE [OPTION...]"},
		text: "Ask the running daemon, through its control socket, for its instances, priorities, masters and " +
			"transitions; explain INSTANCE says why the instance is in its state: the rule, its trigger and the causal chain.",
		options: getoptDocs(statusOptions),
	}
}

// runStatus is `vigil status [explain INSTANCE]`, a client of the
// daemon's control socket in the manner of birdc. Exit status: 0, 1 when
// the daemon cannot be reached or refuses, 2 on bad usage.
func runStatus(args []string, stdout, stderr io.Writer) int {
	found, rest, err := getopt(statusOptions, args)
	if err != nil {
		fmt.Fprintf(stderr, "vigil status: %v\n", err)
		return 2
	}
	socket, asJSON, timeout := status.DefaultSocket, false, 5*time.Second
	for _, p := range found {
		switch p.opt.long {
		case "socket":
			socket = p.value
		case "json":
			asJSON = true
		case "timeout":
			if timeout, err = time.ParseDuration(p.value); err != nil || timeout <= 0 {
				fmt.Fprintf(stderr, "vigil status: bad --timeout %q\n", p.value)
				return 2
			}
		case "help":
			writeHelp(stdout, "status")
			return 0
		}
	}
	req := status.Request{Cmd: status.CmdStatus}
	switch {
	case len(rest) == 0:
	case rest[0] == "explain" && len(rest) == 2:
		req = status.Request{Cmd: status.CmdExplain, Instance: rest[1]}
	case rest[0] == "explain":
		fmt.Fprintln(stderr, "vigil status: usage: vigil status explain INSTANCE")
		return 2
	default:
		fmt.Fprintf(stderr, "vigil status: unknown command %q (status, status explain INSTANCE)\n", rest[0])
		return 2
	}
	resp, err := status.Query(socket, req, timeout)
	if err != nil {
		fmt.Fprintf(stderr, "vigil status: %v\n", err)
		return 1
	}
	if asJSON {
		var v any = resp.Status
		if req.Cmd == status.CmdExplain {
			v = resp.Explain
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			fmt.Fprintf(stderr, "vigil status: %v\n", err)
			return 1
		}
		return 0
	}
	switch {
	case resp.Explain != nil:
		io.WriteString(stdout, resp.Explain.Text)
	case resp.Status != nil:
		status.WriteText(stdout, resp.Status, time.Now())
	}
	return 0
}
