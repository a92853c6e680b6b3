package conf

import (
	"encoding/hex"
	"net/netip"
)

// VirtualServerGroup is a virtual_server_group block.
type VirtualServerGroup struct {
	Pos  Pos    `json:"-"`
	Name string `json:"name"`
	// Entries are "IP port", "IP-range port" or "fwmark N" lines, as written.
	Entries []string `json:"entries"`
	// Ranges are the typed entries, in config order.
	Ranges []VSGEntry `json:"ranges"`
}

// VSGEntry is one line of a virtual_server_group: an address range with an
// optional port, or a firewall mark.
type VSGEntry struct {
	// First and Last bound an inclusive address range (equal for a
	// single address). Both are zero for a fwmark entry.
	First netip.Addr `json:"first,omitzero"`
	Last  netip.Addr `json:"last,omitzero"`
	Port  int        `json:"port,omitempty"`
	// FwMark is set for `fwmark N [inet|inet6]` lines.
	FwMark uint32 `json:"fwmark,omitempty"`
	// Family is 4 or 6; for a fwmark it is 0 unless inet/inet6 is given.
	Family int `json:"family,omitempty"`
}

// ForwardMethod is an lvs_method: NAT, DR or TUN with its tunnel options.
type ForwardMethod struct {
	Method  string `json:"method"`             // NAT, DR or TUN
	TunType string `json:"type,omitempty"`     // ipip, gue or gre
	TunPort int    `json:"port,omitempty"`     // gue port
	TunCsum string `json:"checksum,omitempty"` // nocsum, csum or remcsum
}

// VirtualServer is a virtual_server block. Timer and retry settings are
// the effective values after inheritance (virtual server → real server →
// checker), so an engine never has to look up a parent.
type VirtualServer struct {
	Pos Pos `json:"-"`
	// Key identifies the server as written: "10.0.0.1 80", "fwmark 1",
	// "group NAME".
	Key    string     `json:"key"`
	Addr   netip.Addr `json:"ip,omitzero"`
	Port   int        `json:"port,omitempty"`
	FwMark uint32     `json:"fwmark,omitempty"`
	Group  string     `json:"group,omitempty"`
	// Family is 4 or 6: from the address, else ip_family, else the real
	// servers (tunnelled fwmark services), else 4.
	Family int `json:"ip_family"`

	Scheduler  string   `json:"lvs_sched"` // default wlc
	SchedFlags []string `json:"sched_flags,omitempty"`
	OPS        bool     `json:"ops,omitempty"`
	// Method is the default forwarding method of the real servers
	// (default NAT).
	Method                 ForwardMethod `json:"lvs_method"`
	PersistenceEngine      string        `json:"persistence_engine,omitempty"`
	PersistenceTimeout     Duration      `json:"persistence_timeout,omitempty"`
	PersistenceGranularity netip.Addr    `json:"persistence_granularity,omitzero"`
	// Protocol is TCP, UDP, SCTP, or "" for fwmark services.
	Protocol    string  `json:"protocol,omitempty"`
	HASuspend   bool    `json:"ha_suspend,omitempty"`
	SMTPAlert   bool    `json:"smtp_alert"`
	VirtualHost string  `json:"virtualhost,omitempty"`
	SNMPName    string  `json:"snmp_name,omitempty"`
	Alpha       bool    `json:"alpha,omitempty"`
	Omega       bool    `json:"omega,omitempty"`
	Quorum      int     `json:"quorum"` // default 1
	Hysteresis  int     `json:"hysteresis"`
	QuorumUp    *Script `json:"quorum_up,omitempty"`
	QuorumDown  *Script `json:"quorum_down,omitempty"`
	// Weight is the default real server weight (default 1).
	Weight int `json:"weight"`

	SorryServer *SorryServer `json:"sorry_server,omitempty"`

	ConnectTimeout   Duration `json:"connect_timeout"` // default 5 s
	DelayLoop        Duration `json:"delay_loop"`      // default 60 s
	InhibitOnFailure bool     `json:"inhibit_on_failure,omitempty"`
	// Retry, DelayBeforeRetry and Warmup are nil when not configured here:
	// their defaults depend on the checker type.
	Retry            *int      `json:"retry,omitempty"`
	DelayBeforeRetry *Duration `json:"delay_before_retry,omitempty"`
	Warmup           *Duration `json:"warmup,omitempty"`

	RealServers []RealServer `json:"real_servers"`
}

// SorryServer is a virtual server's sorry_server.
type SorryServer struct {
	Addr    netip.Addr    `json:"ip"`
	Port    int           `json:"port,omitempty"`
	Inhibit bool          `json:"sorry_server_inhibit,omitempty"`
	Method  ForwardMethod `json:"lvs_method"`
}

// RealServer is a real_server block with effective values.
type RealServer struct {
	Pos    Pos           `json:"-"`
	Addr   netip.Addr    `json:"ip"`
	Port   int           `json:"port,omitempty"`
	Weight int           `json:"weight"`
	Method ForwardMethod `json:"lvs_method"`

	NotifyUp    *Script `json:"notify_up,omitempty"`
	NotifyDown  *Script `json:"notify_down,omitempty"`
	UThreshold  int     `json:"uthreshold,omitempty"`
	LThreshold  int     `json:"lthreshold,omitempty"`
	SMTPAlert   bool    `json:"smtp_alert"`
	VirtualHost string  `json:"virtualhost,omitempty"`
	SNMPName    string  `json:"snmp_name,omitempty"`
	Alpha       bool    `json:"alpha,omitempty"`

	ConnectTimeout   Duration  `json:"connect_timeout"`
	DelayLoop        Duration  `json:"delay_loop"`
	InhibitOnFailure bool      `json:"inhibit_on_failure,omitempty"`
	Retry            *int      `json:"retry,omitempty"`
	DelayBeforeRetry *Duration `json:"delay_before_retry,omitempty"`
	Warmup           *Duration `json:"warmup,omitempty"`

	Checkers []Checker `json:"checkers"`
}

// Checker types (the block keywords).
const (
	CheckHTTP = "HTTP_GET"
	CheckSSL  = "SSL_GET"
	CheckTCP  = "TCP_CHECK"
	CheckSMTP = "SMTP_CHECK"
	CheckDNS  = "DNS_CHECK"
	CheckMisc = "MISC_CHECK"
	CheckBFD  = "BFD_CHECK"
	CheckPing = "PING_CHECK"
	CheckUDP  = "UDP_CHECK"
	CheckFile = "FILE_CHECK"
)

// Checker is one health checker of a real server. The generic fields hold
// effective values (checker setting, else real server, else virtual
// server, else the checker type's default); exactly one of the
// type-specific parts is set for types that have options.
type Checker struct {
	Pos  Pos    `json:"-"`
	Type string `json:"type"`

	ConnectIP   netip.Addr `json:"connect_ip,omitzero"`
	ConnectPort int        `json:"connect_port,omitempty"`
	BindTo      netip.Addr `json:"bindto,omitzero"`
	BindIf      string     `json:"bind_if,omitempty"`
	BindPort    int        `json:"bind_port,omitempty"`
	FwMark      uint32     `json:"fwmark,omitempty"`

	Alpha            bool     `json:"alpha,omitempty"`
	ConnectTimeout   Duration `json:"connect_timeout,omitempty"`
	Retry            int      `json:"retry"`
	DelayBeforeRetry Duration `json:"delay_before_retry"`
	Warmup           Duration `json:"warmup"`
	DelayLoop        Duration `json:"delay_loop"`
	LogAllFailures   bool     `json:"log_all_failures,omitempty"`

	HTTP *HTTPCheck `json:"http,omitempty"` // HTTP_GET and SSL_GET
	SMTP *SMTPCheck `json:"smtp,omitempty"`
	DNS  *DNSCheck  `json:"dns,omitempty"`
	Misc *MiscCheck `json:"misc,omitempty"`
	BFD  *BFDCheck  `json:"bfd,omitempty"`
	UDP  *UDPCheck  `json:"udp,omitempty"`
	File *FileCheck `json:"file,omitempty"`
}

// HTTPCheck holds the HTTP_GET / SSL_GET options.
type HTTPCheck struct {
	Protocol     string `json:"http_protocol,omitempty"` // 1.0, 1.0C or 1.1
	FastRecovery bool   `json:"fast_recovery,omitempty"`
	EnableSNI    bool   `json:"enable_sni,omitempty"`
	// VirtualHost is the effective default virtual host for the URLs
	// (checker, else real server, else virtual server).
	VirtualHost string `json:"virtualhost,omitempty"`
	URLs        []URL  `json:"url"`
}

// URL is one url block of an HTTP/SSL checker.
type URL struct {
	Path string `json:"path"`
	// Digest is the lowercase hex MD5 of the expected body, if any.
	Digest string `json:"digest,omitempty"`
	// StatusCodes are inclusive ranges (default 200-299).
	StatusCodes    []StatusRange `json:"status_code"`
	VirtualHost    string        `json:"virtualhost,omitempty"`
	Regex          string        `json:"regex,omitempty"`
	RegexNoMatch   bool          `json:"regex_no_match,omitempty"`
	RegexOptions   []string      `json:"regex_options,omitempty"`
	RegexStack     []int         `json:"regex_stack,omitempty"` // start, max
	RegexMinOffset int           `json:"regex_min_offset,omitempty"`
	RegexMaxOffset int           `json:"regex_max_offset,omitempty"`
}

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// SMTPCheck holds the SMTP_CHECK options.
type SMTPCheck struct {
	HeloName string `json:"helo_name,omitempty"` // default: smtp_helo_name
}

// DNSCheck holds the DNS_CHECK options.
type DNSCheck struct {
	Type string `json:"type"` // default SOA
	Name string `json:"name"` // default "."
}

// MiscCheck holds the MISC_CHECK options.
type MiscCheck struct {
	Path    Script   `json:"misc_path"`
	Timeout Duration `json:"misc_timeout,omitempty"` // default: delay_loop
	Dynamic bool     `json:"misc_dynamic,omitempty"`
}

// BFDCheck holds the BFD_CHECK options.
type BFDCheck struct {
	Name string `json:"name"`
}

// UDPCheck holds the UDP_CHECK options.
type UDPCheck struct {
	Payload      HexBytes `json:"payload,omitempty"`
	RequireReply bool     `json:"require_reply,omitempty"`
	// ReplyPattern is the require_reply HEX_STR normalised to pairs of hex
	// digits, with x for a don't-care nibble.
	ReplyPattern   string `json:"reply_pattern,omitempty"`
	MinReplyLength int    `json:"min_reply_length"`
	MaxReplyLength int    `json:"max_reply_length"` // default 255
}

// FileCheck holds the FILE_CHECK options.
type FileCheck struct {
	TrackFile     string `json:"track_file"`
	Dynamic       bool   `json:"dynamic,omitempty"`
	Weight        int    `json:"weight"` // default: the track_file's weight
	WeightReverse bool   `json:"weight_reverse,omitempty"`
}

// SSL is the SSL block: credentials for SSL_GET checkers. With no field
// set keepalived generates a context.
type SSL struct {
	Password    string `json:"password,omitempty"`
	CA          string `json:"ca,omitempty"`
	Certificate string `json:"certificate,omitempty"`
	Key         string `json:"key,omitempty"`
}

// HexBytes is binary data that marshals to JSON as a hex string.
type HexBytes []byte

// MarshalText writes lowercase hex.
func (h HexBytes) MarshalText() ([]byte, error) {
	return []byte(hex.EncodeToString(h)), nil
}

// UnmarshalText reads hex.
func (h *HexBytes) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}
