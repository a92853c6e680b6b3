//go:build linux

package vrrpnet

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/effects"
)

// keepalivedAdvert returns the packet named name in
// testdata/keepalived-2.2.7-adverts.txt.
func keepalivedAdvert(t *testing.T, name string) []byte {
	t.Helper()
	text, err := os.ReadFile("testdata/keepalived-2.2.7-adverts.txt")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(text)) {
		if n, hx, ok := strings.Cut(strings.TrimSpace(line), " "); ok && n == name {
			pkt, err := hex.DecodeString(hx)
			if err != nil {
				t.Fatal(err)
			}
			return pkt
		}
	}
	t.Fatalf("no capture %q", name)
	return nil
}

// sniffer reads the IPv4 packets arriving on veth0 of a namespace as they
// are on the wire (an AF_PACKET socket: no group membership, no checks).
type sniffer struct {
	t  *testing.T
	fd int
}

func (l *lab) sniff(ns string) *sniffer {
	l.t.Helper()
	s := &sniffer{t: l.t, fd: -1}
	l.in(ns, func() {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_IP)))
		if err != nil {
			l.t.Fatal(err)
		}
		s.fd = fd
		ifi, err := net.InterfaceByName("veth0")
		if err != nil {
			l.t.Fatal(err)
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: ifi.Index}); err != nil {
			l.t.Fatal(err)
		}
	})
	l.t.Cleanup(func() { unix.Close(s.fd) })
	unix.SetsockoptTimeval(s.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 2})
	return s
}

// next returns the next IPv4 packet of protocol proto, from its IP header on.
func (s *sniffer) next(proto uint8) []byte {
	s.t.Helper()
	buf := make([]byte, 2048)
	for {
		n, _, err := unix.Recvfrom(s.fd, buf, 0)
		if err != nil {
			s.t.Fatalf("no protocol-%d packet on the wire: %v", proto, err)
		}
		p := buf[14:n]
		if len(p) < ipv4HeaderLen || p[9] != proto {
			continue
		}
		if l := int(binary.BigEndian.Uint16(p[2:])); l <= len(p) {
			p = p[:l] // drop any Ethernet padding
		}
		return bytes.Clone(p)
	}
}

// TestConnAHWire: an IPSEC-AH advert as the engine makes it (AuthData zero)
// leaves keyed with the auth_pass that SetAuthKey set, and is on the wire
// byte for byte what keepalived 2.2.7 sends for the same instance
// (testdata/keepalived-2.2.7-adverts.txt: the first advert of an instance,
// IP id 1, AH sequence 1), multicast, unicast, and from a VMAC (whose key
// is set on its parent interface). Without a key, Send refuses.
func TestConnAHWire(t *testing.T) {
	l := newLab(t)
	secret := [8]byte{'s', 'e', 'c', 'r', 'e', 't'}
	l.ip("-n", l.nsA, "link", "add", "link", "veth0", "name", "vrrp.77", "address", "00:00:5e:00:01:4d",
		"type", "macvlan", "mode", "private")
	l.ip("-n", l.nsA, "link", "set", "vrrp.77", "up")
	wire := l.sniff(l.nsB)

	for _, tc := range []struct {
		name    string
		advert  effects.SendAdvert
		capture string
	}{
		{"multicast", effects.SendAdvert{}, "v2-ah-multicast"},
		{"unicast", effects.SendAdvert{Src: addrA4, Dst: []netip.Addr{addrB4}}, "v2-ah-unicast"},
		{"vmac", effects.SendAdvert{VMAC: "vrrp.77"}, "v2-ah-multicast"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := l.mux(l.nsA, MuxOptions{}) // a fresh socket: IP id and AH sequence start at 1
			m.do(func() error { return m.SetAuthKey("veth0", 77, secret) })
			adv := tc.advert
			adv.Instance, adv.Interface, adv.Version, adv.VRID, adv.Priority = "VI_1", "veth0", 2, 77, 150
			adv.Interval, adv.Addrs, adv.AuthType, adv.TTL = 100, []netip.Addr{vip4}, AuthAH, 255
			adv.Src = addrA4 // the engine always names the source
			m.do(func() error { return m.Send(&adv) })
			got, want := wire.next(ProtoAH), keepalivedAdvert(t, tc.capture)
			if !bytes.Equal(got, want) {
				t.Fatalf("on the wire\n%x\nkeepalived\n%x", got, want)
			}
		})
	}

	t.Run("no key", func(t *testing.T) {
		m := l.mux(l.nsA, MuxOptions{})
		adv := effects.SendAdvert{Interface: "veth0", Version: 2, VRID: 78, Priority: 150, Interval: 100,
			Addrs: []netip.Addr{vip4}, AuthType: AuthAH, Src: addrA4}
		var err error
		l.in(l.nsA, func() { err = m.Send(&adv) })
		if !errors.Is(err, ErrNoAHKey) {
			t.Fatalf("send without a key: %v, want %v", err, ErrNoAHKey)
		}
	})
}

// TestKeepalivedBackupAH: Debian's keepalived as BACKUP (priority 100,
// auth_type AH) in namespace A hears vigil's AH adverts (priority 200, as
// the engine makes them: AuthData zero, the key set with SetAuthKey) from
// B: it verifies every one (no "invalid IPSEC HMAC-MD5" in its log) and
// stays BACKUP without the VIP. Once vigil falls silent keepalived takes
// over, which shows it was listening all along.
func TestKeepalivedBackupAH(t *testing.T) {
	secret := [8]byte{'s', 'e', 'c', 'r', 'e', 't'}
	const (
		ahConf      = "  authentication {\n    auth_type AH\n    auth_pass secret\n  }\n"
		unicastConf = "  unicast_src_ip 10.77.0.1\n  unicast_peer {\n    10.77.0.2\n  }\n"
	)
	for _, tc := range []struct {
		name  string
		extra string
		ours  effects.SendAdvert
	}{
		{"multicast", ahConf, effects.SendAdvert{}},
		{"unicast", ahConf + unicastConf, effects.SendAdvert{Src: addrB4, Dst: []netip.Addr{addrA4}, TTL: 64}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t)
			m := l.mux(l.nsB, MuxOptions{})
			m.do(func() error { return m.Join(&effects.JoinGroup{Interface: "veth0", Group: Group4}) })
			m.do(func() error { return m.SetAuthKey("veth0", 77, secret) })
			adv := tc.ours
			adv.Instance, adv.Interface, adv.Version, adv.VRID, adv.Priority = "VI_1", "veth0", 2, 77, 200
			adv.Interval, adv.Addrs, adv.AuthType = 100, []netip.Addr{vip4}, AuthAH
			if !adv.Src.IsValid() {
				adv.Src = addrB4 // the engine always names the source
			}
			if adv.TTL == 0 {
				adv.TTL = 255
			}
			m.do(func() error { return m.Send(&adv) }) // opens the socket in B

			conf := strings.Replace(instanceConf(2, 77, 100, "1", vip4.String()+"/24", tc.extra),
				"state MASTER", "state BACKUP", 1)
			log := l.keepalived(t, l.nsA, conf)

			// keepalived's master-down interval is 3 × 1 s + skew (0.61 s at
			// priority 100): advertise for well over it.
			const hmacErr = "IPSEC-AH : invalid IPSEC HMAC-MD5 value"
			for range 6 {
				if err := m.Send(&adv); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Second)
				if s := log.String(); strings.Contains(s, hmacErr) || strings.Contains(s, "Entering MASTER STATE") {
					t.Fatal("keepalived refused vigil's AH adverts and took over")
				}
			}
			if s := log.String(); !strings.Contains(s, "Entering BACKUP STATE") {
				t.Fatal("keepalived never entered BACKUP")
			}
			if l.hasAddr(l.nsA, vip4) {
				t.Fatal("keepalived holds the VIP while vigil advertises")
			}

			// Silence: keepalived must now take over.
			if !waitFor(6*time.Second, func() bool { return strings.Contains(log.String(), "Entering MASTER STATE") }) {
				t.Fatal("keepalived did not take over once vigil went silent: was it listening?")
			}
			if strings.Contains(log.String(), hmacErr) {
				t.Fatal("keepalived logged an HMAC error")
			}
		})
	}
}
