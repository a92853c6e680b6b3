package vrrp

import (
	"net/netip"

	"github.com/vigil-ha/vigil/effects"
)

// timerRef is what one of the machine's timer keys stands for: the
// timer's kind and its owner, the index of an instance, a track script, a
// socket or a GARP delay in the machine's table of that kind (iface "na"
// for a GARP delay's NA half), or for a link delay the interface's name. Machine.timers, keyed by timer key, is the one place
// a key is read back: a key is never parsed.
type timerRef struct {
	kind  effects.TimerKind
	idx   int32
	iface string
}

// TimerInfo is what one of the machine's timer keys stands for.
type TimerInfo struct {
	Kind effects.TimerKind
	// Instance owns an advert, master-down or GARP timer; Script a track
	// script's; Interface a link delay's or a socket's, Group being the
	// socket's multicast group (the family's unspecified address for a
	// unicast socket). A GARP delay's Interface is the interfaces it
	// covers, comma-separated.
	Instance  string
	Script    string
	Interface string
	Group     netip.Addr
}

// TimerInfo reports what key stands for, from the machine's timer table:
// the timers of the loaded configuration and the link delays it has
// armed. It is false for a key that is not one of them. It changes
// nothing.
func (m *Machine) TimerInfo(key string) (TimerInfo, bool) {
	ref, ok := m.timers[key]
	if !ok {
		return TimerInfo{}, false
	}
	t := TimerInfo{Kind: ref.kind}
	switch ref.kind {
	case effects.TimerLinkDelay:
		t.Interface = ref.iface
	case effects.TimerSocketRetry:
		if int(ref.idx) >= len(m.sockets) {
			return TimerInfo{}, false
		}
		p := m.sockets[ref.idx].pair
		t.Interface, t.Group = p.iface, p.group
	case effects.TimerGARPDelay:
		if int(ref.idx) >= len(m.garpDelays) {
			return TimerInfo{}, false
		}
		t.Interface = m.garpDelays[ref.idx].name
	case effects.TimerTrackScript:
		if int(ref.idx) >= len(m.scripts) {
			return TimerInfo{}, false
		}
		t.Script = m.scripts[ref.idx].cfg.Name
	default:
		if int(ref.idx) >= len(m.instances) {
			return TimerInfo{}, false
		}
		t.Instance = m.instances[ref.idx].name
	}
	return t, true
}
