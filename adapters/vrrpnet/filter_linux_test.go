//go:build linux

package vrrpnet

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// TestFilterKernel: with the engine's receivers installed, the kernel
// drops packets for other VRIDs and multicast adverts whose TTL (hop
// limit) is not 255, but not a unicast instance's; a version mismatch is
// judged in user space and, like the decoder's rejects, coalesced into one
// counted event per cause.
func TestFilterKernel(t *testing.T) {
	l := newLab(t)
	a := l.mux(l.nsA, MuxOptions{})
	b := l.mux(l.nsB, MuxOptions{Coalesce: 50 * time.Millisecond})
	b.do(func() error { return b.Join(&effects.JoinGroup{Interface: "veth0", Group: Group4}) })
	b.do(func() error { return b.Join(&effects.JoinGroup{Interface: "veth0", Group: Group6}) })
	if err := b.SetReceivers([]effects.Receiver{
		{Interface: "veth0", Family: 4, VRID: 77, Version: 3},
		{Interface: "veth0", Family: 4, VRID: 90, Version: 3, AnyTTL: true},
		{Interface: "veth0", Family: 6, VRID: 77, Version: 3},
	}); err != nil {
		t.Fatal(err)
	}
	var ca, ca6 *Conn
	a.do(func() (err error) { ca, err = a.Conn("veth0", IPv4); return err })
	a.do(func() (err error) { ca6, err = a.Conn("veth0", IPv6); return err })
	inject := func(p []byte) {
		t.Helper()
		if err := ca.vrrp.send(p, nil, &unix.SockaddrInet4{Addr: Group4.As4()}, 0); err != nil {
			t.Fatal(err)
		}
	}
	golden := ipPart(t, goldenV3Frame) // VRID 77, TTL 255
	mod := func(f func(p []byte)) []byte { p := slices.Clone(golden); f(p); return p }

	inject(mod(func(p []byte) { p[8] = 64 }))  // TTL 64: kernel
	inject(mod(func(p []byte) { p[21] = 78 })) // VRID 78: kernel
	v2 := ipPart(t, goldenV2Frame)             // a valid v2 advert for the v3 VRID: user space
	inject(v2)
	inject(v2)
	inject(golden)
	if ev := b.next(2*time.Second, nil); ev.Verdict != events.VerdictOK || ev.Advert.VRID != 77 {
		t.Fatalf("first event: %+v", ev)
	}
	if ev := b.next(2*time.Second, nil); ev.Verdict != events.VerdictBadVersion || ev.Count != 2 || ev.Advert.VRID != 77 {
		t.Fatalf("coalesced: %+v", ev)
	}
	// A unicast instance's VRID takes any TTL.
	uni := &effects.SendAdvert{Interface: "veth0", Version: 3, VRID: 90, Priority: 100, Interval: 100, Addrs: []netip.Addr{vip4},
		Src: addrA4, Dst: []netip.Addr{addrB4}, TTL: 64}
	a.do(func() error { return a.Send(uni) })
	if ev := b.next(2*time.Second, nil); ev.Verdict != events.VerdictOK || ev.TTL != 64 || ev.Advert.VRID != 90 {
		t.Fatalf("unicast: %+v", ev)
	}
	// IPv6: a hop limit other than 255 is dropped in the kernel.
	adv6 := &effects.SendAdvert{Version: 3, VRID: 77, Priority: 100, Interval: 100,
		Addrs: []netip.Addr{netip.MustParseAddr("fd77::100")}, Src: l.ll[l.nsA], Dst: []netip.Addr{Group6}}
	pkt6, err := AppendVRRP6(nil, adv6, &Wire{Src: l.ll[l.nsA], Dst: Group6, TTL: 255})
	if err != nil {
		t.Fatal(err)
	}
	send6 := func(hops uint8) {
		t.Helper()
		oob := appendTx6(nil, l.ll[l.nsA], ca6.ifindex, hops)
		to := &unix.SockaddrInet6{Addr: Group6.As16(), ZoneId: uint32(ca6.ifindex)}
		if err := ca6.vrrp.send(pkt6, oob, to, 0); err != nil {
			t.Fatal(err)
		}
	}
	send6(64)
	send6(255)
	if ev := b.next(2*time.Second, nil); ev.Verdict != events.VerdictOK || ev.TTL != 255 || !ev.Src.Is6() {
		t.Fatalf("IPv6: %+v", ev)
	}
	b.quiet(300 * time.Millisecond)
	st := b.Stats()
	if got := st.Received[events.VerdictOK] + st.Received[events.VerdictBadVersion]; got != 5 {
		t.Fatalf("user space saw %d packets, want 5 (the kernel drops the rest): %+v", got, st)
	}
	if st.Coalesced != 2 {
		t.Fatalf("coalesced %d, want 2", st.Coalesced)
	}
	// A reload that drops every receiver: the socket hears nothing.
	if err := b.SetReceivers(nil); err != nil {
		t.Fatal(err)
	}
	inject(golden)
	b.quiet(300 * time.Millisecond)
}
