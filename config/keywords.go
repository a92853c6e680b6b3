package config

import (
	"sort"
	"strings"
	"sync"
)

// The keyword table: every keyword of keepalived.conf(5) 2.2.7 (and the
// aliases keepalived still accepts), with what vigil does with it. A
// keyword vigil does not act on is never silently accepted: the parser
// reports every Refused keyword, and every Partial one where its
// unimplemented part applies, as a warning naming the keyword and what
// vigil does instead (an error with --strict).
//
// An Acted or Partial keyword names the tests that prove what vigil does
// with it, from the configuration text to the behaviour: a scenario file
// of the engine (engine/testdata, engine/lvs/testdata), a simulation
// (testdata/sim), an end-to-end test against the kernel (e2e/), or a
// chain: a test that loads the keyword into the model (config/, the
// golden dumps in testdata/config) and a test that drives that part of
// the model through the adapter that acts on it. keywords_test.go checks
// that every named test exists, that the man page has no keyword the
// table lacks, and that README's "Not implemented" list is the table's.

// KeywordClass says what vigil does with a keyword.
type KeywordClass uint8

// Keyword classes.
const (
	// Acted: vigil does what keepalived does with it; Tests prove it.
	Acted KeywordClass = iota + 1
	// Partial: part of it is acted on (Tests), part is not (Message,
	// reported as Reported says).
	Partial
	// Refused: parsed and validated, not acted on (Message).
	Refused
)

func (c KeywordClass) String() string {
	switch c {
	case Acted:
		return "acted"
	case Partial:
		return "partial"
	case Refused:
		return "refused"
	}
	return "?"
}

// KeywordReport says when a keyword's Message is reported.
type KeywordReport uint8

// When a Partial or Refused keyword is reported.
const (
	// Always: every time the keyword is used.
	Always KeywordReport = iota
	// IfOn: when its <BOOL> argument is on (or absent): "smtp_alert no"
	// asks for nothing vigil lacks.
	IfOn
	// IfOff: when its <BOOL> argument is off: vigil always behaves as
	// the keyword's "on".
	IfOff
	// IfArgs: when it has arguments.
	IfArgs
	// Never: the keyword's block is reported instead (the keywords inside
	// a refused block such as bfd_instance).
	Never
)

// Keyword is one entry of the table.
type Keyword struct {
	// Block is the keyword of the block it belongs to: "" for the top
	// level, "CHECKER_TYPE" for the options every checker takes.
	Block string
	Name  string
	Class KeywordClass
	// Message says what is not implemented and what vigil does instead
	// (Partial and Refused).
	Message string
	// Reported says when Message is reported.
	Reported KeywordReport
	// Tests are the tests proving what vigil does (Acted and Partial):
	// "path/to/file.txt" for a scenario, "path/to/x_test.go:TestName"
	// for a Go test. Paths are relative to the repository's root.
	Tests []string
}

// Diagnostic is the text vigil reports for a use of the keyword.
func (k *Keyword) Diagnostic() string {
	return "not implemented: " + k.Message
}

// Keywords returns the table, sorted by block and name.
func Keywords() []Keyword {
	out := make([]Keyword, len(keywordTable()))
	copy(out, keywordTable())
	sort.Slice(out, func(i, j int) bool {
		if out[i].Block != out[j].Block {
			return out[i].Block < out[j].Block
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// LookupKeyword returns the entry of keyword name in block (a checker's
// options fall back to CHECKER_TYPE).
func LookupKeyword(block, name string) (Keyword, bool) {
	if k, ok := keywordIndex()[[2]string{block, name}]; ok {
		return *k, true
	}
	if checkerTypes[block] {
		if k, ok := keywordIndex()[[2]string{"CHECKER_TYPE", name}]; ok {
			return *k, true
		}
	}
	return Keyword{}, false
}

// keywordIndex and keywordTable are built on first use, not at program
// start: every vigil command pays the package's init, and `vigil status`
// (which never parses a configuration) should not pay for them.
var keywordIndex = sync.OnceValue(func() map[[2]string]*Keyword {
	t := keywordTable()
	m := make(map[[2]string]*Keyword, len(t))
	for i := range t {
		k := &t[i]
		m[[2]string{k.Block, k.Name}] = k
	}
	return m
})

// reportUnimplemented walks the statements and reports every use of a
// Partial or Refused keyword, as its entry says. List entries (addresses,
// names) are not keywords and are skipped.
func (p *parser) reportUnimplemented(nodes []*node, block string) {
	for _, n := range nodes {
		if n.entry {
			continue
		}
		if k, ok := LookupKeyword(block, n.name()); ok && k.Class != Acted && k.applies(n) {
			p.warnf(n, "%s", k.Diagnostic())
		}
		if n.hasBlock {
			p.reportUnimplemented(n.block, n.name())
		}
	}
}

// applies reports whether the statement uses the unimplemented part.
func (k *Keyword) applies(n *node) bool {
	switch k.Reported {
	case Never:
		return false
	case IfArgs:
		return len(n.args) > 0
	case IfOn, IfOff:
		on := true
		if len(n.args) > 0 {
			v, ok := boolValue(n.args[0].Text)
			if !ok {
				return false // an invalid value is reported already
			}
			on = v
		}
		return on == (k.Reported == IfOn)
	}
	return true
}

// Helpers building the table.

func acted(block, name string, tests ...string) Keyword {
	return Keyword{Block: block, Name: name, Class: Acted, Tests: tests}
}

func partial(block, name string, when KeywordReport, msg string, tests ...string) Keyword {
	return Keyword{Block: block, Name: name, Class: Partial, Reported: when, Message: msg, Tests: tests}
}

func refused(block, name, msg string) Keyword {
	return Keyword{Block: block, Name: name, Class: Refused, Message: msg}
}

func refusedIfOn(block, name, msg string) Keyword {
	return Keyword{Block: block, Name: name, Class: Refused, Reported: IfOn, Message: msg}
}

// inside is a keyword of a refused block: the block is reported.
func inside(block, name string) Keyword {
	return Keyword{Block: block, Name: name, Class: Refused, Reported: Never,
		Message: "part of " + block + ", which is not implemented"}
}

// each applies f to every block in blocks.
func each(blocks []string, f func(block string) Keyword) []Keyword {
	out := make([]Keyword, len(blocks))
	for i, b := range blocks {
		out[i] = f(b)
	}
	return out
}

// Tests named more than once.
const (
	tDumps         = "e2e/dumps_test.go:TestDumpsParity"
	tNotifyParity  = "e2e/notify_test.go:TestNotifyParity"
	tTrackers      = "e2e/track_test.go:TestTrackersParity"
	tMatrix        = "e2e/matrix_test.go:TestInteropMatrix"
	tInterop       = "e2e/interop_test.go:TestInteropKeepalived"
	tLVSE2E        = "e2e/lvs_test.go:TestCheckersWithoutIPVS"
	tGoldenDump    = "config/golden_test.go:TestGoldenDump"
	tIncludes      = "config/lexer/lexer_test.go:TestIncludes"
	tHTTP          = "adapters/check/http_test.go:TestHTTPGet"
	tSSL           = "adapters/check/http_test.go:TestSSLGet"
	tTCP           = "adapters/check/tcp_test.go:TestTCPCheck"
	tPing          = "adapters/check/ping_test.go:TestPingCheck"
	tUDP           = "adapters/check/udp_test.go:TestUDPCheck"
	tMisc          = "adapters/check/misc_test.go:TestMiscCheck"
	tIPVSConvert   = "adapters/ipvs/convert_test.go:TestServiceFromEffect"
	tIPVSDest      = "adapters/ipvs/convert_test.go:TestDestFromEffect"
	tNotifyFIFO    = "adapters/script/notify_test.go:TestNotifyFIFOLinesInOrderWithReaderScript"
	tFileWatcher   = "adapters/track/files_test.go:TestFileWatcher"
	tProcMatch     = "adapters/track/process_test.go:TestMatcher"
	tKeywordEffect = "config/keywords_test.go:TestKeywordEffects"
	tVMACNames     = "config/vmac_test.go:TestVMACNames"
	tVMACE2E       = "e2e/vmac_test.go:TestVMACNamesParity"
	tStartStop     = "e2e/startstop_test.go:TestStartupShutdownScripts"
	tStartStopRun  = "adapters/script/track_test.go:TestStartupShutdownScripts"
	tProcParse     = "config/process_test.go:TestProcessSettingsParse"
	tProcRT        = "daemon/process_test.go:TestProcessSettingsRealtime"
	tProcNice      = "daemon/process_test.go:TestProcessSettingsNice"
	tProcAuto      = "daemon/process_test.go:TestProcessSettingsAutoPriority"
	tLoopLate      = "daemon/process_test.go:TestLoopLate"
	tNftRuleset    = "adapters/nftfw/nftfw_test.go:TestRulesetMatchesKeepalived"
	tNftE2E        = "e2e/noaccept_test.go:TestNoAcceptFirewall"
	tNftConf       = "config/nftables_test.go:TestNFTablesKeywords"
	tNftVMAC       = "adapters/nftfw/nftfw_test.go:TestVMACRulesetMatchesKeepalived"
	sNftVMAC       = "engine/testdata/keepalived/nftables-vmac.txt"

	sElection       = "engine/testdata/election/backup-becomes-master.txt"
	sGARP           = "engine/testdata/keepalived/garp-schedule.txt"
	sGARPGlobal     = "engine/testdata/keepalived/garp-global-defaults.txt"
	sGARPDelay      = "engine/testdata/keepalived/garp-delay.txt"
	tGARPGroupParse = "config/garpgroup_test.go:TestGARPGroups"
	sLowerPrio      = "engine/testdata/keepalived/master-lower-priority-advert.txt"
	sUnicast        = "engine/testdata/keepalived/unicast.txt"
	sTrackScript    = "engine/testdata/keepalived/track-script-weight.txt"
	sTrackFile      = "engine/testdata/keepalived/track-file.txt"
	sTrackProcess   = "engine/testdata/keepalived/track-process.txt"
	sTrackIf        = "engine/testdata/keepalived/track-interface.txt"
	sSyncTrack      = "engine/testdata/keepalived/sync-group-tracking.txt"
	sSyncObjs       = "engine/testdata/keepalived/sync-group-track-objects.txt"
	sSyncNotify     = "engine/testdata/keepalived/sync-group-notify.txt"
	sNotifyUsers    = "engine/testdata/keepalived/notify-users.txt"
	sNotifyPrio     = "engine/testdata/keepalived/notify-priority-changes.txt"
	sStop           = "engine/testdata/keepalived/stop.txt"
	sVIPRemoved     = "engine/testdata/keepalived/vip-removed.txt"
	sRoutes         = "engine/testdata/keepalived/virtual-routes.txt"
	sStatic         = "engine/testdata/keepalived/static-routes-rules.txt"
	sMcast          = "engine/testdata/keepalived/mcast-groups.txt"
	sDownTimer      = "engine/testdata/keepalived/down-timer-adverts.txt"
	sAdvertDefs     = "engine/testdata/keepalived/advert-checks.txt"
	sStrict         = "engine/testdata/keepalived/strict-mode.txt"
	sHigherPrio     = "engine/testdata/keepalived/higher-prio-send-advert.txt"
	sVMACAddr       = "engine/testdata/keepalived/vmac-addr.txt"
	sStartStop      = "engine/testdata/keepalived/startup-shutdown-scripts.txt"
	sNftNoAccept    = "engine/testdata/keepalived/nftables-no-accept.txt"

	lResults = "engine/lvs/testdata/results.txt"
	lRetry   = "engine/lvs/testdata/retry.txt"
	lWarmup  = "engine/lvs/testdata/warmup.txt"
	lAlpha   = "engine/lvs/testdata/alpha.txt"
	lInhibit = "engine/lvs/testdata/inhibit.txt"
	lNotify  = "engine/lvs/testdata/notify.txt"
	lQuorum  = "engine/lvs/testdata/quorum-sorry.txt"
	lFwmark  = "engine/lvs/testdata/fwmark.txt"
	lGroup   = "engine/lvs/testdata/group.txt"
	lFile    = "engine/lvs/testdata/file-check.txt"
	lOptions = "engine/lvs/testdata/ipvs-options.txt"
	lInherit = "engine/lvs/testdata/inheritance.txt"
	lStartup = "engine/lvs/testdata/startup.txt"
	lMiscDyn = "engine/lvs/testdata/misc-dynamic.txt"
	lStop    = "engine/lvs/testdata/stop.txt"
	lSuspend = "engine/lvs/testdata/ha-suspend.txt"
	simElect = "testdata/sim/election.scn"
	// Email alerts.
	sMail         = "engine/testdata/keepalived/smtp-alert.txt"
	sMailNoFaults = "engine/testdata/keepalived/smtp-alert-no-faults.txt"
	lMail         = "engine/lvs/testdata/smtp-alert.txt"
	lMailNoChk    = "engine/lvs/testdata/smtp-alert-no-checker-emails.txt"
	tMail         = "daemon/mail_test.go:TestLoopMailVRRPTransition"
	tMailRS       = "daemon/mail_test.go:TestLoopMailRealServerDown"
	tMailConf     = "config/smtp_test.go:TestSMTPSettings"
	tMailAdapter  = "adapters/mail/mail_test.go:TestSendMail"
	simPrempt     = "testdata/sim/preempt.scn"

	sBFDHandshake = "engine/testdata/bfd/handshake.txt"
	sBFDTiming    = "engine/testdata/bfd/timing.txt"
	sBFDTTL       = "engine/testdata/bfd/ttl-multihop.txt"
	sBFDTrack     = "engine/testdata/bfd/track.txt"
	tBFDInterop   = "e2e/bfd_test.go:TestBFDInteropKeepalived"
	tBFDConfig    = "config/bfd_test.go:TestBFDInstance"

	sGARPExtra   = "engine/testdata/keepalived/garp-extra-if.txt"
	tGARPExtra   = "e2e/garp_extra_test.go:TestGARPExtraIfParity"
	sRxBufs      = "engine/testdata/keepalived/rx-bufs.txt"
	tRxBufs      = "e2e/rxbuf_test.go:TestRxBufsParity"
	tPIDNames    = "daemon/pidfile_names_test.go:TestPIDFiles"
	tPIDInstance = "e2e/pidfile_test.go:TestPIDFilesInstance"
)

// Messages shared by several keywords.
const (
	mEmail    = "SMTP alerts - no email is sent (notify scripts and FIFOs are)"
	mChecker  = "the checker process's scheduling - vigil's checkers are goroutines of its one process, with no process or thread of their own: the vrrp_ settings apply to the process (vrrp_priority, vrrp_no_swap; checker_no_swap locks it too) and to the engine's thread (vrrp_rt_priority, vrrp_cpu_affinity, vrrp_rlimit_rttime)"
	mBFDProc  = "the BFD process's scheduling - vigil's BFD sessions run in its one process, under the vrrp_ settings"
	mSNMP     = "SNMP - no AgentX subagent runs"
	mDBus     = "DBus - no DBus service is offered"
	mNetlink  = "netlink buffer sizes - vigil's netlink monitor uses a 4 MiB buffer and resynchronises after an overrun"
	mProcName = "process names - vigil is one process, named as started"
	mReload   = "scheduled or signalled-by-file reloads - reload with SIGHUP"
	mNftIPVS  = "nftables fwmarks for virtual server groups - each address of a group is its own IPVS service"
	mLinkbeat = "link polling (MII/ETHTOOL/ioctl) - link state comes from netlink"
)

var (
	checkerTimerBlocks = []string{"virtual_server", "real_server", "CHECKER_TYPE"}
	httpBlocks         = []string{"HTTP_GET", "SSL_GET"}
)

var keywordTable = sync.OnceValue(func() []Keyword {
	var t []Keyword
	add := func(k ...Keyword) { t = append(t, k...) }

	// The include directives (DESCRIPTION): the lexer's.
	for _, k := range []string{"include", "includer", "includem", "includew", "includeb", "includea"} {
		add(acted("", k, tIncludes))
	}

	// Top level (GLOBAL CONFIGURATION).
	add(
		refused("", "net_namespace", "running in a network namespace - vigil refuses to start with it: run it under `ip netns exec NAME`"),
		acted("", "net_namespace_ipvs", "daemon/vm_ipvs_test.go:TestDaemonIPVSNamespaceInVM", "daemon/load_test.go:TestIPVSNamespace"),
		refused("", "namespace_with_ipsets", "ipsets - vigil uses none"),
		acted("", "instance", tPIDNames, tPIDInstance),
		acted("", "use_pid_dir", tPIDNames, tPIDInstance),
		refused("", "linkbeat_use_polling", mLinkbeat),
		refused("", "child_wait_time", "waiting for child processes - vigil is one process"),
		acted("", "global_defs", tDumps),
		refused("", "linkbeat_interfaces", mLinkbeat),
		acted("", "interface_up_down_delays", "engine/testdata/keepalived/interface-up-down-delays.txt",
			"engine/testdata/keepalived/interface-up-down-delays-limit.txt"),
		acted("", "track_group", "engine/testdata/keepalived/track-group-static.txt"),
		acted("", "static_ipaddress", "engine/testdata/keepalived/static-address-default-interface.txt",
			"e2e/static_test.go:TestStaticAddressDefaultInterface"),
		acted("", "static_routes", sStatic, "adapters/netlink/executor_test.go:TestRoutes"),
		acted("", "static_rules", sStatic, "adapters/netlink/executor_test.go:TestRules"),
		acted("", "track_file", sTrackFile, tTrackers),
		acted("", "vrrp_track_file", tKeywordEffect, sTrackFile),
		acted("", "vrrp_track_process", sTrackProcess, tTrackers),
		acted("", "bfd_instance", sBFDHandshake, tBFDInterop),
		acted("", "vrrp_script", sTrackScript, "testdata/sim/track_script.scn"),
		acted("", "vrrp_sync_group", "engine/testdata/keepalived/sync-group-master-together.txt", "testdata/sim/sync_group.scn"),
		acted("", "garp_group", sGARPDelay, tGARPGroupParse),
		acted("", "vrrp_instance", sElection, simElect),
		acted("", "virtual_server_group", lGroup),
		acted("", "virtual_server", lResults, tLVSE2E),
		acted("", "SSL", tSSL, tGoldenDump),
	)

	// global_defs.
	const g = "global_defs"
	add(
		refused(g, "tmp_config_directory", "a temporary copy of the configuration - vigil reads it once into memory"),
		refused(g, "config_save_dir", "saving the configuration at reloads - the journal records every configuration loaded"),
		refused(g, "process_names", mProcName),
		refused(g, "process_name", mProcName),
		refused(g, "vrrp_process_name", mProcName),
		refused(g, "checker_process_name", mProcName),
		refused(g, "lvs_process_name", mProcName),
		refused(g, "bfd_process_name", mProcName),
		acted(g, "startup_script", sStartStop, tStartStop, tStartStopRun),
		acted(g, "startup_script_timeout", sStartStop, tStartStopRun),
		acted(g, "shutdown_script", sStartStop, tStartStop, tStartStopRun),
		acted(g, "shutdown_script_timeout", sStartStop, tStartStopRun),
		acted(g, "notification_email", sMail, tMail, tMailRS),
		acted(g, "notification_email_from", sMail, tMailConf, tMail),
		acted(g, "smtp_server", sMail, sMailNoFaults, tMailConf, tMailAdapter),
		// vigil's SMTP_CHECK also says HELO with it when the checker has
		// no helo_name (keepalived's says smtpchecker.keepalived.org).
		acted(g, "smtp_helo_name", sMailNoFaults, tMail, tMailConf, "adapters/check/smtp_test.go:TestSMTPCheck"),
		acted(g, "smtp_connect_timeout", sMail, tMailAdapter),
		acted(g, "smtp_alert", sMailNoFaults, tMailConf, tMail),
		acted(g, "smtp_alert_vrrp", sMail, tMailConf),
		acted(g, "smtp_alert_checker", lMail, tMailConf),
		acted(g, "checker_log_all_failures", "engine/lvs/testdata/checker-log-all-failures.txt"),
		acted(g, "no_email_faults", sMailNoFaults),
		acted(g, "router_id", tDumps),
		acted(g, "vrrp_mcast_group4", sMcast),
		acted(g, "vrrp_mcast_group6", sMcast),
		acted(g, "default_interface", "engine/testdata/keepalived/static-address-default-interface.txt",
			"e2e/static_test.go:TestStaticAddressDefaultInterface"),
		acted(g, "lvs_sync_daemon",
			"engine/testdata/keepalived/lvs-sync-daemon.txt", "engine/testdata/keepalived/lvs-sync-daemon-reload.txt",
			"engine/testdata/keepalived/lvs-sync-daemon-no-instance.txt",
			"engine/testdata/keepalived/lvs-sync-daemon-no-instance-reload.txt",
			"adapters/ipvs/syncd_test.go:TestKernelSyncDaemon", "daemon/vm_syncd_test.go:TestDaemonSyncDaemonInVM",
			"daemon/vm_syncd_test.go:TestDaemonSyncDaemonPairInVM", "config/syncd_test.go:TestLVSSyncDaemonForms"),
		acted(g, "lvs_timeouts", "engine/lvs/testdata/timeouts.txt", "adapters/ipvs/kernel_test.go:TestKernelTimeouts",
			"daemon/vm_ipvs_test.go:TestDaemonIPVSNamespaceInVM"),
		acted(g, "lvs_flush", "daemon/vm_ipvs_test.go:TestDaemonIPVSInVM", "daemon/lvs_test.go:TestLoopChecksDriveIPVS"),
		acted(g, "lvs_flush_on_stop", lStop),
		acted(g, "lvs_flush_onstop", tKeywordEffect, lStop),
		acted(g, "vrrp_garp_master_delay", sGARPGlobal),
		acted(g, "vrrp_garp_master_repeat", sGARPGlobal),
		acted(g, "vrrp_garp_lower_prio_delay", sGARPGlobal),
		acted(g, "vrrp_garp_lower_prio_repeat", sGARPGlobal),
		acted(g, "vrrp_down_timer_adverts", sDownTimer),
		acted(g, "vrrp_garp_master_refresh", sGARPGlobal),
		acted(g, "vrrp_garp_master_refresh_repeat", sGARPGlobal),
		acted(g, "vrrp_garp_interval", sGARPGlobal, sGARPDelay),
		acted(g, "vrrp_gna_interval", sGARPGlobal, sGARPDelay),
		acted(g, "vrrp_min_garp", "engine/testdata/keepalived/min-garp.txt"),
		acted(g, "vrrp_garp_extra_if", sGARPExtra, tGARPExtra),
		acted(g, "vrrp_vmac_garp_intvl", sGARPExtra, tGARPExtra),
		acted(g, "vrrp_lower_prio_no_advert", sAdvertDefs),
		partial(g, "vrrp_higher_prio_send_advert", IfOff,
			"not sending an advert before yielding to a higher priority - vigil always sends one (see README)", sHigherPrio),
		acted(g, "vrrp_version", "engine/testdata/election/v3-learns-master-interval.txt"),
		acted(g, "nftables", tNftConf, sNftNoAccept, tNftRuleset, tNftE2E, sNftVMAC, tNftVMAC),
		acted(g, "nftables_priority", tNftConf, sNftNoAccept, tNftRuleset),
		acted(g, "nftables_counters", sNftNoAccept, tNftRuleset),
		acted(g, "nftables_ifindex", "engine/testdata/keepalived/nftables-ifindex.txt", tNftRuleset),
		refused(g, "nftables_ipvs", mNftIPVS),
		refused(g, "nftables_ipvs_priority", mNftIPVS),
		refused(g, "nftables_ipvs_start_fwmark", mNftIPVS),
		// Debian's keepalived is built with nftables only: vrrp_iptables
		// warns and means `nftables` (the default table), as here.
		acted(g, "vrrp_iptables", tNftConf, "engine/testdata/keepalived/nftables-ifindex.txt", tNftRuleset),
		refused(g, "vrrp_ipsets", "ipsets - keepalived built without ipset support (Debian's) does not know the keyword either; no_accept uses nftables sets"),
		refused(g, "disable_local_igmp", "the igmp_link_local_mcast_reports sysctl is left as it is, and IPv4 VMACs still enter the nftables IGMP map"),
		acted(g, "vrrp_check_unicast_src", sAdvertDefs),
		acted(g, "vrrp_skip_check_adv_addr", sAdvertDefs),
		acted(g, "vrrp_strict", sStrict, "engine/testdata/keepalived/nftables-strict-default.txt", tNftRuleset),
		acted(g, "vrrp_notify_priority_changes", sNotifyPrio),
		acted(g, "max_auto_priority", tProcParse, tProcAuto, tLoopLate),
		acted(g, "min_auto_priority_delay", tProcParse, tProcAuto, tLoopLate),
		acted(g, "vrrp_priority", tProcParse, tProcNice),
		refused(g, "checker_priority", mChecker),
		refused(g, "bfd_priority", mBFDProc),
		acted(g, "vrrp_no_swap", tProcParse, tProcRT),
		acted(g, "checker_no_swap", tProcParse, "daemon/process_test.go:TestProcessSettingsCheckerNoSwap"),
		refused(g, "bfd_no_swap", mBFDProc),
		acted(g, "vrrp_cpu_affinity", tProcParse, tProcRT),
		refused(g, "checker_cpu_affinity", mChecker),
		refused(g, "bfd_cpu_affinity", mBFDProc),
		acted(g, "vrrp_rt_priority", tProcParse, tProcRT),
		refused(g, "checker_rt_priority", mChecker),
		refused(g, "bfd_rt_priority", mBFDProc),
		acted(g, "vrrp_rlimit_rttime", tProcParse, tProcRT),
		refused(g, "checker_rlimit_rttime", mChecker),
		refused(g, "bfd_rlimit_rttime", mBFDProc),
		acted(g, "vrrp_rlimit_rtime", tProcParse, tProcRT),
		refused(g, "checker_rlimit_rtime", mChecker),
		refused(g, "bfd_rlimit_rtime", mBFDProc),
		refused(g, "snmp_socket", mSNMP),
		refused(g, "enable_snmp_vrrp", mSNMP),
		refused(g, "enable_snmp_keepalived", mSNMP),
		refused(g, "enable_snmp_checker", mSNMP),
		refused(g, "enable_snmp_rfc", mSNMP),
		refused(g, "enable_snmp_rfcv2", mSNMP),
		refused(g, "enable_snmp_rfcv3", mSNMP),
		refused(g, "enable_traps", mSNMP),
		refused(g, "enable_dbus", mDBus),
		refused(g, "dbus_service_name", mDBus),
		acted(g, "script_user", sNotifyUsers, "engine/testdata/keepalived/notify-default-user.txt",
			"adapters/script/notify_test.go:TestNotifyRunsExactArgvAsNobody"),
		acted(g, "enable_script_security", tGoldenDump,
			"adapters/script/secure_test.go:TestScriptSecurityRefusesWorldWritableDir",
			"adapters/check/misc_test.go:TestMiscCheckSecurity"),
		acted(g, "notify_fifo", lNotify),
		acted(g, "notify_fifo_script", tGoldenDump, tNotifyFIFO),
		acted(g, "vrrp_notify_fifo", tNotifyParity),
		acted(g, "vrrp_notify_fifo_script", tNotifyParity),
		acted(g, "lvs_notify_fifo", lStartup, tLVSE2E),
		acted(g, "lvs_notify_fifo_script", tGoldenDump, tNotifyFIFO),
		acted(g, "fifo_write_vrrp_states_on_reload", "engine/testdata/keepalived/fifo-states-on-reload.txt", "e2e/fifo_reload_test.go:TestFIFOStatesOnReloadParity"),
		// vigil always follows interfaces deleted and created again, as
		// keepalived does with dynamic_interfaces.
		acted(g, "dynamic_interfaces", "engine/testdata/keepalived/link-recreated.txt",
			"engine/testdata/keepalived/join-link-deleted.txt"),
		refused(g, "vrrp_netlink_cmd_rcv_bufs", mNetlink),
		refused(g, "vrrp_netlink_cmd_rcv_bufs_force", mNetlink),
		refused(g, "vrrp_netlink_monitor_rcv_bufs", mNetlink),
		refused(g, "vrrp_netlink_monitor_rcv_bufs_force", mNetlink),
		refused(g, "lvs_netlink_cmd_rcv_bufs", mNetlink),
		refused(g, "lvs_netlink_cmd_rcv_bufs_force", mNetlink),
		refused(g, "lvs_netlink_monitor_rcv_bufs", mNetlink),
		refused(g, "lvs_netlink_monitor_rcv_bufs_force", mNetlink),
		refused(g, "process_monitor_rcv_bufs", "process connector buffer sizes - the system's default is used"),
		refused(g, "process_monitor_rcv_bufs_force", "process connector buffer sizes - the system's default is used"),
		acted(g, "vrrp_rx_bufs_policy", sRxBufs, tRxBufs),
		acted(g, "vrrp_rx_bufs_multiplier", sRxBufs, tRxBufs),
		acted(g, "rs_init_notifies", "engine/lvs/testdata/rs-init-notifies.txt", tLVSE2E),
		acted(g, "no_checker_emails", lMailNoChk),
		acted(g, "umask", tProcParse, tProcRT, tProcNice),
		acted(g, "vrrp_startup_delay", "engine/testdata/keepalived/startup-delay.txt"),
		acted(g, "log_unknown_vrids", "engine/testdata/keepalived/log-unknown-vrids.txt", "e2e/unknown_vrid_test.go:TestLogUnknownVRIDs"),
		acted(g, "vmac_prefix", tVMACNames, sVMACAddr, tVMACE2E),
		acted(g, "vmac_addr_prefix", tVMACNames, sVMACAddr, tVMACE2E),
		acted(g, "random_seed", tKeywordEffect),
		// A reload always parses and validates the file first, and keeps
		// the running configuration when it is broken.
		partial(g, "reload_check_config", IfArgs, "writing the reload check to LOG_FILE - the problems are logged",
			"daemon/loop_test.go:TestLoopReloadFailureKeepsConfig"),
		acted(g, "include_check", tIncludes),
		refused(g, "reload_time_file", mReload),
		refused(g, "reload_repeat", mReload),
		refused(g, "reload_file", mReload),
		refusedIfOn(g, "data_use_instance", "instance names in the dump file names - SIGUSR1/SIGUSR2/JSON dumps go to /tmp/keepalived.{data,stats,json}"),
		acted(g, "json_version", "dumps/dumps_test.go:TestJSONv2"),
	)

	// Track groups.
	add(acted("track_group", "group", "engine/testdata/keepalived/track-group-static.txt"))

	// track_file.
	add(
		acted("track_file", "file", sTrackFile, tTrackers),
		acted("track_file", "weight", sTrackFile),
		acted("track_file", "init_file", tGoldenDump, tFileWatcher),
	)
	add(
		acted("vrrp_track_file", "file", tKeywordEffect, sTrackFile),
		acted("vrrp_track_file", "weight", tKeywordEffect, sTrackFile),
		acted("vrrp_track_file", "init_file", tKeywordEffect, tFileWatcher),
	)

	// vrrp_track_process.
	const tp = "vrrp_track_process"
	add(
		acted(tp, "process", sTrackProcess, tTrackers),
		acted(tp, "param_match", tGoldenDump, tProcMatch),
		acted(tp, "weight", sTrackProcess),
		acted(tp, "quorum", sTrackProcess),
		acted(tp, "quorum_max", sTrackProcess),
		acted(tp, "fork_delay", tGoldenDump, "adapters/track/process_test.go:TestProcessTrackerCommAndForkDelay"),
		acted(tp, "terminate_delay", tGoldenDump, "adapters/track/process_test.go:TestProcessTrackerTerminateDelay"),
		acted(tp, "delay", tGoldenDump, "adapters/track/process_test.go:TestProcessTrackerTerminateDelay"),
		acted(tp, "full_command", tGoldenDump, tProcMatch),
	)

	// bfd_instance (engine/bfd, adapters/bfdnet).
	const bi = "bfd_instance"
	add(
		acted(bi, "neighbor_ip", sBFDHandshake, "engine/testdata/bfd/reception-checks.txt", tBFDInterop),
		acted(bi, "neighbour_ip", tBFDConfig, sBFDHandshake),
		acted(bi, "source_ip", sBFDHandshake, "engine/testdata/bfd/reception-checks.txt", tBFDInterop),
		acted(bi, "min_rx", sBFDTiming, "engine/testdata/bfd/poll.txt", tBFDInterop),
		acted(bi, "min_tx", sBFDTiming, "engine/testdata/bfd/poll.txt", tBFDInterop),
		acted(bi, "idle_tx", sBFDTiming, "engine/testdata/bfd/jitter.txt"),
		acted(bi, "multiplier", sBFDTiming, "engine/testdata/bfd/jitter.txt", tBFDInterop),
		acted(bi, "passive", "engine/testdata/bfd/passive.txt"),
		acted(bi, "ttl", tBFDConfig, sBFDTTL, "adapters/bfdnet/mux_linux_test.go:TestLoopback"),
		acted(bi, "hoplimit", tBFDConfig, sBFDTTL, "adapters/bfdnet/mux_linux_test.go:TestLoopback"),
		acted(bi, "max_hops", tBFDConfig, sBFDTTL, "engine/testdata/bfd/reception-checks.txt"),
		acted(bi, "multihop", tBFDConfig, sBFDTTL, "adapters/bfdnet/mux_linux_test.go:TestLoopback"),
		acted(bi, "weight", sBFDTrack),
		acted(bi, "vrrp", "engine/testdata/bfd/check.txt"),
		acted(bi, "checker", sBFDTrack),
	)

	// vrrp_script.
	const vs = "vrrp_script"
	add(
		acted(vs, "script", sTrackScript, "testdata/sim/track_script.scn"),
		acted(vs, "interval", sTrackScript),
		acted(vs, "timeout", "engine/testdata/keepalived/track-script-disabled.txt",
			"adapters/script/track_test.go:TestTrackScriptTimeoutKillsProcessGroup"),
		acted(vs, "weight", sTrackScript),
		acted(vs, "rise", sTrackScript),
		acted(vs, "fall", sTrackScript),
		acted(vs, "user", tKeywordEffect, "adapters/script/track_test.go:TestTrackScriptRunsAsUser"),
		acted(vs, "init_fail", "engine/testdata/keepalived/track-script-init-fail.txt"),
	)

	// vrrp_sync_group.
	const sg = "vrrp_sync_group"
	add(
		acted(sg, "group", "engine/testdata/keepalived/sync-group-master-together.txt"),
		acted(sg, "track_interface", sSyncObjs),
		acted(sg, "track_script", sSyncTrack),
		acted(sg, "track_file", sSyncObjs),
		acted(sg, "track_process", sSyncObjs),
		acted(sg, "track_bfd", sBFDTrack),
		acted(sg, "notify_master", sSyncNotify),
		acted(sg, "notify_backup", sSyncNotify),
		acted(sg, "notify_fault", sSyncNotify),
		acted(sg, "notify_stop", sSyncNotify),
		acted(sg, "notify_deleted", "engine/testdata/keepalived/notify-deleted.txt"),
		acted(sg, "notify", sSyncNotify),
		acted(sg, "notify_priority_changes", sNotifyPrio),
		acted(sg, "smtp_alert", sMail, tMailConf),
		acted(sg, "global_tracking", "engine/testdata/keepalived/sync-group-global-tracking.txt"),
		acted(sg, "sync_group_tracking_weight", "engine/testdata/keepalived/sync-group-global-tracking.txt", sNotifyPrio),
	)

	// garp_group.
	for _, k := range []string{"garp_interval", "gna_interval", "interface", "interfaces"} {
		add(acted("garp_group", k, sGARPDelay, tGARPGroupParse))
	}

	// vrrp_instance.
	const vi = "vrrp_instance"
	add(
		acted(vi, "state", "engine/testdata/election/address-owner.txt", simElect),
		acted(vi, "interface", sElection, tMatrix),
		refused(vi, "vrf", "binding the VRRP sockets to a VRF - adverts use the default routing table"),
		acted(vi, "use_vmac", "engine/testdata/keepalived/vmac.txt", "engine/testdata/keepalived/vmac-names.txt", tVMACNames,
			"config/vmac_test.go:TestVMACNamesHost", "config/vmac_test.go:TestVMACAddr", "adapters/netlink/vmac_test.go:TestVMACv4",
			"adapters/netlink/vmac_test.go:TestVMACReplacesOtherMacvlan", tVMACE2E, "e2e/vmac_test.go:TestVMACNamesReloadParity", tMatrix,
			sNftVMAC, tNftVMAC, "e2e/vmacfw_test.go:TestVMACFirewall"),
		acted(vi, "use_vmac_addr", sVMACAddr, tVMACNames, tVMACE2E),
		acted(vi, "vmac_xmit_base", tMatrix),
		refused(vi, "use_ipvlan", "ipvlan interfaces - the instance runs on its interface without one"),
		acted(vi, "native_ipv6", tKeywordEffect, "engine/testdata/election/ipv6.txt"),
		acted(vi, "dont_track_primary", "engine/testdata/keepalived/dont-track-primary.txt"),
		acted(vi, "track_interface", sTrackIf),
		acted(vi, "track_script", sTrackScript, "testdata/sim/track_script.scn"),
		acted(vi, "track_file", sTrackFile, tTrackers),
		acted(vi, "track_process", sTrackProcess, tTrackers),
		acted(vi, "track_bfd", sBFDTrack, "engine/testdata/keepalived/track-bfd.txt", tBFDInterop),
		acted(vi, "mcast_src_ip", "engine/testdata/election/equal-priority-no-own-address.txt"),
		acted(vi, "unicast_src_ip", sUnicast, tMatrix),
		acted(vi, "mcast_dst_ip", sMcast),
		acted(vi, "track_src_ip", "engine/testdata/keepalived/track-src-ip.txt"),
		acted(vi, "version", "engine/testdata/keepalived/reload-advert-int.txt", "testdata/sim/vrrp_v3.scn", tMatrix),
		acted(vi, "check_unicast_src", sUnicast),
		acted(vi, "unicast_peer", sUnicast, "testdata/sim/unicast.scn", tMatrix),
		acted(vi, "unicast_fault_no_peer", "engine/testdata/keepalived/unicast-fault-no-peer.txt"),
		acted(vi, "unicast_ttl", sUnicast),
		acted(vi, "old_unicast_checksum", "engine/testdata/keepalived/old-unicast-checksum.txt", "adapters/vrrpnet/codec_test.go:TestChecksumVariants",
			"adapters/vrrpnet/keepalived_interop_linux_test.go:TestKeepalivedInterop", "e2e/checksum_test.go:TestOldUnicastChecksumInterop"),
		acted(vi, "garp_master_delay", sGARP),
		acted(vi, "garp_master_repeat", sGARP),
		acted(vi, "garp_lower_prio_delay", sLowerPrio),
		acted(vi, "garp_lower_prio_repeat", sLowerPrio),
		acted(vi, "garp_master_refresh", sGARP),
		acted(vi, "garp_master_refresh_repeat", sGARP),
		acted(vi, "garp_extra_if", sGARPExtra, tGARPExtra),
		acted(vi, "vmac_garp_intvl", sGARPExtra, tGARPExtra),
		acted(vi, "down_timer_adverts", sDownTimer),
		acted(vi, "lower_prio_no_advert", "engine/testdata/keepalived/lower-prio-no-advert.txt"),
		partial(vi, "higher_prio_send_advert", IfOff,
			"not sending an advert before yielding to a higher priority - vigil always sends one (see README)", sHigherPrio),
		acted(vi, "virtual_router_id", sElection, tMatrix),
		acted(vi, "priority", "engine/testdata/election/higher-priority-takes-over.txt", tMatrix),
		acted(vi, "advert_int", "engine/testdata/keepalived/reload-advert-int.txt", tMatrix),
		acted(vi, "authentication", "engine/testdata/keepalived/auth-failure-not-processed.txt", tMatrix),
		acted(vi, "virtual_ipaddress", sElection, tMatrix),
		acted(vi, "virtual_ipaddress_excluded", sVIPRemoved, sGARP),
		acted(vi, "promote_secondaries", "engine/testdata/keepalived/promote-secondaries.txt", "e2e/promote_test.go:TestPromoteSecondariesParity"),
		acted(vi, "virtual_routes", sRoutes),
		acted(vi, "virtual_rules", sRoutes),
		acted(vi, "accept", sElection, "adapters/netlink/accept_test.go:TestVIPAcceptsTraffic", sNftNoAccept, tNftE2E),
		acted(vi, "no_accept", sNftNoAccept, "testdata/sim/no_accept.scn", tNftRuleset, tNftE2E),
		acted(vi, "nopreempt", "engine/testdata/keepalived/nopreempt.txt", "testdata/sim/nopreempt.scn"),
		acted(vi, "preempt", tKeywordEffect, simPrempt),
		acted(vi, "preempt_delay", "engine/testdata/keepalived/preempt-delay-no-flip-flop.txt", "testdata/sim/preempt_delay.scn"),
		acted(vi, "skip_check_adv_addr", sAdvertDefs),
		acted(vi, "strict_mode", "engine/testdata/keepalived/strict-mode-instance.txt", sNftNoAccept, tNftRuleset),
		refused(vi, "debug", "per-instance debug levels (keepalived does not implement them either) - use -D/--log-detail"),
		acted(vi, "notify_master", sNotifyUsers, tNotifyParity),
		acted(vi, "notify_backup", sNotifyUsers, tNotifyParity),
		acted(vi, "notify_fault", "engine/testdata/keepalived/notify-deleted.txt", tNotifyParity),
		acted(vi, "notify_stop", sStop, tNotifyParity),
		acted(vi, "notify", sStop, tNotifyParity),
		acted(vi, "notify_deleted", "engine/testdata/keepalived/notify-deleted.txt"),
		acted(vi, "notify_master_rx_lower_pri", sLowerPrio),
		acted(vi, "notify_priority_changes", sNotifyPrio),
		acted(vi, "smtp_alert", sMail, tMail),
		acted(vi, "kernel_rx_buf_size", sRxBufs, tRxBufs),
		refused(vi, "linkbeat_use_polling", mLinkbeat),
		acted(vi, "lvs_sync_daemon_interface", "engine/testdata/keepalived/lvs-sync-daemon-owner.txt",
			"config/syncd_test.go:TestLVSSyncDaemonForms", "adapters/ipvs/syncd_test.go:TestKernelSyncDaemon"),
	)
	add(
		acted("authentication", "auth_type", "engine/testdata/keepalived/auth-failure-not-processed.txt",
			"engine/testdata/keepalived/join-ah-keys.txt", tMatrix),
		acted("authentication", "auth_pass", "engine/testdata/keepalived/auth-failure-not-processed.txt", tMatrix),
	)

	// virtual_server_group.
	add(acted("virtual_server_group", "fwmark", lGroup))

	// virtual_server.
	const vsv = "virtual_server"
	add(
		acted(vsv, "lvs_sched", lFwmark, lGroup),
		acted(vsv, "lb_algo", tKeywordEffect, lFwmark),
		acted(vsv, "flag-1", lOptions, tIPVSConvert),
		acted(vsv, "flag-2", lOptions, tIPVSConvert),
		acted(vsv, "flag-3", lOptions, tIPVSConvert),
		acted(vsv, "sh-port", lGroup, tIPVSConvert),
		acted(vsv, "sh-fallback", lOptions, tIPVSConvert),
		acted(vsv, "mh-port", lOptions, tIPVSConvert),
		acted(vsv, "mh-fallback", lOptions, tIPVSConvert),
		acted(vsv, "hashed", tKeywordEffect, tIPVSConvert),
		acted(vsv, "ops", lNotify, tIPVSConvert),
		acted(vsv, "lvs_method", lFwmark, lGroup),
		acted(vsv, "lb_kind", tKeywordEffect, lFwmark),
		acted(vsv, "persistence_engine", lOptions, tIPVSConvert),
		acted(vsv, "persistence_timeout", lFwmark, tIPVSConvert),
		acted(vsv, "persistence_granularity", lOptions, tIPVSConvert),
		acted(vsv, "protocol", lResults),
		acted(vsv, "ha_suspend", lSuspend),
		acted(vsv, "smtp_alert", lMail, tMailConf),
		acted(vsv, "virtualhost", tGoldenDump, tHTTP),
		refused(vsv, "snmp_name", mSNMP),
		acted(vsv, "omega", lStop),
		acted(vsv, "quorum", lQuorum),
		acted(vsv, "hysteresis", lQuorum),
		acted(vsv, "quorum_up", lQuorum),
		acted(vsv, "quorum_down", lQuorum),
		acted(vsv, "ip_family", lFwmark),
		acted(vsv, "real_server", lResults, tLVSE2E),
		acted(vsv, "sorry_server", lQuorum),
		acted(vsv, "sorry_server_inhibit", lOptions),
		acted(vsv, "sorry_server_lvs_method", lOptions),
		acted(vsv, "weight", tKeywordEffect, lInherit),
	)

	// The timers and flags a virtual server passes to its real servers
	// and a real server to its checkers.
	add(each(checkerTimerBlocks, func(b string) Keyword { return acted(b, "connect_timeout", lInherit, lResults) })...)
	add(each(checkerTimerBlocks, func(b string) Keyword { return acted(b, "retry", lInherit, lRetry) })...)
	add(each(checkerTimerBlocks, func(b string) Keyword { return acted(b, "nb_get_retry", tKeywordEffect, lRetry) })...)
	add(each(checkerTimerBlocks, func(b string) Keyword { return acted(b, "delay_before_retry", lInherit, lRetry) })...)
	add(each(checkerTimerBlocks, func(b string) Keyword { return acted(b, "warmup", lInherit, lWarmup) })...)
	add(each(checkerTimerBlocks, func(b string) Keyword { return acted(b, "delay_loop", lInherit, lResults) })...)
	add(each(checkerTimerBlocks, func(b string) Keyword { return acted(b, "alpha", lInherit, lAlpha) })...)
	add(each([]string{"virtual_server", "real_server"}, func(b string) Keyword {
		return acted(b, "inhibit_on_failure", lInherit, lInhibit)
	})...)

	// real_server.
	const rs = "real_server"
	add(
		acted(rs, "weight", lQuorum, tLVSE2E),
		acted(rs, "lvs_method", lOptions),
		acted(rs, "lb_kind", tKeywordEffect, lOptions),
		acted(rs, "notify_up", lRetry, tLVSE2E),
		acted(rs, "notify_down", lRetry, tLVSE2E),
		acted(rs, "uthreshold", tGoldenDump, tIPVSDest),
		acted(rs, "lthreshold", tGoldenDump, tIPVSDest),
		acted(rs, "smtp_alert", lMail, tMailRS),
		acted(rs, "virtualhost", tGoldenDump, tHTTP),
		refused(rs, "snmp_name", mSNMP),
	)
	for _, c := range []string{"HTTP_GET", "SSL_GET", "TCP_CHECK", "SMTP_CHECK", "DNS_CHECK", "MISC_CHECK", "PING_CHECK", "UDP_CHECK", "FILE_CHECK"} {
		tests := map[string][]string{
			"HTTP_GET":   {tLVSE2E, tHTTP},
			"SSL_GET":    {tGoldenDump, tSSL},
			"TCP_CHECK":  {lResults, tTCP},
			"SMTP_CHECK": {tGoldenDump, "adapters/check/smtp_test.go:TestSMTPCheck"},
			"DNS_CHECK":  {tGoldenDump, "adapters/check/dns_test.go:TestDNSCheck"},
			"MISC_CHECK": {lMiscDyn, tMisc},
			"PING_CHECK": {lFwmark, tPing},
			"UDP_CHECK":  {tGoldenDump, tUDP},
			"FILE_CHECK": {lFile, "daemon/lvs_test.go:TestLoopFileCheck"},
		}[c]
		add(acted(rs, c, tests...))
	}
	add(acted(rs, "BFD_CHECK", "engine/testdata/bfd/check.txt"), acted("BFD_CHECK", "name", "engine/testdata/bfd/check.txt"))

	// The options every network checker takes (CHECKER_TYPE).
	const ck = "CHECKER_TYPE"
	add(
		acted(ck, "connect_ip", lInherit),
		acted(ck, "connect_port", lFwmark, lGroup),
		acted(ck, "bindto", tGoldenDump, tTCP, tPing),
		acted(ck, "bind_if", tGoldenDump, tPing),
		acted(ck, "bind_port", tGoldenDump, tTCP),
		acted(ck, "fwmark", tGoldenDump, "adapters/check/tcp_test.go:TestTCPCheckFwMark"),
		acted(ck, "log_all_failures", "engine/lvs/testdata/log-all-failures.txt"),
	)

	// HTTP_GET and SSL_GET.
	add(each(httpBlocks, func(b string) Keyword { return acted(b, "http_protocol", tGoldenDump, tHTTP) })...)
	// Every attempt checks all the URLs without a delay between them.
	add(each(httpBlocks, func(b string) Keyword {
		return partial(b, "fast_recovery", IfOff,
			"checking one URL per delay_loop - every attempt checks all the URLs (see README)", tHTTP)
	})...)
	add(each(httpBlocks, func(b string) Keyword { return acted(b, "url", tLVSE2E, tHTTP) })...)
	add(each(httpBlocks, func(b string) Keyword { return acted(b, "virtualhost", tGoldenDump, tHTTP) })...)
	add(acted("SSL_GET", "enable_sni", tGoldenDump, tSSL))
	add(
		acted("url", "path", tLVSE2E, tHTTP),
		acted("url", "digest", tGoldenDump, tHTTP),
		acted("url", "status_code", tLVSE2E, tHTTP),
		acted("url", "virtualhost", tGoldenDump, tHTTP),
		acted("url", "regex", tGoldenDump, tHTTP),
		acted("url", "regex_no_match", tGoldenDump, tHTTP),
		acted("url", "regex_options", tGoldenDump, tHTTP),
		refused("url", "regex_stack", "PCRE2 JIT stack sizes - regexes are Go's RE2, which needs none"),
		acted("url", "regex_min_offset", tGoldenDump, tHTTP),
		acted("url", "regex_max_offset", tGoldenDump, tHTTP),
	)
	add(
		acted("SMTP_CHECK", "helo_name", tGoldenDump, "adapters/check/smtp_test.go:TestSMTPCheck"),
		// The deprecated host block: one more SMTP checker each.
		acted("SMTP_CHECK", "host", tGoldenDump, "adapters/check/smtp_test.go:TestSMTPCheck"),
		acted("DNS_CHECK", "type", tGoldenDump, "adapters/check/dns_test.go:TestDNSCheck"),
		acted("DNS_CHECK", "name", tGoldenDump, "adapters/check/dns_test.go:TestDNSCheck"),
		acted("MISC_CHECK", "misc_path", lMiscDyn, tMisc),
		acted("MISC_CHECK", "misc_timeout", tGoldenDump, "adapters/check/misc_test.go:TestMiscCheckTimeout"),
		acted("MISC_CHECK", "misc_dynamic", lMiscDyn, tMisc),
		acted("MISC_CHECK", "user", tGoldenDump, "adapters/check/misc_test.go:TestMiscCheckUser"),
		acted("UDP_CHECK", "payload", tGoldenDump, tUDP),
		acted("UDP_CHECK", "require_reply", tGoldenDump, tUDP),
		acted("UDP_CHECK", "min_reply_length", tGoldenDump, tUDP),
		acted("UDP_CHECK", "max_reply_length", tGoldenDump, tUDP),
		acted("FILE_CHECK", "track_file", lFile, "daemon/lvs_test.go:TestLoopFileCheck"),
		acted("FILE_CHECK", "dynamic", lFile),
		acted("FILE_CHECK", "weight", lFile),
	)

	// SSL.
	add(
		acted("SSL", "ca", tGoldenDump, tSSL),
		acted("SSL", "certificate", tGoldenDump, "adapters/check/tls_test.go:TestSSLClientCertificate"),
		acted("SSL", "key", tGoldenDump, "adapters/check/tls_test.go:TestSSLClientCertificate"),
		acted("SSL", "password", tGoldenDump, "adapters/check/tls_test.go:TestSSLClientCertificate"),
	)
	return t
})

// NotImplementedMarkdown renders the table's Refused and Partial keywords
// as the Markdown list README's "Not implemented" section holds: one item
// per message, in the table's order, naming each keyword once with the
// blocks it is in.
func NotImplementedMarkdown() string {
	type use struct {
		name   string
		blocks []string
	}
	type item struct {
		msg  string
		uses []*use
	}
	var items []*item
	byMsg := map[string]*item{}
	for _, k := range keywordTable() {
		if k.Class == Acted || k.Reported == Never {
			continue
		}
		msg := k.Message
		if k.Class == Partial {
			msg = "(partly) " + msg
		}
		it := byMsg[msg]
		if it == nil {
			it = &item{msg: msg}
			byMsg[msg] = it
			items = append(items, it)
		}
		name := "`" + k.Name + "`"
		switch k.Reported {
		case IfOff:
			name = "`" + k.Name + " off`"
		case IfArgs:
			name = "`" + k.Name + " ARGS`"
		}
		block := k.Block
		switch block {
		case "":
			block = "top level"
		case "CHECKER_TYPE":
			block = "checkers"
		}
		var u *use
		for _, x := range it.uses {
			if x.name == name {
				u = x
			}
		}
		if u == nil {
			u = &use{name: name}
			it.uses = append(it.uses, u)
		}
		u.blocks = append(u.blocks, block)
	}
	var b strings.Builder
	for _, it := range items {
		// Keywords in the same blocks share one "(blocks)".
		var parts []string
		run := []string{}
		for i, u := range it.uses {
			run = append(run, u.name)
			where := strings.Join(u.blocks, ", ")
			if i+1 == len(it.uses) || strings.Join(it.uses[i+1].blocks, ", ") != where {
				parts = append(parts, strings.Join(run, ", ")+" ("+where+")")
				run = run[:0]
			}
		}
		b.WriteString("* " + strings.Join(parts, ", ") + ": " + it.msg + "\n")
	}
	return b.String()
}
