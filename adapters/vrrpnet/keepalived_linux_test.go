//go:build linux

package vrrpnet

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const keepalivedPath = "/usr/sbin/keepalived"

// syncBuffer collects a process's output from its pipes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// keepalived runs Debian's keepalived (VRRP subsystem only, in the
// foreground, logging to its stderr) in namespace ns with the instance
// config body, and stops it when the test ends. Its log is shown when the
// test fails.
func (l *lab) keepalived(t *testing.T, ns, instance string) *syncBuffer {
	t.Helper()
	if _, err := os.Stat(keepalivedPath); err != nil {
		t.Skipf("interoperability test needs keepalived at %s", keepalivedPath)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "keepalived.conf")
	text := "global_defs {\n  router_id vgvn\n}\n" + instance
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	vrrpPid := filepath.Join(dir, "vrrp.pid")
	cmd := exec.Command("ip", "netns", "exec", ns, keepalivedPath, "--dont-fork", "--log-console",
		"--log-detail", "--no-syslog", "--vrrp", "--dont-respawn", "--use-file", conf,
		"--pid", filepath.Join(dir, "keepalived.pid"), "--vrrp_pid", vrrpPid)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start keepalived: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		// A graceful stop takes keepalived ~2.6 s, and the namespace and its
		// VIPs are deleted next anyway. SIGKILL the VRRP child (ours: its pid
		// file is in our directory); with --dont-respawn the parent reaps it
		// and exits, and Wait reaps the parent: no zombie is left to PID 1.
		if b, err := os.ReadFile(vrrpPid); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}
		if t.Failed() {
			t.Logf("keepalived config:\n%s\nkeepalived log:\n%s", text, log)
		}
	})
	return log
}

// instanceConf returns a vrrp_instance block for interface veth0 in the lab.
func instanceConf(version, vrid, prio int, interval string, vip string, extra string) string {
	return fmt.Sprintf(`vrrp_instance VI_1 {
  state MASTER
  interface veth0
  version %d
  virtual_router_id %d
  priority %d
  advert_int %s
%s
  virtual_ipaddress {
    %s
  }
}
`, version, vrid, prio, interval, extra, vip)
}

// waitFor polls cond every 50 ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
