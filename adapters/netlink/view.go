package netlink

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events"
)

// view is the monitor's picture of the kernel: what it has reported so far.
// Notifications are folded into it and only real changes become events, so
// the kernel's repeated notifications (flag updates, DAD completion) and a
// resync's overlap with queued notifications produce no duplicates.
type view struct {
	names  map[int]string // every interface name seen, kept after deletion
	links  map[int]linkRec
	addrs  map[addrRec]struct{}
	routes map[routeRec]struct{}
	rules  map[ruleRec]struct{}
}

func newView() *view {
	return &view{
		names:  map[int]string{},
		links:  map[int]linkRec{},
		addrs:  map[addrRec]struct{}{},
		routes: map[routeRec]struct{}{},
		rules:  map[ruleRec]struct{}{},
	}
}

// name returns an interface's name, or "" if never seen.
func (v *view) name(index int) string { return v.names[index] }

// apply folds one rtnetlink message into the view and returns the events
// it causes. flush is set when the kernel may have removed IPv4 routes
// without telling (an interface went down or away, or an IPv4 address was
// deleted), so the caller should re-read the routes.
func (v *view) apply(typ uint16, data []byte, at events.Time) (evs []events.Event, flush bool) {
	switch typ {
	case unix.RTM_NEWLINK:
		idx, rec, ok := parseLink(data)
		if !ok {
			return nil, false
		}
		v.names[idx] = rec.name
		old, had := v.links[idx]
		if had && old == rec {
			return nil, false
		}
		v.links[idx] = rec
		return []events.Event{linkEvent(idx, rec, true, at)}, had && old.up && !rec.up
	case unix.RTM_DELLINK:
		idx, rec, ok := parseLink(data)
		if !ok {
			return nil, false
		}
		if _, had := v.links[idx]; !had {
			return nil, false
		}
		delete(v.links, idx)
		evs = append(evs, linkEvent(idx, rec, false, at))
		// Addresses go with their interface; report any the kernel's own
		// RTM_DELADDRs have not already removed.
		for _, a := range sortedKeys(v.addrs, cmpAddr) {
			if a.index == idx {
				delete(v.addrs, a)
				evs = append(evs, v.addrEvent(a, false, at))
			}
		}
		return evs, true
	case unix.RTM_NEWADDR, unix.RTM_DELADDR:
		a, ok := parseAddr(data)
		if !ok {
			return nil, false
		}
		added := typ == unix.RTM_NEWADDR
		if _, had := v.addrs[a]; had == added {
			return nil, false
		}
		if added {
			v.addrs[a] = struct{}{}
		} else {
			delete(v.addrs, a)
		}
		return []events.Event{v.addrEvent(a, added, at)}, !added && a.prefix.Addr().Is4()
	case unix.RTM_NEWROUTE, unix.RTM_DELROUTE:
		r, ok := parseRoute(data)
		if !ok {
			return nil, false
		}
		added := typ == unix.RTM_NEWROUTE
		if _, had := v.routes[r]; had == added {
			return nil, false
		}
		if added {
			v.routes[r] = struct{}{}
		} else {
			delete(v.routes, r)
		}
		return []events.Event{v.routeEvent(r, added, at)}, false
	case unix.RTM_NEWRULE, unix.RTM_DELRULE:
		r, ok := parseRule(data)
		if !ok {
			return nil, false
		}
		added := typ == unix.RTM_NEWRULE
		if _, had := v.rules[r]; had == added {
			return nil, false
		}
		if added {
			v.rules[r] = struct{}{}
		} else {
			delete(v.rules, r)
		}
		return []events.Event{ruleEvent(r, added, at)}, false
	}
	return nil, false
}

// diffLinks reports the differences from v's links to next's, in index
// order, and adopts next's.
func (v *view) diffLinks(next map[int]linkRec, at events.Time) []events.Event {
	var evs []events.Event
	idxs := slices.Sorted(maps.Keys(v.links))
	idxs = append(idxs, slices.Sorted(maps.Keys(next))...)
	slices.Sort(idxs)
	for _, idx := range slices.Compact(idxs) {
		old, had := v.links[idx]
		rec, has := next[idx]
		switch {
		case has:
			v.names[idx] = rec.name
			if !had || old != rec {
				evs = append(evs, linkEvent(idx, rec, true, at))
			}
		case had:
			evs = append(evs, linkEvent(idx, old, false, at))
		}
	}
	v.links = next
	return evs
}

// diffSet reports the differences between two sets in key order (removals
// and additions interleaved by key) and returns the events.
func diffSet[K comparable](old, next map[K]struct{}, cmpK func(a, b K) int, ev func(K, bool) events.Event) []events.Event {
	var changed []K
	for k := range old {
		if _, ok := next[k]; !ok {
			changed = append(changed, k)
		}
	}
	for k := range next {
		if _, ok := old[k]; !ok {
			changed = append(changed, k)
		}
	}
	slices.SortFunc(changed, cmpK)
	evs := make([]events.Event, 0, len(changed))
	for _, k := range changed {
		_, added := next[k]
		evs = append(evs, ev(k, added))
	}
	return evs
}

// resync replaces the view by a fresh dump and returns the differences:
// links, then addresses, routes and rules, each in key order. Sections not
// watched are nil in next and left alone.
func (v *view) resync(next *view, at events.Time) []events.Event {
	evs := v.diffLinks(next.links, at)
	evs = append(evs, diffSet(v.addrs, next.addrs, cmpAddr, func(a addrRec, add bool) events.Event { return v.addrEvent(a, add, at) })...)
	v.addrs = next.addrs
	if next.routes != nil {
		evs = append(evs, v.resyncRoutes(next.routes, at)...)
	}
	if next.rules != nil {
		evs = append(evs, diffSet(v.rules, next.rules, cmpRule, func(r ruleRec, add bool) events.Event { return ruleEvent(r, add, at) })...)
		v.rules = next.rules
	}
	return evs
}

// resyncRoutes replaces the routes by a fresh dump and returns the
// differences.
func (v *view) resyncRoutes(next map[routeRec]struct{}, at events.Time) []events.Event {
	evs := diffSet(v.routes, next, cmpRoute, func(r routeRec, add bool) events.Event { return v.routeEvent(r, add, at) })
	v.routes = next
	return evs
}

func linkEvent(idx int, r linkRec, present bool, at events.Time) events.Event {
	return &events.LinkChanged{
		Header: events.Header{At: at}, Interface: r.name, Index: idx, Present: present,
		Up: present && r.up, Running: present && r.running, MTU: r.mtu, HWAddr: r.hwaddr,
		PromoteSecondaries: present && r.promote,
	}
}

func (v *view) addrEvent(a addrRec, added bool, at events.Time) events.Event {
	return &events.AddressChanged{Header: events.Header{At: at}, Interface: v.name(a.index), Prefix: a.prefix, Added: added}
}

func (v *view) routeEvent(r routeRec, added bool, at events.Time) events.Event {
	return &events.RouteChanged{
		Header: events.Header{At: at}, Dst: r.dst, Table: r.table,
		Interface: v.name(r.oif), Gateway: r.gw, Added: added,
	}
}

func ruleEvent(r ruleRec, added bool, at events.Time) events.Event {
	fam := 4
	if r.family == unix.AF_INET6 {
		fam = 6
	}
	return &events.RuleChanged{
		Header: events.Header{At: at}, Family: fam, Priority: r.priority,
		From: r.from, To: r.to, Table: r.table, Added: added,
	}
}

// sortedKeys returns a set's keys in order.
func sortedKeys[K comparable](m map[K]struct{}, cmpK func(a, b K) int) []K {
	return slices.SortedFunc(maps.Keys(m), cmpK)
}

func cmpPrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

func cmpAddr(a, b addrRec) int {
	if c := cmp.Compare(a.index, b.index); c != 0 {
		return c
	}
	return cmpPrefix(a.prefix, b.prefix)
}

func cmpRoute(a, b routeRec) int {
	return cmp.Or(
		cmp.Compare(a.family, b.family), cmp.Compare(a.table, b.table),
		cmpPrefix(a.dst, b.dst), cmp.Compare(a.metric, b.metric),
		cmp.Compare(a.tos, b.tos), cmp.Compare(a.typ, b.typ),
		cmp.Compare(a.oif, b.oif), a.gw.Compare(b.gw),
	)
}

func cmpRule(a, b ruleRec) int {
	return cmp.Or(
		cmp.Compare(a.family, b.family), cmp.Compare(a.priority, b.priority),
		cmp.Compare(a.table, b.table), cmpPrefix(a.from, b.from), cmpPrefix(a.to, b.to),
		cmp.Compare(a.mark, b.mark), cmp.Compare(a.iif, b.iif), cmp.Compare(a.oif, b.oif),
		cmp.Compare(a.action, b.action), cmp.Compare(a.goTo, b.goTo),
		cmpBool(a.invert, b.invert),
	)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
