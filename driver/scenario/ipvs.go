package scenario

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/vigil-ha/vigil/effects"
)

// IPVS models the kernel's IPVS table and applies SetIPVS strictly:
// adding a service or destination that exists, editing one that is
// missing or unchanged, deleting one that is missing is an error. The
// engine's operations are so shown to be minimal as well as correct. The
// model is the kernel's, written apart from the engine's own table code,
// so that it checks it.
type IPVS struct {
	svcs map[ipvsKey]*ipvsService
}

// ipvsKey is what the kernel identifies a service by.
type ipvsKey struct {
	fam    int
	proto  string
	addr   netip.Addr
	port   int
	fwmark uint32
}

type ipvsService struct {
	s     effects.IPVSService
	dests map[netip.AddrPort]ipvsDest
}

type ipvsDest struct {
	d      effects.IPVSDest
	weight int
}

func keyOf(s *effects.IPVSService) ipvsKey {
	return ipvsKey{s.Family, s.Protocol, s.Addr, s.Port, s.FwMark}
}

func svcName(s *effects.IPVSService) string {
	if s.FwMark != 0 {
		return "FWM " + strconv.FormatUint(uint64(s.FwMark), 10)
	}
	return s.Protocol + "/" + netip.AddrPortFrom(s.Addr, uint16(s.Port)).String()
}

// sameAttrs reports whether two services of one key have the same
// attributes (what ipvsadm -E would change).
func sameAttrs(a, b *effects.IPVSService) bool {
	return a.Scheduler == b.Scheduler && a.OnePacket == b.OnePacket && a.PersistenceTimeout == b.PersistenceTimeout &&
		a.PersistenceNetmask == b.PersistenceNetmask && a.PersistenceEngine == b.PersistenceEngine &&
		slices.Equal(a.SchedFlags, b.SchedFlags)
}

// Apply applies one operation.
func (k *IPVS) Apply(v *effects.SetIPVS) error {
	if k.svcs == nil {
		k.svcs = map[ipvsKey]*ipvsService{}
	}
	key := keyOf(&v.Service)
	s := k.svcs[key]
	switch v.Op {
	case effects.IPVSFlush:
		clear(k.svcs)
		return nil
	case effects.IPVSAddService:
		if s != nil {
			return fmt.Errorf("add-service %s: exists", svcName(&v.Service))
		}
		k.svcs[key] = &ipvsService{s: v.Service, dests: map[netip.AddrPort]ipvsDest{}}
		k.svcs[key].s.SchedFlags = slices.Clone(v.Service.SchedFlags)
		return nil
	case effects.IPVSEditService:
		if s == nil || sameAttrs(&s.s, &v.Service) {
			return fmt.Errorf("edit-service %s: missing or unchanged", svcName(&v.Service))
		}
		s.s = v.Service
		s.s.SchedFlags = slices.Clone(v.Service.SchedFlags)
		return nil
	case effects.IPVSDelService:
		if s == nil {
			return fmt.Errorf("del-service %s: missing", svcName(&v.Service))
		}
		delete(k.svcs, key)
		return nil
	}
	if s == nil {
		return fmt.Errorf("%v on missing service %s", v.Op, svcName(&v.Service))
	}
	dk := netip.AddrPortFrom(v.Dest.Addr, uint16(v.Dest.Port))
	old, ok := s.dests[dk]
	nd := ipvsDest{d: v.Dest, weight: v.Weight}
	switch v.Op {
	case effects.IPVSAddDest:
		if ok {
			return fmt.Errorf("add-dest %s in %s: exists", dk, svcName(&v.Service))
		}
		s.dests[dk] = nd
	case effects.IPVSEditDest:
		if !ok || old == nd {
			return fmt.Errorf("edit-dest %s in %s: missing or unchanged", dk, svcName(&v.Service))
		}
		s.dests[dk] = nd
	case effects.IPVSDelDest:
		if !ok {
			return fmt.Errorf("del-dest %s in %s: missing", dk, svcName(&v.Service))
		}
		delete(s.dests, dk)
	default:
		return fmt.Errorf("unknown operation %v", v.Op)
	}
	return nil
}

// Reconcile replaces the model with the table a ReconcileIPVS asks for
// (what the adapter makes the kernel hold); a service or destination
// listed twice is an error.
func (k *IPVS) Reconcile(v *effects.ReconcileIPVS) error {
	k.svcs = map[ipvsKey]*ipvsService{}
	for _, s := range v.Services {
		key := keyOf(&s.Service)
		if k.svcs[key] != nil {
			return fmt.Errorf("reconcile: service %s listed twice", svcName(&s.Service))
		}
		ks := &ipvsService{s: s.Service, dests: map[netip.AddrPort]ipvsDest{}}
		ks.s.SchedFlags = slices.Clone(s.Service.SchedFlags)
		for _, d := range s.Dests {
			dk := netip.AddrPortFrom(d.Dest.Addr, uint16(d.Dest.Port))
			if _, ok := ks.dests[dk]; ok {
				return fmt.Errorf("reconcile: dest %s listed twice in %s", dk, svcName(&s.Service))
			}
			ks.dests[dk] = ipvsDest{d: d.Dest, weight: d.Weight}
		}
		k.svcs[key] = ks
	}
	return nil
}

// Matches compares the model with the table the engine asks for.
func (k *IPVS) Matches(tbl []effects.IPVSTableService) error {
	if len(tbl) != len(k.svcs) {
		return fmt.Errorf("%d services in the engine's table, %d in the kernel model", len(tbl), len(k.svcs))
	}
	for _, s := range tbl {
		ks := k.svcs[keyOf(&s.Service)]
		if ks == nil || !sameAttrs(&ks.s, &s.Service) {
			return fmt.Errorf("service %s differs", svcName(&s.Service))
		}
		if len(ks.dests) != len(s.Dests) {
			return fmt.Errorf("service %s: %d dests in the engine's table, %d in the kernel model", svcName(&s.Service), len(s.Dests), len(ks.dests))
		}
		for _, d := range s.Dests {
			kd, ok := ks.dests[netip.AddrPortFrom(d.Dest.Addr, uint16(d.Dest.Port))]
			if !ok || kd.d != d.Dest || kd.weight != d.Weight {
				return fmt.Errorf("service %s: dest %s differs: %+v vs %+v", svcName(&s.Service), d.Dest.Addr, kd, d)
			}
		}
	}
	return nil
}
