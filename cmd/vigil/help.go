package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// helpDoc describes one command for its --help and for vigil(8): both are
// generated from it (writeHelp, writeMan), and the option lists are
// generated from the very tables the command parses with (its getopt
// []option or its flag.FlagSet), so the help, the man page and the
// parser cannot drift apart.
type helpDoc struct {
	// synopsis lines, each after "vigil " (the first names the command).
	synopsis []string
	// text is a paragraph printed below the synopsis.
	text string
	// options the command takes.
	options []optDoc
	// subs are its subcommands, each with its own options.
	subs []subDoc
	// notes is a paragraph printed last.
	notes string
}

// subDoc is a subcommand (vigil replay timeline, vigil sim swarm, ...).
type subDoc struct {
	// usage is the subcommand's words and arguments, after the command.
	usage   string
	summary string
	options []optDoc
}

// optDoc is one option: every name it answers to, its argument's name
// ("" when it takes none) and its help.
type optDoc struct {
	short    rune   // 0 when there is none
	long     string // "" when there is none
	arg      string
	optional bool // the argument is optional (--name[=ARG])
	help     string
}

// label is the option as --help and the man page show it:
// "-f, --use-file=FILE".
func (o optDoc) label() string {
	var b strings.Builder
	if o.short != 0 {
		fmt.Fprintf(&b, "-%c", o.short)
		if o.long != "" {
			b.WriteString(", ")
		}
	}
	if o.long != "" {
		b.WriteString("--" + o.long)
	}
	switch {
	case o.arg == "":
	case o.optional:
		b.WriteString("[=" + o.arg + "]")
	case o.long == "":
		b.WriteString(" " + o.arg)
	default:
		b.WriteString("=" + o.arg)
	}
	return b.String()
}

// getoptDocs documents a getopt table (vigil run, vigil status).
func getoptDocs(opts []option) []optDoc {
	docs := make([]optDoc, 0, len(opts))
	for _, o := range opts {
		d := optDoc{short: o.short, long: o.long, help: o.help}
		if o.arg != noArg {
			d.arg, d.optional = o.argName, o.arg == optionalArg
		}
		docs = append(docs, d)
	}
	return docs
}

// flagDocs documents a flag.FlagSet. Flags bound to the same variable
// (-f and -use-file) are one option; its help is the shortest name's.
// Go's flag package takes -name and --name alike: one-letter names are
// shown with one dash, longer ones with two.
func flagDocs(fs *flag.FlagSet) []optDoc {
	type group struct {
		names []*flag.Flag
	}
	var groups []*group
	byValue := map[flag.Value]*group{}
	fs.VisitAll(func(f *flag.Flag) {
		g := byValue[f.Value]
		if g == nil {
			g = &group{}
			byValue[f.Value] = g
			groups = append(groups, g)
		}
		g.names = append(g.names, f)
	})
	docs := make([]optDoc, 0, len(groups))
	for _, g := range groups {
		// Shortest name first: its help is the one without "same as".
		sort.SliceStable(g.names, func(a, b int) bool { return len(g.names[a].Name) < len(g.names[b].Name) })
		first := g.names[0]
		arg, help := flag.UnquoteUsage(first)
		if _, isBool := first.Value.(interface{ IsBoolFlag() bool }); isBool {
			arg = ""
		} else if !strings.Contains(first.Usage, "`") {
			arg = strings.ToUpper(arg) // "string" from UnquoteUsage: STRING
		}
		if def := first.DefValue; def != "" && def != "0" && def != "false" && !strings.Contains(help, "default") {
			help += " (default " + def + ")"
		}
		d := optDoc{arg: arg, help: help}
		for _, f := range g.names {
			switch {
			case len(f.Name) == 1 && d.short == 0:
				d.short = rune(f.Name[0])
			case len(f.Name) > 1 && d.long == "":
				d.long = f.Name
			}
		}
		docs = append(docs, d)
	}
	sort.SliceStable(docs, func(a, b int) bool { return docs[a].sortKey() < docs[b].sortKey() })
	return docs
}

func (o optDoc) sortKey() string {
	if o.short != 0 {
		return strings.ToLower(string(o.short)) + string(o.short)
	}
	return o.long
}

// writeOptions prints options as keepalived's --help does.
func writeOptions(w io.Writer, indent string, opts []optDoc) {
	for _, o := range opts {
		l := o.label()
		if o.short == 0 {
			l = "    " + l
		}
		fmt.Fprintf(w, "%s%-30s %s\n", indent, l, o.help)
	}
}

// writeHelp prints the --help of a command.
func writeHelp(w io.Writer, name string) {
	d := commands[name].doc()
	for k, s := range d.synopsis {
		lead := "Usage: "
		if k > 0 {
			lead = "       "
		}
		fmt.Fprintf(w, "%svigil %s\n", lead, s)
	}
	if d.text != "" {
		fmt.Fprintf(w, "%s\n", wrap(d.text, 78))
	}
	if len(d.options) > 0 {
		fmt.Fprintln(w, "Options:")
		writeOptions(w, "  ", d.options)
	}
	if len(d.subs) > 0 {
		fmt.Fprintln(w, "Commands:")
		for _, s := range d.subs {
			fmt.Fprintf(w, "  %s\n      %s\n", s.usage, s.summary)
			writeOptions(w, "      ", s.options)
		}
	}
	if d.notes != "" {
		fmt.Fprintf(w, "%s\n", wrap(d.notes, 78))
	}
}

// wrap folds a paragraph at width columns.
func wrap(s string, width int) string {
	var b strings.Builder
	col := 0
	for _, word := range strings.Fields(s) {
		if col > 0 && col+1+len([]rune(word)) > width {
			b.WriteByte('\n')
			col = 0
		} else if col > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += len([]rune(word))
	}
	return b.String()
}

// parseFlags parses a flag-package command line. -h/--help prints the
// command's help on stdout (done: exit 0); a bad option prints the error
// and the help on stderr (exit 2).
func parseFlags(fs *flag.FlagSet, name string, args []string, stdout, stderr io.Writer) (done bool, code int) {
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case err == nil:
		return false, 0
	case errors.Is(err, flag.ErrHelp):
		writeHelp(stdout, name)
		return true, 0
	}
	fmt.Fprintf(stderr, "Try 'vigil %s --help' for more information.\n", name)
	return true, 2
}
