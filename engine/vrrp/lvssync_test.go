package vrrp

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// syncdStops is what a Stop of m emits about sync daemons.
func syncdStops(m *Machine) []effects.IPVSSyncDaemon {
	m.Begin(2e9)
	m.Stop(&events.Stop{})
	var out []effects.IPVSSyncDaemon
	for _, e := range m.Effects() {
		if d, ok := e.(*effects.IPVSSyncDaemon); ok {
			out = append(out, *d)
		}
	}
	return out
}

// TestSyncDaemonsSnapshot: the pair of daemons of lvs_sync_daemon
// without an instance survives a snapshot (the restored machine stops
// both, as the original does), and a snapshot from before the pair, with
// its one SyncDaemon, still restores that daemon.
func TestSyncDaemonsSnapshot(t *testing.T) {
	cfg := &conf.Config{VirtualServers: make([]conf.VirtualServer, 1)}
	cfg.GlobalDefs.LVSSyncDaemon = &conf.LVSSyncDaemon{Interface: "eth1", Port: 8848}
	m := New()
	m.Load(cfg)
	m.Begin(1e9)
	m.Start(&events.Start{Seed: 1})
	m.Effects()
	b, err := json.Marshal(m.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(cfg, &s)
	if err != nil {
		t.Fatal(err)
	}
	want := syncdStops(m)
	if len(want) != 2 || want[0].State != effects.SyncDaemonMaster || want[1].State != effects.SyncDaemonBackup {
		t.Fatalf("the original's stops: %+v", want)
	}
	if got := syncdStops(r); !slices.Equal(got, want) {
		t.Errorf("restored: %+v, want %+v", got, want)
	}

	old := Snapshot{Started: true, SyncDaemon: &effects.IPVSSyncDaemon{Op: effects.SyncDaemonStart,
		State: effects.SyncDaemonBackup, Interface: "eth1", SyncID: 51}}
	r, err = Restore(&conf.Config{}, &old)
	if err != nil {
		t.Fatal(err)
	}
	got := syncdStops(r)
	if len(got) != 1 || got[0].Op != effects.SyncDaemonStop || got[0].State != effects.SyncDaemonBackup || got[0].SyncID != 51 {
		t.Errorf("restored from a one-daemon snapshot, the stop: %+v", got)
	}
}
