package daemon

import (
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/adapters/ipvs"
)

// TestDaemonIPVSRestartInVM: the daemon is SIGKILLed with its virtual
// server in the kernel's IPVS table (without lvs_flush, which would hide
// the case); the table it leaves behind stays, a real server goes down
// while nothing watches, and a new daemon on the same configuration
// takes the table over: one service, never a second, the dead real server
// removed, the live one at its weight; its stop removes the service.
func TestDaemonIPVSRestartInVM(t *testing.T) {
	if os.Getenv(vmEnv) == "" {
		t.Skip(vmEnv + " is not set: this test rewrites the IPVS table and runs in the qemu lane only (test/qemu/run.sh)")
	}
	for _, a := range []string{"10.77.0.1/32", "10.77.1.1/32", "10.77.1.2/32"} {
		if out, err := exec.Command("ip", "addr", "add", a, "dev", "lo").CombinedOutput(); err != nil && !strings.Contains(string(out), "exists") {
			t.Fatalf("ip addr add %s: %v %s", a, err, out)
		}
	}
	text := strings.Replace(vmIPVSConf, "global_defs {\n  lvs_flush\n}\n", "", 1)
	if strings.Contains(text, "lvs_flush") {
		t.Fatal("the configuration still flushes the table")
	}
	conf := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := ipvs.Open(ipvs.Options{NoModprobe: true})
	if errors.Is(err, ipvs.ErrNoIPVS) {
		t.Fatal("no IPVS in the VM's kernel")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	rs1, rs2 := &realServer{addr: "10.77.1.1:8080"}, &realServer{addr: "10.77.1.2:8080"}
	rs1.start(t)
	rs2.start(t)
	defer rs1.stop()
	defer rs2.stop()

	// services counts the table's services for 10.77.0.1:80.
	vip := netip.MustParseAddr("10.77.0.1")
	services := func() int {
		tbl, err := m.Read()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range tbl {
			if s.Addr == vip && s.Port == 80 {
				n++
			}
		}
		return n
	}
	await := func(d *director, what string, cond func(map[string]int, bool) bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			ds, ok := dests(t, m)
			if cond(ds, ok) {
				return
			}
			select {
			case err := <-d.done:
				t.Fatalf("the daemon stopped waiting for %s: %v\n%s", what, err, d.out.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; table: %v (service present %v)\n%s", what, ds, ok, d.out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	d := startChildDaemon(t, "", "first", conf)
	await(d, "both real servers", func(ds map[string]int, ok bool) bool {
		return ok && ds["10.77.1.1:8080"] == 2 && ds["10.77.1.2:8080"] == 3
	})
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-d.done
	d.stopped = true
	if ds, ok := dests(t, m); !ok || len(ds) != 2 {
		t.Fatalf("after SIGKILL the table holds %v (service present %v), want what the dead daemon left", ds, ok)
	}
	rs2.stop()

	d = startChildDaemon(t, "", "second", conf)
	await(d, "the table taken over", func(ds map[string]int, ok bool) bool {
		_, in := ds["10.77.1.2:8080"]
		return ok && !in && ds["10.77.1.1:8080"] == 2 && len(ds) == 1
	})
	if n := services(); n != 1 {
		t.Fatalf("%d services for 10.77.0.1:80 after the restart, want 1", n)
	}
	d.stop(t)
	if _, ok := dests(t, m); ok {
		t.Fatal("the service is still in the table after the stop")
	}
}
