package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConf(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodConf = `global_defs {
    router_id r1
    unknown_thing 1
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        10.0.0.1/24
    }
}
`

func TestCheckOKWithWarnings(t *testing.T) {
	p := writeConf(t, goodConf)
	var out, errb bytes.Buffer
	if code := realMain([]string{"check", "-f", p}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	want := p + ":3:5: warning: unknown_thing: unknown keyword in global_defs - ignored\n"
	if errb.String() != want {
		t.Errorf("stderr = %q, want %q", errb.String(), want)
	}
	if !strings.Contains(out.String(), "configuration OK: 1 vrrp instance(s)") {
		t.Errorf("stdout = %q", out.String())
	}
}

func TestCheckStrictFails(t *testing.T) {
	p := writeConf(t, goodConf)
	var out, errb bytes.Buffer
	if code := realMain([]string{"check", "-f", p, "--strict"}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(errb.String(), ":3:5: error: unknown_thing:") {
		t.Errorf("stderr = %q", errb.String())
	}
}

func TestCheckErrorsAndConfigID(t *testing.T) {
	p := writeConf(t, "vrrp_instance A {\n interface eth0\n@bad virtual_router_id 300\n@good virtual_router_id 3\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n")
	var out, errb bytes.Buffer
	if code := realMain([]string{"check", "-f", p, "-i", "bad"}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), p+":3:24: error: virtual_router_id: invalid value '300'") {
		t.Errorf("stderr = %q", errb.String())
	}
	errb.Reset()
	if code := realMain([]string{"check", "-f", p, "-i", "good"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d with -i good; stderr:\n%s", code, errb.String())
	}
}

func TestCheckUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := realMain([]string{"check", "extra"}, &out, &errb); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if code := realMain([]string{"check", "-f", "/nonexistent/k.conf"}, &out, &errb); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
}

func TestDump(t *testing.T) {
	p := writeConf(t, goodConf)
	var out, errb bytes.Buffer
	if code := realMain([]string{"dump", "-f", p}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	for _, k := range []string{"global_defs", "vrrp_scripts", "track_files", "vrrp_track_processes", "bfd_instances",
		"vrrp_sync_groups", "garp_groups", "vrrp_instances", "static_ipaddress", "static_routes", "static_rules",
		"virtual_server_groups", "virtual_servers"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing top-level key %s", k)
		}
	}
	inst := m["vrrp_instances"].([]any)[0].(map[string]any)
	if inst["name"] != "VI_1" || inst["priority"] != 100.0 || inst["advert_int"] != 1.0 || inst["mcast_dst_ip"] != "224.0.0.18" {
		t.Errorf("instance = %v", inst)
	}
	if !strings.HasPrefix(out.String(), "{\n  \"global_defs\"") {
		t.Errorf("not indented: %.40q", out.String())
	}
}
