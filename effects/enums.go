package effects

import "strconv"

// Counter names the statistic a Count effect increments. On the wire (the
// journal codec and the JSON form) a Counter is its string, so journals
// written before the type existed read back unchanged. The values are
// keepalived's names where it has one.
type Counter string

// VRRP counters: keepalived's per-instance statistics (the fields of its
// stats dump and VRRP MIB). Instance is the VRRP instance.
const (
	CounterAdvertReceived       Counter = "advert_rcvd"
	CounterAdvertSent           Counter = "advert_sent"
	CounterBecomeMaster         Counter = "become_master"
	CounterReleaseMaster        Counter = "release_master"
	CounterPacketLengthError    Counter = "packet_len_err"
	CounterTTLError             Counter = "ip_ttl_err"
	CounterInvalidType          Counter = "invalid_type_rcvd"
	CounterAdvertIntervalError  Counter = "advert_interval_err"
	CounterAddressListError     Counter = "addr_list_err"
	CounterInvalidAuthType      Counter = "invalid_authtype"
	CounterAuthTypeMismatch     Counter = "authtype_mismatch"
	CounterAuthFailure          Counter = "auth_failure"
	CounterPriorityZeroReceived Counter = "pri_zero_rcvd"
	CounterPriorityZeroSent     Counter = "pri_zero_sent"
	CounterVersionError         Counter = "version_err"
	CounterChecksumError        Counter = "checksum_err"
	// CounterUnicastSourceError counts unicast adverts from an address
	// that is not a unicast_peer (keepalived logs these without a
	// counter).
	CounterUnicastSourceError Counter = "unicast_src_err"
)

// LVS counters. Instance is the virtual server's ID, or "lvs".
const (
	// CounterCheckResultUnknown: a CheckResult for no configured checker.
	CounterCheckResultUnknown Counter = "check_result_unknown"
	// CounterCheckResultStale: a CheckResult that answers no outstanding
	// RunCheck.
	CounterCheckResultStale Counter = "check_result_stale"
	// CounterCheckNoResult: a RunCheck that got no CheckResult in time.
	CounterCheckNoResult Counter = "check_no_result"
)

// BFD counters. Instance is the bfd_instance's name, or "bfd" for a
// packet no session claims.
const (
	// CounterBFDReceived: a control packet accepted by a session.
	CounterBFDReceived Counter = "bfd_rcvd"
	// CounterBFDSent: a control packet sent.
	CounterBFDSent Counter = "bfd_sent"
	// CounterBFDDiscarded: a packet dropped by RFC 5880 §6.8.6's checks
	// (decoder verdict, detect multiplier 0, multipoint, discriminators,
	// authentication) or RFC 5881/5883's TTL check.
	CounterBFDDiscarded Counter = "bfd_discarded"
)

// LogLevel is a Log effect's severity. On the wire it is its string.
type LogLevel string

// Log levels, as the engine emits them.
const (
	LogDebug   LogLevel = "debug"
	LogInfo    LogLevel = "info"
	LogWarning LogLevel = "warning"
	LogError   LogLevel = "error"
)

// TimerKind says what a timer of the engine is for. A SetTimer's Key is
// opaque outside the engine: engine.Engine.Timer tells its kind and owner.
// A TimerKind is never written to a journal.
type TimerKind uint8

// Timer kinds.
const (
	// TimerAdvert: a MASTER's next advert.
	TimerAdvert TimerKind = iota + 1
	// TimerMasterDown: a BACKUP's master-down timer (also the end of
	// vrrp_startup_delay and of a sync group's duel backoff).
	TimerMasterDown
	// TimerSecondGARP: the GARP/NA burst garp_master_delay after becoming
	// MASTER.
	TimerSecondGARP
	// TimerLowerPrioGARP: the burst garp_lower_prio_delay after a
	// lower-priority advert.
	TimerLowerPrioGARP
	// TimerGARPRefresh: garp_master_refresh.
	TimerGARPRefresh
	// TimerTrackScript: a vrrp_script's next run.
	TimerTrackScript
	// TimerLinkDelay: an interface_up_down_delays change taking effect.
	TimerLinkDelay
	// TimerSocketRetry: retrying a receiving socket's failed join.
	TimerSocketRetry
	// TimerCheck: an LVS checker's next check, retry or result deadline.
	TimerCheck
	// TimerGARPDelay: the next gratuitous ARP or NA a GARP delay
	// (vrrp_garp_interval, garp_group) lets through.
	TimerGARPDelay
	// TimerBFDTx: a BFD session's next periodic control packet.
	TimerBFDTx
	// TimerBFDDetect: a BFD session's detection time running out.
	TimerBFDDetect
	// TimerGARPExtraIf: garp_extra_if's periodic GARP/NA on the
	// instance's other interfaces.
	TimerGARPExtraIf
)

// String is the kind's name for people ("master-down").
func (k TimerKind) String() string {
	switch k {
	case TimerAdvert:
		return "advert"
	case TimerMasterDown:
		return "master-down"
	case TimerSecondGARP:
		return "second-GARP"
	case TimerLowerPrioGARP:
		return "lower-prio-GARP"
	case TimerGARPRefresh:
		return "GARP-refresh"
	case TimerTrackScript:
		return "track-script"
	case TimerLinkDelay:
		return "link-delay"
	case TimerSocketRetry:
		return "socket-retry"
	case TimerCheck:
		return "check"
	case TimerGARPDelay:
		return "GARP-delay"
	case TimerBFDTx:
		return "BFD-tx"
	case TimerBFDDetect:
		return "BFD-detect"
	case TimerGARPExtraIf:
		return "GARP-extra-if"
	}
	return "TimerKind(" + strconv.Itoa(int(k)) + ")"
}
