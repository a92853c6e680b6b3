package ipvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"time"

	mobyipvs "github.com/moby/ipvs"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// ErrNoIPVS is returned by Open when the kernel has no IPVS: the ip_vs
// module is not loaded and could not be, or the kernel was built without
// it.
var ErrNoIPVS = errors.New("ipvs: the kernel has no IPVS (generic netlink family \"IPVS\" not found; is the ip_vs module available?)")

// Available reports whether the kernel in the network namespace at path
// ("" for the current one) offers IPVS, by looking up its generic netlink
// family. The family is global to the kernel, but the lookup is done from
// the namespace vigil will use so that a namespace without generic
// netlink access is reported too.
func Available(path string) error {
	h, err := genlHandle(path)
	if err != nil {
		return err
	}
	defer h.Close()
	if _, err := h.GenlFamilyGet("IPVS"); err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EOPNOTSUPP) || isNotFound(err) {
			return ErrNoIPVS
		}
		return fmt.Errorf("ipvs: looking up the IPVS netlink family: %w", err)
	}
	return nil
}

// isNotFound recognises the netlink library's "not found" error for an
// unknown generic netlink family (it wraps ENOENT in some versions and
// returns a plain error in others).
func isNotFound(err error) bool {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno == unix.ENOENT
	}
	return false
}

func genlHandle(path string) (*netlink.Handle, error) {
	if path == "" {
		h, err := netlink.NewHandle(unix.NETLINK_GENERIC)
		if err != nil {
			return nil, fmt.Errorf("ipvs: generic netlink socket: %w", err)
		}
		return h, nil
	}
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("ipvs: network namespace %s: %w", path, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_GENERIC)
	if err != nil {
		return nil, fmt.Errorf("ipvs: generic netlink socket in %s: %w", path, err)
	}
	return h, nil
}

// ensureModule makes IPVS available, loading ip_vs with modprobe when the
// family is missing (keepalived does the same at start). It must run
// before the first mobyipvs.New: that library resolves the family number
// once per process, and a lookup made before the module is loaded would
// leave it sending every request to family 0, which "succeeds".
func ensureModule(path string, modprobe bool) error {
	err := Available(path)
	if !errors.Is(err, ErrNoIPVS) || !modprobe {
		return err
	}
	if p, lerr := exec.LookPath("modprobe"); lerr == nil {
		_ = exec.Command(p, "-q", "ip_vs").Run() // the re-check below decides
	}
	return Available(path)
}

// kernel wraps a moby/ipvs handle with conversions to and from this
// package's types.
type kernel struct {
	h *mobyipvs.Handle
}

func openKernel(path string) (*kernel, error) {
	h, err := mobyipvs.New(path)
	if err != nil {
		return nil, fmt.Errorf("ipvs: opening the IPVS netlink socket: %w", err)
	}
	return &kernel{h: h}, nil
}

func (k *kernel) close() { k.h.Close() }

// read returns the kernel's whole table.
func (k *kernel) read() (Table, error) {
	svcs, err := k.h.GetServices()
	if err != nil {
		return nil, fmt.Errorf("ipvs: listing services: %w", err)
	}
	t := make(Table, 0, len(svcs))
	for _, ms := range svcs {
		s, err := fromMobyService(ms)
		if err != nil {
			return nil, err
		}
		dests, err := k.h.GetDestinations(ms)
		if err != nil {
			return nil, fmt.Errorf("ipvs: listing destinations of %s: %w", s.Key(), err)
		}
		for _, md := range dests {
			d, err := fromMobyDest(md)
			if err != nil {
				return nil, fmt.Errorf("ipvs: %s: %w", s.Key(), err)
			}
			s.Dests = append(s.Dests, d)
		}
		t = append(t, s)
	}
	t.Sort()
	return t, nil
}

// readService returns one service with its destinations, nil when the
// kernel has no such service: one IPVS_CMD_GET_SERVICE (answered with
// ESRCH for an absent service) and one destination dump, instead of the
// whole table — a weight change on a 10,000-server table read all of it.
func (k *kernel) readService(key ServiceKey) (*Service, error) {
	probe := Service{Family: key.Family, Protocol: key.Protocol, Addr: key.Addr, Port: key.Port, FwMark: key.FwMark}
	ms, err := k.h.GetService(toMobyService(&probe))
	if errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ipvs: reading service %s: %w", key, err)
	}
	s, err := fromMobyService(ms)
	if err != nil {
		return nil, err
	}
	dests, err := k.h.GetDestinations(ms)
	if err != nil {
		return nil, fmt.Errorf("ipvs: listing destinations of %s: %w", key, err)
	}
	for _, md := range dests {
		d, err := fromMobyDest(md)
		if err != nil {
			return nil, fmt.Errorf("ipvs: %s: %w", key, err)
		}
		s.Dests = append(s.Dests, d)
	}
	// In the order read gives them, for the callers that walk them.
	slices.SortFunc(s.Dests, func(a, b Dest) int { return a.Key().Compare(b.Key()) })
	return &s, nil
}

func (k *kernel) addService(s *Service) error {
	if err := k.h.NewService(toMobyService(s)); err != nil {
		return fmt.Errorf("ipvs: adding service %s: %w", s.Key(), err)
	}
	return nil
}

func (k *kernel) updateService(s *Service) error {
	if err := k.h.UpdateService(toMobyService(s)); err != nil {
		return fmt.Errorf("ipvs: updating service %s: %w", s.Key(), err)
	}
	return nil
}

func (k *kernel) delService(s *Service) error {
	if err := k.h.DelService(toMobyService(s)); err != nil {
		return fmt.Errorf("ipvs: deleting service %s: %w", s.Key(), err)
	}
	return nil
}

func (k *kernel) addDest(s *Service, d *Dest) error {
	if err := k.h.NewDestination(toMobyService(s), toMobyDest(d)); err != nil {
		if errors.Is(err, unix.EINVAL) && s.Family == 4 {
			// The kernel accepts an IPv4 destination only if its local
			// routing table calls the address unicast or local; in a
			// namespace whose loopback is down there is no local table.
			return fmt.Errorf("ipvs: adding %s to %s: %w (is the address routable as unicast, and the namespace's loopback up?)", d.Key(), s.Key(), err)
		}
		return fmt.Errorf("ipvs: adding %s to %s: %w", d.Key(), s.Key(), err)
	}
	return nil
}

func (k *kernel) updateDest(s *Service, d *Dest) error {
	if err := k.h.UpdateDestination(toMobyService(s), toMobyDest(d)); err != nil {
		return fmt.Errorf("ipvs: updating %s in %s: %w", d.Key(), s.Key(), err)
	}
	return nil
}

func (k *kernel) delDest(s *Service, d *Dest) error {
	if err := k.h.DelDestination(toMobyService(s), toMobyDest(d)); err != nil {
		return fmt.Errorf("ipvs: deleting %s from %s: %w", d.Key(), s.Key(), err)
	}
	return nil
}

func (k *kernel) flush() error {
	if err := k.h.Flush(); err != nil {
		return fmt.Errorf("ipvs: flushing the table: %w", err)
	}
	return nil
}

var protoNumbers = map[string]uint16{"TCP": unix.IPPROTO_TCP, "UDP": unix.IPPROTO_UDP, "SCTP": unix.IPPROTO_SCTP}

func protoNumber(p string) (uint16, error) {
	n, ok := protoNumbers[p]
	if !ok {
		return 0, fmt.Errorf("ipvs: unknown protocol %q (want TCP, UDP or SCTP)", p)
	}
	return n, nil
}

func protoName(n uint16) (string, error) {
	for name, v := range protoNumbers {
		if v == n {
			return name, nil
		}
	}
	return "", fmt.Errorf("ipvs: kernel service with unknown protocol %d", n)
}

func family(f int) uint16 {
	if f == 6 {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

// netmask encodes the persistence granularity as the kernel wants it:
// for IPv4 the mask in network byte order (moby/ipvs sends the uint32 in
// host order, so the bytes are reinterpreted), for IPv6 the prefix length.
func netmask(fam, bits int) uint32 {
	if fam == 6 {
		return uint32(bits)
	}
	m := net.CIDRMask(bits, 32)
	return binary.NativeEndian.Uint32(m)
}

func maskBits(fam int, nm uint32) int {
	if fam == 6 {
		return int(nm)
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], nm)
	ones, bitsTotal := net.IPMask(b[:]).Size()
	if bitsTotal == 0 { // not a contiguous mask: report it as the full one
		return 32
	}
	return ones
}

func toMobyService(s *Service) *mobyipvs.Service {
	ms := &mobyipvs.Service{
		AddressFamily: family(s.Family),
		FWMark:        s.FwMark,
		SchedName:     s.Scheduler,
		Flags:         s.flags(),
		Timeout:       uint32(s.PersistenceTimeout / time.Second),
		Netmask:       netmask(s.Family, s.bits()),
		PEName:        s.PersistenceEngine,
	}
	if s.FwMark == 0 {
		ms.Protocol, _ = protoNumber(s.Protocol) // validated before
		ms.Address = net.IP(s.Addr.AsSlice())
		ms.Port = s.Port
	}
	return ms
}

func fromMobyService(ms *mobyipvs.Service) (Service, error) {
	s := Service{
		FwMark:             ms.FWMark,
		Scheduler:          ms.SchedName,
		Flags:              ms.Flags & managedFlags &^ FlagPersistent,
		PersistenceTimeout: time.Duration(ms.Timeout) * time.Second,
		PersistenceEngine:  ms.PEName,
	}
	switch ms.AddressFamily {
	case unix.AF_INET:
		s.Family = 4
	case unix.AF_INET6:
		s.Family = 6
	default:
		return Service{}, fmt.Errorf("ipvs: kernel service with address family %d", ms.AddressFamily)
	}
	if ms.Flags&FlagPersistent == 0 {
		s.PersistenceTimeout = 0
	}
	if ms.FWMark == 0 {
		p, err := protoName(ms.Protocol)
		if err != nil {
			return Service{}, err
		}
		s.Protocol = p
		a, ok := netip.AddrFromSlice(ms.Address)
		if !ok {
			return Service{}, fmt.Errorf("ipvs: kernel service with bad address %v", ms.Address)
		}
		s.Addr = a.Unmap()
		s.Port = ms.Port
	}
	if b := maskBits(s.Family, ms.Netmask); b != s.maxBits() {
		s.GranularityBits = b
	}
	return s, nil
}

func toMobyDest(d *Dest) *mobyipvs.Destination {
	return &mobyipvs.Destination{
		Address:         net.IP(d.Addr.AsSlice()),
		Port:            d.Port,
		Weight:          d.Weight,
		ConnectionFlags: uint32(d.Method),
		UpperThreshold:  d.UpperThreshold,
		LowerThreshold:  d.LowerThreshold,
	}
}

func fromMobyDest(md *mobyipvs.Destination) (Dest, error) {
	a, ok := netip.AddrFromSlice(md.Address)
	if !ok {
		return Dest{}, fmt.Errorf("destination with bad address %v", md.Address)
	}
	return Dest{
		Addr:           a.Unmap(),
		Port:           md.Port,
		Method:         Method(md.ConnectionFlags & mobyipvs.ConnectionFlagFwdMask),
		Weight:         md.Weight,
		UpperThreshold: md.UpperThreshold,
		LowerThreshold: md.LowerThreshold,
	}, nil
}
