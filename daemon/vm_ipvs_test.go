package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/vigil-ha/vigil/adapters/ipvs"
)

// vmEnv is set by test/qemu/run.sh inside its VM, whose kernel has IPVS
// and whose network namespace the test may change at will. The test
// rewrites the host's IPVS table and loopback addresses, so it runs
// nowhere else.
const vmEnv = "VIGIL_QEMU_DAEMON"

// vmIPVSConf is a virtual server on 10.77.0.1:80 with two HTTP real
// servers on loopback addresses, checked every second; the first one
// inhibited (weight 0) rather than removed on failure.
const vmIPVSConf = `global_defs {
  lvs_flush
}
virtual_server 10.77.0.1 80 {
  delay_loop 1
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server 10.77.1.1 8080 {
    weight 2
    inhibit_on_failure
    HTTP_GET {
      url {
        path /health
        status_code 200
      }
      connect_timeout 1
      retry 0
    }
  }
  real_server 10.77.1.2 8080 {
    weight 3
    HTTP_GET {
      url {
        path /health
        status_code 200
      }
      connect_timeout 1
      retry 0
    }
  }
}
`

// realServer is an HTTP server answering /health with 200 that can be
// stopped and started again on the same address.
type realServer struct {
	addr string
	srv  *http.Server
}

func (r *realServer) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	r.srv = &http.Server{Handler: mux}
	go r.srv.Serve(ln)
}

func (r *realServer) stop() {
	if r.srv != nil {
		r.srv.Close()
		r.srv = nil
	}
}

// vmDaemon runs the daemon in-process as `vigil run -C` would.
type vmDaemon struct {
	sigs chan os.Signal
	done chan error
}

func startVMDaemon(t *testing.T, conf string, keepIPVS bool) *vmDaemon {
	t.Helper()
	lg, err := NewLogging(LogOptions{Console: true, NoSyslog: true, Tag: "vigil-vm-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	d := &vmDaemon{sigs: make(chan os.Signal, 1), done: make(chan error, 1)}
	dir := t.TempDir()
	go func() {
		d.done <- Run(context.Background(), Options{ConfigFile: conf, NoVRRP: true, KeepIPVS: keepIPVS, Log: lg,
			Signals: d.sigs, DataFile: filepath.Join(dir, "data"), StatsFile: filepath.Join(dir, "stats")})
	}()
	return d
}

func (d *vmDaemon) stop(t *testing.T) {
	t.Helper()
	d.sigs <- syscall.SIGTERM
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("daemon: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not stop")
	}
}

// dests reads the kernel's destinations of 10.77.0.1:80 with their
// weights; ok is false when the service does not exist.
func dests(t *testing.T, m *ipvs.Manager) (ds map[string]int, ok bool) {
	t.Helper()
	tbl, err := m.Read()
	if err != nil {
		t.Fatal(err)
	}
	vip := netip.MustParseAddr("10.77.0.1")
	for _, s := range tbl {
		if s.Addr == vip && s.Port == 80 {
			ds = map[string]int{}
			for _, d := range s.Dests {
				ds[d.Key().String()] = d.Weight
			}
			return ds, true
		}
	}
	return nil, false
}

// eventually waits for the kernel table to satisfy cond; the bound only
// prevents a hang.
// done is the daemon's: its end fails the wait at once.
func eventually(t *testing.T, done <-chan error, m *ipvs.Manager, what string, cond func(map[string]int, bool) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ds, ok := dests(t, m)
		if cond(ds, ok) {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("the daemon stopped waiting for %s: %v", what, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; table: %v (service present %v)", what, ds, ok)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// vmIPVS puts the virtual server's and real servers' addresses on lo and
// opens the kernel's IPVS table, closed at cleanup.
func vmIPVS(t *testing.T) *ipvs.Manager {
	t.Helper()
	for _, a := range []string{"10.77.0.1/32", "10.77.1.1/32", "10.77.1.2/32"} {
		if out, err := exec.Command("ip", "addr", "add", a, "dev", "lo").CombinedOutput(); err != nil && !strings.Contains(string(out), "exists") {
			t.Fatalf("ip addr add %s: %v %s", a, err, out)
		}
	}
	m, err := ipvs.Open(ipvs.Options{NoModprobe: true})
	if errors.Is(err, ipvs.ErrNoIPVS) {
		t.Fatal("no IPVS in the VM's kernel")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestDaemonIPVSInVM is the checker daemon against a real IPVS table:
// both real servers enter the table, a stopped one leaves it (or is
// inhibited at weight 0) and returns when it listens again, and the stop
// removes the service — unless --dont-release-ipvs.
func TestDaemonIPVSInVM(t *testing.T) {
	if os.Getenv(vmEnv) == "" {
		t.Skip(vmEnv + " is not set: this test rewrites the IPVS table and runs in the qemu lane only (test/qemu/run.sh)")
	}
	m := vmIPVS(t)
	conf := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(conf, []byte(vmIPVSConf), 0o644); err != nil {
		t.Fatal(err)
	}
	rs1, rs2 := &realServer{addr: "10.77.1.1:8080"}, &realServer{addr: "10.77.1.2:8080"}
	rs1.start(t)
	rs2.start(t)
	defer rs1.stop()
	defer rs2.stop()

	d := startVMDaemon(t, conf, false)
	eventually(t, d.done, m, "both real servers", func(ds map[string]int, ok bool) bool {
		return ok && len(ds) == 2 && ds["10.77.1.1:8080"] == 2 && ds["10.77.1.2:8080"] == 3
	})
	rs2.stop()
	eventually(t, d.done, m, "10.77.1.2 removed", func(ds map[string]int, ok bool) bool {
		_, in := ds["10.77.1.2:8080"]
		return ok && !in && len(ds) == 1
	})
	rs2.start(t)
	eventually(t, d.done, m, "10.77.1.2 back", func(ds map[string]int, ok bool) bool { return ok && ds["10.77.1.2:8080"] == 3 })
	rs1.stop()
	eventually(t, d.done, m, "10.77.1.1 inhibited", func(ds map[string]int, ok bool) bool {
		w, in := ds["10.77.1.1:8080"]
		return ok && in && w == 0
	})
	rs1.start(t)
	eventually(t, d.done, m, "10.77.1.1 weight restored", func(ds map[string]int, ok bool) bool { return ok && ds["10.77.1.1:8080"] == 2 })
	d.stop(t)
	if _, ok := dests(t, m); ok {
		t.Fatal("the service is still in the table after the stop")
	}

	// --dont-release-ipvs: the table outlives the daemon.
	d = startVMDaemon(t, conf, true)
	eventually(t, d.done, m, "both real servers (second run)", func(ds map[string]int, ok bool) bool { return ok && len(ds) == 2 })
	d.stop(t)
	if ds, ok := dests(t, m); !ok || len(ds) != 2 {
		t.Fatalf("-I: table after the stop %v (service present %v)", ds, ok)
	}
	if _, err := m.Flush(); err != nil {
		t.Fatal(err)
	}
}

// vmNamespaceConf programs its virtual server in the namespace
// vigil-vm-ipvs (net_namespace_ipvs) with lvs_timeouts.
const vmNamespaceConf = `net_namespace_ipvs vigil-vm-ipvs
global_defs {
  lvs_timeouts tcp 7200 udp 45
}
virtual_server 10.77.0.2 80 {
  protocol TCP
  lvs_sched rr
  real_server 10.77.2.1 80 {
    weight 1
  }
}
`

// TestDaemonIPVSNamespaceInVM: with net_namespace_ipvs the table and the
// lvs_timeouts go to the named namespace (/var/run/netns/NAME), not to
// the daemon's own; the stop removes the service and restores the
// namespace's original timeouts.
// vmNamedNetns creates the named network namespace name (as `ip netns
// add` does), deleted at cleanup, leaving the calling thread where it was.
func vmNamedNetns(t *testing.T, name string) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	h, err := netns.NewNamed(name)
	if err != nil {
		t.Fatalf("new netns %s: %v", name, err)
	}
	h.Close()
	t.Cleanup(func() { netns.DeleteNamed(name) })
	if err := netns.Set(orig); err != nil {
		t.Fatalf("back to the original netns: %v", err)
	}
}

func TestDaemonIPVSNamespaceInVM(t *testing.T) {
	if os.Getenv(vmEnv) == "" {
		t.Skip(vmEnv + " is not set: this test rewrites IPVS tables and runs in the qemu lane only (test/qemu/run.sh)")
	}
	const name = "vigil-vm-ipvs"
	func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		orig, err := netns.Get()
		if err != nil {
			t.Fatal(err)
		}
		defer orig.Close()
		h, err := netns.NewNamed(name)
		if err != nil {
			t.Fatalf("new netns %s: %v", name, err)
		}
		defer h.Close()
		if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
			t.Fatalf("lo up in %s: %v %s", name, err, out)
		}
		if err := netns.Set(orig); err != nil {
			t.Fatalf("back to the original netns: %v", err)
		}
	}()
	t.Cleanup(func() { netns.DeleteNamed(name) })
	path := "/var/run/netns/" + name
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("keepalived's path for the namespace: %v", err)
	}
	root, err := ipvs.Open(ipvs.Options{NoModprobe: true})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	inNS, err := ipvs.Open(ipvs.Options{Netns: path, NoModprobe: true})
	if err != nil {
		t.Fatal(err)
	}
	defer inNS.Close()
	rootBefore, err := root.Timeouts()
	if err != nil {
		t.Fatal(err)
	}
	orig, err := inNS.Timeouts()
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(conf, []byte(vmNamespaceConf), 0o644); err != nil {
		t.Fatal(err)
	}
	has := func(m *ipvs.Manager) bool {
		tbl, err := m.Read()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range tbl {
			if s.Addr == netip.MustParseAddr("10.77.0.2") && s.Port == 80 {
				return len(s.Dests) == 1
			}
		}
		return false
	}
	d := startVMDaemon(t, conf, false)
	deadline := time.Now().Add(20 * time.Second)
	for !has(inNS) {
		if time.Now().After(deadline) {
			t.Fatal("the service never appeared in the net_namespace_ipvs namespace")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if has(root) {
		t.Fatal("the service is in the daemon's own namespace too")
	}
	got, err := inNS.Timeouts()
	if err != nil {
		t.Fatal(err)
	}
	if want := (ipvs.Timeouts{TCP: 7200 * time.Second, TCPFin: orig.TCPFin, UDP: 45 * time.Second}); got != want {
		t.Fatalf("timeouts in %s = %+v, want %+v", name, got, want)
	}
	if got, _ := root.Timeouts(); got != rootBefore {
		t.Fatalf("the daemon's own namespace's timeouts changed: %+v, were %+v", got, rootBefore)
	}
	d.stop(t)
	if has(inNS) {
		t.Fatal("the service is still in the namespace after the stop")
	}
	if got, _ := inNS.Timeouts(); got != orig {
		t.Fatalf("timeouts after the stop = %+v, want the originals %+v", got, orig)
	}
}
