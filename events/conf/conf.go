// Package conf is the typed model of a keepalived.conf: what the config
// package parses into, what the engine consumes, and what a ConfigLoaded event
// carries into the journal.
//
// It is pure data. JSON keys are keepalived's own keyword names (this is the
// stable `vigil dump` interface); collections are slices in config order;
// addresses are net/netip values; durations are Duration (microsecond
// resolution, printed as seconds).
package conf

import (
	"net/netip"
	"strconv"
	"time"
)

// Duration is a configuration time value. It has microsecond resolution,
// as keepalived's timers do, and marshals to JSON as a number of seconds.
type Duration time.Duration

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Seconds returns the duration in seconds.
func (d Duration) Seconds() float64 { return time.Duration(d).Seconds() }

// MarshalJSON prints the duration as seconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(d).Seconds(), 'f', -1, 64), nil
}

// UnmarshalJSON reads seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*d = Duration(time.Duration(f*1e6+0.5) * time.Microsecond)
	return nil
}

// Pos is a position in the configuration source, kept on blocks so that
// diagnostics raised after parsing (references, duplicates) can name a line.
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// Config is a whole keepalived configuration.
type Config struct {
	GlobalDefs         GlobalDefs `json:"global_defs"`
	LinkbeatInterfaces []string   `json:"linkbeat_interfaces,omitempty"`
	// LinkbeatPolling lists the linkbeat_interfaces lines that name a
	// polling type (MII, ETHTOOL or IOCTL), in config order.
	LinkbeatPolling       []LinkbeatInterface  `json:"linkbeat_polling,omitempty"`
	InterfaceUpDownDelays []UpDownDelay        `json:"interface_up_down_delays,omitempty"`
	TrackGroups           []TrackGroup         `json:"track_groups,omitempty"`
	VRRPScripts           []VRRPScript         `json:"vrrp_scripts"`
	TrackFiles            []TrackFile          `json:"track_files"`
	TrackProcesses        []TrackProcess       `json:"vrrp_track_processes"`
	BFDInstances          []BFDInstance        `json:"bfd_instances"`
	SyncGroups            []SyncGroup          `json:"vrrp_sync_groups"`
	GARPGroups            []GARPGroup          `json:"garp_groups"`
	Instances             []Instance           `json:"vrrp_instances"`
	StaticAddresses       []Address            `json:"static_ipaddress"`
	StaticRoutes          []Route              `json:"static_routes"`
	StaticRules           []Rule               `json:"static_rules"`
	VirtualServerGroups   []VirtualServerGroup `json:"virtual_server_groups"`
	VirtualServers        []VirtualServer      `json:"virtual_servers"`
	// SSL is the SSL block used by SSL_GET checkers (nil when absent).
	SSL *SSL `json:"ssl,omitempty"`
}

// LinkbeatInterface is a linkbeat_interfaces line with a polling type.
type LinkbeatInterface struct {
	Name string `json:"name"`
	Type string `json:"type"` // MII, ETHTOOL or IOCTL
}

// UpDownDelay is an interface_up_down_delays line: how long an interface
// state change must persist before the VRRP instances using or tracking
// the interface react (a change reversed within the delay is forgotten).
// The parser has already reduced the delays to UpDownDelayLimit of every
// instance on the interface.
type UpDownDelay struct {
	Interface string   `json:"interface"`
	Down      Duration `json:"down_delay"`
	// Up is 0 when the line gives only the down delay: that is what
	// keepalived's parser does (its man page says it defaults to the down
	// delay).
	Up Duration `json:"up_delay"`
}

// UpDownDelayLimit is the longest interface up/down delay an instance with
// these down_timer_adverts and advert interval allows, as keepalived
// computes it (in microseconds): (down_timer_adverts - 1) x advert_int
// less 1/256 of advert_int, so that a backup cannot time out and take over
// before the instance reaches FAULT. With down_timer_adverts 1 it is 0.
func UpDownDelayLimit(downAdverts int, adv time.Duration) time.Duration {
	if downAdverts <= 1 {
		return 0
	}
	us := int64(adv / time.Microsecond)
	return time.Duration(int64(downAdverts-1)*us-us/256) * time.Microsecond
}

// GlobalDefs is the global_defs block. Only keywords with a meaning for
// vigil's behaviour are typed; Other keeps the rest verbatim.
type GlobalDefs struct {
	Pos                   Pos      `json:"-"`
	RouterID              string   `json:"router_id,omitempty"`
	NotificationEmail     []string `json:"notification_email,omitempty"`
	NotificationEmailFrom string   `json:"notification_email_from,omitempty"`
	SMTPServer            string   `json:"smtp_server,omitempty"`
	// SMTPServer holds the server as written (address or name); the port
	// defaults to 25.
	SMTPPort           int      `json:"smtp_port,omitempty"`
	SMTPHeloName       string   `json:"smtp_helo_name,omitempty"`
	SMTPConnectTimeout Duration `json:"smtp_connect_timeout,omitempty"` // default 30 s
	// SMTPAlert, SMTPAlertVRRP and SMTPAlertChecker are nil when unset:
	// they are defaults for the per-block smtp_alert settings, which the
	// parser has already resolved.
	SMTPAlert             *bool `json:"smtp_alert,omitempty"`
	SMTPAlertVRRP         *bool `json:"smtp_alert_vrrp,omitempty"`
	SMTPAlertChecker      *bool `json:"smtp_alert_checker,omitempty"`
	CheckerLogAllFailures bool  `json:"checker_log_all_failures,omitempty"`
	NoEmailFaults         bool  `json:"no_email_faults,omitempty"`

	// Top-level daemon keywords (outside global_defs in keepalived.conf).
	NetNamespace        string   `json:"net_namespace,omitempty"`
	NetNamespaceIPVS    *string  `json:"net_namespace_ipvs,omitempty"`
	NamespaceWithIPSets bool     `json:"namespace_with_ipsets,omitempty"`
	Instance            string   `json:"instance,omitempty"`
	UsePIDDir           bool     `json:"use_pid_dir,omitempty"`
	LinkbeatUsePolling  bool     `json:"linkbeat_use_polling,omitempty"`
	ChildWaitTime       Duration `json:"child_wait_time"` // default 5 s

	StartupScript         *Script  `json:"startup_script,omitempty"`
	StartupScriptTimeout  Duration `json:"startup_script_timeout"` // default 10 s
	ShutdownScript        *Script  `json:"shutdown_script,omitempty"`
	ShutdownScriptTimeout Duration `json:"shutdown_script_timeout"` // default 10 s

	// DefaultInterface is where static addresses without dev go
	// (default eth0).
	DefaultInterface  string `json:"default_interface"`
	DynamicInterfaces bool   `json:"dynamic_interfaces,omitempty"`
	AllowIfChanges    bool   `json:"allow_if_changes,omitempty"`
	VMACPrefix        string `json:"vmac_prefix"`      // default "vrrp"
	VMACAddrPrefix    string `json:"vmac_addr_prefix"` // default vmac_prefix

	LVSSyncDaemon  *LVSSyncDaemon `json:"lvs_sync_daemon,omitempty"`
	LVSTimeouts    *LVSTimeouts   `json:"lvs_timeouts,omitempty"`
	LVSFlush       bool           `json:"lvs_flush,omitempty"`
	LVSFlushOnStop string         `json:"lvs_flush_on_stop,omitempty"` // "", "RS" or "VS"

	// VRRP defaults.
	VRRPVersion                 int        `json:"vrrp_version"`
	VRRPMcastGroup4             netip.Addr `json:"vrrp_mcast_group4"`
	VRRPMcastGroup6             netip.Addr `json:"vrrp_mcast_group6"`
	VRRPGARPMasterDelay         Duration   `json:"vrrp_garp_master_delay"`
	VRRPGARPMasterRepeat        int        `json:"vrrp_garp_master_repeat"`
	VRRPGARPMasterRefresh       Duration   `json:"vrrp_garp_master_refresh"`
	VRRPGARPMasterRefreshRepeat int        `json:"vrrp_garp_master_refresh_repeat"`
	VRRPGARPLowerPrioDelay      Duration   `json:"vrrp_garp_lower_prio_delay"`
	VRRPGARPLowerPrioRepeat     int        `json:"vrrp_garp_lower_prio_repeat"`
	VRRPDownTimerAdverts        int        `json:"vrrp_down_timer_adverts"` // default 3
	VRRPMinGARP                 bool       `json:"vrrp_min_garp,omitempty"`
	VRRPGARPExtraIf             Duration   `json:"vrrp_garp_extra_if,omitempty"`
	VRRPGARPExtraIfAll          bool       `json:"vrrp_garp_extra_if_all,omitempty"`
	VRRPGARPInterval            Duration   `json:"vrrp_garp_interval"`
	VRRPGNAInterval             Duration   `json:"vrrp_gna_interval"`
	VRRPLowerPrioNoAdvert       bool       `json:"vrrp_lower_prio_no_advert"`
	VRRPHigherPrioSendAdvert    bool       `json:"vrrp_higher_prio_send_advert"`
	VRRPSkipCheckAdvAddr        bool       `json:"vrrp_skip_check_adv_addr"`
	VRRPStrict                  bool       `json:"vrrp_strict"`
	// NFTables is the nftables table of the VRRP firewall rules
	// (`nftables [NAME]`, NAME "keepalived" by default; `vrrp_iptables`
	// means that default, as in keepalived built with nftables only); ""
	// when not configured, the engine then using "keepalived" if an
	// instance needs it (no_accept, strict mode).
	NFTables string `json:"nftables,omitempty"`
	// NFTablesPriority is nftables_priority, the base chains' priority;
	// nil means keepalived's -1.
	NFTablesPriority *int `json:"nftables_priority,omitempty"`
	// NFTablesIfindex (nftables_ifindex) keys IPv6 link-local VIPs by
	// interface index even with dont_track_primary.
	NFTablesIfindex bool `json:"nftables_ifindex,omitempty"`
	// NFTablesCounters (nftables_counters) adds a counter to every rule.
	NFTablesCounters    bool     `json:"nftables_counters,omitempty"`
	VRRPCheckUnicastSrc bool     `json:"vrrp_check_unicast_src"`
	VRRPStartupDelay    Duration `json:"vrrp_startup_delay"`
	VRRPNoSwap          bool     `json:"vrrp_no_swap"`
	VRRPPriority        int      `json:"vrrp_priority,omitempty"`

	// Process settings (keepalived's VRRP process; vigil's daemon applies
	// them, the engine ignores them). VRRPRTPriority is the SCHED_RR
	// priority of the engine's thread (0: not real-time);
	// VRRPRlimitRTTime its RLIMIT_RTTIME in microseconds (0: keepalived's
	// default, DefaultRlimitRTTime); VRRPCPUAffinity the CPUs of that
	// thread (empty: unchanged). MaxAutoPriority is the highest SCHED_RR
	// priority vigil raises the engine's thread to when it runs late (0:
	// never, -1: never and no notice), MinAutoPriorityDelay how late
	// (0: DefaultMinAutoPriorityDelay). CheckerNoSwap locks the process
	// in memory as VRRPNoSwap does (vigil's checkers run in it). Umask is
	// the process umask from the configuration (nil: not configured).
	VRRPRTPriority              int         `json:"vrrp_rt_priority,omitempty"`
	VRRPRlimitRTTime            uint64      `json:"vrrp_rlimit_rttime,omitempty"`
	VRRPCPUAffinity             []int       `json:"vrrp_cpu_affinity,omitempty"`
	MaxAutoPriority             int         `json:"max_auto_priority,omitempty"`
	MinAutoPriorityDelay        Duration    `json:"min_auto_priority_delay,omitempty"`
	CheckerNoSwap               bool        `json:"checker_no_swap,omitempty"`
	Umask                       *uint32     `json:"umask,omitempty"`
	VRRPNotifyFIFO              *NotifyFIFO `json:"vrrp_notify_fifo,omitempty"`
	NotifyFIFO                  *NotifyFIFO `json:"notify_fifo,omitempty"`
	LVSNotifyFIFO               *NotifyFIFO `json:"lvs_notify_fifo,omitempty"`
	VRRPNotifyPriorityChanges   bool        `json:"vrrp_notify_priority_changes,omitempty"`
	FIFOWriteVRRPStatesOnReload bool        `json:"fifo_write_vrrp_states_on_reload,omitempty"`
	RSInitNotifies              bool        `json:"rs_init_notifies,omitempty"`
	NoCheckerEmails             bool        `json:"no_checker_emails,omitempty"`
	LogUnknownVRIDs             bool        `json:"log_unknown_vrids,omitempty"`
	// VRRPRxBufsPolicy is vrrp_rx_bufs_policy's MTU or ADVERT ("" for none,
	// or a size: VRRPRxBufsSize); VRRPRxBufsMultiplier is
	// vrrp_rx_bufs_multiplier (0: keepalived's default, 3). With an
	// instance's kernel_rx_buf_size they size the VRRP sockets' receive
	// buffers.
	VRRPRxBufsPolicy     string `json:"vrrp_rx_bufs_policy,omitempty"`
	VRRPRxBufsSize       int    `json:"vrrp_rx_bufs_size,omitempty"`
	VRRPRxBufsMultiplier int    `json:"vrrp_rx_bufs_multiplier,omitempty"`

	// Scripts. ScriptUser and ScriptGroup are script_user as written;
	// both are empty when it is not configured, and the script adapter
	// then applies keepalived's default (keepalived_script if that user
	// exists, else the daemon's own user, which enable_script_security
	// refuses). The model never guesses a user: whether keepalived_script
	// exists is a fact about the host running the scripts.
	ScriptUser           string `json:"script_user,omitempty"`
	ScriptGroup          string `json:"script_group,omitempty"`
	EnableScriptSecurity bool   `json:"enable_script_security,omitempty"`
	RandomSeed           *int64 `json:"random_seed,omitempty"`

	// Other holds keywords vigil parses but does not act on, as
	// keyword → arguments joined by spaces, in config order.
	Other []KeyValue `json:"other,omitempty"`
}

// Default values keepalived documents for global_defs.
const (
	DefaultInterface = "eth0"
	// DefaultRlimitRTTime is keepalived's RLIMIT_RTTIME (microseconds)
	// for a real-time process; DefaultMinAutoPriorityDelay its
	// min_auto_priority_delay.
	DefaultRlimitRTTime         = 10000
	DefaultMinAutoPriorityDelay = Duration(time.Second)
	DefaultVMACPrefix           = "vrrp"
	DefaultSMTPPort             = 25
	DefaultLVSSyncPort          = 8848
	DefaultVRRPVersion          = 2
	DefaultPriority             = 100
	OwnerPriority               = 255
	DefaultGARPRepeat           = 5
	DefaultDownAdverts          = 3
	DefaultUnicastTTL           = 255
	DefaultLVSScheduler         = "wlc"
)

// LVSSyncDaemon is global_defs lvs_sync_daemon.
type LVSSyncDaemon struct {
	Interface string     `json:"interface"`
	Instance  string     `json:"inst,omitempty"`
	SyncID    *int       `json:"id,omitempty"` // default: the instance's VRID, or 0
	MaxLen    int        `json:"maxlen,omitempty"`
	Port      int        `json:"port"` // default 8848
	TTL       int        `json:"ttl,omitempty"`
	Group     netip.Addr `json:"group,omitzero"`
}

// LVSTimeouts is global_defs lvs_timeouts; nil fields are left unchanged.
type LVSTimeouts struct {
	TCP    *Duration `json:"tcp,omitempty"`
	TCPFin *Duration `json:"tcpfin,omitempty"`
	UDP    *Duration `json:"udp,omitempty"`
}

// KeyValue is a keyword with its raw arguments.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// NotifyFIFO is a notify FIFO and its optional reader script.
type NotifyFIFO struct {
	Path   string  `json:"path"`
	User   string  `json:"user,omitempty"`
	Group  string  `json:"group,omitempty"`
	Script *Script `json:"script,omitempty"`
}

// Script is a command line as keepalived would run it: split into argv
// (quoted words kept whole), with the user and group to run it as.
type Script struct {
	// Raw is the command line as written.
	Raw   string   `json:"raw"`
	Argv  []string `json:"argv"`
	User  string   `json:"user,omitempty"`
	Group string   `json:"group,omitempty"`
}

// VRRPScript is a vrrp_script block (a track script).
type VRRPScript struct {
	Pos      Pos      `json:"-"`
	Name     string   `json:"name"`
	Script   Script   `json:"script"`
	Interval Duration `json:"interval"` // default 1 s
	Timeout  Duration `json:"timeout"`  // default: interval
	Weight   int      `json:"weight"`
	// WeightReverse is `weight N reverse`.
	WeightReverse bool `json:"weight_reverse,omitempty"`
	Rise          int  `json:"rise"` // default 1
	Fall          int  `json:"fall"` // default 1
	InitFail      bool `json:"init_fail,omitempty"`
}

// TrackFile is a track_file (or legacy vrrp_track_file) block.
type TrackFile struct {
	Pos           Pos    `json:"-"`
	Name          string `json:"name"`
	File          string `json:"file"`
	Weight        int    `json:"weight"` // default 1
	WeightReverse bool   `json:"weight_reverse,omitempty"`
	// InitFile is `init_file [VALUE] [overwrite]`.
	InitFile      bool  `json:"init_file,omitempty"`
	InitValue     int64 `json:"init_value,omitempty"`
	InitOverwrite bool  `json:"init_overwrite,omitempty"`
}

// TrackProcess is a vrrp_track_process block.
type TrackProcess struct {
	Pos            Pos      `json:"-"`
	Name           string   `json:"name"`
	Process        string   `json:"process"`
	Params         []string `json:"param,omitempty"`
	ParamMatch     string   `json:"param_match,omitempty"` // initial|partial|exact
	Weight         int      `json:"weight"`
	WeightReverse  bool     `json:"weight_reverse,omitempty"`
	Quorum         int      `json:"quorum"`     // default 1
	QuorumMax      int      `json:"quorum_max"` // default 0: unlimited
	ForkDelay      Duration `json:"fork_delay,omitempty"`
	TerminateDelay Duration `json:"terminate_delay,omitempty"`
	FullCommand    bool     `json:"full_command,omitempty"`
}

// BFDInstance is a bfd_instance block.
type BFDInstance struct {
	Pos        Pos        `json:"-"`
	Name       string     `json:"name"`
	Neighbor   netip.Addr `json:"neighbor_ip"`
	Source     netip.Addr `json:"source_ip,omitzero"`
	MinRx      Duration   `json:"min_rx,omitempty"`
	MinTx      Duration   `json:"min_tx,omitempty"`
	IdleTx     Duration   `json:"idle_tx,omitempty"`
	Multiplier int        `json:"multiplier,omitempty"`
	Passive    bool       `json:"passive,omitempty"`
	TTL        int        `json:"ttl,omitempty"`
	MaxHops    int        `json:"max_hops,omitempty"`
	Weight     int        `json:"weight,omitempty"`
	Other      []KeyValue `json:"other,omitempty"`
	// Hoplimit is the IPv6 hop limit (default 64; TTL, default 255,
	// applies to IPv4 neighbours).
	Hoplimit      int  `json:"hoplimit,omitempty"`
	WeightReverse bool `json:"weight_reverse,omitempty"`
	// VRRPOnly and CheckerOnly restrict event delivery to one process
	// (`vrrp` / `checker` keywords).
	VRRPOnly    bool `json:"vrrp,omitempty"`
	CheckerOnly bool `json:"checker,omitempty"`
	// Multihop runs the session on UDP port 4784 (RFC 5883) instead of
	// 3784 (keepalived 2.2.8's multihop keyword).
	Multihop bool `json:"multihop,omitempty"`
}

// TrackGroup is a track_group block: static addresses/routes/rules that
// follow a set of VRRP instances.
type TrackGroup struct {
	Pos   Pos      `json:"-"`
	Name  string   `json:"name"`
	Group []string `json:"group"`
}

// GARPGroup is a garp_group block.
type GARPGroup struct {
	Pos         Pos      `json:"-"`
	Interval    Duration `json:"garp_interval,omitempty"`
	GNAInterval Duration `json:"gna_interval,omitempty"`
	Interface   string   `json:"interface,omitempty"`
	Interfaces  []string `json:"interfaces,omitempty"`
}

// SyncGroup is a vrrp_sync_group block.
type SyncGroup struct {
	Pos                     Pos        `json:"-"`
	Name                    string     `json:"name"`
	Group                   []string   `json:"group"`
	Notify                  Notifies   `json:"notify"`
	TrackInterfaces         []TrackRef `json:"track_interface,omitempty"`
	TrackScripts            []TrackRef `json:"track_script,omitempty"`
	TrackFiles              []TrackRef `json:"track_file,omitempty"`
	TrackProcesses          []TrackRef `json:"track_process,omitempty"`
	TrackBFDs               []TrackRef `json:"track_bfd,omitempty"`
	SMTPAlert               bool       `json:"smtp_alert,omitempty"`
	GlobalTracking          bool       `json:"global_tracking,omitempty"`
	SyncGroupTrackingWeight bool       `json:"sync_group_tracking_weight,omitempty"`
	// NotifyPriorityChanges is nil when unset (members then use the
	// global vrrp_notify_priority_changes).
	NotifyPriorityChanges *bool `json:"notify_priority_changes,omitempty"`
}

// Notifies are the notify scripts of an instance or sync group.
type Notifies struct {
	Master           *Script `json:"notify_master,omitempty"`
	Backup           *Script `json:"notify_backup,omitempty"`
	Fault            *Script `json:"notify_fault,omitempty"`
	Stop             *Script `json:"notify_stop,omitempty"`
	Deleted          *Script `json:"notify_deleted,omitempty"`
	Notify           *Script `json:"notify,omitempty"`
	MasterRxLowerPri *Script `json:"notify_master_rx_lower_pri,omitempty"`
	// SendDeleted is notify_deleted (with or without a script): report
	// DELETED rather than FAULT when an instance is removed on reload.
	SendDeleted bool `json:"send_deleted,omitempty"`
}

// TrackRef is one line of a track_* block: a name (interface, script, file,
// process or BFD instance) and an optional weight.
type TrackRef struct {
	Name string `json:"name"`
	// Weight is nil when the line gives none (the tracked object's own
	// default weight applies).
	Weight  *int `json:"weight,omitempty"`
	Reverse bool `json:"reverse,omitempty"`
	Pos     Pos  `json:"-"`
}

// UnicastPeer is one unicast_peer line.
type UnicastPeer struct {
	Addr   netip.Addr `json:"addr"`
	MinTTL int        `json:"min_ttl,omitempty"`
	MaxTTL int        `json:"max_ttl,omitempty"`
}

// Instance is a vrrp_instance block. Fields hold the effective values: the
// parser applies global defaults (vrrp_version, garp settings, ...).
type Instance struct {
	Pos  Pos    `json:"-"`
	Name string `json:"name"`
	// State is the configured initial state: "MASTER" or "BACKUP" ("" if unset).
	State     string `json:"state,omitempty"`
	Interface string `json:"interface,omitempty"`
	VRF       string `json:"vrf,omitempty"`

	UseVMAC bool `json:"use_vmac,omitempty"`
	// VMACName is the VMAC interface's name: use_vmac's, else the one
	// the parser gives it as keepalived does (vmac_prefix.VRID, made
	// unique). VMACAddr is use_vmac's MAC address (6 octets), if given.
	VMACName     string `json:"vmac_name,omitempty"`
	VMACAddr     string `json:"vmac_addr,omitempty"`
	UseVMACAddr  bool   `json:"use_vmac_addr,omitempty"`
	VMACXmitBase bool   `json:"vmac_xmit_base,omitempty"`
	NativeIPv6   bool   `json:"native_ipv6,omitempty"`
	// Family is 4 or 6, derived from the virtual addresses (or native_ipv6).
	Family int `json:"family"`
	// SyncGroup is the vrrp_sync_group this instance belongs to, if any.
	SyncGroup string `json:"sync_group,omitempty"`

	// use_ipvlan [NAME] [ADDRESS] [bridge|private|vepa]
	UseIPVLAN  bool         `json:"use_ipvlan,omitempty"`
	IPVLANName string       `json:"ipvlan_name,omitempty"`
	IPVLANAddr netip.Prefix `json:"ipvlan_addr,omitzero"`
	IPVLANMode string       `json:"ipvlan_mode,omitempty"`
	// LinkbeatUsePolling is the deprecated per-instance linkbeat_use_polling.
	LinkbeatUsePolling bool `json:"linkbeat_use_polling,omitempty"`

	DontTrackPrimary bool       `json:"dont_track_primary,omitempty"`
	TrackInterfaces  []TrackRef `json:"track_interface,omitempty"`
	TrackScripts     []TrackRef `json:"track_script,omitempty"`
	TrackFiles       []TrackRef `json:"track_file,omitempty"`
	TrackProcesses   []TrackRef `json:"track_process,omitempty"`
	TrackBFDs        []TrackRef `json:"track_bfd,omitempty"`

	McastSrcIP         netip.Addr    `json:"mcast_src_ip,omitzero"`
	UnicastSrcIP       netip.Addr    `json:"unicast_src_ip,omitzero"`
	McastDstIP         netip.Addr    `json:"mcast_dst_ip,omitzero"`
	TrackSrcIP         bool          `json:"track_src_ip,omitempty"`
	UnicastPeers       []UnicastPeer `json:"unicast_peer,omitempty"`
	CheckUnicastSrc    bool          `json:"check_unicast_src,omitempty"`
	UnicastFaultNoPeer bool          `json:"unicast_fault_no_peer,omitempty"`
	UnicastTTL         int           `json:"unicast_ttl"` // default 255
	OldUnicastChecksum bool          `json:"old_unicast_checksum,omitempty"`
	// OldUnicastChecksumNever is `old_unicast_checksum never`: no
	// automatic detection of the pre-1.3.6 checksum.
	OldUnicastChecksumNever bool `json:"old_unicast_checksum_never,omitempty"`

	Version  int `json:"version"` // 2 or 3
	VRID     int `json:"virtual_router_id"`
	Priority int `json:"priority"` // default 100
	// AdvertInt is the advertisement interval (v2 whole seconds; v3 in
	// centisecond steps).
	AdvertInt        Duration `json:"advert_int"`
	DownTimerAdverts int      `json:"down_timer_adverts"` // default 3

	AuthType string `json:"auth_type,omitempty"` // "", "PASS" or "AH"
	AuthPass string `json:"auth_pass,omitempty"` // at most 8 bytes

	VirtualIPAddresses         []Address `json:"virtual_ipaddress"`
	VirtualIPAddressesExcluded []Address `json:"virtual_ipaddress_excluded,omitempty"`
	VirtualRoutes              []Route   `json:"virtual_routes,omitempty"`
	VirtualRules               []Rule    `json:"virtual_rules,omitempty"`
	PromoteSecondaries         bool      `json:"promote_secondaries,omitempty"`

	// Accept is the effective accept mode (accept / no_accept / strict).
	Accept           bool     `json:"accept"`
	NoPreempt        bool     `json:"nopreempt,omitempty"`
	PreemptDelay     Duration `json:"preempt_delay,omitempty"`
	SkipCheckAdvAddr bool     `json:"skip_check_adv_addr,omitempty"`
	StrictMode       bool     `json:"strict_mode,omitempty"`

	GARPMasterDelay         Duration `json:"garp_master_delay"`
	GARPMasterRepeat        int      `json:"garp_master_repeat"`
	GARPMasterRefresh       Duration `json:"garp_master_refresh,omitempty"`
	GARPMasterRefreshRepeat int      `json:"garp_master_refresh_repeat"`
	GARPLowerPrioDelay      Duration `json:"garp_lower_prio_delay"`
	GARPLowerPrioRepeat     int      `json:"garp_lower_prio_repeat"`
	GARPInterval            Duration `json:"garp_interval,omitempty"`
	GNAInterval             Duration `json:"gna_interval,omitempty"`
	// GARPExtraIf is garp_extra_if (periodic GARP/NA on VIP interfaces
	// other than the instance's own; 0 = off); All extends it from VMACs
	// to every interface.
	GARPExtraIf          Duration `json:"garp_extra_if,omitempty"`
	GARPExtraIfAll       bool     `json:"garp_extra_if_all,omitempty"`
	LowerPrioNoAdvert    bool     `json:"lower_prio_no_advert,omitempty"`
	HigherPrioSendAdvert bool     `json:"higher_prio_send_advert,omitempty"`

	Notify                Notifies `json:"notify"`
	NotifyPriorityChanges bool     `json:"notify_priority_changes,omitempty"`
	SMTPAlert             bool     `json:"smtp_alert,omitempty"`
	Debug                 int      `json:"debug,omitempty"`
	KernelRxBufSize       int      `json:"kernel_rx_buf_size,omitempty"`

	Other []KeyValue `json:"other,omitempty"`
}

// Address is one virtual_ipaddress / virtual_ipaddress_excluded /
// static_ipaddress line, with the options of `ip address add`.
type Address struct {
	Prefix    netip.Prefix `json:"address"`
	Broadcast netip.Addr   `json:"brd,omitzero"`
	Dev       string       `json:"dev,omitempty"`
	UseVMAC   bool         `json:"use_vmac,omitempty"`
	// VMAC is the VMAC interface the address is added to when it needs
	// one of its own (use_vmac on the address, or the instance's
	// use_vmac_addr): a private macvlan on Dev (or on the instance's
	// interface) with the instance's virtual MAC for the address's
	// family. The parser names it, as keepalived does.
	VMAC  string       `json:"vmac,omitempty"`
	Scope string       `json:"scope,omitempty"`
	Label string       `json:"label,omitempty"`
	Peer  netip.Prefix `json:"peer,omitzero"`
	Home  bool         `json:"home,omitempty"`
	// NoDAD is the effective IFA_F_NODAD: keepalived sets it on every
	// IPv6 address it adds unless the line says -nodad; never on IPv4.
	NoDAD         bool `json:"nodad,omitempty"`
	MngTmpAddr    bool `json:"mngtmpaddr,omitempty"`
	NoPrefixRoute bool `json:"noprefixroute,omitempty"`
	AutoJoin      bool `json:"autojoin,omitempty"`
	NoTrack       bool `json:"no_track,omitempty"`
	// PreferredLft is nil when unset; -1 means forever.
	PreferredLft *int64 `json:"preferred_lft,omitempty"`
	TrackGroup   string `json:"track_group,omitempty"`
}

// Route is one virtual_routes / static_routes line, with the options of
// `ip route add` as keepalived reads them. Every option is typed and
// resolved at load (names from rt_tables, rt_realms, rt_dsfield,
// rt_protos and rt_scopes become numbers or names every system knows),
// so applying a route cannot fail on its syntax and a journal replays on
// any machine.
type Route struct {
	// Type is "" (unicast) or a route type's name (blackhole,
	// unreachable, prohibit, throw, local, ...) or number.
	Type string       `json:"type,omitempty"`
	Src  netip.Addr   `json:"src,omitzero"`
	Dst  netip.Prefix `json:"to"`
	// From is the source prefix of an IPv6 source-specific route.
	From netip.Prefix `json:"from,omitzero"`
	Via  netip.Addr   `json:"via,omitzero"`
	Or   netip.Addr   `json:"or,omitzero"`
	Dev  string       `json:"dev,omitempty"`
	// Scope and Protocol are a name every system knows (see package
	// internal/rtnames) or a number.
	Scope string `json:"scope,omitempty"`
	// Table is the routing table's number (0: main).
	Table      int    `json:"table,omitempty"`
	Metric     int    `json:"metric,omitempty"`
	Protocol   string `json:"protocol,omitempty"`
	NoTrack    bool   `json:"no_track,omitempty"`
	TrackGroup string `json:"track_group,omitempty"`
	// TableName is the table's name as written when it was not a number;
	// Table holds its number from rt_tables.
	TableName string `json:"table_name,omitempty"`
	// VRF is the VRF device named by `vrf`; Table holds its table when
	// the configuration was loaded with a VRF resolver (vigil run),
	// else the executor looks it up.
	VRF    string `json:"vrf,omitempty"`
	Family int    `json:"family,omitempty"`
	// Add (NLM_F_EXCL: fail if the route exists) and Append
	// (NLM_F_APPEND) change how the route is added; neither is
	// keepalived's default, prepend.
	Add      bool      `json:"add,omitempty"`
	Append   bool      `json:"append,omitempty"`
	OnLink   bool      `json:"onlink,omitempty"`
	Nexthops []Nexthop `json:"nexthop,omitempty"`
	// Tos is the DS field (tos/dsfield).
	Tos int `json:"tos,omitempty"`
	// Realms is RTA_FLOW: the source realm in the upper 16 bits.
	Realms uint32 `json:"realms,omitempty"`
	// Metrics are the RTA_METRICS values, in kernel units (rtt in
	// 1/8 ms, rttvar in 1/4 ms, rto_min in ms; features is a bit mask).
	Metrics []RouteMetric `json:"metrics,omitempty"`
	// Congctl is the congestion control algorithm (RTAX_CC_ALGO).
	Congctl     string `json:"congctl,omitempty"`
	CongctlLock bool   `json:"congctl_lock,omitempty"`
	// Pref is the IPv6 router preference (RTA_PREF: 0 medium, 1 high,
	// 3 low); nil when unset.
	Pref *int `json:"pref,omitempty"`
	// Expires is the IPv6 route's lifetime in seconds (RTA_EXPIRES);
	// nil when unset.
	Expires *int `json:"expires,omitempty"`
}

// RouteMetric is one RTA_METRICS value of a route. Name is the keyword
// (mtu, advmss, rtt, rttvar, reordering, window, cwnd, ssthresh,
// rto_min, initcwnd, initrwnd, hoplimit, features, quickack,
// fastopen_no_cookie).
type RouteMetric struct {
	Name  string `json:"name"`
	Value uint32 `json:"value"`
	Lock  bool   `json:"lock,omitempty"`
}

// Nexthop is one `nexthop` of a multipath route.
type Nexthop struct {
	Via    netip.Addr `json:"via,omitzero"`
	Dev    string     `json:"dev,omitempty"`
	Weight int        `json:"weight,omitempty"`
	OnLink bool       `json:"onlink,omitempty"`
	Realms uint32     `json:"realms,omitempty"`
}

// Rule is one virtual_rules / static_rules line, with the options of
// `ip rule add` as keepalived reads them, typed and resolved at load.
type Rule struct {
	From     netip.Prefix `json:"from,omitzero"`
	To       netip.Prefix `json:"to,omitzero"`
	Family   int          `json:"family,omitempty"`
	Priority int          `json:"priority,omitempty"`
	// Table is the routing table's number (0: main for a lookup rule).
	Table int `json:"table,omitempty"`
	// FwMark is MARK or MARK/MASK, numbers as C's strtoul reads them.
	FwMark string `json:"fwmark,omitempty"`
	IIf    string `json:"iif,omitempty"`
	OIf    string `json:"oif,omitempty"`
	// Action is "" (look up Table), goto (to the rule at preference
	// Goto), nop, blackhole, unreachable or prohibit.
	Action     string `json:"action,omitempty"`
	NoTrack    bool   `json:"no_track,omitempty"`
	TrackGroup string `json:"track_group,omitempty"`
	// TableName is the table's name as written when it was not a number.
	TableName string `json:"table_name,omitempty"`
	Goto      int    `json:"goto,omitempty"`
	// Not inverts the selector (FIB_RULE_INVERT).
	Not bool `json:"not,omitempty"`
	// PrioritySet distinguishes an explicit preference 0 from none
	// (keepalived then assigns one, with a warning).
	PrioritySet bool `json:"priority_set,omitempty"`
	// L3MDev looks up the table of the VRF the packet's interface
	// belongs to (FRA_L3MDEV).
	L3MDev bool `json:"l3mdev,omitempty"`
	// Tos is the DS field to match (tos/dsfield).
	Tos int `json:"tos,omitempty"`
	// Realms is FRA_FLOW: the source realm in the upper 16 bits.
	Realms               uint32 `json:"realms,omitempty"`
	SuppressPrefixLength *int   `json:"suppress_prefixlength,omitempty"`
	SuppressIfGroup      *int   `json:"suppress_ifgroup,omitempty"`
	TunnelID             uint64 `json:"tunnel_id,omitempty"`
	UIDRange             *Range `json:"uidrange,omitempty"`
	SPort                *Range `json:"sport,omitempty"`
	DPort                *Range `json:"dport,omitempty"`
	IPProto              int    `json:"ipproto,omitempty"`
	// Protocol is FRA_PROTOCOL: keepalived's own (18) for a tracked
	// rule, whatever the line says.
	Protocol int `json:"protocol,omitempty"`
}

// Range is an inclusive range of ports or user ids.
type Range struct {
	Start uint32 `json:"start"`
	End   uint32 `json:"end"`
}
