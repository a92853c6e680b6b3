package dist

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// maxExposure is the `systemd-analyze security` exposure of vigil.service
// as measured with systemd 252 (Debian 12): 3.4 "OK" (3.2 before
// SYS_NICE, IPC_LOCK and real-time scheduling were allowed for the process
// settings). The test fails when
// a change loosens the sandbox past it; lower it when one tightens it.
const maxExposure = 3.4

// unitForAnalysis copies vigil.service to a temporary directory with
// ExecStart's /usr/sbin/vigil replaced by an executable that exists
// (systemd-analyze verify checks it), and returns the copy's path.
func unitForAnalysis(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (package systemd; scripts/install-deps.sh installs it as root)")
	}
	b, err := os.ReadFile("vigil.service")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "vigil")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := strings.ReplaceAll(string(b), "/usr/sbin/vigil", exe)
	p := filepath.Join(dir, "vigil.service")
	if err := os.WriteFile(p, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUnitVerifies: systemd-analyze verify finds nothing wrong with the
// unit (man pages aside: vigil(8) is checked by cmd/vigil's tests).
func TestUnitVerifies(t *testing.T) {
	p := unitForAnalysis(t)
	out, err := exec.Command("systemd-analyze", "verify", "--man=no", p).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestUnitSecurityExposure: the sandbox's exposure score, offline (the
// unit file alone), stays at or below maxExposure.
func TestUnitSecurityExposure(t *testing.T) {
	p := unitForAnalysis(t)
	out, err := exec.Command("systemd-analyze", "security", "--offline=true", "--no-pager", p).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for vigil\.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	score, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("exposure %.1f (at most %.1f)", score, maxExposure)
	if score > maxExposure {
		t.Errorf("exposure %.1f > %.1f: the sandbox was loosened\n%s", score, maxExposure, out)
	}
}

// TestUnitSettings pins what the README promises of the unit.
func TestUnitSettings(t *testing.T) {
	b, err := os.ReadFile("vigil.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Type=notify",
		"EnvironmentFile=-/etc/default/vigil",
		"ExecStart=/usr/sbin/vigil run --dont-fork $DAEMON_ARGS",
		"ExecReload=/bin/kill -HUP $MAINPID",
		"WatchdogSec=",
		"CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID CAP_KILL CAP_SYS_NICE CAP_IPC_LOCK\n",
		"RestrictRealtime=no\n",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_NETLINK AF_UNIX AF_PACKET\n",
		"ReadWritePaths=/proc/sys/net\n",
		"StateDirectory=vigil\n",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("vigil.service lacks %q", want)
		}
	}
}
