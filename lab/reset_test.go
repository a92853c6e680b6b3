package lab

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// Reset undoes what a killed daemon leaves behind, and the address
// monitor sees every change, VMAC interfaces included.
func TestResetAndMonitor(t *testing.T) {
	l := New(t, 1)
	n := l.Nodes[0]
	if err := l.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	m := n.MonitorAddresses(t)
	vip := netip.MustParseAddr("10.77.0.100")
	n.MustExec("ip", "link", "add", "vrrp.77", "link", "eth0", "address", "00:00:5e:00:01:4d", "type", "macvlan", "mode", "private")
	n.MustExec("ip", "link", "set", "vrrp.77", "up")
	n.MustExec("ip", "addr", "add", "10.77.0.100/24", "dev", "vrrp.77")
	n.MustExec("ip", "addr", "add", "10.77.0.101/24", "dev", "eth0")
	n.MustExec("sysctl", "-qw", "net.ipv4.conf.eth0.arp_ignore=1")
	MustWait(t, 5*time.Second, "the monitor seeing the VIP", func() bool { return m.Has(vip) })
	if err := l.Reset(); err != nil {
		t.Fatal(err)
	}
	MustWait(t, 5*time.Second, "the monitor seeing the VIP go", func() bool { return !m.Has(vip) })
	if out := n.MustExec("ip", "-o", "link"); strings.Contains(out, "vrrp.77") {
		t.Errorf("VMAC left: %s", out)
	}
	ps, _ := n.Addresses("eth0")
	for _, p := range ps {
		if p.Addr() != n.Addr4.Addr() && p.Addr() != n.Addr6.Addr() && p.Addr() != n.LinkLocal() {
			t.Errorf("address left on eth0: %s", p)
		}
	}
	if !n.HasAddress(n.Addr4.Addr()) || !n.HasAddress(n.LinkLocal()) {
		t.Errorf("planned addresses gone: %v", ps)
	}
	if out := strings.TrimSpace(n.MustExec("sysctl", "-n", "net.ipv4.conf.eth0.arp_ignore")); out != "0" {
		t.Errorf("arp_ignore = %s after reset", out)
	}
	var adds int
	for _, e := range m.Events() {
		if e.Addr.Addr() == vip && e.Added && e.Link == "vrrp.77" && !e.Existing {
			adds++
		}
	}
	if adds != 1 || m.Err() != nil {
		t.Errorf("monitor: %d additions of the VIP on vrrp.77 (err %v):\n%s", adds, m.Err(), m.Timeline(time.Now()))
	}
}
