package netlink

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events/conf"
)

// TestVIPAcceptsTraffic: a VIP vigil adds is an ordinary address of the
// interface, and vigil installs no filter in front of it, so traffic from
// the LAN to the VIP is accepted: keepalived's accept mode, which is what
// vigil does (it does not implement no_accept's firewall rules).
func TestVIPAcceptsTraffic(t *testing.T) {
	requireRoot(t)
	node := newNS(t, "acc-node")
	client := newNS(t, "acc-client")
	ipn(t, node, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", client)
	ipn(t, node, "link", "set", "va", "up")
	ipn(t, client, "addr", "add", "10.77.9.2/24", "dev", "vb")
	ipn(t, client, "link", "set", "vb", "up")

	x := newExecutor(t, node)
	vip := netip.MustParseAddr("10.77.9.100")
	if err := x.Apply(&effects.AddAddress{Instance: "VI_1", Interface: "va",
		Address: conf.Address{Prefix: netip.PrefixFrom(vip, 24)}}); err != nil {
		t.Fatal(err)
	}

	nodeNS, err := OpenNamespace(node)
	if err != nil {
		t.Fatal(err)
	}
	defer nodeNS.Close()
	clientNS, err := OpenNamespace(client)
	if err != nil {
		t.Fatal(err)
	}
	defer clientNS.Close()
	var l *net.UDPConn
	if err := InNamespace(nodeNS, func() (err error) {
		l, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(vip, 7777)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var c *net.UDPConn
	if err := InNamespace(clientNS, func() (err error) {
		c, err = net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(vip, 7777)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	buf := make([]byte, 16)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := c.Write([]byte("to the VIP")); err != nil {
			t.Fatal(err)
		}
		l.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, from, err := l.ReadFromUDPAddrPort(buf)
		if err == nil {
			if string(buf[:n]) != "to the VIP" || from.Addr() != netip.MustParseAddr("10.77.9.2") {
				t.Errorf("received %q from %s", buf[:n], from)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing sent to the VIP %s arrived: %v", vip, err)
		}
	}
}
