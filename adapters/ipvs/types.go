package ipvs

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Method is a destination's forwarding method (keepalived's lvs_method).
type Method uint8

// Forwarding methods, numbered as the kernel's IP_VS_CONN_F_FWD_MASK values.
const (
	NAT Method = 0 // masquerading
	TUN Method = 2 // IP-in-IP tunnelling
	DR  Method = 3 // direct routing
)

func (m Method) String() string {
	switch m {
	case NAT:
		return "NAT"
	case TUN:
		return "TUN"
	case DR:
		return "DR"
	}
	return "method(" + strconv.Itoa(int(m)) + ")"
}

// ParseMethod reads keepalived's lvs_method words.
func ParseMethod(s string) (Method, error) {
	switch strings.ToUpper(s) {
	case "", "NAT":
		return NAT, nil
	case "DR":
		return DR, nil
	case "TUN":
		return TUN, nil
	}
	return 0, fmt.Errorf("ipvs: unknown forwarding method %q", s)
}

// Service flags vigil manages (the kernel's IP_VS_SVC_F_* bits). The
// kernel adds IP_VS_SVC_F_HASHED (0x2) on its own; it is masked off when
// reading.
const (
	FlagPersistent uint32 = 0x0001
	FlagOnePacket  uint32 = 0x0004
	FlagSched1     uint32 = 0x0008
	FlagSched2     uint32 = 0x0010
	FlagSched3     uint32 = 0x0020

	managedFlags = FlagPersistent | FlagOnePacket | FlagSched1 | FlagSched2 | FlagSched3
)

// Service is one IPVS virtual service and its destinations: what vigil
// wants in the kernel, or what it read from it.
type Service struct {
	// Family is 4 or 6.
	Family int
	// Protocol is "TCP", "UDP" or "SCTP" for an address service, "" for a
	// firewall-mark service.
	Protocol string
	Addr     netip.Addr
	Port     uint16
	FwMark   uint32

	// Scheduler is the IPVS scheduler name (rr, wlc, sh, mh, …).
	Scheduler string
	// Flags are FlagOnePacket and FlagSched1..3. FlagPersistent is
	// derived from PersistenceTimeout and need not be set.
	Flags uint32
	// PersistenceTimeout makes the service persistent (whole seconds).
	PersistenceTimeout time.Duration
	// GranularityBits is the persistence granularity as a prefix length
	// (keepalived's persistence_granularity); 0 means the whole address
	// (32 or 128).
	GranularityBits int
	// PersistenceEngine is e.g. "sip"; empty for none.
	PersistenceEngine string

	// Dests are the real servers, in any order.
	Dests []Dest
}

// Dest is one real server of a service.
type Dest struct {
	Addr   netip.Addr
	Port   uint16
	Method Method
	// Weight 0 keeps the server in the table without new connections
	// (keepalived's inhibit_on_failure).
	Weight int
	// UpperThreshold and LowerThreshold are connection limits (0: none).
	UpperThreshold uint32
	LowerThreshold uint32
}

// ServiceKey identifies a service in the kernel: what cannot be changed
// without deleting and re-adding it.
type ServiceKey struct {
	Family   int
	Protocol string
	Addr     netip.Addr
	Port     uint16
	FwMark   uint32
}

// Key returns the service's identity.
func (s *Service) Key() ServiceKey {
	return ServiceKey{Family: s.Family, Protocol: s.Protocol, Addr: s.Addr, Port: s.Port, FwMark: s.FwMark}
}

// String prints the key as ipvsadm would name the service: "TCP
// 10.0.0.1:80", "UDP [fd00::1]:53", "FWM 7 IPv4".
func (k ServiceKey) String() string {
	if k.FwMark != 0 {
		return "FWM " + strconv.FormatUint(uint64(k.FwMark), 10) + " IPv" + strconv.Itoa(k.Family)
	}
	return k.Protocol + " " + netip.AddrPortFrom(k.Addr, k.Port).String()
}

// ParseServiceKey reads the String form back (used by the state file).
func ParseServiceKey(s string) (ServiceKey, error) {
	f := strings.Fields(s)
	if len(f) == 3 && f[0] == "FWM" {
		m, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil || m == 0 {
			return ServiceKey{}, fmt.Errorf("ipvs: bad fwmark in service key %q", s)
		}
		switch f[2] {
		case "IPv4":
			return ServiceKey{Family: 4, FwMark: uint32(m)}, nil
		case "IPv6":
			return ServiceKey{Family: 6, FwMark: uint32(m)}, nil
		}
		return ServiceKey{}, fmt.Errorf("ipvs: bad family in service key %q", s)
	}
	if len(f) == 2 {
		ap, err := netip.ParseAddrPort(f[1])
		if err != nil {
			return ServiceKey{}, fmt.Errorf("ipvs: service key %q: %w", s, err)
		}
		if _, err := protoNumber(f[0]); err != nil {
			return ServiceKey{}, err
		}
		fam := 4
		if ap.Addr().Is6() {
			fam = 6
		}
		return ServiceKey{Family: fam, Protocol: f[0], Addr: ap.Addr(), Port: ap.Port()}, nil
	}
	return ServiceKey{}, fmt.Errorf("ipvs: malformed service key %q", s)
}

// DestKey identifies a destination within its service.
func (d *Dest) Key() netip.AddrPort { return netip.AddrPortFrom(d.Addr, d.Port) }

// Validate reports a service the kernel would refuse, before any request
// is sent, with a message naming the service.
func (s *Service) Validate() error {
	k := s.Key()
	switch s.Family {
	case 4, 6:
	default:
		return fmt.Errorf("ipvs: %s: family %d is neither 4 nor 6", k, s.Family)
	}
	if s.FwMark == 0 {
		if _, err := protoNumber(s.Protocol); err != nil {
			return fmt.Errorf("ipvs: %s: %w", k, err)
		}
		if !s.Addr.IsValid() || (s.Addr.Is4() != (s.Family == 4)) {
			return fmt.Errorf("ipvs: %s: address does not match family %d", k, s.Family)
		}
	} else if s.Protocol != "" || s.Addr.IsValid() || s.Port != 0 {
		return fmt.Errorf("ipvs: %s: a fwmark service has no protocol, address or port", k)
	}
	if s.Scheduler == "" {
		return fmt.Errorf("ipvs: %s: no scheduler", k)
	}
	if max := s.maxBits(); s.GranularityBits < 0 || s.GranularityBits > max {
		return fmt.Errorf("ipvs: %s: persistence granularity /%d out of range", k, s.GranularityBits)
	}
	if s.PersistenceTimeout < 0 || s.PersistenceTimeout%time.Second != 0 {
		return fmt.Errorf("ipvs: %s: persistence timeout %v is not whole seconds", k, s.PersistenceTimeout)
	}
	seen := make(map[netip.AddrPort]bool, len(s.Dests))
	for i := range s.Dests {
		d := &s.Dests[i]
		if !d.Addr.IsValid() {
			return fmt.Errorf("ipvs: %s: destination %d has no address", k, i)
		}
		// moby/ipvs sends no destination address family, so the kernel
		// takes the service's: mixed families cannot be expressed.
		if d.Addr.Is4() != (s.Family == 4) {
			return fmt.Errorf("ipvs: %s: destination %s is not IPv%d", k, d.Key(), s.Family)
		}
		if d.Weight < 0 {
			return fmt.Errorf("ipvs: %s: destination %s has negative weight %d", k, d.Key(), d.Weight)
		}
		switch d.Method {
		case NAT, DR, TUN:
		default:
			return fmt.Errorf("ipvs: %s: destination %s: %v", k, d.Key(), d.Method)
		}
		if seen[d.Key()] {
			return fmt.Errorf("ipvs: %s: destination %s listed twice", k, d.Key())
		}
		seen[d.Key()] = true
	}
	return nil
}

func (s *Service) maxBits() int {
	if s.Family == 6 {
		return 128
	}
	return 32
}

// flags returns the kernel flags: the configured ones plus persistence.
func (s *Service) flags() uint32 {
	f := s.Flags &^ FlagPersistent
	if s.PersistenceTimeout > 0 {
		f |= FlagPersistent
	}
	return f & managedFlags
}

// bits returns the effective granularity prefix length.
func (s *Service) bits() int {
	if s.GranularityBits == 0 {
		return s.maxBits()
	}
	return s.GranularityBits
}

// sameSettings reports whether two services with the same key need no
// UpdateService to turn one into the other.
func (s *Service) sameSettings(o *Service) bool {
	return s.Scheduler == o.Scheduler && s.flags() == o.flags() &&
		s.PersistenceTimeout == o.PersistenceTimeout && s.bits() == o.bits() &&
		s.PersistenceEngine == o.PersistenceEngine
}

// sameDest reports whether two destinations with the same key need no
// UpdateDestination.
func sameDest(a, b *Dest) bool {
	return a.Method == b.Method && a.Weight == b.Weight &&
		a.UpperThreshold == b.UpperThreshold && a.LowerThreshold == b.LowerThreshold
}

// Table is a whole desired (or read) IPVS table.
type Table []Service

// Sort orders services by key and each service's destinations by address,
// so that tables compare and print stably.
func (t Table) Sort() {
	slices.SortFunc(t, func(a, b Service) int { return compareKeys(a.Key(), b.Key()) })
	for i := range t {
		slices.SortFunc(t[i].Dests, func(a, b Dest) int { return a.Key().Compare(b.Key()) })
	}
}

func compareKeys(a, b ServiceKey) int {
	if c := a.Family - b.Family; c != 0 {
		return c
	}
	if c := int64(a.FwMark) - int64(b.FwMark); c != 0 {
		if c < 0 {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.Protocol, b.Protocol); c != 0 {
		return c
	}
	return netip.AddrPortFrom(a.Addr, a.Port).Compare(netip.AddrPortFrom(b.Addr, b.Port))
}
