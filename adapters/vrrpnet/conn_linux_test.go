//go:build linux

package vrrpnet

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// TestConnExchange: vigil in namespace A sends v2 and v3 adverts, multicast
// and unicast, over IPv4 and IPv6; vigil in B receives and decodes them with
// the right source, destination and TTL. A hears none of its own.
func TestConnExchange(t *testing.T) {
	l := newLab(t)
	a := l.mux(l.nsA, MuxOptions{})
	b := l.mux(l.nsB, MuxOptions{})
	vip6 := netip.MustParseAddr("fd77::100")
	for _, m := range []*nsMux{a, b} {
		m.do(func() error { return m.Join(&effects.JoinGroup{Interface: "veth0", Group: Group4}) })
		m.do(func() error { return m.Join(&effects.JoinGroup{Interface: "veth0", Group: Group6}) })
	}

	for _, tc := range []struct {
		name    string
		advert  effects.SendAdvert
		src     netip.Addr // expected source
		dst     netip.Addr
		ttl     uint8
		authLen int
	}{
		{
			name:   "v2 multicast IPv4",
			advert: effects.SendAdvert{Version: 2, VRID: 10, Priority: 150, Interval: 100, Addrs: []netip.Addr{vip4}, Src: addrA4},
			src:    addrA4, dst: Group4, ttl: 255,
		},
		{
			name: "v3 multicast IPv4, TTL forced to 255",
			advert: effects.SendAdvert{Version: 3, VRID: 11, Priority: 120, Interval: 35, Addrs: []netip.Addr{vip4},
				Src: addrA4, Dst: []netip.Addr{Group4}, TTL: 7},
			src: addrA4, dst: Group4, ttl: 255,
		},
		{
			name: "v3 unicast IPv4 with unicast_ttl",
			advert: effects.SendAdvert{Version: 3, VRID: 12, Priority: 100, Interval: 100, Addrs: []netip.Addr{vip4},
				Src: addrA4, Dst: []netip.Addr{addrB4}, TTL: 64},
			src: addrA4, dst: addrB4, ttl: 64,
		},
		{
			name: "v2 unicast IPv4 PASS",
			advert: effects.SendAdvert{Version: 2, VRID: 13, Priority: 100, Interval: 200, Addrs: []netip.Addr{vip4},
				AuthType: AuthPass, AuthData: [8]byte{'p', 'w'}, Src: addrA4, Dst: []netip.Addr{addrB4}},
			src: addrA4, dst: addrB4, ttl: 255,
		},
		{
			name:   "v3 multicast IPv6, link-local source",
			advert: effects.SendAdvert{Version: 3, VRID: 14, Priority: 200, Interval: 100, Addrs: []netip.Addr{vip6}, Src: l.ll[l.nsA]},
			src:    l.ll[l.nsA], dst: Group6, ttl: 255,
		},
		{
			name: "v3 unicast IPv6 with hop limit",
			advert: effects.SendAdvert{Version: 3, VRID: 15, Priority: 90, Interval: 100, Addrs: []netip.Addr{vip6},
				Src: addrA6, Dst: []netip.Addr{addrB6}, TTL: 32},
			src: addrA6, dst: addrB6, ttl: 32,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			adv := tc.advert
			adv.Interface = "veth0"
			a.do(func() error { return a.Send(&adv) })
			ev := b.next(2*time.Second, nil)
			want := events.Advert{Version: adv.Version, Type: 1, VRID: adv.VRID, Priority: adv.Priority,
				CountAddrs: 1, Interval: adv.Interval, Addrs: adv.Addrs, AuthType: adv.AuthType, AuthData: adv.AuthData}
			if ev.Verdict != events.VerdictOK || !advertEqual(ev.Advert, want) {
				t.Fatalf("got %v %+v\nwant %+v", ev.Verdict, ev.Advert, want)
			}
			if ev.Src != tc.src || ev.Dst != tc.dst || ev.TTL != tc.ttl || ev.Interface != "veth0" || ev.At <= 0 {
				t.Fatalf("src %v dst %v ttl %d if %q; want %v %v %d", ev.Src, ev.Dst, ev.TTL, ev.Interface, tc.src, tc.dst, tc.ttl)
			}
		})
	}
	a.quiet(200 * time.Millisecond) // multicast loopback is off

	t.Run("no source", func(t *testing.T) {
		// The engine names the source; the adapter never picks one.
		adv := effects.SendAdvert{Interface: "veth0", Version: 3, VRID: 18, Priority: 1, Interval: 100, Addrs: []netip.Addr{vip4}}
		var err error
		a.do(func() error { err = a.Send(&adv); return nil })
		if !errors.Is(err, ErrNoSource) {
			t.Fatalf("send without a source: %v, want ErrNoSource", err)
		}
	})

	t.Run("each unicast peer", func(t *testing.T) {
		// One advert per peer (B is named twice).
		adv := effects.SendAdvert{Interface: "veth0", Version: 3, VRID: 16, Priority: 1, Interval: 100,
			Addrs: []netip.Addr{vip4}, Src: addrA4, Dst: []netip.Addr{addrB4, addrB4}}
		a.do(func() error { return a.Send(&adv) })
		for range 2 {
			if ev := b.next(2*time.Second, nil); ev.Verdict != events.VerdictOK || ev.Advert.VRID != 16 {
				t.Fatalf("%+v", ev)
			}
		}
	})

	t.Run("leave stops multicast", func(t *testing.T) {
		b.do(func() error { return b.Leave(&effects.LeaveGroup{Interface: "veth0", Group: Group4}) })
		adv := effects.SendAdvert{Interface: "veth0", Version: 3, VRID: 17, Priority: 1, Interval: 100, Addrs: []netip.Addr{vip4}, Src: addrA4}
		a.do(func() error { return a.Send(&adv) })
		b.quiet(300 * time.Millisecond)
		b.do(func() error { return b.Join(&effects.JoinGroup{Interface: "veth0", Group: Group4}) })
		a.do(func() error { return a.Send(&adv) })
		b.next(2*time.Second, nil)
	})
}

// TestConnBadPackets: malformed packets on the wire reach the engine with
// their verdict and are counted; with DropBad they are counted and dropped.
func TestConnBadPackets(t *testing.T) {
	l := newLab(t)
	a := l.mux(l.nsA, MuxOptions{})
	b := l.mux(l.nsB, MuxOptions{})
	b.do(func() error { return b.Join(&effects.JoinGroup{Interface: "veth0", Group: Group4}) })
	var ca *Conn
	a.do(func() (err error) { ca, err = a.Conn("veth0", IPv4); return err })

	golden := ipPart(t, goldenV3Frame)
	inject := func(p []byte) {
		if err := ca.vrrp.send(p, nil, &unix.SockaddrInet4{Addr: Group4.As4()}, 0); err != nil {
			t.Fatal(err)
		}
	}
	bad := slices.Clone(golden)
	bad[27] ^= 0xff // VRRP checksum
	inject(bad)
	if ev := b.next(2*time.Second, nil); ev.Verdict != events.VerdictBadChecksum || ev.Advert.VRID != 77 {
		t.Fatalf("%+v", ev)
	}
	short := slices.Clone(golden[:24]) // IP header and half a VRRP header
	short[3] = 24
	inject(short)
	if ev := b.next(2*time.Second, nil); ev.Verdict != events.VerdictTooShort {
		t.Fatalf("%+v", ev)
	}
	inject(golden)
	if ev := b.next(2*time.Second, nil); ev.Verdict != events.VerdictOK || ev.TTL != 255 {
		t.Fatalf("%+v", ev)
	}
	st := b.Stats()
	if st.Received[events.VerdictOK] != 1 || st.Received[events.VerdictBadChecksum] != 1 || st.Received[events.VerdictTooShort] != 1 {
		t.Fatalf("stats %+v", st)
	}

	d := l.mux(l.nsB, MuxOptions{DropBad: true})
	b.do(func() error { return b.Leave(&effects.LeaveGroup{Interface: "veth0", Group: Group4}) })
	b.Close()
	d.do(func() error { return d.Join(&effects.JoinGroup{Interface: "veth0", Group: Group4}) })
	inject(bad)
	inject(golden)
	if ev := d.next(2*time.Second, nil); ev.Verdict != events.VerdictOK {
		t.Fatalf("%+v", ev)
	}
	if st := d.Stats(); st.Dropped != 1 || st.Received[events.VerdictBadChecksum] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestConnVMAC: an advert for a use_vmac instance leaves from the macvlan
// with the virtual MAC 00:00:5e:00:01:VRID, and, the VMAC having no IPv4
// address, with the base interface's address as its source.
func TestConnVMAC(t *testing.T) {
	l := newLab(t)
	vmac := net.HardwareAddr{0, 0, 0x5e, 0, 1, 77}
	l.ip("-n", l.nsA, "link", "add", "link", "veth0", "name", "vrrp.77", "address", vmac.String(),
		"type", "macvlan", "mode", "private")
	l.ip("-n", l.nsA, "link", "set", "vrrp.77", "up")

	var ps int
	l.in(l.nsB, func() {
		var err error
		if ps, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_IP))); err != nil {
			t.Fatal(err)
		}
		ifi, err := net.InterfaceByName("veth0")
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Bind(ps, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: ifi.Index}); err != nil {
			t.Fatal(err)
		}
	})
	defer unix.Close(ps)
	unix.SetsockoptTimeval(ps, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 2})

	a := l.mux(l.nsA, MuxOptions{})
	adv := effects.SendAdvert{Interface: "veth0", VMAC: "vrrp.77", Version: 3, VRID: 77, Priority: 150,
		Interval: 100, Addrs: []netip.Addr{vip4}, Src: addrA4}
	a.do(func() error { return a.Send(&adv) })
	buf := make([]byte, 1500)
	for {
		n, _, err := unix.Recvfrom(ps, buf, 0)
		if err != nil {
			t.Fatalf("no VRRP frame from the VMAC: %v", err)
		}
		f := buf[:n]
		if n < 14+20 || f[14+9] != ProtoVRRP {
			continue
		}
		if !bytes.Equal(f[6:12], vmac) || !bytes.Equal(f[0:6], []byte{1, 0, 0x5e, 0, 0, 0x12}) {
			t.Fatalf("frame %x → %x, want from %v", f[6:12], f[0:6], vmac)
		}
		var ev events.AdvertReceived
		DecodeIPv4(f[14:], &ev, nil)
		if ev.Verdict != events.VerdictOK || ev.Src != addrA4 || ev.Advert.VRID != 77 {
			t.Fatalf("%+v", ev)
		}
		return
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// TestConnAHSequence: the AH sequence counter is keepalived's single
// per-instance counter. A received advert must exceed it (a replay is
// refused as bad AH) and raises it, so this node's next advert continues
// above the peer's, as keepalived's does.
func TestConnAHSequence(t *testing.T) {
	l := newLab(t)
	key := [8]byte{'k'}
	a := l.mux(l.nsA, MuxOptions{})
	b := l.mux(l.nsB, MuxOptions{})
	for _, m := range []*nsMux{a, b} {
		m.do(func() error { return m.Join(&effects.JoinGroup{Interface: "veth0", Group: Group4}) })
		m.do(func() error { return m.SetAuthKey("veth0", 77, key) })
	}
	var ca *Conn
	a.do(func() (err error) { ca, err = a.Conn("veth0", IPv4); return err })

	adv := &effects.SendAdvert{Version: 2, VRID: 77, Priority: 100, Interval: 100, Addrs: []netip.Addr{vip4},
		AuthType: AuthAH}
	pkt, err := AppendIPv4(nil, adv, &Wire{Src: addrA4, Dst: Group4, ID: 1, AHSeq: 5, AHKey: key})
	if err != nil {
		t.Fatal(err)
	}
	to := &unix.SockaddrInet4{Addr: Group4.As4()}
	for i, want := range []events.Verdict{events.VerdictOK, events.VerdictBadAuthAH} {
		if err := ca.vrrp.send(pkt, nil, to, 0); err != nil {
			t.Fatal(err)
		}
		ev := b.next(2*time.Second, nil)
		if ev.Verdict != want || ev.Advert.AHSeq != 5 && want == events.VerdictOK {
			t.Fatalf("copy %d: %v seq %d, want %v", i, ev.Verdict, ev.Advert.AHSeq, want)
		}
	}

	mine := *adv
	mine.Interface, mine.Src = "veth0", addrB4
	b.do(func() error { return b.Send(&mine) })
	if ev := a.next(2*time.Second, nil); ev.Verdict != events.VerdictOK || !ev.Advert.AH || ev.Advert.AHSeq != 6 {
		t.Fatalf("B's advert after receiving 5: %v %+v", ev.Verdict, ev.Advert)
	}
}

// TestCloseInterfaceStopsReader: the sockets of an interface closed under
// a blocked reader (its link was deleted) end the reader quietly; it must
// not take the runtime's "use of closed file" for a socket error and
// retry, reporting it, forever.
func TestCloseInterfaceStopsReader(t *testing.T) {
	l := newLab(t)
	var errs atomic.Int64
	a := l.mux(l.nsA, MuxOptions{OnError: func(error) { errs.Add(1) }})
	a.do(func() error { return a.Join(&effects.JoinGroup{Interface: "veth0", Group: Group4}) })
	time.Sleep(100 * time.Millisecond) // the reader blocks in recvmsg
	if err := a.CloseInterface("veth0"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // a retrying reader reports every 100 ms
	if n := errs.Load(); n != 0 {
		t.Fatalf("%d socket errors reported after the interface's sockets were closed", n)
	}
	if n := a.Stats().ReadErrors; n != 0 {
		t.Fatalf("%d read errors counted", n)
	}
}
