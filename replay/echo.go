package replay

import (
	"net/netip"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// echoWindow is how long after an address effect its netlink echo is
// expected. An effect the kernel refused (EEXIST, ENOADDR) has no echo;
// its expectation lapses rather than swallow a later, real change.
const echoWindow = time.Second

// echoes tells the AddressChanged events that echo the node's own
// AddAddress and DelAddress effects from changes made by someone else (an
// `ip addr del` behind the daemon's back, DHCP, another daemon).
type echoes struct {
	pending []echo
}

type echo struct {
	addr  netip.Addr
	added bool
	at    events.Time
}

// expect notes the address effects among effs, produced at time at.
func (e *echoes) expect(at events.Time, effs []effects.Effect) {
	for _, ef := range effs {
		switch v := ef.(type) {
		case *effects.AddAddress:
			e.pending = append(e.pending, echo{v.Address.Prefix.Addr(), true, at})
		case *effects.DelAddress:
			e.pending = append(e.pending, echo{v.Address.Prefix.Addr(), false, at})
		}
	}
}

// own reports whether ev echoes an expected effect, consuming it.
func (e *echoes) own(ev *events.AddressChanged) bool {
	keep := e.pending[:0]
	found := false
	for _, p := range e.pending {
		switch {
		case ev.At.Sub(p.at) > echoWindow:
			// lapsed
		case !found && p.addr == ev.Prefix.Addr() && p.added == ev.Added:
			found = true
		default:
			keep = append(keep, p)
		}
	}
	clear(e.pending[len(keep):])
	e.pending = keep
	return found
}

// reset forgets every expectation (a new run).
func (e *echoes) reset() { e.pending = e.pending[:0] }
