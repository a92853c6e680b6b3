package lvs

import (
	"slices"

	"github.com/vigil-ha/vigil/effects"
)

// Table returns the IPVS table the engine has asked for so far (its last
// ReconcileIPVS and the SetIPVS effects since), services in configuration
// order: what the kernel holds if every effect was applied, in the
// vocabulary of ReconcileIPVS (a Start's carries the table as that Start
// leaves it).
func (m *Machine) Table() []effects.IPVSTableService {
	var out []effects.IPVSTableService
	for _, v := range m.model.vservers {
		for _, s := range v.dyn.Services {
			svc := effects.IPVSTableService{VirtualServer: v.id, Service: s}
			svc.Service.SchedFlags = slices.Clone(s.SchedFlags)
			for _, d := range v.dyn.Dests {
				dd := effects.IPVSTableDest{RealServer: d.RealServer, Weight: d.Weight, Dest: d.Dest}
				dd.Dest.Port = destPort(&s, &d.Dest)
				svc.Dests = append(svc.Dests, dd)
			}
			out = append(out, svc)
		}
	}
	return out
}

// destPort is a destination's port in service s: the real server's own
// for NAT; for DR and TUN the service's (0 in a fwmark service), as
// keepalived sets it.
func destPort(s *effects.IPVSService, d *effects.IPVSDest) int {
	if d.Method == "NAT" || d.Method == "" {
		return d.Port
	}
	if s.FwMark != 0 {
		return 0
	}
	return s.Port
}

// sameDestKey reports whether two destinations are the same kernel
// destination in every service: same address and port, and both NAT or
// both not (which decides the port used in each service).
func sameDestKey(a, b *effects.IPVSDest) bool {
	return a.Addr == b.Addr && a.Port == b.Port && (a.Method == "NAT") == (b.Method == "NAT")
}

// desired computes the destinations a virtual server's services should
// have now, in configuration order, into m's scratch buffer.
func (m *Machine) desired(v *vserver) []dest {
	buf := m.scratch[:0]
	for _, r := range v.reals {
		switch {
		case r.dyn.Alive && !v.dyn.SorryOn:
			buf = append(buf, dest{RealServer: r.id, Dest: r.dest, Weight: realWeight(r.dyn.Weight)})
		case r.inhibit:
			// inhibit_on_failure: kept with weight 0 rather than removed.
			buf = append(buf, dest{RealServer: r.id, Dest: r.dest})
		}
	}
	if s := v.sorry; s != nil && (v.dyn.SorryOn || s.inhibit) {
		w := 0
		if v.dyn.SorryOn {
			w = realWeight(s.dyn.Weight)
		}
		merged := false
		for k := range buf {
			// A sorry server that is also a real server is one kernel
			// destination: the higher weight wins.
			if sameDestKey(&buf[k].Dest, &s.dest) {
				buf[k].Weight = max(buf[k].Weight, w)
				merged = true
			}
		}
		if !merged {
			buf = append(buf, dest{RealServer: s.id, Dest: s.dest, Weight: w})
		}
	}
	m.scratch = buf
	return buf
}

// syncTable brings a dirty virtual server's applied table to the desired
// one.
func (m *Machine) syncTable(v *vserver) {
	v.dirty = false
	if !m.running() {
		return
	}
	m.diff(v, v.services, m.desired(v))
	v.servicesDirty = false
}

// diff emits the SetIPVS operations that turn the applied table of v into
// (want, wantD): services to delete, services to edit, destination
// deletions, destination additions and edits, then new services with
// their destinations.
func (m *Machine) diff(v *vserver, want []effects.IPVSService, wantD []dest) {
	have := v.dyn.Services
	changed := len(have) != len(want)
	if !changed && (v.servicesDirty || len(want) == 0) {
		for k := range want {
			if keyOf(&have[k]) != keyOf(&want[k]) || !sameAttrs(&have[k], &want[k]) {
				changed = true
				break
			}
		}
	}
	// kept lists the services present before and after; without a change
	// of services it is want itself.
	kept := want
	var added []effects.IPVSService
	if changed {
		kept = nil
		wantIdx := make(map[svcKey]int, len(want))
		for k := range want {
			wantIdx[keyOf(&want[k])] = k
		}
		haveIdx := make(map[svcKey]int, len(have))
		for k := range have {
			s := &have[k]
			haveIdx[keyOf(s)] = k
			if _, ok := wantIdx[keyOf(s)]; !ok {
				m.svcOp(v, effects.IPVSDelService, s)
			}
		}
		for k := range want {
			s := &want[k]
			h, ok := haveIdx[keyOf(s)]
			if !ok {
				added = append(added, *s)
				continue
			}
			if !sameAttrs(&have[h], s) {
				m.svcOp(v, effects.IPVSEditService, s)
			}
			kept = append(kept, *s)
		}
	}
	old := v.dyn.Dests
	for k := range old {
		if findDest(wantD, &old[k].Dest, k) < 0 {
			for s := range kept {
				m.destOp(v, effects.IPVSDelDest, &kept[s], &old[k])
			}
		}
	}
	for k := range wantD {
		d := &wantD[k]
		op := effects.IPVSAddDest
		if o := findDest(old, &d.Dest, k); o >= 0 {
			if old[o].Dest == d.Dest && old[o].Weight == d.Weight {
				continue
			}
			op = effects.IPVSEditDest
		}
		for s := range kept {
			m.destOp(v, op, &kept[s], d)
		}
	}
	for s := range added {
		m.svcOp(v, effects.IPVSAddService, &added[s])
		for k := range wantD {
			m.destOp(v, effects.IPVSAddDest, &added[s], &wantD[k])
		}
	}
	if changed {
		v.dyn.Services = slices.Clone(want)
	}
	v.dyn.Dests = append(v.dyn.Dests[:0], wantD...)
}

// findDest returns the index in ds of the destination with d's key, or
// -1; hint is where it usually is (lists keep configuration order).
func findDest(ds []dest, d *effects.IPVSDest, hint int) int {
	if hint < len(ds) && sameDestKey(&ds[hint].Dest, d) {
		return hint
	}
	for k := range ds {
		if sameDestKey(&ds[k].Dest, d) {
			return k
		}
	}
	return -1
}

func (m *Machine) svcOp(v *vserver, op effects.IPVSOp, s *effects.IPVSService) {
	e := m.out.ipvs.Get()
	e.Op, e.VirtualServer, e.Service = op, v.id, *s
	m.out.add(e)
}

func (m *Machine) destOp(v *vserver, op effects.IPVSOp, s *effects.IPVSService, d *dest) {
	e := m.out.ipvs.Get()
	e.Op, e.VirtualServer, e.RealServer, e.Service, e.Dest = op, v.id, d.RealServer, *s, d.Dest
	e.Dest.Port = destPort(s, &d.Dest)
	if op != effects.IPVSDelDest {
		e.Weight = d.Weight
	}
	m.out.add(e)
}
