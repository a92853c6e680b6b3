// Package events is vigil's input vocabulary: every fact that reaches the
// engine — a configuration, an advert, a timer, a link or address change, a
// script or checker result — is one of the typed events defined here.
//
// Events are plain data. Each carries the monotonic time at which it
// happened; the engine never reads a clock, so time enters only through
// events. The journal stores events with the codec in codec.go.
package events

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

// Time is a monotonic instant in nanoseconds since an arbitrary origin: the
// daemon's start, or zero in a simulation. It is never wall-clock time.
type Time int64

// Add returns t advanced by d.
func (t Time) Add(d time.Duration) Time { return t + Time(d) }

// Sub returns the duration t-u.
func (t Time) Sub(u Time) time.Duration { return time.Duration(t - u) }

// String prints the time as seconds with microsecond precision, the form
// used in scenario files and timelines.
func (t Time) String() string { return time.Duration(t).String() }

// Kind identifies an event's type. Values are stable: they are written to
// journals and must never be renumbered.
type Kind uint8

// Event kinds. Append only.
const (
	KindConfigLoaded   Kind = 1
	KindStart          Kind = 2
	KindStop           Kind = 3
	KindAdvertReceived Kind = 4
	KindTimerFired     Kind = 5
	KindLinkChanged    Kind = 6
	KindAddressChanged Kind = 7
	KindRouteChanged   Kind = 8
	KindRuleChanged    Kind = 9
	KindScriptResult   Kind = 10
	KindTrackFileValue Kind = 11
	KindProcessCount   Kind = 12
	KindBFDState       Kind = 13
	KindCheckResult    Kind = 14
	KindGroupJoined    Kind = 15
	KindBFDReceived    Kind = 16
)

var kindNames = [...]string{
	KindConfigLoaded:   "ConfigLoaded",
	KindStart:          "Start",
	KindStop:           "Stop",
	KindAdvertReceived: "AdvertReceived",
	KindTimerFired:     "TimerFired",
	KindLinkChanged:    "LinkChanged",
	KindAddressChanged: "AddressChanged",
	KindRouteChanged:   "RouteChanged",
	KindRuleChanged:    "RuleChanged",
	KindScriptResult:   "ScriptResult",
	KindTrackFileValue: "TrackFileValue",
	KindProcessCount:   "ProcessCount",
	KindBFDState:       "BFDState",
	KindCheckResult:    "CheckResult",
	KindGroupJoined:    "GroupJoined",
	KindBFDReceived:    "BFDReceived",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Event is implemented by every event type. Events are passed by pointer.
type Event interface {
	// EventKind reports the event's type.
	EventKind() Kind
	// EventTime reports when the event happened.
	EventTime() Time
}

// Header holds the fields common to all events.
type Header struct {
	// At is the monotonic time of the event.
	At Time `json:"at"`
}

// EventTime implements Event.
func (h Header) EventTime() Time { return h.At }

// SetEventTime sets the event's time (see Stamp).
func (h *Header) SetEventTime(t Time) { h.At = t }

// Stamp sets ev's time to t. Every event type embeds Header, so every
// event can be stamped: drivers stamp each event with their clock as they
// step it, so the times the engine sees never go backwards even when
// sources interleave.
func Stamp(ev Event, t Time) {
	if s, ok := ev.(interface{ SetEventTime(Time) }); ok {
		s.SetEventTime(t)
	}
}

// ConfigLoaded delivers a parsed configuration: at start, and again on every
// reload. The whole model travels in the event so a journal replays without
// the original files.
type ConfigLoaded struct {
	Header
	Config *conf.Config `json:"config"`
	// Digest identifies the configuration text (sha256 of the files read).
	Digest string `json:"digest,omitempty"`
}

// Start tells the engine to begin running the loaded configuration.
type Start struct {
	Header
	// Seed seeds the engine's PRNG (checker warmup and similar jitter), so a
	// journal replays the same random choices.
	Seed uint64 `json:"seed"`
	// ReportsJoins says the driver answers every effects.JoinGroup with a
	// GroupJoined: instances then leave INIT only once the socket they
	// receive on is open and joined, and a failed join is a FAULT retried
	// with backoff. Journals written before the field existed replay as
	// they were recorded (joins assumed to succeed).
	ReportsJoins bool `json:"reports_joins,omitempty"`
}

// Stop is a graceful shutdown request (SIGTERM): masters send priority-0
// adverts and release their addresses.
type Stop struct {
	Header
	// KeepAddresses is keepalived's --dont-release-vrrp.
	KeepAddresses bool `json:"keep_addresses,omitempty"`
	// KeepIPVS is keepalived's --dont-release-ipvs: the IPVS table is
	// left as it is, and no LVS notifications are sent.
	KeepIPVS bool `json:"keep_ipvs,omitempty"`
}

// Verdict is the decoder's judgement on a received VRRP packet. Anything
// other than VerdictOK is counted by the engine and the packet dropped.
type Verdict uint8

// Decoder verdicts. Append only.
const (
	VerdictOK          Verdict = 0
	VerdictTooShort    Verdict = 1 // shorter than the VRRP header or the address list
	VerdictBadVersion  Verdict = 2
	VerdictBadType     Verdict = 3
	VerdictBadChecksum Verdict = 4
	VerdictBadAuthAH   Verdict = 5 // IPSEC-AH present but HMAC does not verify
	VerdictBadLength   Verdict = 6 // IP length disagrees with the VRRP length
)

var verdictNames = [...]string{"ok", "too-short", "bad-version", "bad-type", "bad-checksum", "bad-ah", "bad-length"}

func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "verdict(" + strconv.Itoa(int(v)) + ")"
}

// Advert is a decoded VRRP advertisement (RFC 3768 for version 2, RFC 5798
// for version 3).
type Advert struct {
	Version  uint8 `json:"version"`
	Type     uint8 `json:"type"`
	VRID     uint8 `json:"vrid"`
	Priority uint8 `json:"priority"`
	// CountAddrs is the address count field as received.
	CountAddrs uint8 `json:"count_addrs"`
	// AuthType is the VRRPv2 authentication type field (0 for v3).
	AuthType uint8 `json:"auth_type,omitempty"`
	// Interval is the advertisement interval in centiseconds. A v2 advert's
	// whole seconds are converted (1 s = 100).
	Interval uint16 `json:"interval"`
	// Addrs are the virtual addresses carried by the advert.
	Addrs []netip.Addr `json:"addrs"`
	// AuthData is the v2 authentication data (the PASS password, zero padded).
	AuthData [8]byte `json:"auth_data,omitempty"`
	// AH is set when the packet arrived inside an IPSEC-AH header that
	// verified; its sequence number is in AHSeq.
	AH    bool   `json:"ah,omitempty"`
	AHSeq uint32 `json:"ah_seq,omitempty"`
	// Checksum says which checksum computation verified (VRRPv3 over IPv4
	// has three in the wild); keepalived switches its own sending to the
	// old unicast variant when a peer uses it.
	Checksum ChecksumKind `json:"checksum,omitempty"`
}

// ChecksumKind names a VRRP checksum computation.
type ChecksumKind uint8

// Checksum computations. Append only.
const (
	// ChecksumStandard: VRRPv2 over the VRRP message; VRRPv3 with the IPv4
	// or IPv6 pseudo-header holding the packet's real destination.
	ChecksumStandard ChecksumKind = 0
	// ChecksumOldUnicast: keepalived before 1.3.6 (old_unicast_checksum):
	// VRRPv3 IPv4 unicast with the multicast group as the pseudo-header
	// destination.
	ChecksumOldUnicast ChecksumKind = 1
	// ChecksumAsV2: VRRPv3 IPv4 without a pseudo-header (v3_checksum_as_v2;
	// some routers' reading of RFC 5798).
	ChecksumAsV2 ChecksumKind = 2
)

var checksumNames = [...]string{"standard", "old-unicast", "as-v2"}

func (c ChecksumKind) String() string {
	if int(c) < len(checksumNames) {
		return checksumNames[c]
	}
	return "checksum(" + strconv.Itoa(int(c)) + ")"
}

// AdvertReceived is a VRRP packet seen on an interface, with the facts of its
// reception and the decoder's verdict.
type AdvertReceived struct {
	Header
	Interface string     `json:"interface"`
	Src       netip.Addr `json:"src"`
	Dst       netip.Addr `json:"dst"`
	// TTL is the IPv4 TTL or IPv6 hop limit.
	TTL     uint8   `json:"ttl"`
	Verdict Verdict `json:"verdict"`
	// Length is the VRRP payload length in bytes.
	Length int    `json:"length"`
	Advert Advert `json:"advert"`
	// Count is how many packets a rejected advert (Verdict other than
	// VerdictOK) stands for: the network adapter coalesces the packets it
	// rejects for one cause, interface and VRID into one event, so that a
	// flood of junk costs the engine one step per cause and interval
	// rather than one per packet. 0 means 1; ignored on a VerdictOK advert.
	Count int `json:"count,omitempty"`
}

// TimerFired reports that a timer set by a SetTimer effect expired.
type TimerFired struct {
	Header
	Key string `json:"key"`
}

// LinkChanged reports an interface's state (from the initial snapshot or the
// link monitor).
type LinkChanged struct {
	Header
	Interface string `json:"interface"`
	Index     int    `json:"index,omitempty"`
	// Present is false when the interface was deleted.
	Present bool `json:"present"`
	// Up is IFF_UP; Running is IFF_RUNNING (carrier).
	Up      bool   `json:"up"`
	Running bool   `json:"running"`
	MTU     int    `json:"mtu,omitempty"`
	HWAddr  string `json:"hwaddr,omitempty"`
	// PromoteSecondaries is the interface's IPv4 promote_secondaries
	// setting when it was reported (an instance's promote_secondaries
	// turns it on only where it is off, and back off at the end).
	PromoteSecondaries bool `json:"promote_secondaries,omitempty"`
}

// AddressChanged reports an address added to or removed from an interface.
type AddressChanged struct {
	Header
	Interface string       `json:"interface"`
	Prefix    netip.Prefix `json:"prefix"`
	Added     bool         `json:"added"`
}

// RouteChanged reports a route added or removed.
type RouteChanged struct {
	Header
	Dst       netip.Prefix `json:"dst"`
	Table     int          `json:"table,omitempty"`
	Interface string       `json:"interface,omitempty"`
	Gateway   netip.Addr   `json:"gateway,omitempty"`
	Added     bool         `json:"added"`
}

// RuleChanged reports a policy routing rule added or removed.
type RuleChanged struct {
	Header
	Family   int          `json:"family"`
	Priority int          `json:"priority,omitempty"`
	From     netip.Prefix `json:"from,omitempty"`
	To       netip.Prefix `json:"to,omitempty"`
	Table    int          `json:"table,omitempty"`
	Added    bool         `json:"added"`
}

// ScriptResult is the outcome of one run of a track script (vrrp_script),
// or of the startup or shutdown script (Phase, as effects.RunScript says).
type ScriptResult struct {
	Header
	Script string `json:"script"`
	Phase  string `json:"phase,omitempty"`
	// Status is the exit status; meaningful when neither TimedOut nor Failed.
	Status   int  `json:"status"`
	TimedOut bool `json:"timed_out,omitempty"`
	// Failed is set when the script could not be run at all (not found, not
	// executable); Error says why.
	Failed bool   `json:"failed,omitempty"`
	Error  string `json:"error,omitempty"`
}

// TrackFileValue is the value read from a track_file after it changed.
type TrackFileValue struct {
	Header
	File  string `json:"file"`
	Value int64  `json:"value"`
	// Failed is set when the file could not be read or parsed; keepalived
	// then treats the value as 0.
	Failed bool `json:"failed,omitempty"`
}

// ProcessCount is the number of running processes matching a
// vrrp_track_process.
type ProcessCount struct {
	Header
	Process string `json:"process"`
	Count   int    `json:"count"`
}

// BFDState reports a BFD session going up or down, from outside the
// engine: scenario tests, and journals written before vigil ran BFD
// sessions itself. The engine's own sessions (engine/bfd) feed their
// state to track_bfd and BFD_CHECK within the step of the BFDReceived or
// TimerFired that changed it, as if such an event had arrived.
type BFDState struct {
	Header
	Name string `json:"name"`
	Up   bool   `json:"up"`
}

// CheckResult is the outcome of one health check of a real server: the
// answer to an effects.RunCheck, or, for the event-driven FILE_CHECK and
// BFD_CHECK, a change the adapter observed.
type CheckResult struct {
	Header
	// VirtualServer and RealServer identify the server with the IDs of
	// the RunCheck being answered (engine/lvs: "tcp/10.0.0.1:80",
	// "fwmark/1", "group/NAME/tcp"; "10.0.1.1:80").
	VirtualServer string `json:"virtual_server"`
	RealServer    string `json:"real_server"`
	// Checker is the checker's index within the real server, as in config order.
	Checker int    `json:"checker"`
	OK      bool   `json:"ok"`
	Message string `json:"message,omitempty"`
	// Dynamic is set when the check also reports a weight: a MISC_CHECK
	// with misc_dynamic whose exit status was 2..255 (Weight is the status
	// minus 2), or a dynamic FILE_CHECK (Weight is the file value times the
	// checker's weight). The real server's weight becomes its configured
	// weight adjusted by Weight, as keepalived does.
	Dynamic bool `json:"dynamic,omitempty"`
	Weight  int  `json:"weight,omitempty"`
}

// GroupJoined is the outcome of an effects.JoinGroup: the socket that
// receives VRRP on Interface for Group's family is open and, for a
// multicast group, joined; or Err says why not (the interface does not
// exist yet, a permission, a kernel error). Instances never believe they
// listen while they are deaf.
type GroupJoined struct {
	Header
	Interface string     `json:"interface"`
	Group     netip.Addr `json:"group"`
	Err       string     `json:"err,omitempty"`
}

// BFD session states (RFC 5880 §4.1, the State field). Append only.
const (
	BFDAdminDown uint8 = 0
	BFDDown      uint8 = 1
	BFDInit      uint8 = 2
	BFDUp        uint8 = 3
)

// BFDStateName names a BFD session state as keepalived logs it
// (AdminDown, Down, Init, Up).
func BFDStateName(s uint8) string {
	switch s {
	case BFDAdminDown:
		return "AdminDown"
	case BFDDown:
		return "Down"
	case BFDInit:
		return "Init"
	case BFDUp:
		return "Up"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// BFDPacket is a BFD control packet's fields (RFC 5880 §4.1), decoded by
// the adapter (adapters/bfdnet) or to be encoded by it. Intervals are in
// microseconds, as on the wire.
type BFDPacket struct {
	Version uint8 `json:"version"`
	// Diag is the diagnostic code (RFC 5880 §4.1: 0 none, 1 control
	// detection time expired, 3 neighbor signaled session down, 7
	// administratively down, ...).
	Diag  uint8 `json:"diag,omitempty"`
	State uint8 `json:"state"`
	// The flags: Poll, Final, Control Plane Independent, Authentication
	// Present, Demand, Multipoint.
	Poll       bool  `json:"poll,omitempty"`
	Final      bool  `json:"final,omitempty"`
	CPI        bool  `json:"cpi,omitempty"`
	Auth       bool  `json:"auth,omitempty"`
	Demand     bool  `json:"demand,omitempty"`
	Multipoint bool  `json:"multipoint,omitempty"`
	DetectMult uint8 `json:"detect_mult"`
	// Length is the Length field as received (24 without authentication).
	Length   uint8  `json:"length"`
	MyDisc   uint32 `json:"my_disc"`
	YourDisc uint32 `json:"your_disc,omitempty"`
	// DesiredMinTx, RequiredMinRx and RequiredMinEchoRx are in
	// microseconds.
	DesiredMinTx      uint32 `json:"desired_min_tx"`
	RequiredMinRx     uint32 `json:"required_min_rx"`
	RequiredMinEchoRx uint32 `json:"required_min_echo_rx,omitempty"`
}

// BFDVerdict is the decoder's judgement on a received BFD packet: what
// it could not even read as a control packet (RFC 5880 §6.8.6's first
// checks). Anything other than BFDVerdictOK is counted by the engine and
// dropped; every other check of §6.8.6 is the engine's.
type BFDVerdict uint8

// BFD decoder verdicts. Append only.
const (
	BFDVerdictOK BFDVerdict = 0
	// BFDVerdictTooShort: fewer bytes than the mandatory section.
	BFDVerdictTooShort BFDVerdict = 1
	// BFDVerdictBadVersion: a version other than 1.
	BFDVerdictBadVersion BFDVerdict = 2
	// BFDVerdictBadLength: the Length field is below the minimum (24, or
	// 26 with authentication) or above the UDP payload.
	BFDVerdictBadLength BFDVerdict = 3
)

var bfdVerdictNames = [...]string{"ok", "too-short", "bad-version", "bad-length"}

func (v BFDVerdict) String() string {
	if int(v) < len(bfdVerdictNames) {
		return bfdVerdictNames[v]
	}
	return "bfd-verdict(" + strconv.Itoa(int(v)) + ")"
}

// BFDReceived is a BFD control packet received on UDP port 3784
// (single hop, RFC 5881) or 4784 (multihop, RFC 5883), with the facts of
// its reception and the decoder's verdict.
type BFDReceived struct {
	Header
	Src netip.Addr `json:"src"`
	Dst netip.Addr `json:"dst"`
	// SrcPort is the packet's UDP source port.
	SrcPort uint16 `json:"src_port,omitempty"`
	// Ifindex is the interface the packet arrived on (0 if unknown).
	Ifindex int `json:"ifindex,omitempty"`
	// TTL is the IPv4 TTL or the IPv6 hop limit as received.
	TTL uint8 `json:"ttl"`
	// Multihop is set for a packet received on port 4784.
	Multihop bool       `json:"multihop,omitempty"`
	Verdict  BFDVerdict `json:"verdict,omitempty"`
	Packet   BFDPacket  `json:"packet"`
}

// EventKind implementations.

func (*ConfigLoaded) EventKind() Kind   { return KindConfigLoaded }
func (*Start) EventKind() Kind          { return KindStart }
func (*Stop) EventKind() Kind           { return KindStop }
func (*AdvertReceived) EventKind() Kind { return KindAdvertReceived }
func (*TimerFired) EventKind() Kind     { return KindTimerFired }
func (*LinkChanged) EventKind() Kind    { return KindLinkChanged }
func (*AddressChanged) EventKind() Kind { return KindAddressChanged }
func (*RouteChanged) EventKind() Kind   { return KindRouteChanged }
func (*RuleChanged) EventKind() Kind    { return KindRuleChanged }
func (*ScriptResult) EventKind() Kind   { return KindScriptResult }
func (*TrackFileValue) EventKind() Kind { return KindTrackFileValue }
func (*ProcessCount) EventKind() Kind   { return KindProcessCount }
func (*BFDState) EventKind() Kind       { return KindBFDState }
func (*CheckResult) EventKind() Kind    { return KindCheckResult }
func (*GroupJoined) EventKind() Kind    { return KindGroupJoined }
func (*BFDReceived) EventKind() Kind    { return KindBFDReceived }
