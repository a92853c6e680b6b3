package main

import (
	"fmt"
	"strconv"

	"github.com/vigil-ha/vigil/daemon"
	"github.com/vigil-ha/vigil/metrics"
	"github.com/vigil-ha/vigil/status"
)

// runFlags is the parsed command line of `vigil run`.
type runFlags struct {
	configFile, configID         string
	checkOnly, vrrpOnly, noBFD   bool
	log                          daemon.LogOptions
	umask                        *int
	keepVRRP, dontFork, dumpConf bool
	keepIPVS                     bool
	pidFile, vrrpPIDFile         string
	pidSet, vrrpPIDSet           bool // -p, -r given (else the configuration may name them)
	addrMonitor, coreDump        bool
	signum                       string
	configTest                   bool
	configTestLog                string
	help, version                bool
	journal                      string
	controlSocket                string
	metricsListen                string
	metricsCompat                []string
	metricsCheckScript           string
	debugPprof                   string   // --debug-pprof ADDR
	warnings                     []string // accepted, logged once running
	refused                      []string // options vigil cannot honour
}

// parseRunFlags applies the options in order (a later one wins).
func parseRunFlags(found []parsedOpt) (*runFlags, error) {
	f := &runFlags{configFile: defaultConfig, pidFile: daemon.DefaultPIDFile,
		vrrpPIDFile: daemon.DefaultVRRPPIDFile, journal: defaultJournal, controlSocket: status.DefaultSocket,
		metricsCompat: metrics.AllCompat}
	for _, p := range found {
		switch p.opt.long {
		case "use-file":
			f.configFile = p.value
		case "vrrp":
			f.vrrpOnly = true
		case "check":
			f.checkOnly = true
		case "log-console":
			f.log.Console = true
		case "log-detail":
			f.log.Detail = true
		case "log-facility":
			if _, err := daemon.ParseFacility(p.value); err != nil {
				return nil, err
			}
			f.log.Facility = p.value
		case "log-file":
			f.log.File = p.value
		case "no-syslog":
			f.log.NoSyslog = true
		case "log-json":
			f.log.JSON = true
		case "umask":
			m, err := strconv.ParseInt(p.value, 0, 32)
			if err != nil || m < 0 || m > 0o777 {
				return nil, fmt.Errorf("invalid umask %q", p.value)
			}
			v := int(m)
			f.umask = &v
		case "dont-release-vrrp":
			f.keepVRRP = true
		case "dont-release-ipvs":
			f.keepIPVS = true
		case "dont-fork":
			f.dontFork = true
		case "dump-conf":
			f.dumpConf = true
		case "pid":
			f.pidFile, f.pidSet = p.value, true
		case "vrrp_pid":
			f.vrrpPIDFile, f.vrrpPIDSet = p.value, true
		case "address-monitoring":
			f.addrMonitor = true
		case "core-dump":
			f.coreDump = true
		case "config-id":
			f.configID = p.value
		case "signum":
			f.signum = p.value
		case "config-test":
			f.configTest, f.configTestLog = true, p.value
		case "version":
			f.version = true
		case "help":
			f.help = true
		case "journal":
			f.journal = p.value
		case "control-socket":
			f.controlSocket = p.value
		case "metrics-listen":
			f.metricsListen = p.value
		case "metrics-compat":
			sets, err := metrics.ParseCompat(p.value)
			if err != nil {
				return nil, fmt.Errorf("--metrics-compat: %w", err)
			}
			f.metricsCompat = sets
		case "metrics-check-script":
			f.metricsCheckScript = p.value
		case "debug-pprof":
			f.debugPprof = p.value
		case "namespace":
			f.refused = append(f.refused, "--namespace is not supported: start vigil under `ip netns exec "+p.value+"`")
		case "genhash":
			f.refused = append(f.refused, "--genhash is not supported")
		case "snmp", "snmp-agent-socket", "core-dump-pattern", "all-config":
			f.warnings = append(f.warnings, "option --"+p.opt.long+" is not supported: ignored")
		case "no_bfd":
			f.noBFD = true
		case "all", "flush-log-file", "release-vips", "dont-respawn",
			"checkers_pid", "bfd_pid":
			// Accepted for compatibility; nothing to do (see the help text).
		}
	}
	// -P and -C together run both, as in keepalived.
	if f.checkOnly && f.vrrpOnly {
		f.checkOnly, f.vrrpOnly = false, false
	}
	return f, nil
}
