// Package effects is vigil's output vocabulary: everything the engine wants
// done in the world — send an advert, add an address, send gratuitous ARPs,
// set a timer, run a script — is one of the typed effects defined here.
// Adapters execute effects; the simulator executes them against its model of
// the world; the journal records them.
//
// Order: the effects of one Step are listed in the order they must take
// effect, and whoever executes them keeps that order between dependent
// effects:
//
//   - The kernel effects (AddAddress, DelAddress, AddRoute, DelRoute,
//     AddRule, DelRule, CreateVMAC, DeleteVMAC, AddFirewallVIPs,
//     DelFirewallVIPs, AddFirewallVMAC, DelFirewallVMAC, RemoveFirewall)
//     and the announcements
//     (SendGARP, SendNA) form one ordered stream, across Steps too: each is
//     applied only after every one of them emitted before it has been
//     applied. Hence a CreateVMAC precedes the addresses on that VMAC and
//     any announcement sent on it; an AddAddress precedes the SendGARP or
//     SendNA that announces it, so no neighbour is told to send traffic to
//     an address the interface does not hold yet; routes and rules follow
//     the addresses emitted before them, and deletions keep their order.
//     An address of a no_accept instance enters its drop set
//     (AddFirewallVIPs) before it is added, and leaves it
//     (DelFirewallVIPs) after it is deleted: it is never held unfiltered.
//     A VMAC enters the IGMP/MLD objects (AddFirewallVMAC) after it is
//     created, and leaves them (DelFirewallVMAC) after it is deleted.
//   - An announcement's first frame follows its address; its repeats
//     (Count frames, Interval apart) are sent asynchronously after it and
//     do not hold up the stream.
//   - The network effects (SendAdvert, SendBFD, JoinGroup, LeaveGroup,
//     CloseSockets) are executed at once, in emitted order among
//     themselves, and are never delayed by kernel work: an advert may
//     leave before an address emitted ahead of it in the same Step is
//     configured (harmless: an advert draws no traffic to a virtual
//     address), and a slow netlink (RTNL contention, thousands of
//     addresses) never delays an advert or the engine.
//   - Timers, scripts, checks, SetIPVS, IPVSSyncDaemon, email alerts
//     (SendMail) and the informational effects (StateChanged,
//     BFDStateChanged, Log, Count) have no order relative to the kernel
//     stream (the IPVS effects keep their order among themselves: a sync
//     daemon stops before its successor starts). A SendMail follows the
//     Notify of the same transition.
//
// Ownership: the engine may reuse effect values between calls to Step to
// stay allocation-free. An effect returned by Step is valid until the next
// Step; a consumer that keeps it (the simulator's delivery queue, an
// executor's queue) must keep a Clone.
package effects

import (
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// Kind identifies an effect's type. Values are stable: they are written to
// journals and must never be renumbered.
type Kind uint8

// Effect kinds. Append only.
const (
	KindSendAdvert   Kind = 1
	KindAddAddress   Kind = 2
	KindDelAddress   Kind = 3
	KindAddRoute     Kind = 4
	KindDelRoute     Kind = 5
	KindAddRule      Kind = 6
	KindDelRule      Kind = 7
	KindCreateVMAC   Kind = 8
	KindDeleteVMAC   Kind = 9
	KindSendGARP     Kind = 10
	KindSendNA       Kind = 11
	KindSetTimer     Kind = 12
	KindCancelTimer  Kind = 13
	KindRunScript    Kind = 14
	KindNotify       Kind = 15
	KindCount        Kind = 16
	KindStateChanged Kind = 17
	KindLog          Kind = 18
	KindSetIPVS      Kind = 19
	KindJoinGroup    Kind = 20
	KindLeaveGroup   Kind = 21
	// KindRunCheck and KindCheckStateChanged belong to the LVS part
	// (engine/lvs).
	KindRunCheck          Kind = 22
	KindCheckStateChanged Kind = 23
	KindCloseSockets      Kind = 24
	KindReconcileIPVS     Kind = 25
	// The firewall half of no_accept and strict mode (nftables).
	KindAddFirewallVIPs Kind = 26
	KindDelFirewallVIPs Kind = 27
	KindRemoveFirewall  Kind = 28
	KindSetIPVSTimeouts Kind = 29
	KindSendMail        Kind = 30
	KindIPVSSyncDaemon  Kind = 31
	// BFD (engine/bfd).
	KindSendBFD         Kind = 32
	KindBFDStateChanged Kind = 33
	// An interface setting (engine/vrrp).
	KindSetPromoteSecondaries Kind = 34
	// A VMAC's multicast-report redirection in the firewall table.
	KindAddFirewallVMAC Kind = 35
	KindDelFirewallVMAC Kind = 36
)

var kindNames = [...]string{
	KindSendAdvert:            "SendAdvert",
	KindAddAddress:            "AddAddress",
	KindDelAddress:            "DelAddress",
	KindAddRoute:              "AddRoute",
	KindDelRoute:              "DelRoute",
	KindAddRule:               "AddRule",
	KindDelRule:               "DelRule",
	KindCreateVMAC:            "CreateVMAC",
	KindDeleteVMAC:            "DeleteVMAC",
	KindSendGARP:              "SendGARP",
	KindSendNA:                "SendNA",
	KindSetTimer:              "SetTimer",
	KindCancelTimer:           "CancelTimer",
	KindRunScript:             "RunScript",
	KindNotify:                "Notify",
	KindCount:                 "Count",
	KindStateChanged:          "StateChanged",
	KindLog:                   "Log",
	KindSetIPVS:               "SetIPVS",
	KindJoinGroup:             "JoinGroup",
	KindLeaveGroup:            "LeaveGroup",
	KindRunCheck:              "RunCheck",
	KindCheckStateChanged:     "CheckStateChanged",
	KindCloseSockets:          "CloseSockets",
	KindReconcileIPVS:         "ReconcileIPVS",
	KindAddFirewallVIPs:       "AddFirewallVIPs",
	KindDelFirewallVIPs:       "DelFirewallVIPs",
	KindRemoveFirewall:        "RemoveFirewall",
	KindSetIPVSTimeouts:       "SetIPVSTimeouts",
	KindSendMail:              "SendMail",
	KindIPVSSyncDaemon:        "IPVSSyncDaemon",
	KindSendBFD:               "SendBFD",
	KindBFDStateChanged:       "BFDStateChanged",
	KindSetPromoteSecondaries: "SetPromoteSecondaries",
	KindAddFirewallVMAC:       "AddFirewallVMAC",
	KindDelFirewallVMAC:       "DelFirewallVMAC",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Effect is implemented by every effect type. Effects are passed by pointer.
type Effect interface {
	// EffectKind reports the effect's type.
	EffectKind() Kind
}

// State is a VRRP instance or sync group state.
type State uint8

// VRRP states, numbered as keepalived numbers them in its dumps.
const (
	StateInit    State = 0
	StateBackup  State = 1
	StateMaster  State = 2
	StateFault   State = 3
	StateStop    State = 97 // keepalived's VRRP_STATE_STOP
	StateDeleted State = 98 // removed by a reload
)

func (s State) String() string {
	switch s {
	case StateInit:
		return "INIT"
	case StateBackup:
		return "BACKUP"
	case StateMaster:
		return "MASTER"
	case StateFault:
		return "FAULT"
	case StateStop:
		return "STOP"
	case StateDeleted:
		return "DELETED"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// SendAdvert transmits one VRRP advertisement.
type SendAdvert struct {
	Instance  string `json:"instance"`
	Interface string `json:"interface"`
	// VMAC, when set, is the macvlan interface to send from (use_vmac
	// without vmac_xmit_base).
	VMAC     string `json:"vmac,omitempty"`
	Version  uint8  `json:"version"`
	VRID     uint8  `json:"vrid"`
	Priority uint8  `json:"priority"`
	// Interval in centiseconds (v2: whole seconds × 100).
	Interval uint16       `json:"interval"`
	Addrs    []netip.Addr `json:"addrs"`
	// AuthType and AuthData are VRRPv2 authentication (0 none, 1 PASS, 2 AH).
	AuthType uint8   `json:"auth_type,omitempty"`
	AuthData [8]byte `json:"auth_data,omitempty"`
	// Src is the source address (mcast_src_ip / unicast_src_ip, or the
	// interface's primary address when unset: the adapter resolves it).
	Src netip.Addr `json:"src,omitempty"`
	// Dst holds the multicast group, or the unicast peers.
	Dst []netip.Addr `json:"dst"`
	TTL uint8        `json:"ttl"`
	// Checksum selects the VRRPv3 IPv4 checksum computation
	// (old_unicast_checksum, v3_checksum_as_v2, or keepalived's automatic
	// switch after receiving an old-style checksum).
	Checksum events.ChecksumKind `json:"checksum,omitempty"`
	// ChecksumGroup is the pseudo-header destination for
	// events.ChecksumOldUnicast: vrrp_mcast_group4, 224.0.0.18 when unset.
	ChecksumGroup netip.Addr `json:"checksum_group,omitempty"`
}

// AddAddress configures a virtual address (VIP or eVIP or static address).
type AddAddress struct {
	Instance string       `json:"instance,omitempty"`
	Address  conf.Address `json:"address"`
	// Interface is the interface to use when Address.Dev is empty: the
	// instance's interface, or its VMAC.
	Interface string `json:"interface,omitempty"`
}

// DelAddress removes a virtual address.
type DelAddress struct {
	Instance string       `json:"instance,omitempty"`
	Address  conf.Address `json:"address"`
	// Interface is the interface to use when Address.Dev is empty: the
	// instance's interface, or its VMAC.
	Interface string `json:"interface,omitempty"`
}

// AddRoute installs a virtual or static route.
type AddRoute struct {
	Instance string     `json:"instance,omitempty"`
	Route    conf.Route `json:"route"`
}

// DelRoute removes a virtual or static route.
type DelRoute struct {
	Instance string     `json:"instance,omitempty"`
	Route    conf.Route `json:"route"`
}

// AddRule installs a virtual or static policy routing rule.
type AddRule struct {
	Instance string    `json:"instance,omitempty"`
	Rule     conf.Rule `json:"rule"`
}

// DelRule removes a virtual or static policy routing rule.
type DelRule struct {
	Instance string    `json:"instance,omitempty"`
	Rule     conf.Rule `json:"rule"`
}

// CreateVMAC creates a macvlan interface in private mode with the VRRP
// virtual MAC (use_vmac).
type CreateVMAC struct {
	Instance string `json:"instance"`
	Name     string `json:"name"`
	Parent   string `json:"parent"`
	// MAC is 00:00:5e:00:01:VRID (IPv4) or 00:00:5e:00:02:VRID (IPv6).
	MAC string `json:"mac"`
}

// DeleteVMAC removes a macvlan interface created by CreateVMAC.
type DeleteVMAC struct {
	Instance string `json:"instance"`
	Name     string `json:"name"`
}

// SendGARP sends gratuitous ARP requests ("who-has A tell A" to broadcast)
// for an IPv4 address.
type SendGARP struct {
	Instance  string     `json:"instance,omitempty"`
	Interface string     `json:"interface"`
	Addr      netip.Addr `json:"addr"`
	// Count packets, Interval apart. The engine sets Interval 0: the
	// GARP delays (vrrp_garp_interval, garp_group) are its own timers,
	// each delayed packet a SendGARP of Count 1.
	Count    int           `json:"count"`
	Interval time.Duration `json:"interval"`
}

// SendNA sends unsolicited neighbour advertisements for an IPv6 address.
type SendNA struct {
	Instance  string        `json:"instance,omitempty"`
	Interface string        `json:"interface"`
	Addr      netip.Addr    `json:"addr"`
	Count     int           `json:"count"`
	Interval  time.Duration `json:"interval"`
}

// SetTimer arms (or re-arms) the timer Key to fire at At. A TimerFired event
// with the same key reports its expiry. Setting an armed timer replaces it.
// The key is opaque outside the engine: engine.Engine.Timer says what it
// is for and whose it is.
type SetTimer struct {
	Key string      `json:"key"`
	At  events.Time `json:"at"`
}

// CancelTimer disarms the timer Key; cancelling an unarmed timer is a no-op.
type CancelTimer struct {
	Key string `json:"key"`
}

// RunScript runs a track script (vrrp_script), or global_defs'
// startup_script or shutdown_script (Phase). Its outcome returns as a
// ScriptResult event with the same Script and Phase. The executor never
// runs two instances of one script at once. A timed-out script gets
// SIGTERM, then SIGKILL.
type RunScript struct {
	Script  string        `json:"script"`
	Command []string      `json:"command"`
	Timeout time.Duration `json:"timeout"`
	User    string        `json:"user,omitempty"`
	Group   string        `json:"group,omitempty"`
	// Phase is PhaseStartup or PhaseShutdown for those scripts, "" for a
	// track script. The engine starts VRRP and the checkers once the
	// startup script has ended; the driver runs the shutdown script once
	// every effect before it has been applied, and waits for it.
	Phase string `json:"phase,omitempty"`
}

// The phases of RunScript and events.ScriptResult.
const (
	PhaseStartup  = "startup"
	PhaseShutdown = "shutdown"
)

// Notify reports a state transition to the outside world: the scripts to
// run, with keepalived's exact arguments, and the line to write to notify
// FIFOs.
type Notify struct {
	// Type is "INSTANCE" or "GROUP" (or "VS"/"RS" for LVS).
	Type  string `json:"type"`
	Name  string `json:"name"`
	State string `json:"state"`
	// Priority is the priority reported (keepalived reports the effective
	// priority; 0 for groups).
	Priority int `json:"priority"`
	// Scripts are the commands to run, in order, each already split into
	// argv as keepalived would; keepalived forks them concurrently.
	Scripts [][]string `json:"scripts,omitempty"`
	// Users are the credentials of each script, parallel to Scripts: in
	// keepalived every notify script (notify_master, notify, ...) has its
	// own user and group, else script_user's. An entry with no User means
	// the default script user (the adapter resolves it); a missing entry
	// means User and Group below.
	Users []ScriptCred `json:"users,omitempty"`
	// User and Group are the credentials of the first script (the
	// instance's own notify_<state> if any, else `notify`), and of any
	// script without its own Users entry.
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`
	// FIFOLine is the line for notify_fifo / vrrp_notify_fifo, without the
	// newline, e.g. `INSTANCE "VI_1" MASTER 100`. LVS lines go to
	// notify_fifo and lvs_notify_fifo: `VS [10.0.0.1]:tcp:80 UP`,
	// `RS [10.0.1.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN`.
	FIFOLine string `json:"fifo_line"`
	// SMTPAlert records that the block has smtp_alert set. The email
	// itself, when one is due, is a SendMail effect of the same Step.
	SMTPAlert bool `json:"smtp_alert,omitempty"`
}

// ScriptCred is the user and group a script runs as (the script's own
// `user group` after its command, else script_user). An empty Group
// means the user's primary group.
type ScriptCred struct {
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`
}

// Cred returns the credentials script k of the notification runs with.
func (n *Notify) Cred(k int) ScriptCred {
	if k >= 0 && k < len(n.Users) {
		return n.Users[k]
	}
	return ScriptCred{User: n.User, Group: n.Group}
}

// Count increments one of keepalived's per-instance statistics.
type Count struct {
	Instance string  `json:"instance"`
	Counter  Counter `json:"counter"`
	Delta    int     `json:"delta"`
}

// StateChanged records an instance's or sync group's transition. It changes
// nothing in the world; it feeds timelines, the simulator and `explain`.
type StateChanged struct {
	Instance string `json:"instance"`
	From     State  `json:"from"`
	To       State  `json:"to"`
	Priority int    `json:"priority"`
	// Reason names the rule that fired, e.g. "master-down-timer",
	// "higher-priority-advert", "priority-0-advert", "interface-down".
	Reason string `json:"reason"`
}

// Log is a message for the operator, as keepalived would log it.
type Log struct {
	Level    LogLevel `json:"level"`
	Instance string   `json:"instance,omitempty"`
	Message  string   `json:"message"`
}

// JoinGroup asks the network adapter to receive VRRP on an interface: open
// the interface's socket for Group's family and join the multicast group
// (224.0.0.18, ff02::12 or mcast_dst_ip). For unicast instances Group is
// the family's unspecified address (0.0.0.0 or ::): the socket only opens.
// When the Start event set ReportsJoins, the driver answers with an
// events.GroupJoined.
type JoinGroup struct {
	Interface string     `json:"interface"`
	Group     netip.Addr `json:"group"`
	// AH lists the IPSEC-AH keys of the VRRPv2 instances that receive on
	// this socket (auth_type AH), in VRID order: the socket also receives
	// their AH adverts, verified with these keys. Each join carries them,
	// so a socket opened again (an interface recreated) has them too.
	AH []AuthKey `json:"ah,omitempty"`
	// RcvBuf is the receive buffer the socket is given (SO_RCVBUF), 0 for
	// the system's default: kernel_rx_buf_size and vrrp_rx_bufs_policy
	// (the engine sizes it as keepalived does).
	RcvBuf int `json:"rcvbuf,omitempty"`
}

// SetPromoteSecondaries sets an interface's IPv4 promote_secondaries
// sysctl (a vrrp_instance's promote_secondaries, as keepalived does): on
// at start where the interface reported it off, so that deleting one
// address of a subnet keeps the others; off again at stop, where the
// engine turned it on.
type SetPromoteSecondaries struct {
	Interface string `json:"interface"`
	On        bool   `json:"on"`
}

// Receiver is one VRID the engine accepts adverts for on a receiving
// socket, with what it requires of every such advert before anything
// else (engine.Engine.Receivers reports them). It is not an effect: the
// network adapter builds its packet filters from the list, so that what
// the engine would only count and drop never costs more than the kernel's
// look at it (adapters/vrrpnet's kernel filter).
type Receiver struct {
	// Interface is the interface the adverts arrive on (a VMAC's name for
	// an instance receiving on its VMAC).
	Interface string `json:"interface"`
	// Family is 4 or 6.
	Family int   `json:"family"`
	VRID   uint8 `json:"vrid"`
	// Version is the VRRP version the instance runs: an advert of the
	// other version is a version error.
	Version uint8 `json:"version"`
	// AnyTTL is set for a unicast instance: its adverts may have crossed
	// routers, and only its peers' min_ttl/max_ttl bound their TTL;
	// multicast adverts must arrive with TTL (hop limit) 255.
	AnyTTL bool `json:"any_ttl,omitempty"`
	// AllVRIDs marks an entry (VRID 0, no version) asking for the adverts
	// of every VRID on the interface and family (log_unknown_vrids: the
	// engine logs those no instance runs).
	AllVRIDs bool `json:"all_vrids,omitempty"`
}

// AuthKey is one instance's IPSEC-AH key (its auth_pass, zero-padded).
type AuthKey struct {
	VRID uint8   `json:"vrid"`
	Key  [8]byte `json:"key"`
}

// LeaveGroup undoes JoinGroup.
type LeaveGroup struct {
	Interface string     `json:"interface"`
	Group     netip.Addr `json:"group"`
}

// CloseSockets asks the network adapter to close the VRRP sockets of an
// interface that was deleted: they are bound to its old ifindex and would
// never receive again. A later JoinGroup opens fresh ones.
type CloseSockets struct {
	Interface string `json:"interface"`
}

// IPVSOp is an operation on the kernel's IPVS table.
type IPVSOp uint8

// IPVS operations. Append only. Every operation is idempotent: it states
// what the table must look like afterwards, not a kernel command, so an
// executor maps "add" on an existing object to an edit and "delete" of a
// missing object to success. Applying a Step's SetIPVS effects in order to
// the table the last ReconcileIPVS and the SetIPVS effects since produced
// yields the engine's desired table (engine/lvs Machine.Table).
const (
	// IPVSAddService: the service Service exists with exactly Service's
	// attributes (scheduler, flags, persistence).
	IPVSAddService IPVSOp = 1
	// IPVSDelService: the service Service does not exist (its
	// destinations go with it).
	IPVSDelService IPVSOp = 2
	// IPVSAddDest: the destination Dest of Service exists with weight
	// Weight and Dest's forwarding attributes.
	IPVSAddDest IPVSOp = 3
	// IPVSDelDest: the destination Dest (address and port) of Service does
	// not exist.
	IPVSDelDest IPVSOp = 4
	// IPVSEditDest: as IPVSAddDest, for a destination already present (a
	// weight change, inhibit_on_failure, a reload changing lvs_method).
	IPVSEditDest IPVSOp = 5
	// IPVSEditService: as IPVSAddService, for a service already present (a
	// reload changing lvs_sched, flags or persistence).
	IPVSEditService IPVSOp = 6
	// IPVSFlush: the table is empty (lvs_flush_on_stop at shutdown; the
	// start's lvs_flush is ReconcileIPVS.Flush, and the start sequences
	// of journals written before ReconcileIPVS existed). Service and Dest
	// are unset.
	IPVSFlush IPVSOp = 7
)

var ipvsOpNames = [...]string{"", "add-service", "del-service", "add-dest", "del-dest", "edit-dest", "edit-service", "flush"}

func (o IPVSOp) String() string {
	if int(o) < len(ipvsOpNames) && o != 0 {
		return ipvsOpNames[o]
	}
	return "IPVSOp(" + strconv.Itoa(int(o)) + ")"
}

// IPVSService is one kernel virtual service: its identity (Family with
// Protocol, Addr and Port, or FwMark) and its attributes. A
// virtual_server_group expands to one IPVSService per address of each
// range and per fwmark entry.
type IPVSService struct {
	// Family is 4 or 6.
	Family int `json:"family"`
	// Protocol is "tcp", "udp" or "sctp"; empty for a fwmark service.
	Protocol string     `json:"protocol,omitempty"`
	Addr     netip.Addr `json:"addr,omitzero"`
	Port     int        `json:"port,omitempty"`
	FwMark   uint32     `json:"fwmark,omitempty"`
	// Scheduler is the lvs_sched name (rr, wlc, sh, ...).
	Scheduler string `json:"scheduler"`
	// SchedFlags are ipvsadm's -b flags as configured: flag-1, flag-2,
	// flag-3, sh-port, sh-fallback, mh-port, mh-fallback.
	SchedFlags []string `json:"sched_flags,omitempty"`
	// OnePacket is ops (one-packet scheduling, UDP only).
	OnePacket bool `json:"ops,omitempty"`
	// PersistenceTimeout > 0 makes the service persistent (ipvsadm -p).
	PersistenceTimeout time.Duration `json:"persistence_timeout,omitempty"`
	// PersistenceNetmask is persistence_granularity (ipvsadm -M); zero
	// means a host mask.
	PersistenceNetmask netip.Addr `json:"persistence_granularity,omitzero"`
	// PersistenceEngine is persistence_engine (e.g. "sip").
	PersistenceEngine string `json:"persistence_engine,omitempty"`
}

// IPVSDest is one destination (real server or sorry server) of a service.
// Its weight travels in SetIPVS.Weight.
type IPVSDest struct {
	Addr netip.Addr `json:"addr"`
	// Port is the destination port: the real server's for NAT, the
	// service's (0 for fwmark) for DR and TUN, as keepalived sets it.
	Port int `json:"port,omitempty"`
	// Method is NAT, DR or TUN; TunType (ipip, gue, gre), TunPort (gue)
	// and TunCsum (nocsum, csum, remcsum) qualify TUN.
	Method  string `json:"method"`
	TunType string `json:"tun_type,omitempty"`
	TunPort int    `json:"tun_port,omitempty"`
	TunCsum string `json:"tun_csum,omitempty"`
	// UThreshold and LThreshold are the connection thresholds (0: none).
	UThreshold int `json:"uthreshold,omitempty"`
	LThreshold int `json:"lthreshold,omitempty"`
}

// SetIPVS changes one object of the IPVS table (see IPVSOp for the
// idempotent meaning of each operation). VirtualServer and RealServer name
// the configuration objects the change comes from, in engine/lvs's ID
// form ("tcp/10.0.0.1:80", "fwmark/1", "group/NAME/tcp"; "10.0.1.1:80"),
// for logs and timelines; the kernel objects are Service and Dest.
type SetIPVS struct {
	Op            IPVSOp `json:"op"`
	VirtualServer string `json:"virtual_server"`
	RealServer    string `json:"real_server,omitempty"`
	// Weight is the destination's weight for IPVSAddDest and IPVSEditDest
	// (0 for an inhibited real server or a parked sorry server).
	Weight  int         `json:"weight,omitempty"`
	Service IPVSService `json:"service"`
	Dest    IPVSDest    `json:"dest"`
}

// ReconcileIPVS makes the kernel's IPVS table hold the engine's whole
// desired table, Services, whatever a previous run (one stopped with
// --dont-release-ipvs, one that crashed, one with another configuration)
// or an operator left in it. engine/lvs emits it once at every Start of a
// configuration with virtual servers, in place of the SetIPVS additions
// that would build the table one entry at a time; the SetIPVS effects of
// later Steps are changes relative to it, and an executor applies them
// after it, in order.
//
// Semantics: with Flush (global_defs lvs_flush) the whole kernel table is
// flushed first. Then every service of Services exists with exactly its
// attributes and exactly its destinations and weights (destinations
// nobody asked for are removed from it). A service the kernel holds that
// is not in Services is removed when vigil created it (as far as the
// executor knows: adapters/ipvs remembers what it created, across
// restarts with its state file), and left alone when it belongs to
// someone else. Like SetIPVS it is idempotent.
type ReconcileIPVS struct {
	Flush bool `json:"flush,omitempty"`
	// Services are the kernel services in configuration order (a
	// virtual_server_group expands to one per address and fwmark entry),
	// each with its destinations in configuration order.
	Services []IPVSTableService `json:"services,omitempty"`
}

// SetIPVSTimeouts sets IPVS's connection timeouts (global_defs
// lvs_timeouts). A zero field means the value the kernel had before vigil
// first changed it: the executor reads the kernel's timeouts before its
// first change and restores them from there, as keepalived does, so an
// effect with every field zero undoes what earlier ones set (and does
// nothing when nothing was set).
type SetIPVSTimeouts struct {
	TCP    time.Duration `json:"tcp,omitempty"`
	TCPFin time.Duration `json:"tcpfin,omitempty"`
	UDP    time.Duration `json:"udp,omitempty"`
}

// SendMail sends one email alert (smtp_alert), as keepalived's
// smtp_alert does. The engine decides that an alert is due and what it
// says, Subject (with keepalived's "[router_id] ..." prefix) and Body;
// the rest is the envelope from global_defs, carried so that the journal
// shows where each alert went. The executor speaks keepalived's SMTP
// dialogue: HELO Helo, MAIL FROM, one RCPT TO per address of To, DATA
// with the headers Date (the local time of sending), From, Subject,
// X-Mailer and To, then the body, then QUIT. It never blocks the engine
// and never retries: a failed alert is lost, as in keepalived.
type SendMail struct {
	// Server is smtp_server as written (an address or a name) and Port
	// its port (25 unless given).
	Server string `json:"server"`
	Port   int    `json:"port"`
	// Timeout is smtp_connect_timeout: it bounds the connection and the
	// wait for each reply.
	Timeout time.Duration `json:"timeout"`
	// Helo is the name HELO gives: smtp_helo_name, else the host's name,
	// else "localhost".
	Helo string `json:"helo"`
	// From is notification_email_from (else user@host), as the From
	// header shows it; To are the notification_email addresses in order.
	From    string   `json:"from"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Body    string   `json:"body"`
}

// IPVSSyncDaemon starts or stops one of the kernel's IPVS connection
// synchronisation daemons (global_defs lvs_sync_daemon): the master
// daemon multicasts the director's connections, the backup daemon
// receives them into its own table, so that a director taking over
// already knows the connections. A start carries the configuration; a
// stop needs only State (the kernel runs at most one daemon of each
// state). The engine never starts a daemon it has started already, nor
// stops one it has not, except with IfRunning: an executor that finds a
// daemon of that state running at a start (a crashed predecessor's) keeps
// it when its settings are the ones asked for and reports the kernel's
// refusal otherwise, as keepalived does; it reports a stop of a daemon
// that does not run as an error, unless the stop says IfRunning.
type IPVSSyncDaemon struct {
	Op    SyncDaemonOp    `json:"op"`
	State SyncDaemonState `json:"state"`
	// Interface is the interface the daemon sends or receives on.
	Interface string `json:"interface"`
	// SyncID identifies the director pair's messages (0-255).
	SyncID uint8 `json:"sync_id"`
	// MaxLen, Port, TTL and Group are the optional message size limit,
	// UDP port, multicast TTL and group; zero (or invalid) keeps the
	// kernel's default (from the interface's MTU, 8848, 1, 224.0.0.81).
	MaxLen int        `json:"maxlen,omitempty"`
	Port   int        `json:"port,omitempty"`
	TTL    int        `json:"ttl,omitempty"`
	Group  netip.Addr `json:"group,omitzero"`
	// IfRunning marks a stop of a daemon that may not run: the one a
	// crashed predecessor may have left, which keepalived's checker
	// stops (ignoring the kernel's answer) before starting its own. The
	// executor takes "no such daemon" as done.
	IfRunning bool `json:"if_running,omitempty"`
}

// SyncDaemonOp is what an IPVSSyncDaemon does.
type SyncDaemonOp uint8

// Sync daemon operations.
const (
	SyncDaemonStart SyncDaemonOp = 1
	SyncDaemonStop  SyncDaemonOp = 2
)

func (o SyncDaemonOp) String() string {
	switch o {
	case SyncDaemonStart:
		return "start"
	case SyncDaemonStop:
		return "stop"
	}
	return "SyncDaemonOp(" + strconv.Itoa(int(o)) + ")"
}

// SyncDaemonState is a sync daemon's role, numbered as the kernel numbers
// it (IP_VS_STATE_MASTER, IP_VS_STATE_BACKUP).
type SyncDaemonState uint8

// Sync daemon roles.
const (
	SyncDaemonMaster SyncDaemonState = 1
	SyncDaemonBackup SyncDaemonState = 2
)

func (s SyncDaemonState) String() string {
	switch s {
	case SyncDaemonMaster:
		return "master"
	case SyncDaemonBackup:
		return "backup"
	}
	return "SyncDaemonState(" + strconv.Itoa(int(s)) + ")"
}

// IPVSTableService is one service of a desired IPVS table, with the
// virtual server it comes from (in SetIPVS's ID form) and its
// destinations.
type IPVSTableService struct {
	VirtualServer string          `json:"virtual_server"`
	Service       IPVSService     `json:"service"`
	Dests         []IPVSTableDest `json:"dests,omitempty"`
}

// IPVSTableDest is one destination of an IPVSTableService: Dest as SetIPVS
// carries it (Port is the destination's port in that service), its weight,
// and the real server (or sorry server) it comes from.
type IPVSTableDest struct {
	RealServer string   `json:"real_server,omitempty"`
	Weight     int      `json:"weight,omitempty"`
	Dest       IPVSDest `json:"dest"`
}

// FirewallTable is the nftables table holding the drop sets of the
// instances that do not accept traffic to their VIPs (no_accept, or strict
// mode): global_defs' `nftables [NAME]` (default "keepalived"), the base
// chains' priority (nftables_priority, default -1) and whether every rule
// has a counter (nftables_counters). The table exists in the ip family as
// soon as an IPv4 VIP entered a set, in ip6 for an IPv6 one.
type FirewallTable struct {
	Name     string `json:"name"`
	Priority int    `json:"priority"`
	Counters bool   `json:"counters,omitempty"`
}

// FirewallVIP is one element of a drop set: an IPv4 address (set ip vips),
// a global IPv6 address (set ip6 vips), or an IPv6 link-local address with
// its Interface: set vips_link_local (address . interface index, the
// adapter resolving the index) or, with ByName, vips_link_local_name
// (address . interface name).
type FirewallVIP struct {
	Addr      netip.Addr `json:"addr"`
	Interface string     `json:"interface,omitempty"`
	ByName    bool       `json:"by_name,omitempty"`
}

// AddFirewallVIPs puts an instance's VIPs and eVIPs into the drop sets of
// Table, creating the table, its chains, sets and rules first if they do
// not exist yet. While an address is in a set, the node drops every packet
// to it (input) and from it (output), IPv6 neighbour discovery excepted.
// The engine emits it before the AddAddress effects of the addresses
// (becoming MASTER, a reload adding VIPs), so no packet reaches an address
// before it is filtered. It is a kernel effect: the stream's order applies.
type AddFirewallVIPs struct {
	Instance string        `json:"instance"`
	Table    FirewallTable `json:"table"`
	VIPs     []FirewallVIP `json:"vips"`
}

// DelFirewallVIPs takes an instance's addresses out of the drop sets of
// Table; an address not in its set is no error. The engine emits it after
// the DelAddress effects of the addresses (leaving MASTER, a reload), so
// an address is filtered for as long as the node holds it.
type DelFirewallVIPs struct {
	Instance string        `json:"instance"`
	Table    FirewallTable `json:"table"`
	VIPs     []FirewallVIP `json:"vips"`
}

// FirewallVMAC is a VMAC (macvlan) as the IGMP/MLD objects of the firewall
// table hold it, keepalived's vmac_map (VMAC index : parent index) and, in
// ip6, vmac_set (VMAC index); the adapter resolves the indexes. IPv4 and
// IPv6 say which families' tables hold it: the family of the VMAC's
// instance (or address), and the other one too when the instance has
// eVIPs of the other family. In those tables the VMAC's IGMP reports (ip)
// and MLDv2 reports (ip6) leave through its parent instead, and its IPv6
// router solicitations are dropped.
type FirewallVMAC struct {
	VMAC   string `json:"vmac"`
	Parent string `json:"parent"`
	IPv4   bool   `json:"ipv4,omitempty"`
	IPv6   bool   `json:"ipv6,omitempty"`
}

// AddFirewallVMAC puts a VMAC into the IGMP/MLD objects of Table, creating
// the family's table, its out chain, the map (and set) and their rules
// first if they do not exist yet. The engine emits it after the CreateVMAC
// of the VMAC.
type AddFirewallVMAC struct {
	Instance string        `json:"instance"`
	Table    FirewallTable `json:"table"`
	FirewallVMAC
}

// DelFirewallVMAC takes a VMAC out of the IGMP/MLD objects of Table (the
// objects themselves stay until the table goes); a VMAC not in them is no
// error. The engine emits it after the DeleteVMAC of the VMAC: the adapter
// remembers the indexes it added.
type DelFirewallVMAC struct {
	Instance string        `json:"instance"`
	Table    FirewallTable `json:"table"`
	FirewallVMAC
}

// RemoveFirewall deletes the tables named Table of both families, with
// everything in them, if they exist: at Start (what a crashed run left)
// and at Stop, after every other kernel effect of the stop.
type RemoveFirewall struct {
	Table string `json:"table"`
}

// RunCheck asks the checker adapter to run one health check now and
// report its outcome as exactly one events.CheckResult carrying the same
// VirtualServer, RealServer and Checker. The engine owns all scheduling —
// warmup, delay_loop, retry and delay_before_retry, ha_suspend — so the
// adapter runs a check only when told, never on its own timer, and never
// retries within a run. It must report within Timeout plus a few seconds:
// the engine counts a check with no result after Timeout+5s as failed.
// BFD_CHECK and FILE_CHECK are event driven and never get a RunCheck.
type RunCheck struct {
	VirtualServer string `json:"virtual_server"`
	RealServer    string `json:"real_server"`
	// Checker is the checker's index among the real server's checkers.
	Checker int `json:"checker"`
	// Type is the checker keyword (conf.CheckTCP, conf.CheckHTTP, ...).
	Type string `json:"type"`
	// Addr and Port are where to connect: connect_ip/connect_port, else
	// the real server's address and port.
	Addr netip.Addr `json:"addr"`
	Port int        `json:"port,omitempty"`
	// Timeout bounds the whole check: connect_timeout, or misc_timeout
	// for MISC_CHECK.
	Timeout time.Duration `json:"timeout"`
	// Spec is the checker's configuration (type-specific options: URLs,
	// misc_path, DNS query, ...). It points into the loaded configuration,
	// which is never modified: read it, do not change it.
	Spec *conf.Checker `json:"spec,omitempty"`
}

// CheckStateChanged records a checker's verdict changing (up to down
// after its retries, down to up), or its first verdict. It changes nothing
// in the world; it feeds timelines and `explain`. Real server and virtual
// server (quorum) transitions are reported by Notify effects of type "RS"
// and "VS".
type CheckStateChanged struct {
	VirtualServer string `json:"virtual_server"`
	RealServer    string `json:"real_server"`
	Checker       int    `json:"checker"`
	Type          string `json:"type"`
	Up            bool   `json:"up"`
	// Reason is the checker's message for a failure ("connection
	// refused", "no result"), or "success".
	Reason string `json:"reason,omitempty"`
}

// SendBFD transmits one BFD control packet of a bfd_instance (RFC 5880
// §6.8.7): to Dst on UDP port 3784 with TTL or hop limit 255 (single hop,
// RFC 5881), or on 4784 with TTL (multihop, RFC 5883), from Src (the
// source_ip, or the address the kernel chooses when unset) and a source
// port in 49152-65535. The adapter encodes Packet as it is; the engine has
// decided every field.
type SendBFD struct {
	// Session is the bfd_instance's name.
	Session  string     `json:"session"`
	Src      netip.Addr `json:"src,omitzero"`
	Dst      netip.Addr `json:"dst"`
	Multihop bool       `json:"multihop,omitempty"`
	TTL      uint8      `json:"ttl"`
	// Packet is the control packet (its Length is 24: vigil sends no
	// authentication section).
	Packet events.BFDPacket `json:"packet"`
}

// BFDStateChanged records a BFD session's transition (RFC 5880 §6.2). It
// changes nothing in the world by itself (track_bfd and BFD_CHECK follow
// within the same step); it feeds logs, timelines and `explain`.
type BFDStateChanged struct {
	Session string `json:"session"`
	// From and To are BFD states (events.BFDAdminDown ... events.BFDUp).
	From uint8 `json:"from"`
	To   uint8 `json:"to"`
	// LocalDiag is the session's diagnostic after the change, RemoteDiag
	// the last one the neighbour sent.
	LocalDiag  uint8 `json:"local_diag,omitempty"`
	RemoteDiag uint8 `json:"remote_diag,omitempty"`
	// Reason names the rule that fired: "remote-down", "remote-init",
	// "remote-up", "remote-admin-down", "detection-timeout", "stop".
	Reason string `json:"reason"`
}

// EffectKind implementations.

func (*SendAdvert) EffectKind() Kind            { return KindSendAdvert }
func (*AddAddress) EffectKind() Kind            { return KindAddAddress }
func (*DelAddress) EffectKind() Kind            { return KindDelAddress }
func (*AddRoute) EffectKind() Kind              { return KindAddRoute }
func (*DelRoute) EffectKind() Kind              { return KindDelRoute }
func (*AddRule) EffectKind() Kind               { return KindAddRule }
func (*DelRule) EffectKind() Kind               { return KindDelRule }
func (*CreateVMAC) EffectKind() Kind            { return KindCreateVMAC }
func (*DeleteVMAC) EffectKind() Kind            { return KindDeleteVMAC }
func (*SendGARP) EffectKind() Kind              { return KindSendGARP }
func (*SendNA) EffectKind() Kind                { return KindSendNA }
func (*SetTimer) EffectKind() Kind              { return KindSetTimer }
func (*CancelTimer) EffectKind() Kind           { return KindCancelTimer }
func (*RunScript) EffectKind() Kind             { return KindRunScript }
func (*Notify) EffectKind() Kind                { return KindNotify }
func (*Count) EffectKind() Kind                 { return KindCount }
func (*StateChanged) EffectKind() Kind          { return KindStateChanged }
func (*Log) EffectKind() Kind                   { return KindLog }
func (*SetIPVS) EffectKind() Kind               { return KindSetIPVS }
func (*JoinGroup) EffectKind() Kind             { return KindJoinGroup }
func (*LeaveGroup) EffectKind() Kind            { return KindLeaveGroup }
func (*RunCheck) EffectKind() Kind              { return KindRunCheck }
func (*CheckStateChanged) EffectKind() Kind     { return KindCheckStateChanged }
func (*CloseSockets) EffectKind() Kind          { return KindCloseSockets }
func (*ReconcileIPVS) EffectKind() Kind         { return KindReconcileIPVS }
func (*AddFirewallVIPs) EffectKind() Kind       { return KindAddFirewallVIPs }
func (*DelFirewallVIPs) EffectKind() Kind       { return KindDelFirewallVIPs }
func (*RemoveFirewall) EffectKind() Kind        { return KindRemoveFirewall }
func (*SetIPVSTimeouts) EffectKind() Kind       { return KindSetIPVSTimeouts }
func (*SendMail) EffectKind() Kind              { return KindSendMail }
func (*IPVSSyncDaemon) EffectKind() Kind        { return KindIPVSSyncDaemon }
func (*SendBFD) EffectKind() Kind               { return KindSendBFD }
func (*BFDStateChanged) EffectKind() Kind       { return KindBFDStateChanged }
func (*SetPromoteSecondaries) EffectKind() Kind { return KindSetPromoteSecondaries }
func (*AddFirewallVMAC) EffectKind() Kind       { return KindAddFirewallVMAC }
func (*DelFirewallVMAC) EffectKind() Kind       { return KindDelFirewallVMAC }

// Clone returns a deep copy of e that stays valid after the engine's next
// Step.
func Clone(e Effect) Effect {
	switch v := e.(type) {
	case *SendAdvert:
		c := *v
		c.Addrs = slices.Clone(v.Addrs)
		c.Dst = slices.Clone(v.Dst)
		return &c
	case *AddAddress:
		c := *v
		return &c
	case *DelAddress:
		c := *v
		return &c
	case *AddRoute:
		c := *v
		return &c
	case *DelRoute:
		c := *v
		return &c
	case *AddRule:
		c := *v
		return &c
	case *DelRule:
		c := *v
		return &c
	case *CreateVMAC:
		c := *v
		return &c
	case *DeleteVMAC:
		c := *v
		return &c
	case *SendGARP:
		c := *v
		return &c
	case *SendNA:
		c := *v
		return &c
	case *SetTimer:
		c := *v
		return &c
	case *CancelTimer:
		c := *v
		return &c
	case *RunScript:
		c := *v
		c.Command = slices.Clone(v.Command)
		return &c
	case *Notify:
		c := *v
		c.Scripts = make([][]string, len(v.Scripts))
		for i, s := range v.Scripts {
			c.Scripts[i] = slices.Clone(s)
		}
		c.Users = slices.Clone(v.Users)
		return &c
	case *Count:
		c := *v
		return &c
	case *StateChanged:
		c := *v
		return &c
	case *Log:
		c := *v
		return &c
	case *SetIPVS:
		c := *v
		c.Service.SchedFlags = slices.Clone(v.Service.SchedFlags)
		return &c
	case *RunCheck:
		c := *v // Spec points into the immutable configuration
		return &c
	case *CheckStateChanged:
		c := *v
		return &c
	case *JoinGroup:
		c := *v
		c.AH = slices.Clone(v.AH)
		return &c
	case *LeaveGroup:
		c := *v
		return &c
	case *CloseSockets:
		c := *v
		return &c
	case *ReconcileIPVS:
		c := *v
		c.Services = CloneIPVSTable(v.Services)
		return &c
	case *RemoveFirewall:
		c := *v
		return &c
	case *AddFirewallVMAC:
		c := *v
		return &c
	case *DelFirewallVMAC:
		c := *v
		return &c
	case *SetIPVSTimeouts:
		c := *v
		return &c
	case *SendMail:
		c := *v
		c.To = slices.Clone(v.To)
		return &c
	case *IPVSSyncDaemon:
		c := *v
		return &c
	case *SetPromoteSecondaries:
		c := *v
		return &c
	case *SendBFD:
		c := *v
		return &c
	case *BFDStateChanged:
		c := *v
		return &c
	}
	return e
}

// CloneIPVSTable returns a deep copy of a desired IPVS table.
func CloneIPVSTable(t []IPVSTableService) []IPVSTableService {
	if t == nil {
		return nil
	}
	c := make([]IPVSTableService, len(t))
	for i, s := range t {
		c[i] = s
		c[i].Service.SchedFlags = slices.Clone(s.Service.SchedFlags)
		c[i].Dests = slices.Clone(s.Dests)
	}
	return c
}
