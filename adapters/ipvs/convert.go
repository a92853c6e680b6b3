package ipvs

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/effects"
)

// ServiceFromEffect converts the engine's description of a kernel service
// (effects.IPVSService, as carried by SetIPVS and ReconcileIPVS)
// into a Service without destinations.
func ServiceFromEffect(e *effects.IPVSService) (Service, error) {
	s := Service{
		Family:            e.Family,
		Protocol:          strings.ToUpper(e.Protocol),
		Addr:              e.Addr,
		FwMark:            e.FwMark,
		Scheduler:         e.Scheduler,
		PersistenceEngine: e.PersistenceEngine,
	}
	if e.Port < 0 || e.Port > 65535 {
		return Service{}, fmt.Errorf("ipvs: service port %d out of range", e.Port)
	}
	s.Port = uint16(e.Port)
	if e.OnePacket {
		s.Flags |= FlagOnePacket
	}
	for _, f := range e.SchedFlags {
		switch f {
		case "flag-1", "sh-fallback", "mh-fallback":
			s.Flags |= FlagSched1
		case "flag-2", "sh-port", "mh-port":
			s.Flags |= FlagSched2
		case "flag-3":
			s.Flags |= FlagSched3
		default:
			return Service{}, fmt.Errorf("ipvs: %s: unknown scheduler flag %q", s.Key(), f)
		}
	}
	if t := e.PersistenceTimeout; t > 0 {
		// The kernel counts whole seconds; round up so that a sub-second
		// timeout still means "persistent".
		s.PersistenceTimeout = (t + time.Second - 1) / time.Second * time.Second
	}
	if g := e.PersistenceNetmask; g.IsValid() {
		bits, ok := maskToBits(g)
		if !ok {
			return Service{}, fmt.Errorf("ipvs: %s: persistence_granularity %s is not a contiguous netmask", s.Key(), g)
		}
		s.GranularityBits = bits
	}
	return s, s.Validate()
}

// DestFromEffect converts an effects.IPVSDest with its weight.
func DestFromEffect(e *effects.IPVSDest, weight int) (Dest, error) {
	ap := netip.AddrPortFrom(e.Addr, uint16(e.Port))
	if e.Port < 0 || e.Port > 65535 {
		return Dest{}, fmt.Errorf("ipvs: destination %s: port %d out of range", e.Addr, e.Port)
	}
	method, err := ParseMethod(e.Method)
	if err != nil {
		return Dest{}, fmt.Errorf("ipvs: destination %s: %w", ap, err)
	}
	// moby/ipvs cannot send IPVS_DEST_ATTR_TUN_TYPE and its companions, so
	// a GUE or GRE tunnel would silently become IP-in-IP: refuse it.
	if method == TUN && e.TunType != "" && e.TunType != "ipip" {
		return Dest{}, fmt.Errorf("ipvs: destination %s: tunnel type %q is not supported (only ipip)", ap, e.TunType)
	}
	if e.UThreshold < 0 || e.LThreshold < 0 {
		return Dest{}, fmt.Errorf("ipvs: destination %s: negative connection threshold", ap)
	}
	return Dest{
		Addr: e.Addr, Port: uint16(e.Port), Method: method, Weight: weight,
		UpperThreshold: uint32(e.UThreshold), LowerThreshold: uint32(e.LThreshold),
	}, nil
}

// maskToBits turns a netmask written as an address into a prefix length;
// ok is false for a non-contiguous mask.
func maskToBits(m netip.Addr) (int, bool) {
	b := m.AsSlice()
	ones := 0
	for i, x := range b {
		for bit := 7; bit >= 0; bit-- {
			if x&(1<<bit) != 0 {
				ones++
				continue
			}
			// The rest must be zero for the mask to be contiguous.
			if x&(1<<bit-1) != 0 {
				return 0, false
			}
			for _, y := range b[i+1:] {
				if y != 0 {
					return 0, false
				}
			}
			return ones, true
		}
	}
	return ones, true
}
