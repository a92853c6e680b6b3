package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

// TestGARPGroups: garp_group blocks as keepalived reads them — intervals
// in seconds with microsecond resolution, one interface or an interfaces
// block, no report of "not implemented"; a block without an interval or
// without an interface is dropped with keepalived's warning, and an
// interface already in an earlier group is reported (the engine keeps the
// first group for it).
func TestGARPGroups(t *testing.T) {
	text := `garp_group {
  garp_interval 0.1
  gna_interval 0.000002
  interfaces {
    eth1
    eth2
  }
}
garp_group {
  garp_interval 0.5
  interface eth3
}
garp_group {
  interface eth4
}
garp_group {
  gna_interval 1
  interface eth2
}
`
	cfg, diags, err := LoadString("garp.conf", text, Options{ConfigID: "t"})
	if err != nil {
		t.Fatalf("load: %v\n%s", err, list(diags))
	}
	want := []conf.GARPGroup{
		{Interval: conf.Duration(100 * time.Millisecond), GNAInterval: conf.Duration(2 * time.Microsecond), Interfaces: []string{"eth1", "eth2"}},
		{Interval: conf.Duration(500 * time.Millisecond), Interface: "eth3"},
		{GNAInterval: conf.Duration(time.Second), Interface: "eth2"},
	}
	got := cfg.GARPGroups
	for k := range got {
		got[k].Pos = conf.Pos{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("garp groups\n got %+v\nwant %+v", got, want)
	}
	d := list(diags)
	for _, w := range []string{"garp.conf:13:1", "garp_group has no garp_interval or gna_interval - removing it",
		"garp.conf:16:1", "garp_group already specified for eth2 - ignoring"} {
		if !strings.Contains(d, w) {
			t.Errorf("diagnostics lack %q:\n%s", w, d)
		}
	}
	if strings.Contains(d, "not implemented") {
		t.Errorf("garp_group reported as not implemented:\n%s", d)
	}
}
