package lab

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// AddrEvent is one address change in a node's namespace, as the kernel
// announced it over rtnetlink.
type AddrEvent struct {
	// Time is when the test process received the notification (wall
	// clock, as tcpdump's timestamps: the two compare directly). The
	// receiving goroutine does nothing else, so this is the kernel's event
	// time to well under a millisecond on an idle machine.
	Time time.Time
	// Added is false for a deletion.
	Added bool
	Addr  netip.Prefix
	// Link is the interface's name (or "if<N>" when it was already gone).
	Link string
	// Existing marks the addresses listed when the monitor started.
	Existing bool
}

func (e AddrEvent) String() string {
	op := "del"
	if e.Added {
		op = "add"
	}
	if e.Existing {
		op = "had"
	}
	return fmt.Sprintf("%s %s dev %s", op, e.Addr, e.Link)
}

// AddrMonitor records every address change of a node's namespace (all
// interfaces, VMACs included) from the moment it starts: the continuous,
// timestamped record that polling `ip addr` cannot give.
type AddrMonitor struct {
	mu     sync.Mutex
	events []AddrEvent
	// held counts, per address, the interfaces that carry it.
	held    map[netip.Addr]map[string]bool
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once
	errs    []error
}

// MonitorAddresses starts recording the node's address changes; it is
// stopped at cleanup if not before. The addresses present at start are
// recorded with Existing set.
func (n *Node) MonitorAddresses(t testing.TB) *AddrMonitor {
	t.Helper()
	ns, err := netns.GetFromName(n.NS)
	if err != nil {
		t.Fatalf("lab: netns %s: %v", n.NS, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatalf("lab: netlink handle in %s: %v", n.NS, err)
	}
	m := &AddrMonitor{held: map[netip.Addr]map[string]bool{}, done: make(chan struct{}), stopped: make(chan struct{})}
	ch := make(chan netlink.AddrUpdate, 256)
	// The existing addresses first (the dump), then the stream: both come
	// through ch; what precedes the first notification is the dump.
	existing := true
	err = netlink.AddrSubscribeWithOptions(ch, m.done, netlink.AddrSubscribeOptions{
		Namespace: &ns, ListExisting: true, ReceiveBufferSize: 1 << 20,
		ErrorCallback: func(err error) {
			select {
			case <-m.done: // the socket closed by Stop
			default:
				m.mu.Lock()
				m.errs = append(m.errs, err)
				m.mu.Unlock()
			}
		},
	})
	if err != nil {
		h.Close()
		t.Fatalf("lab: address monitor in %s: %v", n.NS, err)
	}
	// The dump arrives at once; anything later is a change. Listing the
	// links now tells the dump (addresses present now) from the changes.
	present := map[netip.Prefix]bool{}
	if addrs, err := h.AddrList(nil, netlink.FAMILY_ALL); err == nil {
		for _, a := range addrs {
			if ad, ok := netip.AddrFromSlice(a.IP); ok {
				ones, _ := a.Mask.Size()
				present[netip.PrefixFrom(ad.Unmap(), ones)] = true
			}
		}
	}
	names := map[int]string{}
	linkName := func(idx int) string {
		if s, ok := names[idx]; ok {
			return s
		}
		s := fmt.Sprintf("if%d", idx)
		if l, err := h.LinkByIndex(idx); err == nil {
			s = l.Attrs().Name
			names[idx] = s
		}
		return s
	}
	go func() {
		defer close(m.stopped)
		defer h.Close()
		for u := range ch {
			now := time.Now()
			ad, ok := netip.AddrFromSlice(u.LinkAddress.IP)
			if !ok {
				continue
			}
			ones, _ := u.LinkAddress.Mask.Size()
			p := netip.PrefixFrom(ad.Unmap(), ones)
			ev := AddrEvent{Time: now, Added: u.NewAddr, Addr: p, Link: linkName(u.LinkIndex)}
			if existing && u.NewAddr && present[p] {
				ev.Existing = true
				delete(present, p)
			} else {
				existing = false
			}
			m.mu.Lock()
			m.events = append(m.events, ev)
			links := m.held[p.Addr()]
			if links == nil {
				links = map[string]bool{}
				m.held[p.Addr()] = links
			}
			if u.NewAddr {
				links[ev.Link] = true
			} else {
				delete(links, ev.Link)
			}
			m.mu.Unlock()
		}
	}()
	t.Cleanup(m.Stop)
	return m
}

// Stop ends the recording.
func (m *AddrMonitor) Stop() {
	m.once.Do(func() { close(m.done) })
}

// Events returns the changes recorded so far, in order.
func (m *AddrMonitor) Events() []AddrEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]AddrEvent(nil), m.events...)
}

// Err returns the first error the subscription met (the record may then
// be incomplete), or nil.
func (m *AddrMonitor) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.errs) > 0 {
		return m.errs[0]
	}
	return nil
}

// Has reports whether, as far as the notifications received so far tell,
// the namespace holds addr on any interface.
func (m *AddrMonitor) Has(addr netip.Addr) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.held[addr]) > 0
}

// Timeline formats the events whose address is one of addrs (all events
// if none is given), one per line, with times relative to t0.
func (m *AddrMonitor) Timeline(t0 time.Time, addrs ...netip.Addr) string {
	var b strings.Builder
	for _, e := range m.Events() {
		if len(addrs) > 0 && !containsAddr(addrs, e.Addr.Addr()) {
			continue
		}
		fmt.Fprintf(&b, "%+9.3fs %s\n", e.Time.Sub(t0).Seconds(), e)
	}
	return b.String()
}

func containsAddr(as []netip.Addr, a netip.Addr) bool {
	for _, x := range as {
		if x == a {
			return true
		}
	}
	return false
}
