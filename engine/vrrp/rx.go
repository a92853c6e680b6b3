package vrrp

import (
	"net/netip"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// Advert handles a received VRRP packet.
func (m *Machine) Advert(ev *events.AdvertReceived) {
	fam := uint8(4)
	if (ev.Src.IsValid() && !ev.Src.Unmap().Is4()) || (!ev.Src.IsValid() && ev.Dst.IsValid() && !ev.Dst.Unmap().Is4()) {
		fam = 6
	}
	i := m.byVRID[vridKey{ev.Interface, fam, ev.Advert.VRID}]
	if i == nil {
		i = m.byVRID[vridKey{"", fam, ev.Advert.VRID}] // unicast without an interface
	}
	if !m.started || m.stopped {
		return
	}
	if i == nil {
		// An unknown VRID: not ours.
		if m.cfg.GlobalDefs.LogUnknownVRIDs {
			m.logUnknownVRID(ev)
		}
		return
	}
	if !m.check(i, ev) {
		return
	}
	switch i.dyn.State {
	case effects.StateBackup:
		m.backupRx(i, ev)
	case effects.StateMaster:
		m.masterRx(i, ev)
	}
}

// logUnknownVRID logs an advert for a VRID no instance runs on its
// interface (log_unknown_vrids), as keepalived does for each one, but at
// most once a second per interface with how many were let pass since: a
// segment busy with other routers' VRIDs, or a flood, must not fill the
// log.
func (m *Machine) logUnknownVRID(ev *events.AdvertReceived) {
	s := m.iface(ev.Interface)
	n := max(int(ev.Count), 1)
	if m.now < s.UnknownNextLog {
		s.UnknownSkipped += n
		return
	}
	msg := "Unknown VRID(" + itoa(int(ev.Advert.VRID)) + ") received on interface(" + ev.Interface + ")"
	if ev.Src.IsValid() {
		msg += " from " + ev.Src.String()
	}
	msg += ". ignoring..."
	if n += s.UnknownSkipped; n > 1 {
		msg += " (" + itoa(n) + " adverts for unknown VRIDs since the last line)"
	}
	s.UnknownNextLog, s.UnknownSkipped = m.now.Add(time.Second), 0
	m.out.log(effects.LogInfo, "", msg)
}

// verdictCounter is the counter a rejected advert's verdict is counted
// under ("" for one without its own: counted as a length error).
func verdictCounter(v events.Verdict) effects.Counter {
	switch v {
	case events.VerdictTooShort, events.VerdictBadLength:
		return effects.CounterPacketLengthError
	case events.VerdictBadVersion:
		return effects.CounterVersionError
	case events.VerdictBadType:
		return effects.CounterInvalidType
	case events.VerdictBadChecksum:
		return effects.CounterChecksumError
	case events.VerdictBadAuthAH:
		return effects.CounterAuthFailure
	}
	return ""
}

// check validates an advert as RFC 5798 §7.1 / RFC 3768 §7.1 and keepalived
// do, counting every rejection. A rejected advert is ignored totally: in
// particular it never resets the master-down timer.
func (m *Machine) check(i *instance, ev *events.AdvertReceived) bool {
	a := &ev.Advert
	if ev.Verdict != events.VerdictOK {
		c := verdictCounter(ev.Verdict)
		if c == "" {
			c = effects.CounterPacketLengthError
		}
		// The adapter may have coalesced a burst of such packets.
		m.out.countN(i.name, c, max(ev.Count, 1))
		return false
	}
	if !i.unicast && ev.TTL != 255 {
		m.out.count(i.name, effects.CounterTTLError)
		return false
	}
	if a.Version != i.version {
		m.out.count(i.name, effects.CounterVersionError)
		return false
	}
	if i.version == 2 {
		switch {
		case a.AuthType > 2:
			m.out.count(i.name, effects.CounterInvalidAuthType)
			return false
		case a.AuthType != i.authType || (i.authType == 2 && !a.AH):
			m.out.count(i.name, effects.CounterAuthTypeMismatch)
			return false
		case i.authType == 1 && a.AuthData != i.authPass:
			m.out.count(i.name, effects.CounterAuthFailure)
			return false
		case a.Interval != i.advert.Interval:
			// RFC 3768: MUST discard on an interval mismatch.
			m.out.count(i.name, effects.CounterAdvertIntervalError)
			return false
		}
	}
	if a.Type != 1 {
		m.out.count(i.name, effects.CounterInvalidType)
		return false
	}
	if !m.checksumForm(i, ev) {
		m.out.count(i.name, effects.CounterChecksumError)
		return false
	}
	if ev.Dst.IsValid() && ev.Dst.IsMulticast() == i.unicast {
		m.out.count(i.name, effects.CounterAddressListError)
		return false
	}
	if i.unicast && !m.checkPeer(i, ev) {
		return false
	}
	m.out.count(i.name, effects.CounterAdvertReceived)
	// keepalived counts an address-list mismatch but still accepts the
	// advert (RFC: "SHOULD log", not discard); so does vigil.
	if !i.cfg.SkipCheckAdvAddr || ev.Src != i.dyn.MasterSrc {
		if !sameAddrs(a, i.advert.Addrs) {
			m.out.count(i.name, effects.CounterAddressListError)
		}
	}
	if a.Priority == prioStop {
		m.out.count(i.name, effects.CounterPriorityZeroReceived)
	}
	return true
}

// checkPeer applies check_unicast_src and the peers' min_ttl/max_ttl.
func (m *Machine) checkPeer(i *instance, ev *events.AdvertReceived) bool {
	check := i.cfg.CheckUnicastSrc || (m.cfg != nil && m.cfg.GlobalDefs.VRRPCheckUnicastSrc)
	for k := range i.cfg.UnicastPeers {
		p := &i.cfg.UnicastPeers[k]
		if p.MinTTL > 0 || p.MaxTTL > 0 {
			check = true
		}
		if p.Addr != ev.Src {
			continue
		}
		if (p.MinTTL > 0 && int(ev.TTL) < p.MinTTL) || (p.MaxTTL > 0 && int(ev.TTL) > p.MaxTTL) {
			m.out.count(i.name, effects.CounterTTLError)
			return false
		}
		return true
	}
	if check {
		m.out.count(i.name, effects.CounterUnicastSourceError)
		return false
	}
	return true
}

func sameAddrs(a *events.Advert, want []netip.Addr) bool {
	if int(a.CountAddrs) != len(want) || len(a.Addrs) != len(want) {
		return false
	}
	for _, w := range want {
		found := false
		for _, x := range a.Addrs {
			if x == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// backupRx is RFC 5798 §6.4.2 with keepalived's preempt_delay and its rule
// that a BACKUP ignores a lower-priority advert (its timer keeps running).
func (m *Machine) backupRx(i *instance, ev *events.AdvertReceived) {
	a := &ev.Advert
	prio := int(a.Priority)
	if prio == prioStop {
		m.armDown(i, i.skew(), "priority-0-advert")
		if g := m.syncGroupOf(i); g != nil {
			g.dyn.DuelUntil = 0 // the master is leaving: no duel to break
		}
		return
	}
	delay := i.cfg.PreemptDelay.Std()
	if i.cfg.NoPreempt || prio >= i.dyn.Priority || (delay > 0 && (i.dyn.PreemptAt == 0 || i.dyn.PreemptAt > m.now)) {
		if i.version == 3 && a.Interval > 0 {
			i.dyn.MasterAdvertInt = time.Duration(a.Interval) * 10 * time.Millisecond
		}
		if delay > 0 {
			if prio >= i.dyn.Priority {
				i.dyn.PreemptAt = 0
			} else if i.dyn.PreemptAt == 0 {
				i.dyn.PreemptAt = m.now.Add(delay)
			}
		}
		i.dyn.MasterSrc, i.dyn.MasterPrio = ev.Src, prio
		i.dyn.Want = effects.StateBackup
		m.armDown(i, i.masterDownInterval(), "master-down-timer")
		return
	}
	i.dyn.MasterSrc, i.dyn.MasterPrio = ev.Src, prio
	i.dyn.LowerSeenAt = m.now
	if m.answerRival(i, ev.Src) {
		m.out.log(effects.LogInfo, i.name, "("+i.name+") received lower priority ("+itoa(prio)+") advert from "+ev.Src.String()+" - discarding"+m.ignoredNote(i))
	}
}

// masterRx is RFC 5798 §6.4.3 as keepalived does it.
func (m *Machine) masterRx(i *instance, ev *events.AdvertReceived) {
	a := &ev.Advert
	prio := int(a.Priority)
	if prio == prioStop {
		if !m.answerRival(i, ev.Src) {
			return // answered less than an advert interval ago (rival.go)
		}
		m.sendAdvert(i, i.dyn.Priority)
		// Only a MASTER sends a priority-0 advert, so the sender was a
		// rival master (after a partition heals, or one leaving MASTER
		// for FAULT, BACKUP or STOP at that moment) and may have sent
		// GARPs the LAN still follows. keepalived only answers with an
		// advert; vigil also re-sends GARPs/NAs, as for a lower-priority
		// advert, so the neighbour caches end on us (sim/FINDINGS.md #1).
		m.rivalGARP(i)
		return
	}
	// RFC 5798 §6.4.3: on equal priority the greater primary address
	// wins. An instance that knows no address of its own cannot claim the
	// tie (it compares as the unspecified address, below every sender):
	// it must not stay MASTER beside a router it cannot tell from itself.
	own := m.primary(i)
	if !own.IsValid() {
		own = unspecified(i.family)
	}
	cmp := -1
	if ev.Src.IsValid() {
		cmp = ev.Src.Unmap().Compare(own)
	}
	switch {
	case prio > i.dyn.Priority || (prio == i.dyn.Priority && cmp > 0):
		// vigil deliberately differs from keepalived here: it always
		// sends one advert at its own priority before stepping down (as
		// keepalived's higher_prio_send_advert). The winner then sees a
		// lower-priority advert and re-sends GARPs, so after a partition
		// heals the LAN's neighbour caches end on the winner whichever
		// advert crossed first.
		m.sendAdvert(i, i.dyn.Priority)
		if prio > i.dyn.Priority {
			m.out.log(effects.LogInfo, i.name, "("+i.name+") Master received advert from "+ev.Src.String()+" with higher priority "+itoa(prio)+", ours "+itoa(i.dyn.Priority))
		} else {
			m.out.log(effects.LogInfo, i.name, "("+i.name+") Master received advert from "+ev.Src.String()+" with same priority "+itoa(prio)+" but higher IP address than ours")
		}
		if i.version == 3 && a.Interval > 0 {
			i.dyn.MasterAdvertInt = time.Duration(a.Interval) * 10 * time.Millisecond
		}
		i.dyn.MasterSrc, i.dyn.MasterPrio = ev.Src, prio
		m.leaveMaster(i, effects.StateBackup, "higher-priority-advert", false)
		m.armDown(i, i.masterDownInterval(), "master-down-timer")
		m.syncBackup(i)
		m.forcedOut(i)
	case prio == i.dyn.Priority && cmp == 0:
		m.out.log(effects.LogWarning, i.name, "("+i.name+") WARNING - equal priority advert received from remote host with our IP address.")
	default:
		m.lowerPrioRx(i, ev, prio)
	}
}

// lowerPrioRx: a MASTER seeing a lower-priority advert answers (unless
// lower_prio_no_advert) and refreshes the LAN's neighbour caches, at most
// once per advert interval (rival.go); its own advert timer is not reset.
func (m *Machine) lowerPrioRx(i *instance, ev *events.AdvertReceived, prio int) {
	i.dyn.LowerSeenAt = m.now
	if !m.answerRival(i, ev.Src) {
		return
	}
	msg := "(" + i.name + ") Received advert from " + ev.Src.String() + " with lower priority " + itoa(prio) + ", ours " + itoa(i.dyn.Priority)
	if !i.cfg.LowerPrioNoAdvert {
		msg += ", forcing new election"
		m.sendAdvert(i, i.dyn.Priority)
	}
	msg += m.ignoredNote(i)
	m.out.log(effects.LogInfo, i.name, msg)
	m.rivalGARP(i)
	m.notifyEvent(i, "MASTER_RX_LOWER_PRI", i.cfg.Notify.MasterRxLowerPri)
}

// rivalGARP answers a MASTER's sign that another node believed itself
// master (a lower-priority or a priority-0 advert): that node may have
// sent GARPs the LAN still follows, so i and the other MASTER members of
// its sync group send a burst on the garp_lower_prio schedule. The rival's
// group members left MASTER with it, silently (a sync group's followers
// send no advert), so theirs is the only message we get for the whole
// group. keepalived skips the burst when garp_lower_prio_repeat is 0;
// vigil sends at least one, so the neighbour caches always end on the
// real master.
func (m *Machine) rivalGARP(i *instance) {
	m.lowerPrioGARP(i, max(i.cfg.GARPLowerPrioRepeat, 1))
	if g := m.syncGroupOf(i); g != nil {
		for _, o := range g.members {
			if o != i && o.dyn.State == effects.StateMaster {
				m.lowerPrioGARP(o, max(o.cfg.GARPLowerPrioRepeat, 1))
			}
		}
	}
}

func (m *Machine) lowerPrioGARP(i *instance, n int) {
	m.garpBurst(i, n)
	if d := i.cfg.GARPLowerPrioDelay.Std(); d > 0 && i.cfg.GARPLowerPrioRepeat > 0 {
		i.dyn.LowerPrioGARPAt = m.now.Add(d)
		m.out.setTimer(i.lowerPrioGARPKey, i.dyn.LowerPrioGARPAt)
	}
}

// primary is the instance's primary address: the advert source and the
// address that breaks equal-priority ties. It is the configured
// mcast_src_ip / unicast_src_ip, else the interface's first IPv4 address
// that is not a VIP, or for IPv6 its first link-local address (RFC 5798
// §5.1.2.1: IPv6 adverts come from a link-local address); invalid when
// the engine knows of none. The one copy of this rule: the adverts, the
// tie-break, the dumps and explain all use it.
func (m *Machine) primary(i *instance) netip.Addr {
	if i.src.IsValid() {
		return i.src
	}
	s := m.ifaces[i.iface]
	if s == nil {
		return netip.Addr{}
	}
	for _, p := range s.Addrs {
		a := p.Addr()
		if m.vipAddrs[a] {
			continue
		}
		if i.family == 4 && a.Is4() {
			return a
		}
		if i.family == 6 && a.Is6() && a.IsLinkLocalUnicast() {
			return a
		}
	}
	return netip.Addr{}
}

// The VRRPv3 IPv4 checksum of keepalived before 1.3.6, for unicast
// (keepalived's old_unicast_checksum): the pseudo-header's destination is
// the multicast group (vrrp_mcast_group4), not the peer. keepalived 2.2.7
// sends it with `old_unicast_checksum`, or once it heard a unicast peer
// use it (unless `old_unicast_checksum never`), and then accepts only it;
// otherwise it accepts only the standard one. The adapter verifies either
// and says which one the advert carried (Advert.Checksum). keepalived
// 2.2.7, once switched automatically, was seen still sending the standard
// checksum after becoming MASTER; vigil sends the old one, which is what
// its switch means and what a peer expecting the old one accepts.

// oldChecksum reports whether i sends (and expects) the old checksum.
func (m *Machine) oldChecksum(i *instance) bool {
	return i.family == 4 && i.version == 3 && (i.cfg.OldUnicastChecksum || i.dyn.OldChecksum)
}

// checksumGroup is the old checksum's pseudo-header destination.
func (m *Machine) checksumGroup() netip.Addr {
	if m.cfg != nil && m.cfg.GlobalDefs.VRRPMcastGroup4.Is4() {
		return m.cfg.GlobalDefs.VRRPMcastGroup4
	}
	return netip.AddrFrom4([4]byte{224, 0, 0, 18})
}

// checksumForm checks a VRRPv3 IPv4 advert's checksum form against the
// one i expects, switching a unicast instance to the old form on its
// first old advert.
func (m *Machine) checksumForm(i *instance, ev *events.AdvertReceived) bool {
	if i.family != 4 || i.version != 3 || ev.Advert.Version != 3 {
		return true
	}
	old := ev.Advert.Checksum == events.ChecksumOldUnicast
	switch {
	case m.oldChecksum(i):
		// Only the old form verifies (the standard one too when the
		// destination is the group itself).
		return old || ev.Advert.Checksum != events.ChecksumStandard || ev.Dst == m.checksumGroup()
	case !old:
		return true
	case i.unicast && !i.cfg.OldUnicastChecksumNever:
		i.dyn.OldChecksum = true
		m.out.log(effects.LogInfo, i.name, "("+i.name+") Setting unicast VRRPv3 checksum to old version")
		return true
	}
	return false
}
