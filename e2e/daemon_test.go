package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vigil-ha/vigil/daemon"
	"github.com/vigil-ha/vigil/lab"
)

// The daemon's life as an init system sees it: invoked as "keepalived"
// without -n it detaches and returns once running, with its pid files in
// place; SIGHUP reloads (a bad configuration is refused and the old one
// kept); SIGTERM releases the VIPs, removes the pid files and exits.
func TestDaemonLifecycle(t *testing.T) {
	l := lab.New(t, 1)
	n := l.Nodes[0]
	dir := t.TempDir()
	// Invoked through a link named keepalived: vigil runs the daemon.
	kbin := filepath.Join(dir, "keepalived")
	if err := os.Symlink(lab.VigilBinary(t), kbin); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "keepalived.conf")
	write := func(text string) {
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(conf("n1", instance{Priority: 100, VIPs: []string{vip4}}))
	pidf, vpidf, logf := filepath.Join(dir, "k.pid"), filepath.Join(dir, "v.pid"), filepath.Join(dir, "vigil.log")
	out, err := exec.Command("ip", "netns", "exec", n.NS, kbin, "-f", cfg, "-p", pidf, "-r", vpidf, "-G", "-g", logf,
		"-D", "--journal", filepath.Join(dir, "journal")).CombinedOutput()
	if err != nil {
		t.Fatalf("keepalived (vigil) start: %v: %s", err, out)
	}
	pid, ok := daemon.ReadPIDFile(pidf)
	if !ok {
		t.Fatal("no pid file after the parent returned")
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if vpid, _ := daemon.ReadPIDFile(vpidf); vpid != pid {
		t.Fatalf("vrrp pid %d, main pid %d", vpid, pid)
	}
	logText := func() string { b, _ := os.ReadFile(logf); return string(b) }
	defer func() {
		if t.Failed() {
			t.Logf("log:\n%s", logText())
		}
	}()
	// A second instance refuses to start while the first runs.
	if out, err := exec.Command("ip", "netns", "exec", n.NS, kbin, "-n", "-f", cfg, "-p", pidf, "-r", vpidf, "-G",
		"--journal", "").CombinedOutput(); err == nil || !strings.Contains(string(out), "already running") {
		t.Fatalf("second daemon: %v: %s", err, out)
	}
	lab.MustWait(t, electTimeout, "the VIP", func() bool { return n.HasAddress(lab.VIP4) })

	// Reload with a second VIP.
	vip2 := "10.77.0.101"
	write(conf("n1", instance{Priority: 100, VIPs: []string{vip4, vip2 + "/24"}}))
	syscall.Kill(pid, syscall.SIGHUP)
	lab.MustWait(t, takeoverTimeout, "the reloaded VIP", func() bool {
		return n.HasAddress(lab.VIP4) && strings.Contains(n.MustExec("ip", "-br", "addr"), vip2+"/24")
	})
	// A broken configuration is refused; the daemon keeps running it all.
	write("vrrp_instance VI_1 {\n  virtual_router_id 300\n}\n")
	syscall.Kill(pid, syscall.SIGHUP)
	lab.MustWait(t, takeoverTimeout, "the reload failure logged", func() bool {
		return strings.Contains(logText(), "reload failed")
	})
	if !strings.Contains(n.MustExec("ip", "-br", "addr"), vip2+"/24") {
		t.Fatal("a failed reload changed the addresses")
	}

	syscall.Kill(pid, syscall.SIGTERM)
	lab.MustWait(t, takeoverTimeout, "the daemon to exit", func() bool { return syscall.Kill(pid, 0) != nil })
	if n.HasAddress(lab.VIP4) {
		t.Error("VIP left configured after SIGTERM")
	}
	for _, p := range []string{pidf, vpidf} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("pid file %s left behind", p)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "journal", "*.journal")); len(m) == 0 {
		t.Error("no journal written")
	}
}

// -V (--dont-release-vrrp): the VIP stays configured after a stop.
func TestDontReleaseVRRP(t *testing.T) {
	l := lab.New(t, 1)
	n := l.Nodes[0]
	p := n.StartVigil(t, conf("n1", instance{Priority: 100, VIPs: []string{vip4}}), "-V")
	lab.MustWait(t, electTimeout, "the VIP", func() bool { return n.HasAddress(lab.VIP4) })
	if err := p.Stop(takeoverTimeout); err != nil {
		t.Fatal(err)
	}
	if !n.HasAddress(lab.VIP4) {
		t.Fatal("-V: the VIP was released")
	}
}
