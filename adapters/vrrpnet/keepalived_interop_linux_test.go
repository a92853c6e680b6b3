//go:build linux

package vrrpnet

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// TestKeepalivedInterop runs Debian's keepalived as MASTER (priority 100,
// VRID 77) in namespace A and vigil in B, for each authentication, version,
// family and checksum variant:
//
//  1. keepalived's adverts decode with verdict OK, TTL 255, the right source
//     and destination, and the configured VRID, priority, interval,
//     addresses and authentication (AH sequence numbers advancing);
//  2. vigil's priority-200 adverts are accepted: keepalived logs the higher
//     priority, steps down to BACKUP and removes the VIP from its interface.
//     Adverts with a wrong password or AH key are refused: keepalived logs
//     why and stays MASTER.
func TestKeepalivedInterop(t *testing.T) {
	vip6 := netip.MustParseAddr("fd77::100")
	secret := [8]byte{'s', 'e', 'c', 'r', 'e', 't'}
	const (
		ahConf      = "  authentication {\n    auth_type AH\n    auth_pass secret\n  }\n"
		passConf    = "  authentication {\n    auth_type PASS\n    auth_pass secret\n  }\n"
		unicastConf = "  unicast_src_ip 10.77.0.1\n  unicast_peer {\n    10.77.0.2\n  }\n"
	)
	for _, tc := range []struct {
		name     string
		version  int
		interval string
		vip      netip.Addr
		extra    string
		want     events.Advert      // keepalived's advert, beyond the common fields
		dst      netip.Addr         // keepalived's destination
		ours     effects.SendAdvert // AH: AuthData zero, as the engine sends it
		ourKey   [8]byte            // AH: when set, the key ours are sent with
		rejected string             // keepalived's complaint when it must refuse ours
	}{
		{
			name: "v2 PASS", version: 2, interval: "1", vip: vip4, extra: passConf, dst: Group4,
			want: events.Advert{AuthType: AuthPass, AuthData: secret, Interval: 100},
			ours: effects.SendAdvert{Version: 2, Interval: 100, AuthType: AuthPass, AuthData: secret},
		},
		{
			name: "v2 PASS wrong password", version: 2, interval: "1", vip: vip4, extra: passConf, dst: Group4,
			want:     events.Advert{AuthType: AuthPass, AuthData: secret, Interval: 100},
			ours:     effects.SendAdvert{Version: 2, Interval: 100, AuthType: AuthPass, AuthData: [8]byte{'s'}},
			rejected: "received an invalid passwd",
		},
		{
			name: "v2 AH", version: 2, interval: "1", vip: vip4, extra: ahConf, dst: Group4,
			want: events.Advert{AuthType: AuthAH, AH: true, Interval: 100},
			ours: effects.SendAdvert{Version: 2, Interval: 100, AuthType: AuthAH},
		},
		{
			name: "v2 AH wrong key", version: 2, interval: "1", vip: vip4, extra: ahConf, dst: Group4,
			want:     events.Advert{AuthType: AuthAH, AH: true, Interval: 100},
			ours:     effects.SendAdvert{Version: 2, Interval: 100, AuthType: AuthAH},
			ourKey:   [8]byte{'s'},
			rejected: "IPSEC-AH : invalid IPSEC HMAC-MD5 value",
		},
		{
			name: "v2 AH unicast", version: 2, interval: "1", vip: vip4, extra: ahConf + unicastConf, dst: addrB4,
			want: events.Advert{AuthType: AuthAH, AH: true, Interval: 100},
			ours: effects.SendAdvert{Version: 2, Interval: 100, AuthType: AuthAH,
				Src: addrB4, Dst: []netip.Addr{addrA4}, TTL: 64},
		},
		{
			name: "v3 multicast", version: 3, interval: "0.5", vip: vip4, dst: Group4,
			want: events.Advert{Interval: 50},
			ours: effects.SendAdvert{Version: 3, Interval: 50},
		},
		{
			name: "v3 unicast", version: 3, interval: "0.5", vip: vip4, extra: unicastConf, dst: addrB4,
			want: events.Advert{Interval: 50},
			ours: effects.SendAdvert{Version: 3, Interval: 50, Src: addrB4, Dst: []netip.Addr{addrA4}},
		},
		{
			name: "v3 unicast old checksum", version: 3, interval: "0.5", vip: vip4, dst: addrB4,
			extra: "  old_unicast_checksum\n" + unicastConf,
			want:  events.Advert{Interval: 50, Checksum: events.ChecksumOldUnicast},
			ours: effects.SendAdvert{Version: 3, Interval: 50, Src: addrB4, Dst: []netip.Addr{addrA4},
				Checksum: events.ChecksumOldUnicast},
		},
		{
			name: "v3 IPv6", version: 3, interval: "0.5", vip: vip6, dst: Group6,
			want: events.Advert{Interval: 50},
			ours: effects.SendAdvert{Version: 3, Interval: 50},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t)
			m := l.mux(l.nsB, MuxOptions{})
			group, prefix := Group4, "/24"
			if tc.vip.Is6() {
				group, prefix = Group6, "/64"
			}
			m.do(func() error { return m.Join(&effects.JoinGroup{Interface: "veth0", Group: group}) })
			if tc.want.AH {
				m.do(func() error { return m.SetAuthKey("veth0", 77, secret) })
			}
			log := l.keepalived(t, l.nsA, instanceConf(tc.version, 77, 100, tc.interval, tc.vip.String()+prefix, tc.extra))

			// 1. keepalived's adverts.
			want := tc.want
			want.Version, want.Type, want.VRID, want.Priority = uint8(tc.version), 1, 77, 100
			want.CountAddrs, want.Addrs = 1, []netip.Addr{tc.vip}
			srcA, srcB := addrA4, addrB4
			if tc.vip.Is6() {
				srcA, srcB = l.ll[l.nsA], l.ll[l.nsB]
			}
			var lastSeq uint32
			for i := range 2 { // two in a row: AH sequence numbers must advance
				ev := m.next(8*time.Second, func(ev *events.AdvertReceived) bool { return ev.Advert.Priority != 0 })
				got := ev.Advert
				seq := got.AHSeq
				got.AHSeq = 0
				if ev.Verdict != events.VerdictOK || !advertEqual(got, want) {
					t.Fatalf("keepalived's advert %d: %v\n got %+v\nwant %+v", i, ev.Verdict, ev.Advert, want)
				}
				if ev.Src != srcA || ev.Dst != tc.dst || ev.TTL != 255 || ev.Interface != "veth0" {
					t.Fatalf("src %v dst %v ttl %d; want %v %v 255", ev.Src, ev.Dst, ev.TTL, srcA, tc.dst)
				}
				if want.AH && seq <= lastSeq {
					t.Fatalf("AH sequence %d after %d", seq, lastSeq)
				}
				lastSeq = seq
			}
			if !l.hasAddr(l.nsA, tc.vip) {
				t.Fatal("keepalived sends adverts but does not hold the VIP")
			}

			// 2. Ours, at a higher priority.
			if tc.ourKey != ([8]byte{}) {
				m.do(func() error { return m.SetAuthKey("veth0", 77, tc.ourKey) })
			}
			adv := tc.ours
			adv.Interface, adv.VRID, adv.Priority, adv.Addrs = "veth0", 77, 200, []netip.Addr{tc.vip}
			if adv.Src.IsValid() {
				srcB = adv.Src
			}
			adv.Src = srcB // the engine always names the source
			stepped := waitFor(3*time.Second, func() bool {
				m.do(func() error { return m.Send(&adv) })
				time.Sleep(200 * time.Millisecond)
				return !l.hasAddr(l.nsA, tc.vip)
			})
			if stepped != (tc.rejected == "") {
				t.Fatalf("keepalived stepped down: %v, want %v", stepped, tc.rejected == "")
			}
			said := tc.rejected
			if said == "" {
				said = "Master received advert from " + srcB.String() + " with higher priority 200, ours 100"
			}
			if !strings.Contains(log.String(), said) {
				t.Fatalf("keepalived did not log %q", said)
			}
		})
	}
}
