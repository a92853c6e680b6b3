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

// TestCheckOKWithWarnings: a configuration that loads with a warning is
// "configuration OK" and exits 5, as keepalived -t does on an unknown
// keyword.
func TestCheckOKWithWarnings(t *testing.T) {
	p := writeConf(t, goodConf)
	var out, errb bytes.Buffer
	if code := realMain([]string{"check", "-f", p}, &out, &errb); code != exitConfig {
		t.Fatalf("exit %d, want 5; stderr:\n%s", code, errb.String())
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
	if code := realMain([]string{"check", "-f", p, "--strict"}, &out, &errb); code != exitConfig {
		t.Fatalf("exit %d, want 5", code)
	}
	if !strings.Contains(errb.String(), ":3:5: error: unknown_thing:") {
		t.Errorf("stderr = %q", errb.String())
	}
}

func TestCheckErrorsAndConfigID(t *testing.T) {
	p := writeConf(t, "vrrp_instance A {\n interface eth0\n@bad virtual_router_id 300\n@good virtual_router_id 3\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n")
	var out, errb bytes.Buffer
	if code := realMain([]string{"check", "-f", p, "-i", "bad"}, &out, &errb); code != exitConfig {
		t.Fatalf("exit %d, want 5; stderr:\n%s", code, errb.String())
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
	if code := realMain([]string{"check", "-f", "/nonexistent/k.conf"}, &out, &errb); code != exitConfigFatal {
		t.Errorf("missing file: exit %d, want 4", code)
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

const clusterCases = "../../testdata/cluster/"

func TestCheckClusterText(t *testing.T) {
	dir := clusterCases + "advert-int/"
	var out, errb bytes.Buffer
	code := realMain([]string{"check", "-f", dir + "a.conf@a", "--use-file", dir + "b.conf@b"}, &out, &errb)
	if code != exitConfig {
		t.Fatalf("exit %d, want 5 (an error finding); stderr:\n%s", code, errb.String())
	}
	wantOut := dir + "a.conf: configuration OK (node a): 1 vrrp instance(s), 0 virtual server(s), 0 warning(s)\n" +
		dir + "b.conf: configuration OK (node b): 1 vrrp instance(s), 0 virtual server(s), 0 warning(s)\n" +
		"cluster: 2 node(s), 1 virtual router(s) on several nodes, 1 error(s), 0 warning(s)\n"
	if out.String() != wantOut {
		t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), wantOut)
	}
	want := dir + "b.conf:9:5: error: advert_int: VRID 51 IPv4 on eth0: advert_int differs: a/VI_1 1s (" + dir + "a.conf:9), b/VI_1 2s (" + dir + "b.conf:9); "
	if !strings.HasPrefix(errb.String(), want) || strings.Count(errb.String(), "\n") != 1 {
		t.Errorf("stderr:\n%s\nwant one line starting:\n%s", errb.String(), want)
	}
}

func TestCheckClusterClean(t *testing.T) {
	dir := clusterCases + "clean/"
	var out, errb bytes.Buffer
	if code := realMain([]string{"check", "-f", dir + "a.conf", "-f", dir + "b.conf", "-f", dir + "c.conf"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errb.String())
	}
	if errb.Len() != 0 || !strings.Contains(out.String(), "cluster: 3 node(s), 4 virtual router(s) on several nodes, 0 error(s), 0 warning(s)\n") ||
		!strings.Contains(out.String(), "(node node-a)") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	}
}

func TestCheckClusterStrictAndTopology(t *testing.T) {
	dir := clusterCases + "topology/"
	args := []string{"check", "-f", dir + "a.conf@a", "-f", dir + "b.conf@b"}
	var out, errb bytes.Buffer
	// Without the topology, a's eth0 and b's ens3 are separate segments.
	if code := realMain(args, &out, &errb); code != 0 || errb.Len() != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errb.String())
	}
	out.Reset()
	if code := realMain(append(args, "--topology", dir+"topology"), &out, &errb); code != exitConfig {
		t.Fatalf("exit %d, want 5; stderr:\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "b.conf:9:5: error: advert_int:") || !strings.Contains(errb.String(), dir+"topology:3:14: warning: segment: z is not one of the nodes checked") {
		t.Errorf("stderr:\n%s", errb.String())
	}
	// --strict makes a cluster warning an error.
	dir = clusterCases + "vips/"
	errb.Reset()
	if code := realMain([]string{"check", "-f", dir + "a.conf", "-f", dir + "b.conf"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errb.String())
	}
	errb.Reset()
	if code := realMain([]string{"check", "--strict", "-f", dir + "a.conf", "-f", dir + "b.conf"}, &out, &errb); code != exitConfig ||
		!strings.Contains(errb.String(), ": error: virtual_ipaddress:") {
		t.Fatalf("exit %d; stderr:\n%s", code, errb.String())
	}
}

func TestCheckClusterJSON(t *testing.T) {
	dir := clusterCases + "unicast-topology/"
	var out, errb bytes.Buffer
	code := realMain([]string{"check", "--json", "-f", dir + "a.conf@a", "-f", dir + "b.conf@b", "--topology", dir + "topology"}, &out, &errb)
	if code != exitConfig || errb.Len() != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errb.String())
	}
	var doc struct {
		OK       bool `json:"ok"`
		Errors   int  `json:"errors"`
		Warnings int  `json:"warnings"`
		Files    []struct {
			Node   string `json:"node"`
			File   string `json:"file"`
			ID     string `json:"config_id"`
			Loaded bool   `json:"loaded"`
		} `json:"files"`
		Topology struct {
			File string `json:"file"`
		} `json:"topology"`
		Cluster struct {
			Routers []struct {
				VRID  int      `json:"vrid"`
				Nodes []string `json:"nodes"`
			} `json:"routers"`
			Findings []struct {
				Check    string `json:"check"`
				Severity string `json:"severity"`
				File     string `json:"file"`
				Line     int    `json:"line"`
				Sites    []struct {
					Node string `json:"node"`
					File string `json:"file"`
					Line int    `json:"line"`
				} `json:"sites"`
			} `json:"findings"`
		} `json:"cluster"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if doc.OK || doc.Errors != 1 || doc.Warnings != 1 || len(doc.Files) != 2 || doc.Files[1].Node != "b" || doc.Files[1].ID != "b" ||
		!doc.Files[0].Loaded || doc.Topology.File != dir+"topology" || len(doc.Cluster.Routers) != 1 || len(doc.Cluster.Routers[0].Nodes) != 2 {
		t.Fatalf("document:\n%s", out.String())
	}
	f := doc.Cluster.Findings[0]
	if f.Check != "peer-missing" || f.Severity != "error" || f.File != dir+"b.conf" || f.Line != 10 || len(f.Sites) != 2 ||
		f.Sites[1].File != dir+"topology" || f.Sites[1].Line != 2 {
		t.Errorf("first finding: %+v", f)
	}
	// One file: the same document, without cluster.
	out.Reset()
	if code := realMain([]string{"check", "--json", "-f", dir + "a.conf"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), `"ok": true`) || strings.Contains(out.String(), `"cluster"`) {
		t.Errorf("one file:\n%s", out.String())
	}
}

func TestCheckClusterUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := realMain([]string{"check", "-f", clusterCases + "vips/a.conf", "--topology", "x"}, &out, &errb); code != 2 {
		t.Errorf("--topology with one file: exit %d, want 2", code)
	}
	if f, id, ok := splitFileID("/etc/k.conf@node1"); f != "/etc/k.conf" || id != "node1" || !ok {
		t.Errorf("split: %q %q %v", f, id, ok)
	}
	if f, _, ok := splitFileID("/etc/a@b/k.conf"); f != "/etc/a@b/k.conf" || ok {
		t.Errorf("split of a path with @ in a directory: %q %v", f, ok)
	}
	// A file that does not load fails the check and is left out of the lint.
	dir := clusterCases + "vips/"
	errb.Reset()
	if code := realMain([]string{"check", "-f", dir + "a.conf", "-f", "/nonexistent/b.conf"}, &out, &errb); code != exitConfigFatal ||
		!strings.Contains(errb.String(), "/nonexistent/b.conf: left out of the cluster lint") {
		t.Errorf("exit %d; stderr:\n%s", code, errb.String())
	}
}
