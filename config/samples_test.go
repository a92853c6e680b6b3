package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/config/diag"
)

const samplesDir = "/usr/share/doc/keepalived/samples"

// mNoTrack starts keepalived's warning on a route without an interface.
const mNoTrack = "Warning - cannot track route "

// sampleWarnings are the warnings expected for the samples that
// `keepalived -t` also complains about (for reasons other than missing
// interfaces); every other sample must load silently.
var sampleWarnings = map[string][]string{
	"keepalived.conf.SSL_GET":          {"initial state MASTER is incompatible with AH authentication"},
	"keepalived.conf.conditional_conf": {"no script set for vrrp_script check_VI_0", "vrrp_script check_VI_0 was removed"},
	"keepalived.conf.fwmark":           {"protocol specified for a fwmark service"},
	"keepalived.conf.vrrp.lvs_syncd": {"sync group VG1 has no vrrp instances", "unknown keyword in vrrp_sync_group",
		"unknown keyword in vrrp_sync_group", "lvs_sync_daemon_interface in vrrp_instance is deprecated"},
	"keepalived.conf.vrrp.routes": {mNoTrack + "192.168.112.0/24", `"or" for routes is deprecated`, mNoTrack + "192.168.113.0/24",
		mNoTrack + "192.168.113.1/32", `"gw" for routes is deprecated`, mNoTrack + "0.0.0.0/0"},
	"keepalived.conf.track_interface":       {mNoTrack + "192.168.112.0/24"},
	"keepalived.conf.vrrp.static_ipaddress": {mNoTrack + "192.168.112.0/24"},
	"keepalived.conf.vrrp.rules": {"Rule has no preference specified - setting to 16384", "invalid rule to address '192.168.100./24'",
		"Rule has no preference specified - setting to 16383", "invalid rule to address '192.168.200./24'"},
}

// TestSamples loads every keepalived.conf.* shipped with Debian's
// keepalived: none may have errors, and warnings appear only where
// keepalived itself warns, or where a keyword vigil does not implement
// is used (SMTP alerts in most of them).
func TestSamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(samplesDir, "keepalived.conf.*"))
	if len(files) == 0 {
		t.Skipf("no keepalived samples in %s (install Debian's keepalived package)", samplesDir)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			cfg, diags, err := Load(f, Options{ConfigID: "sample"})
			if err != nil {
				t.Fatalf("load: %v\n%s", err, list(diags))
			}
			// The keywords vigil does not implement are reported as the
			// keyword table says; the other warnings are keepalived's.
			var rest diag.List
			for _, d := range diags {
				if !strings.HasPrefix(d.Message, "not implemented: ") {
					rest = append(rest, d)
				} else if !reportsTableEntry(d) {
					t.Errorf("%s: not the keyword table's report for %s", d, d.Keyword)
				}
			}
			want := sampleWarnings[name]
			if len(rest) != len(want) {
				t.Fatalf("want %d warnings besides the keywords vigil does not implement, got:\n%s", len(want), list(diags))
			}
			for i, d := range rest {
				if !strings.Contains(d.Message, want[i]) {
					t.Errorf("warning %d = %q, want it to contain %q", i, d.Message, want[i])
				}
			}
			if len(cfg.Instances)+len(cfg.VirtualServers) == 0 {
				t.Errorf("sample loaded to an empty configuration")
			}
		})
	}
}

// reportsTableEntry reports whether d is the keyword table's report of
// d.Keyword (in some block).
func reportsTableEntry(d diag.Diagnostic) bool {
	for _, k := range Keywords() {
		if k.Name == d.Keyword && k.Class != Acted && d.Message == k.Diagnostic() {
			return true
		}
	}
	return false
}

// samplesSeeds returns the sample files' contents (for the fuzz corpus).
func samplesSeeds() []string {
	var out []string
	files, _ := filepath.Glob(filepath.Join(samplesDir, "keepalived.conf.*"))
	more, _ := filepath.Glob("../testdata/config/*.conf")
	for _, f := range append(files, more...) {
		if b, err := os.ReadFile(f); err == nil {
			out = append(out, string(b))
		}
	}
	return out
}
