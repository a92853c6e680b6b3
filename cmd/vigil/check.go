package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/vigil-ha/vigil/config"
)

func init() {
	register("check", "load and validate a keepalived.conf (as keepalived -t)", runCheck)
}

// loadFlags are the options check and dump share.
type loadFlags struct {
	file   string
	id     string
	strict bool
}

func (l *loadFlags) define(fs *flag.FlagSet, strict bool) {
	fs.StringVar(&l.file, "f", "/etc/keepalived/keepalived.conf", "configuration `FILE`")
	fs.StringVar(&l.file, "use-file", "/etc/keepalived/keepalived.conf", "configuration `FILE` (same as -f)")
	fs.StringVar(&l.id, "i", "", "config `ID` for @ID conditional lines (default: the host name)")
	fs.StringVar(&l.id, "config-id", "", "config `ID` (same as -i)")
	if strict {
		fs.BoolVar(&l.strict, "strict", false, "treat every warning (unknown keywords included) as an error")
	}
}

// runCheck loads the configuration and prints its diagnostics to stderr.
// Exit status: 0 when it loads (warnings allowed), 1 when it has errors,
// 2 on bad usage.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigil check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var lf loadFlags
	lf.define(fs, true)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigil check: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, diags, err := config.Load(lf.file, config.Options{ConfigID: lf.id, Strict: lf.strict})
	for _, d := range diags {
		fmt.Fprintln(stderr, d)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vigil check: %s: %v\n", lf.file, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: configuration OK: %d vrrp instance(s), %d virtual server(s), %d warning(s)\n",
		lf.file, len(cfg.Instances), len(cfg.VirtualServers), len(diags))
	return 0
}
