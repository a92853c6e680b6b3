package main

import (
	"bufio"
	"bytes"
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
	var qerr error
	switch {
	case asJSON:
		qerr = printJSON(stdout, socket, req, timeout)
	case req.Cmd == status.CmdExplain:
		var resp *status.Response
		if resp, qerr = status.Query(socket, req, timeout); qerr == nil && resp.Explain != nil {
			_, qerr = io.WriteString(stdout, resp.Explain.Text)
		}
	default:
		// The daemon renders the text: decoding the snapshot and
		// formatting it here took most of the command's time.
		w := bufio.NewWriterSize(stdout, 64<<10)
		if qerr = status.QueryText(socket, timeout, w); qerr == nil {
			qerr = w.Flush()
		}
	}
	if qerr != nil {
		fmt.Fprintf(stderr, "vigil status: %v\n", qerr)
		return 1
	}
	return 0
}

// printJSON prints the daemon's answer to req as indented JSON, as it
// came (not decoded and encoded again).
func printJSON(stdout io.Writer, socket string, req status.Request, timeout time.Duration) error {
	resp, err := status.QueryRaw(socket, req, timeout)
	if err != nil {
		return err
	}
	raw := resp.Status
	if req.Cmd == status.CmdExplain {
		raw = resp.Explain
	}
	if len(raw) == 0 {
		raw = json.RawMessage("null")
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return fmt.Errorf("the daemon's answer: %w", err)
	}
	b.WriteByte('\n')
	_, err = stdout.Write(b.Bytes())
	return err
}
