package driver

import (
	"net/netip"
	"slices"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// EchoDelay is how long a modelled kernel takes to report an address
// change back through netlink.
const EchoDelay = 50 * time.Microsecond

// Addresses is one interface's address list, in the order the kernel
// reports it.
type Addresses []netip.Prefix

// Apply adds or removes p and reports whether that changed anything: the
// kernel refuses an address that is there (EEXIST) or not there
// (EADDRNOTAVAIL), and only a real change is echoed back.
func (a *Addresses) Apply(p netip.Prefix, add bool) bool {
	k := slices.IndexFunc(*a, func(q netip.Prefix) bool { return q.Addr() == p.Addr() })
	switch {
	case add && k < 0:
		*a = append(*a, p)
		return true
	case !add && k >= 0:
		*a = slices.Delete(*a, k, k+1)
		return true
	}
	return false
}

// Has reports whether addr is in the list.
func (a Addresses) Has(addr netip.Addr) bool {
	return slices.ContainsFunc(a, func(p netip.Prefix) bool { return p.Addr() == addr })
}

// Kernel is the address half of a modelled kernel, by interface.
type Kernel struct {
	ifs map[string]*Addresses
}

// Iface returns an interface's addresses, creating the entry.
func (k *Kernel) Iface(name string) *Addresses {
	if k.ifs == nil {
		k.ifs = map[string]*Addresses{}
	}
	a := k.ifs[name]
	if a == nil {
		a = new(Addresses)
		k.ifs[name] = a
	}
	return a
}

// Apply carries out a step's address effects at time at and returns the
// echoes the kernel sends for them (stamped at+EchoDelay), in order.
func (k *Kernel) Apply(at events.Time, effs []effects.Effect) []*events.AddressChanged {
	var out []*events.AddressChanged
	for _, e := range effs {
		var a effects.AddAddress
		add := false
		switch v := e.(type) {
		case *effects.AddAddress:
			a, add = *v, true
		case *effects.DelAddress:
			a = effects.AddAddress{Instance: v.Instance, Address: v.Address}
		default:
			continue
		}
		dev := a.Address.Dev
		if dev == "" || !k.Iface(dev).Apply(a.Address.Prefix, add) {
			continue // no device: the kernel refuses it too
		}
		out = append(out, &events.AddressChanged{Header: events.Header{At: at.Add(EchoDelay)},
			Interface: dev, Prefix: a.Address.Prefix, Added: add})
	}
	return out
}

// Observe applies a change reported by the kernel (made by someone else).
func (k *Kernel) Observe(ev *events.AddressChanged) {
	k.Iface(ev.Interface).Apply(ev.Prefix, ev.Added)
}

// echoWindow is how long after an address effect its netlink echo is
// expected in a recorded journal. An effect the kernel refused has no
// echo; its expectation lapses rather than swallow a later, real change.
const echoWindow = time.Second

// Echoes tells, in a recorded journal, the AddressChanged events that echo
// the node's own AddAddress and DelAddress effects from changes made by
// someone else (an `ip addr del` behind the daemon's back, DHCP).
type Echoes struct {
	pending []echo
}

type echo struct {
	addr  netip.Addr
	added bool
	at    events.Time
}

// Expect notes the address effects among effs, produced at time at.
func (e *Echoes) Expect(at events.Time, effs []effects.Effect) {
	for _, ef := range effs {
		switch v := ef.(type) {
		case *effects.AddAddress:
			e.pending = append(e.pending, echo{v.Address.Prefix.Addr(), true, at})
		case *effects.DelAddress:
			e.pending = append(e.pending, echo{v.Address.Prefix.Addr(), false, at})
		}
	}
}

// Own reports whether ev echoes an expected effect, consuming it.
func (e *Echoes) Own(ev *events.AddressChanged) bool {
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

// Reset forgets every expectation (a new run).
func (e *Echoes) Reset() { e.pending = nil }

// Answers are the events a working kernel sends back for a step's
// effects, beside address echoes: each JoinGroup succeeds at once (the
// daemon executes it inline and answers before anything else), and a
// VMAC created or deleted is reported as a link change after EchoDelay.
// The simulator and what-if answer with these; the daemon's answers come
// from its real executors.
func Answers(at events.Time, effs []effects.Effect) []events.Event {
	var out []events.Event
	for _, e := range effs {
		switch v := e.(type) {
		case *effects.JoinGroup:
			out = append(out, &events.GroupJoined{Header: events.Header{At: at}, Interface: v.Interface, Group: v.Group})
		case *effects.CreateVMAC:
			out = append(out, &events.LinkChanged{Header: events.Header{At: at.Add(EchoDelay)}, Interface: v.Name,
				Present: true, Up: true, Running: true, MTU: 1500})
		case *effects.DeleteVMAC:
			out = append(out, &events.LinkChanged{Header: events.Header{At: at.Add(EchoDelay)}, Interface: v.Name})
		}
	}
	return out
}
