package ipvs

import (
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/effects"
)

// daemonReply is a GET_DAEMON reply as the kernel sends it: the generic
// netlink header, then the daemon nest.
func daemonReply(d *SyncDaemon) []byte {
	g := (&nl.Genlmsg{Command: cmdNewDaemon, Version: 1}).Serialize()
	return append(g, daemonAttrs(d).Serialize()...)
}

// TestParseSyncDaemon decodes what daemonAttrs encodes, for every
// optional attribute set and unset, and refuses truncated input.
func TestParseSyncDaemon(t *testing.T) {
	for _, d := range []SyncDaemon{
		{State: SyncMaster, Interface: "eth1", SyncID: 51},
		{State: SyncBackup, Interface: "veth-director1", SyncID: 255, MaxLen: 1400, Port: 8849, TTL: 2,
			Group: netip.MustParseAddr("239.0.0.81")},
		{State: SyncBackup, Interface: "e", Group: netip.MustParseAddr("ff02::81")},
	} {
		b := daemonReply(&d)
		got, ok, err := ParseSyncDaemon(b)
		if err != nil || !ok || got != d {
			t.Errorf("ParseSyncDaemon(%+v) = %+v, %v, %v", d, got, ok, err)
		}
		for n := 0; n < len(b); n++ {
			// Never a panic; an error or a partial daemon.
			_, _, _ = ParseSyncDaemon(b[:n])
		}
	}
	if _, ok, err := ParseSyncDaemon((&nl.Genlmsg{Command: cmdGetDaemon}).Serialize()); ok || err != nil {
		t.Errorf("a reply without a daemon: ok %v, err %v", ok, err)
	}
	if _, _, err := ParseSyncDaemon([]byte{1}); err == nil {
		t.Error("a 1-byte reply decoded")
	}
}

// FuzzParseSyncDaemon: the GET_DAEMON reply decoder never panics, and a
// daemon it decodes encodes back to the same daemon.
func FuzzParseSyncDaemon(f *testing.F) {
	f.Add(daemonReply(&SyncDaemon{State: SyncMaster, Interface: "eth1", SyncID: 51}))
	f.Add(daemonReply(&SyncDaemon{State: SyncBackup, Interface: "eth0", SyncID: 1, MaxLen: 1400, Port: 8849, TTL: 2,
		Group: netip.MustParseAddr("ff02::81")}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, ok, err := ParseSyncDaemon(b)
		if err != nil || !ok || len(d.Interface) > ifNameMax || d.Interface == "" {
			return
		}
		for _, c := range []byte(d.Interface) {
			if c == 0 {
				return
			}
		}
		again, ok, err := ParseSyncDaemon(daemonReply(&d))
		if err != nil || !ok || again != d {
			t.Fatalf("%+v re-encoded decodes as %+v, %v, %v", d, again, ok, err)
		}
	})
}

// TestKernelSyncDaemon starts, reads back and stops the master and the
// backup sync daemons in a fresh namespace, through the executor, as the
// engine's IPVSSyncDaemon effects ask.
func TestKernelSyncDaemon(t *testing.T) {
	path := requireIPVS(t)
	ns, err := netns.GetFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "vsync0"}, PeerName: "vsync1"}
	if err := h.LinkAdd(veth); err != nil {
		t.Fatalf("veth: %v", err)
	}
	for _, n := range []string{"vsync0", "vsync1"} {
		l, err := h.LinkByName(n)
		if err == nil {
			err = h.LinkSetUp(l)
		}
		if err == nil {
			a, _ := netlink.ParseAddr("10.99.0.1/24")
			if n == "vsync1" {
				a, _ = netlink.ParseAddr("10.99.0.2/24")
			}
			err = h.AddrAdd(l, a)
		}
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	m, err := Open(Options{Netns: path, NoModprobe: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	x := NewExecutor(m)
	read := func() []SyncDaemon {
		t.Helper()
		ds, err := m.SyncDaemons()
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	if ds := read(); len(ds) != 0 {
		t.Fatalf("a fresh namespace runs sync daemons: %+v", ds)
	}
	master := &effects.IPVSSyncDaemon{Op: effects.SyncDaemonStart, State: effects.SyncDaemonMaster, Interface: "vsync0",
		SyncID: 51, MaxLen: 1400, Port: 8849, TTL: 2, Group: netip.MustParseAddr("239.0.0.81")}
	backup := &effects.IPVSSyncDaemon{Op: effects.SyncDaemonStart, State: effects.SyncDaemonBackup, Interface: "vsync1", SyncID: 51}
	for _, e := range []*effects.IPVSSyncDaemon{master, backup} {
		if err := x.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	ds := read()
	var gotM, gotB *SyncDaemon
	for k := range ds {
		switch ds[k].State {
		case SyncMaster:
			gotM = &ds[k]
		case SyncBackup:
			gotB = &ds[k]
		}
	}
	wantM := SyncDaemon{State: SyncMaster, Interface: "vsync0", SyncID: 51, MaxLen: 1400, Port: 8849, TTL: 2,
		Group: netip.MustParseAddr("239.0.0.81")}
	if gotM == nil || *gotM != wantM {
		t.Errorf("master daemon %+v, want %+v (all: %+v)", gotM, wantM, ds)
	}
	// The backup's unset options read back as the kernel's defaults.
	if gotB == nil || gotB.Interface != "vsync1" || gotB.SyncID != 51 || gotB.Port != 8848 ||
		gotB.Group != netip.MustParseAddr("224.0.0.81") {
		t.Errorf("backup daemon %+v (all: %+v)", gotB, ds)
	}
	// Started again: the same daemon is kept (one left by a crashed
	// vigil); one with other settings is refused.
	if err := x.Apply(master); err != nil {
		t.Fatalf("starting the running master daemon again: %v", err)
	}
	other := *master
	other.SyncID = 52
	if err := x.Apply(&other); err == nil {
		t.Error("a second master daemon, with another sync id, started")
	}
	stop := *master
	stop.Op = effects.SyncDaemonStop
	if err := x.Apply(&stop); err != nil {
		t.Fatal(err)
	}
	if ds := read(); len(ds) != 1 || ds[0].State != SyncBackup {
		t.Fatalf("after stopping the master: %+v", ds)
	}
	// IfRunning (keepalived's checker clearing a predecessor's daemons):
	// a daemon that runs stops, none running is no error. (The backup
	// has run a while: a daemon stopped within milliseconds of its start
	// may wait long for the kernel's answer under TCG.)
	clear := &effects.IPVSSyncDaemon{Op: effects.SyncDaemonStop, State: effects.SyncDaemonBackup, IfRunning: true}
	if err := x.Apply(clear); err != nil {
		t.Fatalf("clearing the running backup daemon: %v", err)
	}
	if ds := read(); len(ds) != 0 {
		t.Fatalf("after clearing the backup daemon: %+v", ds)
	}
	if err := x.Apply(clear); err != nil {
		t.Errorf("clearing a backup daemon that does not run: %v", err)
	}
	if err := m.StopSyncDaemon(SyncBackup); err == nil {
		t.Error("stopping a daemon that does not run succeeded")
	}
}
