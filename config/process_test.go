package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

// TestProcessSettingsParse: the process settings of global_defs load into
// the model as keepalived reads them (the daemon's tests apply them):
// real-time priorities clamped to SCHED_RR's range with a warning,
// rlimit 1 raised to 2, max_auto_priority without a value meaning the
// maximum, umask as a number (strtol base 0) or '|'-joined bits, and
// invalid values reported at their line.
func TestProcessSettingsParse(t *testing.T) {
	u := func(v uint32) *uint32 { return &v }
	for _, tc := range []struct {
		name, text string
		want       func(*conf.GlobalDefs)
		diags      []string // substrings, one per diagnostic, in order
	}{
		{name: "all", text: `global_defs {
  vrrp_priority -5
  vrrp_rt_priority 20
  vrrp_rlimit_rttime 30000
  vrrp_no_swap
  checker_no_swap
  vrrp_cpu_affinity 1 0 1
  max_auto_priority 10
  min_auto_priority_delay 250000
  umask 0x12
}`, want: func(g *conf.GlobalDefs) {
			g.VRRPPriority, g.VRRPRTPriority, g.VRRPRlimitRTTime = -5, 20, 30000
			g.VRRPNoSwap, g.CheckerNoSwap = true, true
			g.VRRPCPUAffinity = []int{1, 0}
			g.MaxAutoPriority, g.MinAutoPriorityDelay = 10, conf.Duration(250*time.Millisecond)
			g.Umask = u(0o22)
		}},
		{name: "clamped", text: `global_defs {
  vrrp_rt_priority 150
  vrrp_rlimit_rtime 1
  max_auto_priority
  umask IWGRP | IROTH|IWOTH
}`, want: func(g *conf.GlobalDefs) {
			g.VRRPRTPriority, g.VRRPRlimitRTTime, g.MaxAutoPriority = 99, 2, 99
			g.Umask = u(0o26)
		}, diags: []string{"2:20: warning: vrrp_rt_priority: real-time priority 150 greater than maximum 99 - setting to maximum"}},
		{name: "octal and minimum", text: `global_defs {
  vrrp_rt_priority 0
  umask 0077
  max_auto_priority -1
}`, want: func(g *conf.GlobalDefs) {
			g.VRRPRTPriority, g.Umask, g.MaxAutoPriority = 1, u(0o77), -1
		}, diags: []string{"real-time priority 0 less than minimum 1 - setting to minimum"}},
		{name: "invalid", text: `global_defs {
  vrrp_priority -21
  vrrp_cpu_affinity 0 x
  umask 0800
  umask IWGRP|
  umask IWGRP|IWXYZ
  max_auto_priority 100
  min_auto_priority_delay 0
  vrrp_rlimit_rttime 0
}`, want: func(*conf.GlobalDefs) {}, diags: []string{
			"2:17: error: vrrp_priority: invalid value '-21'", "3:23: error: vrrp_cpu_affinity: invalid value 'x'",
			"4:9: error: umask: invalid umask value '0800'", "5:9: error: umask: invalid umask 'IWGRP|': a bit name is missing",
			"6:9: error: umask: unknown umask bit 'IWXYZ'", "7:21: error: max_auto_priority: invalid value '100'",
			"8:27: error: min_auto_priority_delay: invalid value '0'", "9:22: error: vrrp_rlimit_rttime: invalid value '0'"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags, _ := LoadString("p.conf", tc.text, Options{ConfigID: "t"})
			if len(diags) != len(tc.diags) {
				t.Fatalf("diagnostics:\n%s\nwant %d", list(diags), len(tc.diags))
			}
			for i, d := range diags {
				if !strings.Contains(d.String(), tc.diags[i]) {
					t.Errorf("diagnostic %d: %s, want %q", i, d, tc.diags[i])
				}
			}
			if cfg == nil {
				return
			}
			want := defaultGlobalDefs(t)
			tc.want(&want)
			if !reflect.DeepEqual(cfg.GlobalDefs, want) {
				t.Errorf("global_defs:\n got %+v\nwant %+v", cfg.GlobalDefs, want)
			}
		})
	}
}

// defaultGlobalDefs is the global_defs of an empty configuration.
func defaultGlobalDefs(t *testing.T) conf.GlobalDefs {
	t.Helper()
	cfg, diags, err := LoadString("empty.conf", "global_defs {\n}\n", Options{ConfigID: "t"})
	if err != nil || len(diags) > 0 {
		t.Fatalf("empty configuration: %v %s", err, list(diags))
	}
	return cfg.GlobalDefs
}
