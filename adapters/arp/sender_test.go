package arp

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"

	nlad "github.com/vigil-ha/vigil/adapters/netlink"
	"github.com/vigil-ha/vigil/effects"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs the ip command (iproute2)")
	}
}

func ipn(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip -n %s %s: %v: %s", ns, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func newNS(t *testing.T, suffix string) string {
	t.Helper()
	name := fmt.Sprintf("vgarp-%d-%s", os.Getpid(), suffix)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	return name
}

// pair creates namespaces A and B joined by veth va (in A) — vb (in B).
func pair(t *testing.T, suffix string) (a, b string) {
	t.Helper()
	a, b = newNS(t, suffix+"a"), newNS(t, suffix+"b")
	ipn(t, a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b)
	ipn(t, a, "link", "set", "va", "up")
	ipn(t, b, "link", "set", "vb", "up")
	ipn(t, b, "addr", "add", "10.77.1.2/24", "dev", "vb")
	ipn(t, b, "addr", "add", "fd77::2/64", "dev", "vb", "nodad")
	return a, b
}

func macOf(t *testing.T, ns, dev string) net.HardwareAddr {
	t.Helper()
	var ls []struct {
		Address string `json:"address"`
	}
	if err := json.Unmarshal([]byte(ipn(t, ns, "-j", "link", "show", "dev", dev)), &ls); err != nil || len(ls) != 1 {
		t.Fatalf("link %s: %v", dev, err)
	}
	mac, err := net.ParseMAC(ls[0].Address)
	if err != nil {
		t.Fatal(err)
	}
	return mac
}

// neigh returns B's neighbour table on dev: address → lladdr.
func neigh(t *testing.T, ns, dev string) map[string]string {
	t.Helper()
	var ns4 []struct {
		Dst    string `json:"dst"`
		LLAddr string `json:"lladdr"`
	}
	if err := json.Unmarshal([]byte(ipn(t, ns, "-j", "neigh", "show", "dev", dev)), &ns4); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, n := range ns4 {
		m[n.Dst] = n.LLAddr
	}
	return m
}

// frame is a captured frame and when it arrived.
type frame struct {
	b  []byte
	at time.Time
}

// capture records every frame arriving on dev in ns until cleanup.
func capture(t *testing.T, ns, dev string) func() []frame {
	t.Helper()
	h, err := nlad.OpenNamespace(ns)
	if err != nil {
		t.Fatal(err)
	}
	var c *packet.Conn
	err = nlad.InNamespace(h, func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		c, err = packet.Listen(ifi, packet.Raw, unix.ETH_P_ALL, nil)
		return err
	})
	h.Close()
	if err != nil {
		t.Fatalf("capture socket: %v", err)
	}
	var mu sync.Mutex
	var got []frame
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			mu.Lock()
			got = append(got, frame{bytes.Clone(buf[:n]), time.Now()})
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return func() []frame {
		mu.Lock()
		defer mu.Unlock()
		return append([]frame(nil), got...)
	}
}

// wantGARP is the expected gratuitous ARP, built here independently.
func wantGARP(mac net.HardwareAddr, ip netip.Addr) []byte {
	bc := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	b := append([]byte{}, bc...)
	b = append(b, mac...)
	b = append(b, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1)
	b = append(b, mac...)
	b = append(b, ip.AsSlice()...)
	b = append(b, bc...)
	b = append(b, ip.AsSlice()...)
	return append(b, make([]byte, 60-len(b))...)
}

// wantNA is the expected unsolicited neighbour advertisement.
func wantNA(mac net.HardwareAddr, ip netip.Addr) []byte {
	all := netip.MustParseAddr("ff02::1").AsSlice()
	icmp := []byte{136, 0, 0, 0, 0x20, 0, 0, 0}
	icmp = append(icmp, ip.AsSlice()...)
	icmp = append(icmp, 2, 1)
	icmp = append(icmp, mac...)
	// Checksum over the pseudo-header and the message.
	var sum uint32
	pseudo := append(append(append([]byte{}, ip.AsSlice()...), all...), 0, 0, 0, byte(len(icmp)), 0, 0, 0, 58)
	for _, p := range [][]byte{pseudo, icmp} {
		for i := 0; i < len(p); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(p[i:]))
		}
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(icmp[2:], ^uint16(sum))
	b := []byte{0x33, 0x33, 0, 0, 0, 1}
	b = append(b, mac...)
	b = append(b, 0x86, 0xdd, 0x60, 0, 0, 0, 0, byte(len(icmp)), 58, 255)
	b = append(b, ip.AsSlice()...)
	b = append(b, all...)
	return append(b, icmp...)
}

// matching returns the captured frames equal to want.
func matching(fs []frame, want []byte) []frame {
	var out []frame
	for _, f := range fs {
		if bytes.Equal(f.b, want) {
			out = append(out, f)
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newSender(t *testing.T, ns string) *Sender {
	t.Helper()
	s, err := New(Options{Namespace: ns, OnError: func(err error) { t.Errorf("send: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestGARPUpdatesNeighbour(t *testing.T) {
	requireRoot(t)
	a, b := pair(t, "g")
	vip := netip.MustParseAddr("10.77.1.100")
	fresh := netip.MustParseAddr("10.77.1.101")
	// A stale entry for the VIP pointing elsewhere; arp_accept lets the
	// fresh VIP's GARP create an entry.
	ipn(t, b, "neigh", "add", vip.String(), "lladdr", "02:00:00:00:00:99", "dev", "vb", "nud", "stale")
	if out, err := exec.Command("ip", "netns", "exec", b, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/vb/arp_accept").CombinedOutput(); err != nil {
		t.Fatalf("arp_accept: %v: %s", err, out)
	}
	frames := capture(t, b, "vb")
	mac := macOf(t, a, "va")
	s := newSender(t, a)

	const interval = 30 * time.Millisecond
	if err := s.Apply(&effects.SendGARP{Interface: "va", Addr: vip, Count: 3, Interval: interval}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(&effects.SendGARP{Interface: "va", Addr: fresh, Count: 1}); err != nil {
		t.Fatal(err)
	}
	want := wantGARP(mac, vip)
	waitFor(t, "3 GARPs", func() bool {
		return len(matching(frames(), want)) >= 3 && len(matching(frames(), wantGARP(mac, fresh))) >= 1
	})
	time.Sleep(3 * interval)
	got := matching(frames(), want)
	if len(got) != 3 {
		t.Fatalf("%d GARPs for %s, want 3", len(got), vip)
	}
	for i := 1; i < len(got); i++ {
		if gap := got[i].at.Sub(got[i-1].at); gap < interval/2 {
			t.Errorf("GARPs %d and %d only %v apart, want about %v", i-1, i, gap, interval)
		}
	}
	waitFor(t, "neighbour entries", func() bool {
		n := neigh(t, b, "vb")
		return n[vip.String()] == mac.String() && n[fresh.String()] == mac.String()
	})
	if st := s.Stats(); st.Sent != 4 || st.Failed != 0 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestGARPFromVMACWithoutIPv4(t *testing.T) {
	requireRoot(t)
	a, b := pair(t, "v")
	ipn(t, a, "link", "add", "vrrp.77", "link", "va", "type", "macvlan", "mode", "private")
	ipn(t, a, "link", "set", "vrrp.77", "address", "00:00:5e:00:01:4d", "up")
	if out, err := exec.Command("ip", "netns", "exec", b, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/vb/arp_accept").CombinedOutput(); err != nil {
		t.Fatalf("arp_accept: %v: %s", err, out)
	}
	frames := capture(t, b, "vb")
	vmac, _ := net.ParseMAC("00:00:5e:00:01:4d")
	vip := netip.MustParseAddr("10.77.1.102")
	s := newSender(t, a)
	if err := s.Apply(&effects.SendGARP{Interface: "vrrp.77", Addr: vip, Count: 2}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "GARP from the VMAC", func() bool { return len(matching(frames(), wantGARP(vmac, vip))) == 2 })
	waitFor(t, "neighbour entry", func() bool { return neigh(t, b, "vb")[vip.String()] == vmac.String() })
}

func TestNAUpdatesNeighbour(t *testing.T) {
	requireRoot(t)
	a, b := pair(t, "n")
	vip := netip.MustParseAddr("fd77::100")
	ipn(t, b, "-6", "neigh", "add", vip.String(), "lladdr", "02:00:00:00:00:99", "dev", "vb", "nud", "stale")
	frames := capture(t, b, "vb")
	mac := macOf(t, a, "va")
	s := newSender(t, a)
	if err := s.Apply(&effects.SendNA{Interface: "va", Addr: vip, Count: 2, Interval: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	want := wantNA(mac, vip)
	waitFor(t, "2 NAs", func() bool { return len(matching(frames(), want)) == 2 })
	waitFor(t, "neighbour entry", func() bool { return neigh(t, b, "vb")[vip.String()] == mac.String() })
}

func TestApplyValidation(t *testing.T) {
	s, err := New(Options{MaxPending: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v4, v6 := netip.MustParseAddr("10.77.1.1"), netip.MustParseAddr("fd77::1")
	for _, e := range []effects.Effect{
		&effects.SendGARP{Interface: "x", Addr: v6, Count: 1},
		&effects.SendNA{Interface: "x", Addr: v4, Count: 1},
		&effects.SendGARP{Addr: v4, Count: 1},
	} {
		if err := s.Apply(e); err == nil {
			t.Errorf("%+v accepted", e)
		}
	}
	if err := s.Apply(&effects.SetTimer{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("SetTimer: %v", err)
	}
	// The queue is bounded: long bursts on a missing interface fill it.
	burst := &effects.SendGARP{Interface: "vgarp-none", Addr: v4, Count: 1000, Interval: time.Hour}
	var full error
	for range 5 {
		if err := s.Apply(burst); err != nil {
			full = err
		}
	}
	if !errors.Is(full, ErrQueueFull) || s.Stats().Dropped != 3 {
		t.Errorf("got %v, dropped %d; want ErrQueueFull after 2", full, s.Stats().Dropped)
	}
}

func TestFrames(t *testing.T) {
	mac := net.HardwareAddr{0x02, 0x77, 0, 0, 0, 1}
	g, err := garpFrame(mac, netip.MustParseAddr("10.77.0.9"))
	if err != nil || !bytes.Equal(g, wantGARP(mac, netip.MustParseAddr("10.77.0.9"))) {
		t.Errorf("garp % x (%v)", g, err)
	}
	n, err := naFrame(mac, netip.MustParseAddr("fd77::9"), false)
	if err != nil || !bytes.Equal(n, wantNA(mac, netip.MustParseAddr("fd77::9"))) {
		t.Errorf("na % x (%v)\nwant % x", n, err, wantNA(mac, netip.MustParseAddr("fd77::9")))
	}
	r, _ := naFrame(mac, netip.MustParseAddr("fd77::9"), true)
	if r[14+40+4] != 0xa0 { // router and override flags
		t.Errorf("router flag: % x", r[14+40+4])
	}
}
