package engine

import (
	"net/netip"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine/lvs"
)

// TimerInfo is what one of the engine's timer keys stands for: the kind
// of timer and its owner. Only the owner fields of its kind are set.
type TimerInfo struct {
	Kind effects.TimerKind
	// Instance is the VRRP instance of an advert, master-down or GARP
	// timer (TimerAdvert … TimerGARPRefresh).
	Instance string
	// Script is the vrrp_script of a TimerTrackScript.
	Script string
	// Interface is the interface of a TimerLinkDelay or of a
	// TimerSocketRetry, whose socket receives on multicast group Group
	// (the family's unspecified address for a unicast socket).
	Interface string
	Group     netip.Addr
	// VirtualServer, RealServer and Checker (the checker's index in the
	// real server's configuration) name the LVS checker of a TimerCheck.
	VirtualServer string
	RealServer    string
	Checker       int
	// BFD is the bfd_instance of a TimerBFDTx or TimerBFDDetect.
	BFD string
}

// Timer reports what key — the Key of a SetTimer, a CancelTimer or a
// TimerFired — stands for, from the engine's own timer tables: the timers
// of the loaded configuration, and the link delays it has armed. It is
// false for a key the engine has no timer by (one of a configuration
// since replaced, or no key of the engine's). Timer changes nothing; keys
// are never parsed, here or by the engine's users.
func (e *Engine) Timer(key string) (TimerInfo, bool) {
	if lvs.IsTimerKey(key) {
		l, ok := e.lvs.TimerInfo(key)
		if !ok {
			return TimerInfo{}, false
		}
		return TimerInfo{Kind: effects.TimerCheck, VirtualServer: l.VirtualServer, RealServer: l.RealServer, Checker: l.Checker}, true
	}
	if v, ok := e.vrrp.TimerInfo(key); ok {
		return TimerInfo{Kind: v.Kind, Instance: v.Instance, Script: v.Script, Interface: v.Interface, Group: v.Group}, true
	}
	if b, ok := e.bfd.TimerInfo(key); ok {
		return TimerInfo{Kind: b.Kind, BFD: b.Session}, true
	}
	if l, ok := e.lvs.TimerInfo(key); ok {
		return TimerInfo{Kind: effects.TimerCheck, VirtualServer: l.VirtualServer, RealServer: l.RealServer, Checker: l.Checker}, true
	}
	return TimerInfo{}, false
}
