package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/daemon"
	"github.com/vigil-ha/vigil/status"
)

func init() {
	register("run", "the daemon, with keepalived's command line (see vigil run --help)", runDoc, runDaemon)
	// Installed or linked as "keepalived", vigil is the daemon: main reads
	// os.Args after init, so naming the subcommand here is enough.
	if filepath.Base(os.Args[0]) == "keepalived" {
		os.Args = append([]string{os.Args[0], "run"}, os.Args[1:]...)
	}
}

// runOptions is keepalived's command line, plus vigil's own long options.
var runOptions = []option{
	{short: 'f', long: "use-file", arg: requiredArg, argName: "FILE", help: "use the specified configuration file (default " + defaultConfig + ")"},
	{short: 'P', long: "vrrp", help: "only run the VRRP subsystem (virtual servers ignored, IPVS untouched)"},
	{short: 'C', long: "check", help: "only run the health-checker subsystem: checkers and IPVS, no VRRP socket"},
	{short: 'B', long: "no_bfd", help: "don't run BFD: no BFD socket is opened, the sessions stay down"},
	{long: "all", help: "force all subsystems to run (accepted; no effect)"},
	{short: 'l', long: "log-console", help: "log messages to the console (stderr)"},
	{short: 'D', long: "log-detail", help: "detailed log messages (debug level)"},
	{short: 'S', long: "log-facility", arg: requiredArg, argName: "FACILITY", help: "syslog facility: 0-7, local0-local7, user or daemon (default)"},
	{short: 'g', long: "log-file", arg: requiredArg, argName: "FILE", help: "also log to FILE"},
	{long: "flush-log-file", help: "flush the log file after each line (always the case)"},
	{short: 'G', long: "no-syslog", help: "don't log via syslog"},
	{short: 'u', long: "umask", arg: requiredArg, argName: "MASK", help: "umask for file creation (octal)"},
	{short: 'X', long: "release-vips", help: "drop VIPs on transition from signal (accepted; vigil has no signal transitions)"},
	{short: 'V', long: "dont-release-vrrp", help: "don't remove VRRP VIPs and routes on stop"},
	{short: 'I', long: "dont-release-ipvs", help: "don't remove IPVS topology on stop"},
	{short: 'R', long: "dont-respawn", help: "don't respawn child processes (accepted; vigil is one process)"},
	{short: 'n', long: "dont-fork", help: "run in the foreground"},
	{short: 'd', long: "dump-conf", help: "log the parsed configuration (JSON) at start"},
	{short: 'p', long: "pid", arg: requiredArg, argName: "FILE", help: "pid file of the main process (default " + daemon.DefaultPIDFile + ")"},
	{short: 'r', long: "vrrp_pid", arg: requiredArg, argName: "FILE", help: "pid file of the VRRP process (default " + daemon.DefaultVRRPPIDFile + ")"},
	{short: 'c', long: "checkers_pid", arg: requiredArg, argName: "FILE", help: "pid file of the checkers process (accepted; vigil runs its checkers in its one process and writes none)"},
	{short: 'b', long: "bfd_pid", arg: requiredArg, argName: "FILE", help: "pid file of the BFD process (accepted; vigil's BFD runs in its one process)"},
	{short: 'a', long: "address-monitoring", help: "log every address change reported by netlink"},
	{short: 's', long: "namespace", arg: requiredArg, argName: "NAME", help: "run in network namespace NAME (not supported: use ip netns exec)"},
	{short: 'x', long: "snmp", help: "enable SNMP (not supported: ignored)"},
	{short: 'A', long: "snmp-agent-socket", arg: requiredArg, argName: "FILE", help: "SNMP master agent socket (not supported: ignored)"},
	{short: 'm', long: "core-dump", help: "produce a core dump on abnormal termination"},
	{short: 'M', long: "core-dump-pattern", arg: optionalArg, argName: "PATN", help: "set kernel.core_pattern (not supported: ignored)"},
	{short: 'e', long: "all-config", help: "error if a configuration file is missing (not supported: ignored)"},
	{short: 'i', long: "config-id", arg: requiredArg, argName: "ID", help: "id for @ID conditional configuration lines (default: host name)"},
	{long: "signum", arg: requiredArg, argName: "SIGFUNC", help: "print the signal number for STOP, RELOAD, DATA or STATS"},
	{short: 't', long: "config-test", arg: optionalArg, argName: "LOG_FILE", help: "check the configuration and the host, report to stderr (or LOG_FILE), exit as keepalived -t: 0, 4 (cannot run), 5 (problems) or 6 (script security)"},
	{short: 'T', long: "genhash", help: "genhash mode (not supported)"},
	{short: 'v', long: "version", help: "display the version"},
	{short: 'h', long: "help", help: "display this help"},
	{long: "journal", arg: requiredArg, argName: "DIR", help: "vigil: journal directory, empty to disable (default " + defaultJournal + ")"},
	{long: "log-json", help: "vigil: log JSON lines instead of text"},
	{long: "control-socket", arg: requiredArg, argName: "PATH", help: "vigil: the control socket vigil status asks, mode 0600 (default " + status.DefaultSocket + ", empty for none)"},
	{long: "metrics-listen", arg: requiredArg, argName: "ADDR", help: "vigil: serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9650; default off)"},
	{long: "metrics-compat", arg: requiredArg, argName: "SETS", help: "vigil: the keepalived exporters' metrics to serve: mehdy, mehdy-v0, gen2brain, all (default) or none, comma-separated"},
	{long: "metrics-check-script", arg: requiredArg, argName: "CMD", help: "vigil: run CMD VIP for each VIP at every scrape (keepalived-exporter's --cs)"},
	{long: "debug-pprof", arg: requiredArg, argName: "ADDR", help: "vigil: serve net/http/pprof on ADDR (host:port; give a loopback address: no authentication)"},
}

const (
	defaultConfig  = "/etc/keepalived/keepalived.conf"
	defaultJournal = "/var/lib/vigil/journal"
)

func runDoc() helpDoc {
	return helpDoc{
		synopsis: []string{"run [OPTION...]   (or: keepalived [OPTION...])"},
		options:  getoptDocs(runOptions),
	}
}

// runDaemon is `vigil run` (and vigil invoked as keepalived).
func runDaemon(args []string, stdout, stderr io.Writer) int {
	found, rest, err := getopt(runOptions, args)
	if err != nil {
		fmt.Fprintf(stderr, "vigil run: %v\n", err)
		fmt.Fprintf(stderr, "Try 'vigil run --help' for more information.\n")
		return 2
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "vigil run: unexpected argument %q\n", rest[0])
		return 2
	}
	f, err := parseRunFlags(found)
	if err != nil {
		fmt.Fprintf(stderr, "vigil run: %v\n", err)
		return 2
	}
	switch {
	case f.help:
		writeHelp(stdout, "run")
		return 0
	case f.version:
		fmt.Fprintln(stderr, daemon.Version)
		return 0
	case f.signum != "":
		return printSignum(f.signum, stdout, stderr)
	case f.configTest:
		return configTest(f, stderr)
	}
	for _, w := range f.refused {
		fmt.Fprintf(stderr, "vigil run: %s\n", w)
		return 1
	}
	if f.umask != nil {
		syscall.Umask(*f.umask)
	}
	ready := daemon.DetachedReadiness()
	if !f.dontFork && ready == nil {
		if _, err := daemon.Detach(append([]string{"run", "--dont-fork"}, args...)); err != nil {
			fmt.Fprintf(stderr, "vigil run: %v\n", err)
			return 1
		}
		return 0
	}
	return serve(f, ready, stderr)
}

// serve runs the daemon in this process until it is stopped.
func serve(f *runFlags, ready *daemon.Readiness, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "vigil run: %v\n", err)
		ready.Fail(err)
		return 1
	}
	instance := configPIDSettings(f)
	if instance != "" && f.log.Tag == "" {
		// keepalived's syslog ident gains the instance name too.
		f.log.Tag = "Keepalived_vrrp_" + instance
	}
	lg, err := daemon.NewLogging(f.log)
	if err != nil {
		return fail(err)
	}
	defer lg.Close()
	for _, w := range f.warnings {
		lg.Logger.Warn().Msg(w)
	}
	if f.debugPprof != "" {
		ln, err := servePprof(f.debugPprof)
		if err != nil {
			lg.Logger.Error().Err(err).Msg("cannot start")
			return fail(fmt.Errorf("--debug-pprof: %w", err))
		}
		defer ln.Close()
		lg.Logger.Info().Str("address", ln.Addr().String()).Msg("pprof listening (--debug-pprof)")
	}
	if f.coreDump {
		lim := syscall.Rlimit{Cur: ^uint64(0), Max: ^uint64(0)}
		if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &lim); err != nil {
			lg.Logger.Warn().Err(err).Msg("core dumps")
		}
	}
	pids := []string{f.pidFile}
	if !f.checkOnly {
		pids = append(pids, f.vrrpPIDFile)
	}
	for k, p := range pids {
		if err := daemon.WritePIDFile(p); err != nil {
			for _, q := range pids[:k] {
				daemon.RemovePIDFile(q)
			}
			lg.Logger.Error().Err(err).Msg("cannot start")
			return fail(err)
		}
	}
	defer func() {
		for _, p := range pids {
			daemon.RemovePIDFile(p)
		}
	}()
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, append([]os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP}, daemon.DumpSignals...)...)
	defer signal.Stop(sigs)
	sd, err := daemon.NewNotifier(os.Getenv)
	if err != nil {
		lg.Logger.Warn().Err(err).Msg("systemd notification")
	}
	defer sd.Close()
	warn := func(err error) {
		if err != nil {
			lg.Logger.Warn().Err(err).Msg("systemd notification")
		}
	}
	notify := func(s string) func() {
		return func() { warn(sd.Notify(s)) }
	}
	if every := sd.WatchdogEvery(); every > 0 {
		lg.Logger.Info().Dur("every", every).Msg("systemd watchdog: the event loop pings")
	}
	err = daemon.Run(context.Background(), daemon.Options{
		ConfigFile: f.configFile, ConfigID: f.configID, NoVRRP: f.checkOnly, NoLVS: f.vrrpOnly, NoBFD: f.noBFD,
		KeepAddresses: f.keepVRRP, KeepIPVS: f.keepIPVS, JournalDir: f.journal, Version: daemon.Version,
		Log: lg, Signals: sigs, LogAddresses: f.addrMonitor, DumpConfig: f.dumpConf,
		ControlSocket: f.controlSocket, MetricsListen: f.metricsListen, MetricsCompat: f.metricsCompat,
		MetricsCheckScript: f.metricsCheckScript, UmaskFromCommandLine: f.umask != nil,
		Ready: func() {
			notify("READY=1")()
			ready.Ready()
		},
		Stopping: notify("STOPPING=1"), Reloading: func() { warn(sd.Reloading()) }, Reloaded: notify("READY=1"),
		Watchdog: sd.Watchdog, WatchdogEvery: sd.WatchdogEvery(),
	})
	if err != nil {
		lg.Logger.Error().Err(err).Msg("cannot start")
		return fail(err)
	}
	return 0
}

// printSignum prints the signal keepalived --signum names.
func printSignum(fn string, stdout, stderr io.Writer) int {
	sigs := map[string]syscall.Signal{"STOP": syscall.SIGTERM, "RELOAD": syscall.SIGHUP, "DATA": syscall.SIGUSR1, "STATS": syscall.SIGUSR2,
		"JSON": daemon.SigJSON, "STATS_CLEAR": daemon.SigStatsClear}
	s, ok := sigs[fn]
	if !ok {
		fmt.Fprintf(stderr, "vigil run: unknown or unsupported signal function %q\n", fn)
		return 1
	}
	fmt.Fprintln(stdout, int(s))
	return 0
}

// configTest is keepalived -t: it loads the configuration, checks it
// against the host as keepalived -t does (checkHost) and exits with
// keepalived -t's status (checkStatus): 0, 4 when it cannot be read, 5
// for any problem, 6 for a script-security violation. A keyword vigil
// refuses ("not implemented: ...") is printed but, alone, does not fail
// the test: keepalived -t accepts it, and a unit that runs `-t` before
// starting must keep working after the swap (vigil check --strict is the
// way to fail on them).
func configTest(f *runFlags, stderr io.Writer) int {
	out := stderr
	if f.configTestLog != "" {
		lf, err := os.Create(f.configTestLog)
		if err != nil {
			fmt.Fprintf(stderr, "vigil run: %v\n", err)
			return 1
		}
		defer lf.Close()
		out = lf
	}
	ev, diags, err := daemon.LoadConfig(f.configFile, f.configID)
	var hr *hostResult
	if ev != nil {
		r := checkHost(f.configFile, ev.Config)
		hr = &r
		diags = append(diags, r.diags...)
	}
	for _, d := range diags {
		fmt.Fprintln(out, d)
	}
	if err != nil {
		fmt.Fprintln(out, err)
	}
	return checkStatus(diags, err == nil, errors.Is(err, fs.ErrNotExist), false, hr)
}

// configPIDSettings applies the configuration's `instance` and
// `use_pid_dir` to the pid files -p and -r did not name, as keepalived
// reads them before it writes any pid file, and returns the instance
// name. A configuration that does not load leaves the defaults: Run
// reports its errors.
func configPIDSettings(f *runFlags) (instance string) {
	cfg, _, err := config.Load(f.configFile, config.Options{ConfigID: f.configID})
	if err != nil || cfg == nil {
		return ""
	}
	g := cfg.GlobalDefs
	main, vrrp := daemon.PIDFiles(g.Instance, g.UsePIDDir)
	if !f.pidSet {
		f.pidFile = main
	}
	if !f.vrrpPIDSet {
		f.vrrpPIDFile = vrrp
	}
	return g.Instance
}
