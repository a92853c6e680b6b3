package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-ha/vigil/events/conf"
)

// TestIPVSNamespace: net_namespace_ipvs, from the configuration text, is
// resolved as keepalived does (a name under /var/run/netns, no name for
// init's namespace, absent for vigil's own), and a reload that changes it
// is refused.
func TestIPVSNamespace(t *testing.T) {
	vs := "virtual_server 10.77.0.1 80 {\n  protocol TCP\n  real_server 10.77.1.1 80 {\n    weight 1\n  }\n}\n"
	load := func(text string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "keepalived.conf")
		if err := os.WriteFile(p, []byte(text+vs), 0o644); err != nil {
			t.Fatal(err)
		}
		ev, _, err := LoadConfig(p, "")
		if err != nil {
			t.Fatal(err)
		}
		return IPVSNamespace(ev.Config)
	}
	for _, c := range []struct{ text, want string }{
		{"", ""},
		{"net_namespace_ipvs lb\n", "/var/run/netns/lb"},
		{"net_namespace_ipvs\n", "/proc/1/ns/net"},
	} {
		if got := load(c.text); got != c.want {
			t.Errorf("%q: IPVS namespace %q, want %q", c.text, got, c.want)
		}
	}
	cfg := func(text string) *conf.Config {
		t.Helper()
		p := filepath.Join(t.TempDir(), "keepalived.conf")
		os.WriteFile(p, []byte(text+vs), 0o644)
		ev, _, err := LoadConfig(p, "")
		if err != nil {
			t.Fatal(err)
		}
		return ev.Config
	}
	a, b := cfg("net_namespace_ipvs lb\n"), cfg("net_namespace_ipvs other\n")
	if err := checkReloadable(a, b); !errors.Is(err, ErrUnsupportedConfig) {
		t.Errorf("reload changing net_namespace_ipvs: %v, want ErrUnsupportedConfig", err)
	}
	if err := checkReloadable(a, cfg("net_namespace_ipvs lb\n")); err != nil {
		t.Errorf("reload keeping net_namespace_ipvs: %v", err)
	}
	if err := checkReloadable(cfg(""), a); err == nil {
		t.Error("reload adding net_namespace_ipvs accepted")
	}
}
