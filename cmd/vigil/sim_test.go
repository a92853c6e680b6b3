package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSimDemo(t *testing.T) {
	var out, errb bytes.Buffer
	if code := realMain([]string{"sim"}, &out, &errb); code != 0 {
		t.Fatalf("vigil sim: exit %d\n%s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"> kill a", "b  VI_1 BACKUP -> MASTER", "lan  neighbours: 10.0.0.100 is at b",
		"expect takeover VI_1 <= 3.7s: ok", "10 expectations held, 0 failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSimFileFailsOnFailedExpect(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.scn")
	text := "node a config=a.conf\nsegment lan a:eth0\nstart a\nrun 5s\nexpect master VI_1 a\nexpect state a VI_1 BACKUP\n"
	conf := "vrrp_instance VI_1 {\n state BACKUP\n interface eth0\n virtual_router_id 5\n priority 100\n virtual_ipaddress {\n  10.0.0.9/24\n }\n}\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := realMain([]string{"sim", path}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "expect state a VI_1 BACKUP: FAIL (MASTER, priority 100)") {
		t.Errorf("missing the failure:\n%s", out.String())
	}
}

func TestSimBadScenario(t *testing.T) {
	var out, errb bytes.Buffer
	if code := realMain([]string{"sim", "/nonexistent.scn"}, &out, &errb); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if code := realMain([]string{"sim", "a", "b"}, &out, &errb); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
}

func TestSimSwarm(t *testing.T) {
	var out, errb bytes.Buffer
	if code := realMain([]string{"sim", "swarm", "--seeds", "5", "--duration", "2m"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "swarm: 5 seeds x 2m0s simulated, 0 failed") ||
		!strings.Contains(out.String(), "simulated seconds per wall second") {
		t.Errorf("unexpected output:\n%s", out.String())
	}
	out.Reset()
	if code := realMain([]string{"sim", "swarm", "--seed", "9", "--duration", "1m", "--print"}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "# vigil sim swarm --seed 9\nseed 9\n") {
		t.Fatalf("--print: exit %d\n%s", code, out.String())
	}
}
