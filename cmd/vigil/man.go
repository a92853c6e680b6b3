package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-ha/vigil/daemon"
	"github.com/vigil-ha/vigil/status"
)

// writeMan writes vigil(8) in man(7) roff. The commands, their synopses
// and every option come from the tables --help prints (helpDoc, built
// from the parsers' own tables); only the prose around them is written
// here. dist/vigil.8 is its output, kept equal by TestManPageUpToDate
// (go test ./cmd/vigil -run ManPage -update rewrites it).
func writeMan(out io.Writer) error {
	w := bufio.NewWriter(out)
	m := &manWriter{w: w}
	// No date: the page must be the same on every build.
	m.req(".TH VIGIL 8 \"\" %s \"System Administration\"", quote(daemon.Version))
	m.sh("NAME")
	m.raw(`vigil \- keepalived-compatible VRRP and IPVS daemon, built as an event-sourced state machine`)

	m.sh("SYNOPSIS")
	for _, n := range commandNames() {
		for _, s := range commands[n].doc().synopsis {
			m.synopsis("vigil " + s)
		}
	}

	m.sh("DESCRIPTION")
	m.para("vigil is a keepalived-compatible high-availability daemon: VRRP v2/v3 failover of virtual addresses " +
		"and health checking of Linux IPVS real servers, reading an unmodified keepalived.conf(5). " +
		"Inside, every input (adverts, link and address changes, script results, timers) becomes a typed event; " +
		"one pure, deterministic engine turns events into effects (send an advert, add an address, run a script), " +
		"which adapters execute, and events and effects are journaled. The same engine runs the daemon " +
		"(vigil run), replays incident journals (vigil replay) and simulates clusters (vigil sim).")
	m.para("Installed or linked as keepalived, vigil is vigil run: it takes keepalived 2.2.7's command line.")

	m.sh("COMMANDS")
	for _, n := range commandNames() {
		c := commands[n]
		d := c.doc()
		m.req(".SS %s", quote("vigil "+n))
		m.para(c.summary)
		if d.text != "" {
			m.para(d.text)
		}
		m.options(d.options)
		for _, s := range d.subs {
			m.req(".TP")
			m.bold("vigil " + n + " " + s.usage)
			m.text(s.summary)
			if len(s.options) > 0 {
				m.req(".RS")
				m.options(s.options)
				m.req(".RE")
			}
		}
		if d.notes != "" {
			m.para(d.notes)
		}
	}

	m.sh("SIGNALS")
	m.item("SIGTERM, SIGINT", "stop: priority-0 adverts, virtual addresses released unless -V, IPVS services removed unless -I")
	m.item("SIGHUP", "reload: the configuration is parsed and validated first; one that does not load is logged and the running one kept")
	m.item("SIGUSR1, SIGUSR2", "write "+daemon.DefaultDataFile+" and "+daemon.DefaultStatsFile+" in keepalived's formats")
	m.item(fmt.Sprintf("signal %d, signal %d", int(daemon.SigJSON), int(daemon.SigStatsClear)),
		"write "+daemon.DefaultJSONFile+"; clear the statistics (vigil run --signum=JSON, --signum=STATS_CLEAR)")

	m.sh("ENVIRONMENT")
	m.item("NOTIFY_SOCKET", "systemd's notification socket: vigil run sends READY=1 once started, "+
		"RELOADING=1 with MONOTONIC_USEC and READY=1 around a reload, STOPPING=1 at shutdown")
	m.item("WATCHDOG_USEC, WATCHDOG_PID", "systemd's watchdog (WatchdogSec=): the event loop itself sends WATCHDOG=1 "+
		"every half interval, so a stuck loop gets restarted")

	m.sh("FILES")
	m.item(defaultConfig, "the configuration (keepalived.conf(5))")
	m.item(defaultJournal, "the journal of events and effects (vigil replay reads it)")
	m.item(status.DefaultSocket, "the control socket vigil status asks")
	m.item(daemon.DefaultPIDFile+", "+daemon.DefaultVRRPPIDFile, "pid files (in "+daemon.PIDDir+" with use_pid_dir, named keepalived_NAME.pid and vrrp_NAME.pid with instance NAME)")
	m.item("/lib/systemd/system/vigil.service", "the systemd unit (Type=notify, watchdog, sandboxed)")
	m.item("/etc/default/vigil", "DAEMON_ARGS, the options the unit passes to vigil run")

	m.sh("SEE ALSO")
	m.raw(`.BR keepalived (8),
.BR keepalived.conf (5),
.BR genhash (1),
.BR systemd.service (5),
.BR systemd-analyze (1)`)
	return w.Flush()
}

// manWriter writes roff, escaping text.
type manWriter struct {
	w *bufio.Writer
}

func (m *manWriter) req(format string, args ...any) { fmt.Fprintf(m.w, format+"\n", args...) }
func (m *manWriter) raw(s string)                   { fmt.Fprintln(m.w, s) }
func (m *manWriter) sh(s string)                    { m.req(".SH %s", s) }
func (m *manWriter) text(s string)                  { fmt.Fprintln(m.w, roffText(s)) }
func (m *manWriter) bold(s string)                  { fmt.Fprintf(m.w, "\\fB%s\\fR\n", roffEscape(s)) }

func (m *manWriter) para(s string) {
	m.req(".PP")
	m.text(s)
}

// synopsis is one synopsis line, unfilled.
func (m *manWriter) synopsis(s string) {
	m.req(".PP")
	m.req(".nf")
	m.bold(s)
	m.req(".fi")
}

// item is a tagged paragraph.
func (m *manWriter) item(tag, s string) {
	m.req(".TP")
	m.bold(tag)
	m.text(s)
}

func (m *manWriter) options(opts []optDoc) {
	for _, o := range opts {
		m.item(o.label(), o.help)
	}
}

// roffText escapes a paragraph of text (a line starting with a period or
// an apostrophe would be a request).
func roffText(s string) string {
	s = roffEscape(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffEscape escapes backslashes and hyphens and writes non-ASCII
// characters as \[uXXXX], so that groff reads the page in any encoding.
func roffEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r > 0x7f:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// quote is a roff macro argument in double quotes.
func quote(s string) string {
	return `"` + strings.ReplaceAll(roffEscape(s), `"`, `""`) + `"`
}
