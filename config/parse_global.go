package config

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

// globalState remembers which global settings were explicit, for the
// defaults that depend on other settings.
type globalState struct {
	lowerPrioDelaySet  bool
	lowerPrioRepeatSet bool
	vmacAddrPrefixSet  bool
	scriptUserSet      bool
	syncDaemon         *node
	seenGlobalDefs     *node
}

// defaultGlobals returns global_defs with keepalived's defaults.
func defaultGlobals() conf.GlobalDefs {
	return conf.GlobalDefs{
		SMTPConnectTimeout:          conf.Duration(30 * time.Second),
		ChildWaitTime:               conf.Duration(5 * time.Second),
		StartupScriptTimeout:        conf.Duration(10 * time.Second),
		ShutdownScriptTimeout:       conf.Duration(10 * time.Second),
		DefaultInterface:            conf.DefaultInterface,
		VMACPrefix:                  conf.DefaultVMACPrefix,
		VMACAddrPrefix:              conf.DefaultVMACPrefix,
		VRRPVersion:                 conf.DefaultVRRPVersion,
		VRRPMcastGroup4:             netip.AddrFrom4([4]byte{224, 0, 0, 18}),
		VRRPMcastGroup6:             netip.MustParseAddr("ff02::12"),
		VRRPGARPMasterDelay:         conf.Duration(5 * time.Second),
		VRRPGARPMasterRepeat:        conf.DefaultGARPRepeat,
		VRRPGARPMasterRefreshRepeat: 1,
		VRRPGARPLowerPrioDelay:      conf.Duration(5 * time.Second),
		VRRPGARPLowerPrioRepeat:     conf.DefaultGARPRepeat,
		VRRPDownTimerAdverts:        conf.DefaultDownAdverts,
	}
}

// parseRoot dispatches the top-level blocks.
func (p *parser) parseRoot(root []*node) {
	g := &p.cfg.GlobalDefs
	p.prealloc(root)
	for _, n := range root {
		switch n.name() {
		case "global_defs":
			if p.needBlock(n) {
				p.maxArgs(n, 0)
				p.global.seenGlobalDefs = n
				p.parseGlobalDefs(n)
			}
		case "net_namespace":
			if p.needArgs(n, 1, "namespace name") {
				p.maxArgs(n, 1)
				g.NetNamespace = n.arg(0)
			}
		case "net_namespace_ipvs":
			p.maxArgs(n, 1)
			s := n.arg(0)
			g.NetNamespaceIPVS = &s
		case "namespace_with_ipsets":
			p.maxArgs(n, 0)
			g.NamespaceWithIPSets = true
		case "use_pid_dir":
			p.maxArgs(n, 0)
			g.UsePIDDir = true
		case "instance":
			if p.needArgs(n, 1, "instance name") {
				p.maxArgs(n, 1)
				g.Instance = n.arg(0)
			}
		case "linkbeat_use_polling":
			p.maxArgs(n, 0)
			g.LinkbeatUsePolling = true
		case "child_wait_time":
			if v, ok := p.intArg(n, 0, 1, 3600); ok {
				g.ChildWaitTime = conf.Duration(time.Duration(v) * time.Second)
			}
		case "linkbeat_interfaces":
			if p.needBlock(n) {
				p.parseLinkbeat(n)
			}
		case "interface_up_down_delays":
			if p.needBlock(n) {
				p.parseUpDownDelays(n)
			}
		case "track_group":
			if p.needBlock(n) {
				p.parseTrackGroup(n)
			}
		case "static_ipaddress":
			if p.needBlock(n) {
				for _, c := range entries(n) {
					if a, ok := p.parseAddress(c, addrStatic); ok {
						p.noteTrackGroup(c, a.TrackGroup)
						p.cfg.StaticAddresses = append(p.cfg.StaticAddresses, a)
					}
				}
			}
		case "static_routes":
			if p.needBlock(n) {
				for _, c := range entries(n) {
					if r, ok := p.parseRoute(c, true); ok {
						p.noteTrackGroup(c, r.TrackGroup)
						p.cfg.StaticRoutes = append(p.cfg.StaticRoutes, r)
					}
				}
			}
		case "static_rules":
			if p.needBlock(n) {
				for _, c := range entries(n) {
					if r, ok := p.parseRule(c, true); ok {
						p.noteTrackGroup(c, r.TrackGroup)
						p.cfg.StaticRules = append(p.cfg.StaticRules, r)
					}
				}
			}
		case "track_file", "vrrp_track_file":
			if p.needBlock(n) {
				p.parseTrackFile(n)
			}
		case "vrrp_track_process":
			if p.needBlock(n) {
				p.parseTrackProcess(n)
			}
		case "bfd_instance":
			if p.needBlock(n) {
				p.parseBFDInstance(n)
			}
		case "vrrp_script":
			if p.needBlock(n) {
				p.parseVRRPScript(n)
			}
		case "vrrp_sync_group":
			if p.needBlock(n) {
				p.parseSyncGroup(n)
			}
		case "garp_group":
			if p.needBlock(n) {
				p.parseGARPGroup(n)
			}
		case "vrrp_instance":
			if p.needBlock(n) {
				p.parseInstance(n)
			}
		case "virtual_server_group":
			if p.needBlock(n) {
				p.parseVSG(n)
			}
		case "virtual_server":
			if p.needBlock(n) {
				p.parseVirtualServer(n)
			}
		case "SSL":
			if p.needBlock(n) {
				p.parseSSL(n)
			}
		default:
			p.unknown(n, "the top level")
		}
	}
}

// prealloc sizes the big collections up front: a generated configuration
// can hold tens of thousands of instances, and regrowing slices of large
// structs dominated the load time.
func (p *parser) prealloc(root []*node) {
	var ni, nf int
	for _, n := range root {
		switch n.name() {
		case "vrrp_instance":
			ni++
		case "track_file", "vrrp_track_file":
			nf++
		}
	}
	p.cfg.Instances = make([]conf.Instance, 0, ni)
	p.insts = make([]*instState, 0, ni)
	p.instBy = make(map[string]*instState, ni)
	p.cfg.TrackFiles = make([]conf.TrackFile, 0, nf)
	p.files = make(map[string]*node, nf)
}

// globalOther lists the global_defs keywords vigil recognises but does not
// act on (the checker and BFD process settings, SNMP, DBus, firewall and buffer tuning,
// reload machinery). They are kept verbatim in GlobalDefs.Other.
var globalOther = map[string]bool{
	"tmp_config_directory": true, "config_save_dir": true, "process_names": true,
	"process_name": true, "vrrp_process_name": true, "checker_process_name": true,
	"lvs_process_name": true, "bfd_process_name": true,
	"disable_local_igmp": true,
	"vrrp_ipsets":        true, "nftables_ipvs": true, "nftables_ipvs_priority": true,
	"nftables_ipvs_start_fwmark": true,
	"checker_priority":           true, "checker_rt_priority": true,
	"checker_cpu_affinity": true, "checker_rlimit_rttime": true, "checker_rlimit_rtime": true,
	"bfd_priority": true, "bfd_no_swap": true, "bfd_rt_priority": true, "bfd_cpu_affinity": true,
	"bfd_rlimit_rttime": true, "bfd_rlimit_rtime": true,
	"snmp_socket": true, "enable_traps": true, "enable_snmp_vrrp": true, "enable_snmp_keepalived": true,
	"enable_snmp_rfc": true, "enable_snmp_rfcv2": true, "enable_snmp_rfcv3": true,
	"enable_snmp_checker": true, "enable_dbus": true, "dbus_service_name": true,
	"vrrp_netlink_cmd_rcv_bufs": true, "vrrp_netlink_cmd_rcv_bufs_force": true,
	"vrrp_netlink_monitor_rcv_bufs": true, "vrrp_netlink_monitor_rcv_bufs_force": true,
	"process_monitor_rcv_bufs": true, "process_monitor_rcv_bufs_force": true,
	"lvs_netlink_cmd_rcv_bufs": true, "lvs_netlink_cmd_rcv_bufs_force": true,
	"lvs_netlink_monitor_rcv_bufs": true, "lvs_netlink_monitor_rcv_bufs_force": true,
	"reload_check_config": true, "reload_time_file": true, "reload_repeat": true,
	"reload_file": true, "include_check": true, "data_use_instance": true,
	// json_version (keepalived 2.2.8+) selects the JSON dump format; the
	// dumps package reads it from Other.
	"json_version": true,
}

const maxSecs = math.MaxUint32 / 1000000

func (p *parser) parseGlobalDefs(b *node) {
	g := &p.cfg.GlobalDefs
	seconds := func(n *node, dst *conf.Duration) {
		if v, ok := p.intArg(n, 0, 0, maxSecs); ok {
			p.maxArgs(n, 1)
			*dst = conf.Duration(time.Duration(v) * time.Second)
		}
	}
	repeat := func(n *node, dst *int) {
		if v, ok := p.intArg(n, 0, 0, math.MaxInt32); ok {
			p.maxArgs(n, 1)
			if v == 0 {
				p.argWarnf(n, 0, "must be greater than 0 - using 1")
				v = 1
			}
			*dst = v
		}
	}
	flag := func(n *node, dst *bool) {
		if v, ok := p.boolArg(n, 0); ok {
			*dst = v
		}
	}
	tri := func(n *node, dst **bool) {
		if v, ok := p.boolArg(n, 0); ok {
			*dst = &v
		}
	}
	for _, n := range b.block {
		p.noBlockUnless(n, "notification_email")
		switch k := n.name(); k {
		case "router_id":
			if p.needArgs(n, 1, "router id") {
				p.maxArgs(n, 1)
				g.RouterID = n.arg(0)
			}
		case "notification_email":
			if p.needBlock(n) {
				g.NotificationEmail = g.NotificationEmail[:0]
				for _, c := range entries(n) {
					g.NotificationEmail = append(g.NotificationEmail, c.name())
					g.NotificationEmail = append(g.NotificationEmail, argTexts(c)...)
				}
			}
		case "notification_email_from":
			if p.needArgs(n, 1, "address") {
				p.maxArgs(n, 1)
				g.NotificationEmailFrom = n.arg(0)
			}
		case "smtp_server":
			if p.needArgs(n, 1, "server address or name") {
				p.maxArgs(n, 2)
				g.SMTPServer = n.arg(0)
				g.SMTPPort = conf.DefaultSMTPPort
				if len(n.args) > 1 {
					if v, ok := p.intArg(n, 1, 1, 65535); ok {
						g.SMTPPort = v
					}
				}
			}
		case "smtp_helo_name":
			if p.needArgs(n, 1, "name") {
				g.SMTPHeloName = n.arg(0)
			}
		case "smtp_connect_timeout":
			if v, ok := p.intArg(n, 0, 1, maxSecs); ok {
				g.SMTPConnectTimeout = conf.Duration(time.Duration(v) * time.Second)
			}
		case "smtp_alert":
			tri(n, &g.SMTPAlert)
		case "smtp_alert_vrrp":
			tri(n, &g.SMTPAlertVRRP)
		case "smtp_alert_checker":
			tri(n, &g.SMTPAlertChecker)
		case "checker_log_all_failures":
			flag(n, &g.CheckerLogAllFailures)
		case "no_email_faults":
			g.NoEmailFaults = true
		case "startup_script":
			g.StartupScript = p.notifyScript(n)
		case "shutdown_script":
			g.ShutdownScript = p.notifyScript(n)
		case "startup_script_timeout", "shutdown_script_timeout":
			if v, ok := p.intArg(n, 0, 1, 1000); ok {
				d := conf.Duration(time.Duration(v) * time.Second)
				if k == "startup_script_timeout" {
					g.StartupScriptTimeout = d
				} else {
					g.ShutdownScriptTimeout = d
				}
			}
		case "default_interface":
			if v, ok := p.ifArg(n, 0); ok {
				g.DefaultInterface = v
			}
		case "dynamic_interfaces":
			g.DynamicInterfaces = true
			if len(n.args) > 0 {
				if n.arg(0) == "allow_if_changes" {
					g.AllowIfChanges = true
				} else {
					p.argWarnf(n, 0, "unknown option '%s' - ignored", n.arg(0))
				}
			}
		case "lvs_sync_daemon":
			p.parseSyncDaemon(n)
		case "lvs_timeouts":
			p.parseLVSTimeouts(n)
		case "lvs_flush":
			g.LVSFlush = true
		case "lvs_flush_on_stop", "lvs_flush_onstop":
			g.LVSFlushOnStop = "RS"
			if len(n.args) > 0 {
				if n.arg(0) == "VS" {
					g.LVSFlushOnStop = "VS"
				} else {
					p.argWarnf(n, 0, "unknown option '%s' - expected VS", n.arg(0))
				}
			}
		case "vrrp_mcast_group4":
			if a, ok := p.addrArg(n, 0); ok {
				if !a.Is4() || !a.IsMulticast() {
					p.argErrorf(n, 0, "'%s' is not an IPv4 multicast address", a)
				} else {
					g.VRRPMcastGroup4 = a
				}
			}
		case "vrrp_mcast_group6":
			if a, ok := p.addrArg(n, 0); ok {
				if !a.Is6() || !a.IsMulticast() {
					p.argErrorf(n, 0, "'%s' is not an IPv6 multicast address", a)
				} else {
					g.VRRPMcastGroup6 = a
				}
			}
		case "vrrp_garp_master_delay":
			seconds(n, &g.VRRPGARPMasterDelay)
		case "vrrp_garp_master_repeat":
			repeat(n, &g.VRRPGARPMasterRepeat)
		case "vrrp_garp_master_refresh":
			seconds(n, &g.VRRPGARPMasterRefresh)
		case "vrrp_garp_master_refresh_repeat":
			repeat(n, &g.VRRPGARPMasterRefreshRepeat)
		case "vrrp_garp_lower_prio_delay":
			seconds(n, &g.VRRPGARPLowerPrioDelay)
			p.global.lowerPrioDelaySet = true
		case "vrrp_garp_lower_prio_repeat":
			if v, ok := p.intArg(n, 0, 0, math.MaxInt32); ok {
				g.VRRPGARPLowerPrioRepeat = v
				p.global.lowerPrioRepeatSet = true
			}
		case "vrrp_down_timer_adverts":
			if v, ok := p.intArg(n, 0, 1, 100); ok {
				g.VRRPDownTimerAdverts = v
			}
		case "vrrp_garp_interval":
			if v, ok := p.timerArg(n, 0, 0, time.Second); ok {
				g.VRRPGARPInterval = v
			}
		case "vrrp_gna_interval":
			if v, ok := p.timerArg(n, 0, 0, time.Second); ok {
				g.VRRPGNAInterval = v
			}
		case "vrrp_min_garp":
			flag(n, &g.VRRPMinGARP)
		case "vrrp_garp_extra_if", "vrrp_vmac_garp_intvl":
			if k == "vrrp_vmac_garp_intvl" {
				p.warnf(n, "deprecated - use vrrp_garp_extra_if")
			}
			g.VRRPGARPExtraIf, g.VRRPGARPExtraIfAll, _ = p.garpExtraIf(n)
		case "vrrp_lower_prio_no_advert":
			flag(n, &g.VRRPLowerPrioNoAdvert)
		case "vrrp_higher_prio_send_advert":
			flag(n, &g.VRRPHigherPrioSendAdvert)
		case "vrrp_version":
			if v, ok := p.intArg(n, 0, 2, 3); ok {
				g.VRRPVersion = v
			}
		case "vrrp_check_unicast_src":
			g.VRRPCheckUnicastSrc = true
		case "vrrp_skip_check_adv_addr":
			flag(n, &g.VRRPSkipCheckAdvAddr)
		case "vrrp_strict":
			g.VRRPStrict = true
		case "nftables":
			p.nftables(n, g)
		case "nftables_priority":
			if v, ok := p.intArg(n, 0, math.MinInt32, math.MaxInt32); ok {
				g.NFTablesPriority = &v
			}
		case "nftables_ifindex":
			g.NFTablesIfindex = true
		case "nftables_counters":
			g.NFTablesCounters = true
		case "vrrp_iptables":
			// keepalived built without iptables (Debian's) keeps the
			// keyword for legacy configurations and uses nftables.
			p.warnf(n, "iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option")
			g.NFTables, g.NFTablesPriority = defaultNFTable, nil
		case "vrrp_priority":
			if v, ok := p.intArg(n, 0, -20, 19); ok {
				g.VRRPPriority = v
			}
		case "vrrp_no_swap":
			g.VRRPNoSwap = true
		case "checker_no_swap":
			g.CheckerNoSwap = true
		case "vrrp_rt_priority":
			if v, ok := p.rtPriority(n); ok {
				g.VRRPRTPriority = v
			}
		case "vrrp_rlimit_rttime", "vrrp_rlimit_rtime":
			if v, ok := p.uintArg(n, 0, 1, math.MaxUint32); ok {
				p.maxArgs(n, 1)
				// keepalived's soft limit is half of it: at least 1.
				g.VRRPRlimitRTTime = max(v, 2)
			}
		case "vrrp_cpu_affinity":
			g.VRRPCPUAffinity = p.cpuList(n)
		case "max_auto_priority":
			if len(n.args) == 0 {
				g.MaxAutoPriority = maxRTPriority // keepalived: no value is the maximum
			} else if v, ok := p.intArg(n, 0, -1, maxRTPriority); ok {
				p.maxArgs(n, 1)
				g.MaxAutoPriority = v
			}
		case "min_auto_priority_delay":
			if v, ok := p.intArg(n, 0, 1, 10000000); ok {
				p.maxArgs(n, 1)
				g.MinAutoPriorityDelay = conf.Duration(time.Duration(v) * time.Microsecond)
			}
		case "umask":
			if v, ok := p.umask(n); ok {
				g.Umask = &v
			}
		case "notify_fifo":
			g.NotifyFIFO = p.fifo(n, g.NotifyFIFO)
		case "vrrp_notify_fifo":
			g.VRRPNotifyFIFO = p.fifo(n, g.VRRPNotifyFIFO)
		case "lvs_notify_fifo":
			g.LVSNotifyFIFO = p.fifo(n, g.LVSNotifyFIFO)
		case "notify_fifo_script":
			g.NotifyFIFO = p.fifoScript(n, g.NotifyFIFO)
		case "vrrp_notify_fifo_script":
			g.VRRPNotifyFIFO = p.fifoScript(n, g.VRRPNotifyFIFO)
		case "lvs_notify_fifo_script":
			g.LVSNotifyFIFO = p.fifoScript(n, g.LVSNotifyFIFO)
		case "vrrp_notify_priority_changes":
			flag(n, &g.VRRPNotifyPriorityChanges)
		case "fifo_write_vrrp_states_on_reload":
			g.FIFOWriteVRRPStatesOnReload = true
		case "script_user":
			if p.needArgs(n, 1, "user name") {
				p.maxArgs(n, 2)
				g.ScriptUser, g.ScriptGroup = n.arg(0), n.arg(1)
				p.global.scriptUserSet = true
			}
		case "enable_script_security":
			g.EnableScriptSecurity = true
		case "vrrp_rx_bufs_policy":
			p.rxBufsPolicy(n, g)
		case "vrrp_rx_bufs_multiplier":
			if v, ok := p.intArg(n, 0, 1, math.MaxUint32); ok {
				p.maxArgs(n, 1)
				g.VRRPRxBufsMultiplier = v
			}
		case "vrrp_startup_delay":
			if v, ok := p.timerArg(n, 0, time.Millisecond, maxSecs*time.Second); ok {
				g.VRRPStartupDelay = v
			}
		case "rs_init_notifies":
			g.RSInitNotifies = true
		case "no_checker_emails":
			g.NoCheckerEmails = true
		case "log_unknown_vrids":
			g.LogUnknownVRIDs = true
		case "vmac_prefix":
			if p.needArgs(n, 1, "prefix") {
				g.VMACPrefix = n.arg(0)
				if !p.global.vmacAddrPrefixSet {
					g.VMACAddrPrefix = n.arg(0)
				}
			}
		case "vmac_addr_prefix":
			if p.needArgs(n, 1, "prefix") {
				g.VMACAddrPrefix = n.arg(0)
				p.global.vmacAddrPrefixSet = true
			}
		case "random_seed":
			if p.needArgs(n, 1, "seed") {
				v, err := strconv.ParseUint(n.arg(0), 10, 32)
				if err != nil {
					p.argErrorf(n, 0, "invalid seed '%s': must be an unsigned integer", n.arg(0))
				} else {
					s := int64(v)
					g.RandomSeed = &s
				}
			}
		case "net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "use_pid_dir",
			"instance", "child_wait_time", "linkbeat_use_polling":
			p.warnf(n, "must be at the top level, not in global_defs - ignored")
		default:
			if globalOther[k] {
				other(&g.Other, n)
			} else {
				p.unknown(n, "global_defs")
			}
		}
	}
}

// noBlockUnless warns about a block on a keyword that takes none.
func (p *parser) noBlockUnless(n *node, blockKw ...string) {
	for _, k := range blockKw {
		if n.name() == k {
			return
		}
	}
	p.noBlock(n)
}

func argTexts(n *node) []string {
	out := make([]string, len(n.args))
	for i, a := range n.args {
		out[i] = a.Text
	}
	return out
}

// garpExtraIf parses `[all] SECS` (0..86400).
func (p *parser) garpExtraIf(n *node) (conf.Duration, bool, bool) {
	i, all := 0, false
	if n.arg(0) == "all" {
		i, all = 1, true
	}
	v, ok := p.intArg(n, i, 0, 86400)
	if !ok {
		return 0, false, false
	}
	p.maxArgs(n, i+1)
	return conf.Duration(time.Duration(v) * time.Second), all, true
}

func (p *parser) fifo(n *node, cur *conf.NotifyFIFO) *conf.NotifyFIFO {
	if !p.needArgs(n, 1, "FIFO path") {
		return cur
	}
	p.maxArgs(n, 3)
	f := &conf.NotifyFIFO{}
	if cur != nil {
		f.Script = cur.Script
	}
	f.Path, f.User, f.Group = n.arg(0), n.arg(1), n.arg(2)
	return f
}

func (p *parser) fifoScript(n *node, cur *conf.NotifyFIFO) *conf.NotifyFIFO {
	s := p.notifyScript(n)
	if s == nil {
		return cur
	}
	f := &conf.NotifyFIFO{}
	if cur != nil {
		*f = *cur
	}
	f.Script = s
	return f
}

// parseSyncDaemon parses lvs_sync_daemon IF [[inst] NAME] [id N] [maxlen N]
// [port N] [ttl N] [group ADDR].
func (p *parser) parseSyncDaemon(n *node) {
	ifn, ok := p.ifArg(n, 0)
	if !ok {
		return
	}
	sd := &conf.LVSSyncDaemon{Interface: ifn, Port: conf.DefaultLVSSyncPort}
	for i := 1; i < len(n.args); i++ {
		k := n.arg(i)
		needVal := func() bool {
			if i+1 >= len(n.args) {
				p.argErrorf(n, i, "'%s' needs a value", k)
				return false
			}
			i++
			return true
		}
		switch k {
		case "inst":
			if needVal() {
				sd.Instance = n.arg(i)
			}
		case "id":
			if needVal() {
				if v, ok := p.intArg(n, i, 0, 255); ok {
					sd.SyncID = &v
				}
			}
		case "maxlen":
			if needVal() {
				if v, ok := p.intArg(n, i, 1, 65507); ok {
					sd.MaxLen = v
				}
			}
		case "port":
			if needVal() {
				if v, ok := p.intArg(n, i, 1, 65535); ok {
					sd.Port = v
				}
			}
		case "ttl":
			if needVal() {
				if v, ok := p.intArg(n, i, 1, 255); ok {
					sd.TTL = v
				}
			}
		case "group":
			if needVal() {
				if a, ok := p.addrArg(n, i); ok {
					if !a.IsMulticast() {
						p.argErrorf(n, i, "'%s' is not a multicast address", a)
					} else {
						sd.Group = a
					}
				}
			}
		default:
			switch {
			case i == 1 && sd.Instance == "":
				sd.Instance = k // `inst` may be omitted
			case i == 2 && sd.Instance == n.arg(1) && sd.SyncID == nil:
				// keepalived's older `lvs_sync_daemon IF INSTANCE SYNC_ID`.
				if v, ok := p.intArg(n, i, 0, 255); ok {
					p.argWarnf(n, i, "please use keyword \"id\" before the lvs_sync_daemon sync id")
					sd.SyncID = &v
				}
			default:
				p.argWarnf(n, i, "unknown option '%s' - ignored", k)
			}
		}
	}
	p.cfg.GlobalDefs.LVSSyncDaemon = sd
	p.global.syncDaemon = n
}

func (p *parser) parseLVSTimeouts(n *node) {
	t := &conf.LVSTimeouts{}
	if len(n.args) == 0 {
		p.errorf(n, "at least one of tcp, tcpfin or udp must be given")
		return
	}
	for i := 0; i < len(n.args); i += 2 {
		k := n.arg(i)
		var dst **conf.Duration
		switch k {
		case "tcp":
			dst = &t.TCP
		case "tcpfin":
			dst = &t.TCPFin
		case "udp":
			dst = &t.UDP
		default:
			p.argErrorf(n, i, "unknown timeout '%s': expected tcp, tcpfin or udp", k)
			return
		}
		v, ok := p.intArg(n, i+1, 1, 86400*31)
		if !ok {
			return
		}
		d := conf.Duration(time.Duration(v) * time.Second)
		*dst = &d
	}
	p.cfg.GlobalDefs.LVSTimeouts = t
}

// parseLinkbeat parses linkbeat_interfaces { IF [MII|ETHTOOL|IOCTL] }.
func (p *parser) parseLinkbeat(b *node) {
	for _, n := range entries(b) {
		p.noBlock(n)
		name := n.name()
		if !validIfName(name) {
			p.errorf(n, "invalid interface name '%s'", name)
			continue
		}
		p.cfg.LinkbeatInterfaces = append(p.cfg.LinkbeatInterfaces, name)
		if len(n.args) > 0 {
			switch t := n.arg(0); t {
			case "MII", "ETHTOOL", "IOCTL":
				p.cfg.LinkbeatPolling = append(p.cfg.LinkbeatPolling, conf.LinkbeatInterface{Name: name, Type: t})
			default:
				p.argWarnf(n, 0, "unknown polling type '%s' (expected MII, ETHTOOL or IOCTL) - using the default", t)
			}
			p.maxArgs(n, 1)
		}
	}
}

// parseUpDownDelays parses interface_up_down_delays { IF DOWN [UP] }.
// keepalived only logs a line without delays or with an invalid one and
// skips it, so those are warnings. Without UP the up delay is 0 (no delay
// going up): keepalived's parser does that, although its man page says
// the up delay defaults to the down delay. A later line for the same
// interface replaces an earlier one.
func (p *parser) parseUpDownDelays(b *node) {
	for _, n := range entries(b) {
		p.noBlock(n)
		name := n.name()
		if !validIfName(name) {
			p.errorf(n, "invalid interface name '%s'", name)
			continue
		}
		if len(n.args) == 0 {
			p.warnf(n, "no delays specified for %s up/down delays - ignored", name)
			continue
		}
		var d [2]conf.Duration
		ok := true
		for k := 0; k < 2 && k < len(n.args) && ok; k++ {
			v, err := parseTimer(n.args[k].Text)
			if ok = err == nil && v <= 255*time.Second; !ok {
				what := [2]string{"down", "up"}[k]
				p.argWarnf(n, k, "invalid %s delay '%s' for %s (must be seconds from 0 to 255) - line ignored", what, n.args[k].Text, name)
				break
			}
			d[k] = conf.Duration(v)
		}
		if !ok {
			continue
		}
		p.maxArgs(n, 2)
		e := conf.UpDownDelay{Interface: name, Down: d[0], Up: d[1]}
		if k := slices.IndexFunc(p.cfg.InterfaceUpDownDelays, func(x conf.UpDownDelay) bool { return x.Interface == name }); k >= 0 {
			p.cfg.InterfaceUpDownDelays[k] = e
			p.upDownN[k] = n
			continue
		}
		p.cfg.InterfaceUpDownDelays = append(p.cfg.InterfaceUpDownDelays, e)
		p.upDownN = append(p.upDownN, n)
	}
}

// parseTrackGroup parses track_group NAME { group { INSTANCE... } }.
func (p *parser) parseTrackGroup(b *node) {
	name, ok := p.nameArg(b, "track_group")
	if !ok {
		return
	}
	if prev, dup := p.groups[name]; dup {
		p.errorf(b, "track_group %s already defined at %s:%d", name, prev.file, prev.line)
		return
	}
	tg := conf.TrackGroup{Pos: pos(b), Name: name, Group: []string{}}
	seen := false
	for _, n := range b.block {
		if n.name() != "group" {
			p.unknown(n, "track_group")
			continue
		}
		if seen {
			p.warnf(n, "group list already specified for track_group %s - ignored", name)
			continue
		}
		seen = true
		if p.needBlock(n) {
			for _, c := range entries(n) {
				tg.Group = append(tg.Group, c.name())
				tg.Group = append(tg.Group, argTexts(c)...)
			}
		}
	}
	if len(tg.Group) == 0 {
		p.warnf(b, "track_group %s has an empty group", name)
	}
	p.groups[name] = b
	p.cfg.TrackGroups = append(p.cfg.TrackGroups, tg)
}

func (p *parser) noteTrackGroup(n *node, name string) {
	if name != "" {
		p.trackGroupRefs = append(p.trackGroupRefs, nameRef{n, name})
	}
}

// defaultNFTable is keepalived's default nftables table name.
const defaultNFTable = "keepalived"

// nftables reads `nftables [NAME]`: the first one wins, and it resets
// nftables_priority to its default as keepalived's handler does.
func (p *parser) nftables(n *node, g *conf.GlobalDefs) {
	if g.NFTables != "" {
		p.warnf(n, "nftables already specified - ignoring")
		return
	}
	name := defaultNFTable
	if len(n.args) > 0 {
		if len(n.arg(0)) >= 256 { // NFT_TABLE_MAXNAMELEN
			p.warnf(n, "nftables table name too long - ignoring")
			return
		}
		name = n.arg(0)
	}
	g.NFTables, g.NFTablesPriority = name, nil
}

// rxBufsPolicy parses vrrp_rx_bufs_policy MTU|ADVERT|SIZE as keepalived
// does: a size excludes a policy (the policy is ignored), MTU excludes
// ADVERT (ADVERT is ignored), each with keepalived's message.
func (p *parser) rxBufsPolicy(n *node, g *conf.GlobalDefs) {
	if len(n.args) == 0 {
		p.errorf(n, "vrrp_rx_bufs_policy missing")
		return
	}
	var mtu, advert bool
	size := -1
	for i, a := range n.args {
		switch strings.ToUpper(a.Text) {
		case "MTU":
			mtu = true
		case "ADVERT":
			advert = true
		default:
			v, err := strconv.ParseUint(a.Text, 10, 32)
			if err != nil {
				p.argErrorf(n, i, "invalid vrrp_rx_bufs_policy %s", a.Text)
				continue
			}
			size = int(v)
		}
	}
	switch {
	case size >= 0 && (mtu || advert):
		p.warnf(n, "cannot set vrrp_rx_bufs_policy size and policy, ignoring policy")
		mtu, advert = false, false
	case mtu && advert:
		p.warnf(n, "cannot set both vrrp_rx_bufs_policy MTU and ADVERT, ignoring ADVERT")
		advert = false
	}
	g.VRRPRxBufsPolicy, g.VRRPRxBufsSize = "", 0
	switch {
	case size >= 0:
		g.VRRPRxBufsSize = size
	case mtu:
		g.VRRPRxBufsPolicy = "MTU"
	case advert:
		g.VRRPRxBufsPolicy = "ADVERT"
	}
}
