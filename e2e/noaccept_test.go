package e2e

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"github.com/vigil-ha/vigil/lab"
)

// pingOnce sends one ICMP echo request from client to addr and reports
// whether a reply came within a second.
func pingOnce(t *testing.T, client *lab.Node, addr string) bool {
	t.Helper()
	c, err := client.Dial("ip4:icmp", addr)
	if err != nil {
		t.Fatalf("ping socket: %v", err)
	}
	defer c.Close()
	id := os.Getpid() & 0xffff
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: 1, Data: []byte("vigil")}}
	b, _ := msg.Marshal(nil)
	if _, err := c.Write(b); err != nil {
		return false
	}
	deadline := time.Now().Add(time.Second)
	buf := make([]byte, 1500)
	for {
		c.SetReadDeadline(deadline)
		n, err := c.Read(buf)
		if err != nil {
			return false
		}
		// A raw IPv4 socket returns the IP header too.
		hl := int(buf[0]&0x0f) * 4
		if n <= hl {
			continue
		}
		m, err := icmp.ParseMessage(1, buf[hl:n])
		if err != nil {
			continue
		}
		if e, ok := m.Body.(*icmp.Echo); ok && m.Type == ipv4.ICMPTypeEchoReply && e.ID == id {
			return true
		}
	}
}

// tcpOpens reports whether client can open a TCP connection to addr.
func tcpOpens(client *lab.Node, addr string) bool {
	c, err := client.Dial("tcp4", addr)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// noAcceptConf is a two-node instance with no_accept or accept.
func noAcceptConf(prio int, accept bool) string {
	mode := "no_accept"
	if accept {
		mode = "accept"
	}
	return conf("nft", instance{Priority: prio, VIPs: []string{vip4}, Extra: []string{mode}})
}

// TestNoAcceptFirewall: a client pings and opens TCP connections to a VIP
// (a listener on every address of the node) held by a vigil node. With
// no_accept the node drops both (nftables table "keepalived", created by
// vigil without any nftables keyword, as keepalived does), while its own
// address answers; after a failover the new master drops them too and the
// old one has removed its table; a reload to accept on the master makes
// the VIP answer, without a transition.
func TestNoAcceptFirewall(t *testing.T) {
	lab.Require(t, "nft")
	l := lab.New(t, 3)
	a, b, client := l.Nodes[0], l.Nodes[1], l.Nodes[2]
	for _, n := range []*lab.Node{a, b} {
		ln, err := n.Listen("tcp4", "0.0.0.0:8077")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	// A table left by a crashed run on b: removed when vigil starts.
	b.MustExec("nft", "add", "table", "ip", "keepalived")
	b.MustExec("nft", "add", "set", "ip", "keepalived", "junk", "{ type ipv4_addr; }")

	vip := lab.VIP4.String()
	pa := a.StartVigil(t, noAcceptConf(150, false))
	pb := b.StartVigil(t, noAcceptConf(100, false))
	holds(t, electTimeout, lab.VIP4, a, a, b)
	lab.MustWait(t, 5*time.Second, "b's leftover table removed", func() bool {
		out, _ := b.Exec("nft", "list", "ruleset")
		return !strings.Contains(out, "junk")
	})
	if out := a.MustExec("nft", "list", "set", "ip", "keepalived", "vips"); !strings.Contains(out, vip) {
		t.Fatalf("the master's drop set lacks the VIP:\n%s", out)
	}
	if !pingOnce(t, client, a.Addr4.Addr().String()) {
		t.Fatal("the master's own address does not answer: the firewall drops too much")
	}
	if pingOnce(t, client, vip) {
		t.Error("no_accept: the VIP answered a ping on the master")
	}
	if tcpOpens(client, vip+":8077") {
		t.Error("no_accept: a TCP connection to the VIP opened on the master")
	}
	if !tcpOpens(client, a.Addr4.Addr().String()+":8077") {
		t.Error("the master's own address refuses TCP")
	}

	// Failover: a stops (its table goes), b takes over and filters.
	if err := pa.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	holds(t, takeoverTimeout, lab.VIP4, b, a, b)
	if out, _ := a.Exec("nft", "list", "tables"); strings.TrimSpace(out) != "" {
		t.Errorf("the stopped node left tables: %s", out)
	}
	lab.MustWait(t, 5*time.Second, "b's drop set holds the VIP", func() bool {
		out, _ := b.Exec("nft", "list", "set", "ip", "keepalived", "vips")
		return strings.Contains(out, vip)
	})
	if pingOnce(t, client, vip) {
		t.Error("no_accept: the VIP answered a ping on the new master")
	}
	if tcpOpens(client, vip+":8077") {
		t.Error("no_accept: a TCP connection to the VIP opened on the new master")
	}

	// Reload to accept: the VIP leaves the set, b stays MASTER.
	if err := os.WriteFile(pb.Dir+"/keepalived.conf", []byte(noAcceptConf(100, true)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := pb.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	lab.MustWait(t, 5*time.Second, "the VIP answering after the reload to accept", func() bool {
		return pingOnce(t, client, vip)
	})
	if !tcpOpens(client, vip+":8077") {
		t.Error("accept: no TCP connection to the VIP")
	}
	if !b.HasAddress(lab.VIP4) {
		t.Error("b lost the VIP at the reload")
	}

	// And back to no_accept: filtered again.
	if err := os.WriteFile(pb.Dir+"/keepalived.conf", []byte(noAcceptConf(100, false)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := pb.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	lab.MustWait(t, 5*time.Second, "the VIP dropped after the reload to no_accept", func() bool {
		return !pingOnce(t, client, vip)
	})
	if tcpOpens(client, vip+":8077") {
		t.Error("no_accept after reload: a TCP connection to the VIP opened")
	}
	if err := pb.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if out, _ := b.Exec("nft", "list", "tables"); strings.TrimSpace(out) != "" {
		t.Errorf("tables left after stop: %s", out)
	}
}
