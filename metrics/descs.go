package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-ha/vigil/status"
)

// statDef is one of keepalived's per-instance counters and its names in
// the exporters ("" where the set has none of its own).
type statDef struct {
	json  string // keepalived.stats' and the JSON dump's name
	mehdy string // mehdy/keepalived-exporter 1.x
	help  string
	get   func(*status.Stats) uint64
}

// statDefs are keepalived's counters. mehdy-v0 names each
// keepalived_<json>_total and gen2brain keepalived_vrrp_<json>;
// become_master and release_master are handled apart (both mehdy sets
// share their names).
var statDefs = []statDef{
	{"advert_rcvd", "keepalived_advertisements_received_total", "Advertisements received", func(s *status.Stats) uint64 { return s.AdvertRcvd }},
	{"advert_sent", "keepalived_advertisements_sent_total", "Advertisements sent", func(s *status.Stats) uint64 { return s.AdvertSent }},
	{"packet_len_err", "keepalived_packet_length_errors_total", "Packet length errors", func(s *status.Stats) uint64 { return s.PacketLenErr }},
	{"advert_interval_err", "keepalived_advertisements_interval_errors_total", "Advertisement interval errors", func(s *status.Stats) uint64 { return s.AdvertIntervalErr }},
	{"ip_ttl_err", "keepalived_ip_ttl_errors_total", "TTL errors", func(s *status.Stats) uint64 { return s.IPTTLErr }},
	{"invalid_type_rcvd", "keepalived_invalid_type_received_total", "Invalid type errors", func(s *status.Stats) uint64 { return s.InvalidTypeRcvd }},
	{"addr_list_err", "keepalived_address_list_errors_total", "Address list errors", func(s *status.Stats) uint64 { return s.AddrListErr }},
	{"invalid_authtype", "keepalived_authentication_invalid_total", "Authentication invalid", func(s *status.Stats) uint64 { return s.InvalidAuthType }},
	{"authtype_mismatch", "keepalived_authentication_mismatch_total", "Authentication mismatch", func(s *status.Stats) uint64 { return s.AuthTypeMismatch }},
	{"auth_failure", "keepalived_authentication_failure_total", "Authentication failure", func(s *status.Stats) uint64 { return s.AuthFailure }},
	{"pri_zero_rcvd", "keepalived_priority_zero_received_total", "Priority zero received", func(s *status.Stats) uint64 { return s.PriZeroRcvd }},
	{"pri_zero_sent", "keepalived_priority_zero_sent_total", "Priority zero sent", func(s *status.Stats) uint64 { return s.PriZeroSent }},
}

// gen2brain's exporter also has these two under its prefix.
var gen2brainOnly = []statDef{
	{"become_master", "", "Became master", func(s *status.Stats) uint64 { return s.BecomeMaster }},
	{"release_master", "", "Released master", func(s *status.Stats) uint64 { return s.ReleaseMaster }},
}

// descs are the collector's metric descriptions; nil for a metric whose
// set is off.
type descs struct {
	all []*prometheus.Desc

	up, buildInfo, exporterBuildInfo *prometheus.Desc
	mehdy, mehdyV0, gen2brain        map[string]*prometheus.Desc
	shared                           map[string]*prometheus.Desc
	garpDelay, garpDelayV0           *prometheus.Desc
	vrrpState, vrrpExcludedState     *prometheus.Desc
	checkScript, checkScriptV0       *prometheus.Desc
	scriptStatus, scriptState        *prometheus.Desc
	lvsVIP, lvsRS                    *[5]*prometheus.Desc

	startTime, snapshotTime, events                *prometheus.Desc
	loopLatency, advertLateness                    *prometheus.Desc
	state, priority, basePriority, vipsInstalled   *prometheus.Desc
	trackerDelta, trackerWeight, trackerFault      *prometheus.Desc
	master, masterPriority                         *prometheus.Desc
	lastTransition, sinceTransition                *prometheus.Desc
	transitions, takeovers, advertsLate            *prometheus.Desc
	vsQuorum, vsSorry, vsLiveWeight                *prometheus.Desc
	rsUp, rsWeight, checkerUp                      *prometheus.Desc
	journalAppended, journalWritten, journalGapped *prometheus.Desc
	journalBytes, journalSnapshots, journalCommits *prometheus.Desc
	journalFailing, journalEpisodes                *prometheus.Desc
	ipvsError                                      *prometheus.Desc
}

var (
	labelsMehdy     = []string{"iname", "intf", "vrid"}
	labelsMehdyV0   = []string{"iname", "intf", "vrid", "state"}
	labelsGen2brain = []string{"name", "intf", "vrid", "state"}
	labelsVIP       = []string{"iname", "intf", "vrid", "ip_address"}
	labelsInstance  = []string{"iname", "intf", "vrid"}
)

func newDescs(on map[string]bool, o Options) descs {
	var d descs
	nd := func(name, help string, labels ...string) *prometheus.Desc {
		x := prometheus.NewDesc(name, help, labels, nil)
		d.all = append(d.all, x)
		return x
	}
	d.mehdy, d.mehdyV0, d.gen2brain, d.shared = map[string]*prometheus.Desc{}, map[string]*prometheus.Desc{}, map[string]*prometheus.Desc{}, map[string]*prometheus.Desc{}

	// keepalived_up is in every exporter; vigil serves it whatever the
	// sets.
	d.up = nd("keepalived_up", "Status: 1 once the daemon's engine has started")
	if on[CompatMehdy] || on[CompatMehdyV0] {
		d.vrrpState = nd("keepalived_vrrp_state", "State of vrrp (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 97 STOP), one series per VIP", labelsVIP...)
		d.scriptStatus = nd("keepalived_script_status", "Tracker Script Status (0 BAD, 1 GOOD)", "name")
		d.scriptState = nd("keepalived_script_state", "Tracker Script State (0 idle: vigil keeps no run state)", "name")
		shared := labelsMehdyV0
		if on[CompatMehdy] {
			shared = labelsMehdy
		}
		d.shared["become_master"] = nd("keepalived_become_master_total", "Became master", shared...)
		d.shared["release_master"] = nd("keepalived_release_master_total", "Released master", shared...)
	}
	if on[CompatMehdy] {
		for _, st := range statDefs {
			d.mehdy[st.json] = nd(st.mehdy, st.help, labelsMehdy...)
		}
		d.garpDelay = nd("keepalived_gratuitous_arp_delay_total", "Gratuitous ARP delay (garp_master_delay, seconds)", labelsMehdy...)
		d.vrrpExcludedState = nd("keepalived_vrrp_excluded_state", "State of vrrp with excluded VIP", labelsVIP...)
		if o.CheckScript != "" {
			d.checkScript = nd("keepalived_exporter_check_script_status", "Check Script status for each VIP", labelsVIP...)
		}
		d.exporterBuildInfo = nd("keepalived_exporter_build_info", "Exporter build info (the exporter is vigil)",
			"branch", "goarch", "goos", "goversion", "revision", "tags", "version")
	}
	if on[CompatMehdyV0] {
		for _, st := range statDefs {
			d.mehdyV0[st.json] = nd("keepalived_"+st.json+"_total", st.help, labelsMehdyV0...)
		}
		d.garpDelayV0 = nd("keepalived_garp_delay_total", "Gratuitous ARP delay (garp_master_delay, seconds)", labelsMehdyV0...)
		if o.CheckScript != "" {
			d.checkScriptV0 = nd("keepalived_check_script_status", "Check Script status for each VIP", labelsVIP...)
		}
	}
	if on[CompatGen2brain] {
		for _, st := range append(append([]statDef(nil), statDefs...), gen2brainOnly...) {
			d.gen2brain[st.json] = nd("keepalived_vrrp_"+st.json, st.help, labelsGen2brain...)
		}
		if o.IPVS != nil {
			d.lvsVIP, d.lvsRS = &[5]*prometheus.Desc{}, &[5]*prometheus.Desc{}
			for k, n := range []struct{ name, help string }{{"in_packets", "in packets"}, {"out_packets", "out packets"},
				{"in_bytes", "in bytes"}, {"out_bytes", "out bytes"}, {"conn", "connections"}} {
				d.lvsVIP[k] = nd("keepalived_lvs_vip_"+n.name, "VIP "+n.help, "addr", "proto")
				d.lvsRS[k] = nd("keepalived_lvs_rs_"+n.name, "RS "+n.help, "vip", "addr", "proto")
			}
		}
	}
	d.buildInfo = nd("vigil_build_info", "vigil's version", "version", "goversion")
	d.startTime = nd("vigil_start_time_seconds", "When the daemon started (Unix time)")
	d.snapshotTime = nd("vigil_status_snapshot_timestamp_seconds", "When the state served was taken from the event loop (Unix time)")
	d.events = nd("vigil_events_total", "Events the engine has stepped")
	d.loopLatency = nd("vigil_loop_latency_seconds", "Time from an event's arrival to its effects having been dispatched, in the event loop")
	d.advertLateness = nd("vigil_advert_timer_lateness_seconds", "How long after its deadline each advert timer was stepped")
	d.state = nd("vigil_vrrp_state", "VRRP state of the instance (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 97 STOP), one series per instance", labelsInstance...)
	d.priority = nd("vigil_vrrp_priority", "Effective priority (the one advertised)", labelsInstance...)
	d.basePriority = nd("vigil_vrrp_base_priority", "Configured priority", labelsInstance...)
	d.vipsInstalled = nd("vigil_vrrp_vips_installed", "1 when the instance's VIPs are installed on this node", labelsInstance...)
	withTracker := append(append([]string(nil), labelsInstance...), "tracker")
	d.trackerDelta = nd("vigil_vrrp_tracker_priority_delta", "What a tracked object adds to the instance's priority now", withTracker...)
	d.trackerWeight = nd("vigil_vrrp_tracker_weight", "A tracked object's weight (0: the instance faults when it fails)", withTracker...)
	d.trackerFault = nd("vigil_vrrp_tracker_fault", "1 when a tracked object holds the instance in FAULT", withTracker...)
	d.master = nd("vigil_vrrp_master", "The current master's address as this node knows it (its own when MASTER, the last heard when BACKUP)",
		append(append([]string(nil), labelsInstance...), "master")...)
	d.masterPriority = nd("vigil_vrrp_master_priority", "The current master's priority", labelsInstance...)
	withTransition := append(append([]string(nil), labelsInstance...), "from", "to", "reason")
	d.lastTransition = nd("vigil_vrrp_last_transition_timestamp_seconds", "When the instance last changed state (Unix time), with the rule that fired", withTransition...)
	d.sinceTransition = nd("vigil_vrrp_last_transition_age_seconds", "Seconds since the instance last changed state, with the rule that fired", withTransition...)
	d.transitions = nd("vigil_vrrp_transitions_total", "State changes by from, to and the rule that fired", withTransition...)
	d.takeovers = nd("vigil_vrrp_takeovers_total", "Transitions to MASTER by the rule that fired",
		append(append([]string(nil), labelsInstance...), "reason")...)
	d.advertsLate = nd("vigil_vrrp_adverts_late_total", "Advert timers stepped more than 10 ms after their deadline", labelsInstance...)
	d.vsQuorum = nd("vigil_lvs_virtual_server_quorum_up", "1 when the virtual server's quorum is up", "vs")
	d.vsSorry = nd("vigil_lvs_virtual_server_sorry_server_active", "1 when the sorry server is in the table", "vs")
	d.vsLiveWeight = nd("vigil_lvs_virtual_server_live_weight", "Sum of the weights of the alive real servers", "vs")
	d.rsUp = nd("vigil_lvs_real_server_up", "1 when the real server's checks say it is alive", "vs", "rs")
	d.rsWeight = nd("vigil_lvs_real_server_weight", "The real server's current weight", "vs", "rs")
	d.checkerUp = nd("vigil_lvs_checker_up", "A checker's verdict: 1 up, 0 down, -1 not run yet", "vs", "rs", "checker", "type")
	d.journalAppended = nd("vigil_journal_records_appended_total", "Events handed to the journal")
	d.journalWritten = nd("vigil_journal_records_written_total", "Events committed to the journal on disk")
	d.journalGapped = nd("vigil_journal_records_gapped_total", "Events recorded as gaps (lost) in the journal")
	d.journalBytes = nd("vigil_journal_bytes_written_total", "Bytes of records and snapshots committed to the journal")
	d.journalSnapshots = nd("vigil_journal_snapshots_total", "Engine snapshots committed to the journal")
	d.journalCommits = nd("vigil_journal_commits_total", "Group commits of the journal")
	d.journalFailing = nd("vigil_journal_failing", "1 while writing the journal fails (full or read-only disk): events become gaps")
	d.journalEpisodes = nd("vigil_journal_failure_episodes_total", "Episodes of journal write failure (each logged once)")
	if o.IPVS != nil {
		d.ipvsError = nd("vigil_ipvs_scrape_error", "1 when reading the kernel's IPVS counters failed at this scrape")
	}
	return d
}
