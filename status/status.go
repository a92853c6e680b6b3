// Package status is what a running vigil tells about itself: the
// Snapshot its loop publishes (instances with their state, priorities and
// trackers, the master, the last transitions and why; real servers; the
// loop's and the journal's figures), the local control protocol `vigil
// status` speaks over a Unix socket, and the text it prints.
//
// The daemon builds a Snapshot in its loop, from the engine's read-only
// views, at most every few hundred milliseconds and at once after a
// transition, and publishes it through an atomic pointer; /metrics and
// the control socket only ever read the last one published, so neither
// waits for the loop nor makes it wait. An explanation (`vigil status
// explain VI_1`) is the one thing asked of the loop itself: the request
// goes through a channel, with a timeout.
package status

import (
	"time"
)

// Snapshot is the daemon's state at one instant. It is immutable once
// published: readers share it.
type Snapshot struct {
	Version string `json:"version"`
	Host    string `json:"host"`
	PID     int    `json:"pid"`
	// Started is when the daemon started; Taken when the snapshot was
	// built.
	Started time.Time `json:"started"`
	Taken   time.Time `json:"taken"`
	// ConfigFile and ConfigDigest are the running configuration.
	ConfigFile   string `json:"config_file,omitempty"`
	ConfigDigest string `json:"config_digest,omitempty"`
	// Events counts the events the engine has stepped.
	Events         uint64          `json:"events"`
	Instances      []Instance      `json:"instances"`
	SyncGroups     []SyncGroup     `json:"sync_groups"`
	Scripts        []Script        `json:"scripts"`
	VirtualServers []VirtualServer `json:"virtual_servers"`
	Loop           Loop            `json:"loop"`
	// Journal is nil when journaling is off.
	Journal *Journal `json:"journal,omitempty"`
}

// Instance is one vrrp_instance.
type Instance struct {
	Name string `json:"name"`
	// Interface is keepalived's ifp_ifname (the VMAC when the instance
	// uses one).
	Interface string `json:"interface"`
	VRID      int    `json:"vrid"`
	Version   int    `json:"version"`
	// Family is 4 or 6.
	Family    int    `json:"family"`
	SyncGroup string `json:"sync_group,omitempty"`
	// State and Want are INIT, BACKUP, MASTER, FAULT, STOP or DELETED;
	// StateCode is keepalived's number for State (0 INIT, 1 BACKUP,
	// 2 MASTER, 3 FAULT, 97 STOP, 98 DELETED).
	State     string `json:"state"`
	StateCode int    `json:"state_code"`
	Want      string `json:"want"`
	// Priority is the effective priority, BasePriority the configured
	// one, TotalPriority the base plus every tracking weight before
	// clamping.
	Priority      int `json:"priority"`
	BasePriority  int `json:"base_priority"`
	TotalPriority int `json:"total_priority"`
	// Master is the current master's address as this node knows it: its
	// own advert source when MASTER (MasterIsSelf), the last master heard
	// when BACKUP, "" otherwise.
	Master         string `json:"master,omitempty"`
	MasterPriority int    `json:"master_priority,omitempty"`
	MasterIsSelf   bool   `json:"master_is_self,omitempty"`
	// Source is the advert source address ("" when the interface has
	// none).
	Source string `json:"source,omitempty"`
	// AdvertInterval is in seconds.
	AdvertInterval float64 `json:"advert_interval"`
	VIPs           []VIP   `json:"vips"`
	ExcludedVIPs   []VIP   `json:"excluded_vips"`
	VIPSet         bool    `json:"vip_set"`
	Fault          bool    `json:"fault"`
	FaultReason    string  `json:"fault_reason,omitempty"`
	// Trackers are every object behind the fault status and the
	// effective priority, as the engine decided them.
	Trackers []Tracker `json:"trackers"`
	// Timers are the armed protocol deadlines.
	Timers []Timer `json:"timers"`
	// LastTransition is nil before the first one; Transitions counts
	// them by from, to and rule since the daemon started.
	LastTransition *Transition       `json:"last_transition,omitempty"`
	Transitions    []TransitionCount `json:"transitions"`
	// Stats are keepalived's counters (the SIGUSR2 dump's).
	Stats Stats `json:"stats"`
	// AdvertsLate counts this instance's advert timers stepped more than
	// LateAdvert after their deadline.
	AdvertsLate uint64 `json:"adverts_late"`
	// GARPDelay is garp_master_delay in whole seconds (the data dump's
	// "Gratuitous ARP delay").
	GARPDelay int64 `json:"garp_delay"`
}

// VIP is one virtual address as the data dump lists it: the whole line,
// and its address and device.
type VIP struct {
	Text    string `json:"text"`
	Address string `json:"address"`
	Dev     string `json:"dev"`
}

// Tracker is one object behind an instance's fault status and priority
// (the engine's TrackPart).
type Tracker struct {
	What    string `json:"what"`
	Status  string `json:"status"`
	Weight  int    `json:"weight"`
	Reverse bool   `json:"reverse,omitempty"`
	// Delta is what it adds to the priority now.
	Delta   int  `json:"delta"`
	Fault   bool `json:"fault,omitempty"`
	Pending bool `json:"pending,omitempty"`
}

// Timer is an armed deadline of an instance.
type Timer struct {
	// Kind is the engine's name: advert, master-down, second-GARP,
	// lower-prio-GARP, GARP-refresh, preempt.
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
	// Why is the rule a master-down timer fires with.
	Why string `json:"why,omitempty"`
}

// Transition is one state change of an instance.
type Transition struct {
	At       time.Time `json:"at"`
	Seq      uint64    `json:"seq"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Priority int       `json:"priority"`
	// Reason is the rule that fired (StateChanged.Reason), Trigger the
	// event that caused it, Why the rule in words ("" when the reason
	// says it all).
	Reason  string `json:"reason"`
	Trigger string `json:"trigger"`
	Why     string `json:"why,omitempty"`
}

// TransitionCount counts an instance's transitions of one kind.
type TransitionCount struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
	Count  uint64 `json:"count"`
}

// Stats are keepalived's per-instance counters, under the JSON dump's
// names.
type Stats struct {
	AdvertRcvd        uint64 `json:"advert_rcvd"`
	AdvertSent        uint64 `json:"advert_sent"`
	BecomeMaster      uint64 `json:"become_master"`
	ReleaseMaster     uint64 `json:"release_master"`
	PacketLenErr      uint64 `json:"packet_len_err"`
	AdvertIntervalErr uint64 `json:"advert_interval_err"`
	IPTTLErr          uint64 `json:"ip_ttl_err"`
	InvalidTypeRcvd   uint64 `json:"invalid_type_rcvd"`
	AddrListErr       uint64 `json:"addr_list_err"`
	InvalidAuthType   uint64 `json:"invalid_authtype"`
	AuthTypeMismatch  uint64 `json:"authtype_mismatch"`
	AuthFailure       uint64 `json:"auth_failure"`
	PriZeroRcvd       uint64 `json:"pri_zero_rcvd"`
	PriZeroSent       uint64 `json:"pri_zero_sent"`
	// vigil's own, beyond keepalived's counters: adverts dropped for a
	// bad checksum, a VRRP version the instance does not run, a source
	// not among the unicast peers (check_unicast_src).
	ChecksumErr   uint64 `json:"checksum_err,omitempty"`
	VersionErr    uint64 `json:"version_err,omitempty"`
	UnicastSrcErr uint64 `json:"unicast_src_err,omitempty"`
}

// SyncGroup is a vrrp_sync_group.
type SyncGroup struct {
	Name    string   `json:"name"`
	State   string   `json:"state"`
	Members []string `json:"members"`
}

// Script is a vrrp_script.
type Script struct {
	Name string `json:"name"`
	// OK is its status (keepalived's GOOD); Init is set until its first
	// result; Result is keepalived's rise/fall counter.
	OK     bool `json:"ok"`
	Init   bool `json:"init,omitempty"`
	Result int  `json:"result"`
}

// VirtualServer is an LVS virtual server.
type VirtualServer struct {
	// ID is the engine's ("tcp/10.0.0.1:80", "fwmark/1"); Name
	// keepalived's ("[10.0.0.1]:tcp:80").
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	QuorumUp    bool         `json:"quorum_up"`
	SorryOn     bool         `json:"sorry_server_on"`
	LiveWeight  int          `json:"live_weight"`
	RealServers []RealServer `json:"real_servers"`
}

// RealServer is a real server of a VirtualServer.
type RealServer struct {
	ID       string    `json:"id"` // "10.0.1.1:80"
	Alive    bool      `json:"alive"`
	Weight   int       `json:"weight"`
	Checkers []Checker `json:"checkers"`
}

// Checker is one health checker of a RealServer.
type Checker struct {
	Type string `json:"type"`
	Up   bool   `json:"up"`
	// HasRun is false until its first result.
	HasRun bool `json:"has_run"`
}

// Loop are the event loop's figures.
type Loop struct {
	// Latency is the time from an event's arrival (when its source
	// stamped it) to its effects having been dispatched.
	Latency Histogram `json:"latency"`
	// AdvertLateness is how long after its deadline each advert timer
	// was stepped.
	AdvertLateness Histogram `json:"advert_lateness"`
}

// Histogram is a cumulative histogram in seconds, Prometheus' way:
// Counts[k] is the number of observations ≤ Bounds[k]; Count and Sum
// cover all of them.
type Histogram struct {
	Bounds []float64 `json:"bounds"`
	Counts []uint64  `json:"counts"`
	Count  uint64    `json:"count"`
	Sum    float64   `json:"sum"`
}

// Journal are the journal writer's counters.
type Journal struct {
	Dir       string `json:"dir"`
	Appended  uint64 `json:"appended"`
	Committed uint64 `json:"committed"`
	Lost      uint64 `json:"lost"`
	Bytes     uint64 `json:"bytes"`
	Snapshots uint64 `json:"snapshots"`
	Commits   uint64 `json:"commits"`
	// Failing is true while writing fails (a full or read-only disk):
	// events become gaps. Episodes counts such episodes since the start,
	// SetAside the damaged files renamed *.damaged when the journal opened.
	Failing  bool   `json:"failing,omitempty"`
	Episodes uint64 `json:"episodes,omitempty"`
	SetAside uint64 `json:"set_aside,omitempty"`
}

// Instance returns the named instance, or nil.
func (s *Snapshot) Instance(name string) *Instance {
	for k := range s.Instances {
		if s.Instances[k].Name == name {
			return &s.Instances[k]
		}
	}
	return nil
}

// Quantile estimates the q-quantile (0..1) from the buckets, as
// Prometheus' histogram_quantile does (linear within a bucket); 0 with
// no observation.
func (h *Histogram) Quantile(q float64) float64 {
	if h.Count == 0 || len(h.Bounds) == 0 {
		return 0
	}
	rank := q * float64(h.Count)
	lower, below := 0.0, uint64(0)
	for k, b := range h.Bounds {
		c := h.Counts[k]
		if float64(c) >= rank {
			if c == below {
				return b
			}
			return lower + (b-lower)*(rank-float64(below))/float64(c-below)
		}
		lower, below = b, c
	}
	return h.Bounds[len(h.Bounds)-1]
}
