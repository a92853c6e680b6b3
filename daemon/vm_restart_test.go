package daemon

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	m := vmIPVS(t)
	text := strings.Replace(vmIPVSConf, "global_defs {\n  lvs_flush\n}\n", "", 1)
	if strings.Contains(text, "lvs_flush") {
		t.Fatal("the configuration still flushes the table")
	}
	conf := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
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
	d := startChildDaemon(t, "", "first", conf)
	eventually(t, d.done, m, "both real servers", func(ds map[string]int, ok bool) bool {
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
	eventually(t, d.done, m, "the table taken over", func(ds map[string]int, ok bool) bool {
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
