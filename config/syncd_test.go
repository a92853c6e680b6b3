package config

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/events/conf"
)

// TestLVSSyncDaemonForms loads lvs_sync_daemon as keepalived reads it:
// with `inst` or the instance alone, every option, the older positional
// sync id (with a warning), vrrp_instance lvs_sync_daemon_interface,
// and the form without an instance (the checker's pair of daemons).
func TestLVSSyncDaemonForms(t *testing.T) {
	id := func(v int) *int { return &v }
	for _, tc := range []struct {
		name, global, inInstance string
		want                     conf.LVSSyncDaemon
		warn                     string
	}{
		{name: "all options", global: "lvs_sync_daemon eth1 inst VI_1 id 9 maxlen 1400 port 8849 ttl 2 group 239.0.0.81",
			want: conf.LVSSyncDaemon{Interface: "eth1", Instance: "VI_1", SyncID: id(9), MaxLen: 1400, Port: 8849, TTL: 2,
				Group: netip.MustParseAddr("239.0.0.81")}},
		{name: "instance alone", global: "lvs_sync_daemon eth1 VI_1",
			want: conf.LVSSyncDaemon{Interface: "eth1", Instance: "VI_1", Port: conf.DefaultLVSSyncPort}},
		{name: "positional sync id", global: "lvs_sync_daemon eth1 VI_1 12",
			want: conf.LVSSyncDaemon{Interface: "eth1", Instance: "VI_1", SyncID: id(12), Port: conf.DefaultLVSSyncPort},
			warn: `please use keyword "id"`},
		{name: "instance keyword", inInstance: "lvs_sync_daemon_interface eth2",
			want: conf.LVSSyncDaemon{Interface: "eth2", Instance: "VI_1", Port: conf.DefaultLVSSyncPort},
			warn: "deprecated"},
		{name: "no instance", global: "lvs_sync_daemon eth1 id 3",
			want: conf.LVSSyncDaemon{Interface: "eth1", SyncID: id(3), Port: conf.DefaultLVSSyncPort}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := vi
			if tc.global != "" {
				text = "global_defs {\n " + tc.global + "\n}\n" + vi
			}
			if tc.inInstance != "" {
				text = strings.Replace(vi, "virtual_router_id", tc.inInstance+"\n    virtual_router_id", 1)
			}
			cfg, diags, err := LoadString("s.conf", text, Options{})
			if err != nil {
				t.Fatalf("%v\n%s", err, list(diags))
			}
			got := cfg.GlobalDefs.LVSSyncDaemon
			if got == nil {
				t.Fatal("no lvs_sync_daemon")
			}
			same := got.Interface == tc.want.Interface && got.Instance == tc.want.Instance && got.MaxLen == tc.want.MaxLen &&
				got.Port == tc.want.Port && got.TTL == tc.want.TTL && got.Group == tc.want.Group &&
				(got.SyncID == nil) == (tc.want.SyncID == nil) && (got.SyncID == nil || *got.SyncID == *tc.want.SyncID)
			if !same {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
			switch all := list(diags); {
			case tc.warn == "" && len(diags) != 0:
				t.Errorf("unexpected diagnostics:\n%s", all)
			case tc.warn != "" && !strings.Contains(all, tc.warn):
				t.Errorf("want a warning with %q, got:\n%s", tc.warn, all)
			}
		})
	}
}
