// Command floodgen sends VRRP-shaped junk at a fixed rate from a raw IPv4
// socket, for bench/flood.sh: run it inside the attacker's network
// namespace. It prints how many packets it sent and the rate it reached.
//
//	floodgen -kind checksum -rate 10000 -seconds 3 -src 10.77.0.66 -vrid 77 -pass secret
//
// Kinds (against a VRRPv2 instance with auth_type PASS): vrid (a valid
// advert for another VRID), ttl (TTL 64), checksum (bad VRRP checksum),
// truncated (6 bytes of VRRP), auth (wrong password), version (a VRRPv3
// advert for the VRRPv2 VRID), lower (a valid advert at priority 50 from
// an address no node has).
package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/adapters/vrrpnet"
	"github.com/vigil-ha/vigil/effects"
)

func main() {
	kind := flag.String("kind", "checksum", "vrid|ttl|checksum|truncated|auth|version|lower")
	rate := flag.Int("rate", 1000, "packets per second")
	seconds := flag.Float64("seconds", 3, "how long to send")
	src := flag.String("src", "10.77.0.66", "source address")
	vip := flag.String("vip", "10.77.0.100", "the group's virtual address")
	vrid := flag.Int("vrid", 77, "the group's VRID")
	pass := flag.String("pass", "secret", "the group's auth_pass")
	iface := flag.String("i", "eth0", "interface")
	flag.Parse()
	if err := run(*kind, *rate, *seconds, *src, *vip, *vrid, *pass, *iface); err != nil {
		fmt.Fprintln(os.Stderr, "floodgen:", err)
		os.Exit(1)
	}
}

// packet builds the junk packet of kind, from the IPv4 header on.
func packet(kind string, src, vip netip.Addr, vrid int, pass string) ([]byte, error) {
	a := &effects.SendAdvert{Version: 2, VRID: uint8(vrid), Priority: 50, Interval: 100,
		Addrs: []netip.Addr{vip}, AuthType: 1}
	copy(a.AuthData[:], pass)
	w := &vrrpnet.Wire{Src: src, Dst: vrrpnet.Group4, TTL: 255, ID: 1}
	switch kind {
	case "vrid":
		a.VRID = uint8(vrid + 1)
	case "ttl":
		w.TTL = 64
	case "auth":
		copy(a.AuthData[:], "wrong!!!")
	case "version":
		a.Version, a.AuthType, a.AuthData = 3, 0, [8]byte{}
	case "checksum", "truncated", "lower":
	default:
		return nil, fmt.Errorf("unknown kind %q", kind)
	}
	p, err := vrrpnet.AppendIPv4(nil, a, w)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "checksum":
		p[20+6] ^= 0xff
	case "truncated":
		p = p[:20+6]
		p[2], p[3] = 0, 26
	}
	return p, nil
}

func run(kind string, rate int, seconds float64, srcS, vipS string, vrid int, pass, iface string) error {
	src, err := netip.ParseAddr(srcS)
	if err != nil {
		return err
	}
	vip, err := netip.ParseAddr(vipS)
	if err != nil {
		return err
	}
	p, err := packet(kind, src, vip, vrid, pass)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, vrrpnet.ProtoVRRP)
	if err != nil {
		return fmt.Errorf("raw socket: %w", err)
	}
	defer unix.Close(fd)
	for _, o := range []struct{ level, opt, v int }{
		{unix.IPPROTO_IP, unix.IP_HDRINCL, 1},
		{unix.SOL_SOCKET, unix.SO_SNDBUF, 4 << 20},
	} {
		if err := unix.SetsockoptInt(fd, o.level, o.opt, o.v); err != nil {
			return fmt.Errorf("setsockopt: %w", err)
		}
	}
	if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, iface); err != nil {
		return fmt.Errorf("bind to %s: %w", iface, err)
	}
	to := &unix.SockaddrInet4{Addr: vrrpnet.Group4.As4()}
	// Paced in 1 ms slices: each slice sends what the rate owes so far.
	start := time.Now()
	end := start.Add(time.Duration(seconds * float64(time.Second)))
	sent, failed := 0, 0
	for {
		now := time.Now()
		if !now.Before(end) {
			break
		}
		owe := int(float64(rate)*now.Sub(start).Seconds()) - sent
		for range owe {
			if err := unix.Sendto(fd, p, unix.MSG_DONTROUTE, to); err != nil {
				failed++
				if failed > 1000 && sent == 0 {
					return fmt.Errorf("send: %w", err)
				}
			}
			sent++
		}
		if owe <= 0 {
			time.Sleep(time.Millisecond - now.Sub(start)%time.Millisecond)
		}
	}
	el := time.Since(start).Seconds()
	fmt.Printf("sent %d failed %d seconds %.3f rate %.0f\n", sent-failed, failed, el, float64(sent-failed)/el)
	return nil
}
