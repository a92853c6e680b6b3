package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGetoptKeepalivedStyles(t *testing.T) {
	cases := []struct {
		args []string
		want map[string]string // long name → value ("" for flags)
	}{
		{[]string{"-nlD"}, map[string]string{"dont-fork": "", "log-console": "", "log-detail": ""}},
		{[]string{"-f/etc/k.conf"}, map[string]string{"use-file": "/etc/k.conf"}},
		{[]string{"-f", "/etc/k.conf"}, map[string]string{"use-file": "/etc/k.conf"}},
		{[]string{"-nf", "x.conf"}, map[string]string{"dont-fork": "", "use-file": "x.conf"}},
		{[]string{"--use-file=a"}, map[string]string{"use-file": "a"}},
		{[]string{"--use-file", "a"}, map[string]string{"use-file": "a"}},
		{[]string{"--dont-f"}, map[string]string{"dont-fork": ""}}, // unambiguous prefix
		{[]string{"-t"}, map[string]string{"config-test": ""}},
		{[]string{"--config-test=/tmp/log"}, map[string]string{"config-test": "/tmp/log"}},
		{[]string{"-S", "local3"}, map[string]string{"log-facility": "local3"}},
	}
	for _, c := range cases {
		found, rest, err := getopt(runOptions, c.args)
		if err != nil || len(rest) != 0 {
			t.Errorf("%q: %v %q", c.args, err, rest)
			continue
		}
		got := map[string]string{}
		for _, p := range found {
			got[p.opt.long] = p.value
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: got %v, want %v", c.args, got, c.want)
		}
		for k, v := range c.want {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("%q: %s = %q, want %q", c.args, k, g, v)
			}
		}
	}
	for _, bad := range [][]string{{"-q"}, {"--nope"}, {"-f"}, {"--dont-fork=1"}, {"--log"}} {
		if _, _, err := getopt(runOptions, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRunFlagsDefaultsAndOrder(t *testing.T) {
	found, _, _ := getopt(runOptions, []string{"-V", "-p", "/tmp/a.pid", "-r", "/tmp/v.pid", "-i", "n1", "-D"})
	f, err := parseRunFlags(found)
	if err != nil {
		t.Fatal(err)
	}
	if f.configFile != defaultConfig || !f.keepVRRP || f.pidFile != "/tmp/a.pid" || f.vrrpPIDFile != "/tmp/v.pid" ||
		f.configID != "n1" || !f.log.Detail || f.journal != defaultJournal {
		t.Fatalf("%+v", f)
	}
	found, _, _ = getopt(runOptions, []string{"-C", "-P"})
	if f, _ = parseRunFlags(found); f.checkOnly || f.vrrpOnly {
		t.Fatal("-C -P must run both")
	}
	found, _, _ = getopt(runOptions, []string{"-P", "-I"})
	if f, _ = parseRunFlags(found); !f.vrrpOnly || f.checkOnly || !f.keepIPVS {
		t.Fatalf("-P -I: %+v", f)
	}
	found, _, _ = getopt(runOptions, []string{"-s", "blue"})
	if f, _ = parseRunFlags(found); len(f.refused) == 0 {
		t.Fatal("--namespace must be refused")
	}
	found, _, _ = getopt(runOptions, []string{"-u", "0999"})
	if _, err := parseRunFlags(found); err == nil {
		t.Fatal("bad umask accepted")
	}
}

func TestRunCommandModes(t *testing.T) {
	var out, errb bytes.Buffer
	if c := runDaemon([]string{"--help"}, &out, &errb); c != 0 || !strings.Contains(out.String(), "--dont-release-vrrp") {
		t.Fatalf("--help: %d %q", c, out.String())
	}
	out.Reset()
	if c := runDaemon([]string{"--signum=RELOAD"}, &out, &errb); c != 0 || strings.TrimSpace(out.String()) != "1" {
		t.Fatalf("--signum: %d %q", c, out.String())
	}
	if c := runDaemon([]string{"-Q"}, &out, &errb); c != 2 {
		t.Fatalf("bad option: exit %d", c)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.conf")
	os.WriteFile(good, []byte("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n priority 100\n virtual_ipaddress {\n 10.77.0.100/24\n }\n}\n"), 0o644)
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n bogus_keyword 1\n virtual_ipaddress {\n 10.77.0.100/24\n }\n}\n"), 0o644)
	errb.Reset()
	if c := runDaemon([]string{"-t", "-f", good}, &out, &errb); c != 0 {
		t.Fatalf("-t good: exit %d: %s", c, errb.String())
	}
	if c := runDaemon([]string{"-t", "-f", bad}, &out, &errb); c != 5 {
		t.Fatalf("-t bad: exit %d", c)
	}
	// keepalived -t exits 0 on a missing file; vigil says it cannot run
	// it (README, Deliberate differences).
	if c := runDaemon([]string{"-t", "-f", filepath.Join(dir, "none.conf")}, &out, &errb); c != exitConfigFatal {
		t.Fatalf("-t missing: exit %d", c)
	}
	// A refused keyword is reported but does not fail -t (keepalived -t
	// accepts it): only check --strict fails on it.
	refused := filepath.Join(dir, "refused.conf")
	os.WriteFile(refused, []byte("global_defs {\n snmp_socket udp:1.2.3.4:705\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n priority 100\n virtual_ipaddress {\n 10.77.0.100/24\n }\n}\n"), 0o644)
	errb.Reset()
	if c := runDaemon([]string{"-t", "-f", refused}, &out, &errb); c != 0 || !strings.Contains(errb.String(), "not implemented") {
		t.Fatalf("-t with a refused keyword: exit %d: %s", c, errb.String())
	}
}
