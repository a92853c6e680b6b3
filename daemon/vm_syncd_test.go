package daemon

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/adapters/ipvs"
)

// The IPVS sync daemon between two directors, in the qemu lane: each
// director is the daemon (this test binary run again as a child, VRRP
// and IPVS) in its own network namespace with its own IPVS table, the two
// joined by a veth. A TCP connection made through the master's virtual
// service reaches the backup's connection table through the kernel's
// sync daemons, and is still there once the backup has taken over and
// runs the master daemon itself.

// syncDirectorEnv names the configuration a child director runs.
const syncDirectorEnv = "VIGIL_SYNC_DIRECTOR"

// TestSyncDirectorChild is a director of TestDaemonSyncDaemonInVM (or
// the BFD peer of TestDaemonBFDCheckInVM, a node of
// TestDaemonClockStepInVM, a daemon of TestDaemonIPVSRestartInVM): the
// daemon, VRRP, IPVS and BFD, on the configuration named by
// VIGIL_SYNC_DIRECTOR, with its journal beside it, in the namespace it
// was started in, until SIGTERM.
func TestSyncDirectorChild(t *testing.T) {
	file := os.Getenv(syncDirectorEnv)
	if file == "" {
		t.Skip("a director of TestDaemonSyncDaemonInVM (needs " + syncDirectorEnv + ")")
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM)
	lg, err := NewLogging(LogOptions{Console: true, NoSyslog: true, Tag: "vigil-director"})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	dir := filepath.Dir(file)
	err = Run(context.Background(), Options{ConfigFile: file, Log: lg, Signals: sigs, JournalDir: filepath.Join(dir, "journal"),
		DataFile: filepath.Join(dir, "data"), StatsFile: filepath.Join(dir, "stats")})
	if err != nil {
		t.Fatal(err)
	}
}

// syncDirectorConf is a director: VI_1 on the veth, the sync daemon
// following it, and the virtual service 10.88.1.1:80 whose real server
// is the director itself (10.88.2.1, on its loopback).
const syncDirectorConf = `global_defs {
  lvs_sync_daemon %[1]s VI_1 id 7
}
vrrp_instance VI_1 {
  state BACKUP
  interface %[1]s
  virtual_router_id 77
  priority %[2]d
  advert_int 1
  virtual_ipaddress {
    10.88.0.100/24
  }
}
virtual_server 10.88.1.1 80 {
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server 10.88.2.1 80 {
    weight 1
  }
}
`

// inNS runs f on a thread in the named namespace.
func inNS(t *testing.T, name string, f func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	target, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		t.Fatalf("into %s: %v", name, err)
	}
	f()
	if err := netns.Set(orig); err != nil {
		// The thread stays locked: Go retires it with the goroutine.
		t.Fatalf("back from %s: %v", name, err)
	}
	runtime.UnlockOSThread()
}

// director is a child daemon and what it logs.
type director struct {
	name    string
	cmd     *exec.Cmd
	out     *lockedBuffer
	done    chan error
	stopped bool
}

func startDirector(t *testing.T, ns, iface string, prio int) *director {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(file, fmt.Appendf(nil, syncDirectorConf, iface, prio), 0o644); err != nil {
		t.Fatal(err)
	}
	return startChildDaemon(t, ns, ns, file)
}

// startChildDaemon runs the daemon on the configuration file, as this
// test binary run again (TestSyncDirectorChild) in the namespace ns (""
// for the test's own); the cleanup kills it if it still runs.
func startChildDaemon(t *testing.T, ns, name, file string) *director {
	t.Helper()
	d := &director{name: name, out: &lockedBuffer{b: &bytes.Buffer{}}, done: make(chan error, 1)}
	d.cmd = exec.Command(os.Args[0], "-test.run=^TestSyncDirectorChild$", "-test.v", "-test.timeout=200s")
	d.cmd.Env = append(os.Environ(), syncDirectorEnv+"="+file)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	// The child is forked from this thread, in the director's namespace
	// ("": the test's own).
	var err error
	if ns == "" {
		err = d.cmd.Start()
	} else {
		inNS(t, ns, func() { err = d.cmd.Start() })
	}
	if err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		if !d.stopped {
			d.cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("--- %s's log:\n%s", d.name, d.out.String())
		}
	})
	return d
}

func (d *director) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		d.stopped = true
		if err != nil {
			t.Fatalf("%s: %v\n%s", d.name, err, d.out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop", d.name)
	}
}

// conns reads the director's IPVS connection table lines.
func (d *director) conns(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/ip_vs_conn", d.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")[1:]
}

// vipConn is the connection table's form of 10.88.1.1:80 (hex address,
// hex port).
const vipConn = "0A580101 0050"

func hasVIPConn(lines []string) bool { return vipConnLine(lines) != "" }

func vipConnLine(lines []string) string {
	for _, l := range lines {
		if strings.Contains(l, vipConn) {
			return l
		}
	}
	return ""
}

// waitFor polls cond, failing after 20 seconds with what describes the
// last state.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDaemonSyncDaemonInVM: two directors run lvs_sync_daemon on the VRRP
// instance they share. The master runs the master sync daemon, the backup
// the backup one; a connection made through the master's virtual service
// appears in the backup's connection table; when the master stops, the
// backup takes over, swaps to the master daemon and still holds the
// connection; stopped, it stops its daemon.
func TestDaemonSyncDaemonInVM(t *testing.T) {
	if os.Getenv(vmEnv) == "" {
		t.Skip(vmEnv + " is not set: this test builds namespaces and IPVS tables and runs in the qemu lane only (test/qemu/run.sh)")
	}
	const nsA, nsB = "vigil-sync-a", "vigil-sync-b"
	for _, n := range []string{nsA, nsB} {
		vmNamedNetns(t, n)
	}
	// The veth, one end in each namespace.
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "vsa"}, PeerName: "vsb"}); err != nil {
		t.Fatalf("veth: %v", err)
	}
	setup := func(ns, link, addr string) {
		h, err := netns.GetFromName(ns)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		l, err := netlink.LinkByName(link)
		if err == nil {
			err = netlink.LinkSetNsFd(l, int(h))
		}
		if err != nil {
			t.Fatalf("%s to %s: %v", link, ns, err)
		}
		nh, err := netlink.NewHandleAt(h, unix.NETLINK_ROUTE)
		if err != nil {
			t.Fatal(err)
		}
		defer nh.Close()
		for name, addrs := range map[string][]string{link: {addr}, "lo": {"10.88.1.1/32", "10.88.2.1/32"}} {
			l, err := nh.LinkByName(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range addrs {
				pa, _ := netlink.ParseAddr(a)
				if err := nh.AddrAdd(l, pa); err != nil {
					t.Fatalf("%s %s in %s: %v", name, a, ns, err)
				}
			}
			if err := nh.LinkSetUp(l); err != nil {
				t.Fatal(err)
			}
		}
	}
	setup(nsA, "vsa", "10.88.0.1/24")
	setup(nsB, "vsb", "10.88.0.2/24")

	// The real server: an echo listener in A (the director is its own
	// real server, so IPVS delivers locally, to the virtual address).
	var ln net.Listener
	var err error
	inNS(t, nsA, func() { ln, err = net.Listen("tcp", "0.0.0.0:80") })
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go io.Copy(c, c)
		}
	}()

	ipvsA, err := ipvs.Open(ipvs.Options{Netns: "/run/netns/" + nsA, NoModprobe: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ipvsA.Close()
	ipvsB, err := ipvs.Open(ipvs.Options{Netns: "/run/netns/" + nsB, NoModprobe: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ipvsB.Close()
	daemons := func(m *ipvs.Manager) string {
		ds, err := m.SyncDaemons()
		if err != nil {
			t.Fatal(err)
		}
		var l []string
		for _, d := range ds {
			l = append(l, fmt.Sprintf("%s/%s/%d", d.State, d.Interface, d.SyncID))
		}
		return strings.Join(l, " ")
	}

	a := startDirector(t, nsA, "vsa", 150)
	b := startDirector(t, nsB, "vsb", 100)
	waitFor(t, "A master daemon, B backup daemon", func() (bool, string) {
		da, db := daemons(ipvsA), daemons(ipvsB)
		return da == "master/vsa/7" && db == "backup/vsb/7", "A: " + da + ", B: " + db
	})

	// A connection through A's virtual service, kept open; a few
	// packets each way so that the master daemon syncs it (the kernel
	// syncs a TCP connection at its third packet in).
	var c net.Conn
	inNS(t, nsA, func() { c, err = net.DialTimeout("tcp", "10.88.1.1:80", 5*time.Second) })
	if err != nil {
		t.Fatalf("connecting to the virtual service: %v", err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for i := range 5 {
		fmt.Fprintf(c, "ping %d\n", i)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
	}
	if !hasVIPConn(a.conns(t)) {
		t.Fatalf("the connection is not in A's table: %q", a.conns(t))
	}
	waitFor(t, "the connection in B's table", func() (bool, string) {
		l := b.conns(t)
		return hasVIPConn(l), fmt.Sprintf("%q", l)
	})

	// Failover: A stops (its master daemon with it), B takes over.
	a.stop(t)
	waitFor(t, "B's master daemon", func() (bool, string) {
		da, db := daemons(ipvsA), daemons(ipvsB)
		return da == "" && db == "master/vsb/7", "A: " + da + ", B: " + db
	})
	l := b.conns(t)
	if !hasVIPConn(l) {
		t.Fatalf("the connection left B's table at the failover: %q", l)
	}
	t.Logf("B's table after the failover: %s", vipConnLine(l))
	b.stop(t)
	if db := daemons(ipvsB); db != "" {
		t.Fatalf("B's sync daemons after its stop: %s", db)
	}
	t.Logf("the connection reached the backup and survived the failover")
}

// syncPairConf is lvs_sync_daemon without a VRRP instance: the checker's
// pair of daemons, run while there are virtual servers.
const syncPairConf = `global_defs {
  lvs_sync_daemon vspa id 9 port 8851
}
virtual_server 10.88.1.1 80 {
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server 10.88.2.1 80 {
    weight 1
  }
}
`

// TestDaemonSyncDaemonPairInVM: lvs_sync_daemon without a VRRP instance
// runs both the master and the backup daemons, as keepalived's checker
// does: a backup daemon left with other settings (by a crashed
// predecessor) is replaced, both daemons read back from the kernel
// (IPVS_CMD_GET_DAEMON) with the configured settings, and a stop stops
// both.
func TestDaemonSyncDaemonPairInVM(t *testing.T) {
	if os.Getenv(vmEnv) == "" {
		t.Skip(vmEnv + " is not set: this test builds a namespace and runs the kernel's sync daemons in the qemu lane only (test/qemu/run.sh)")
	}
	const ns = "vigil-syncp"
	vmNamedNetns(t, ns)
	h, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	nh, err := netlink.NewHandleAt(h, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer nh.Close()
	if err := nh.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "vspa"}, PeerName: "vspb"}); err != nil {
		t.Fatalf("veth: %v", err)
	}
	for name, a := range map[string]string{"vspa": "10.88.3.1/24", "vspb": "10.88.3.2/24", "lo": "10.88.2.1/32"} {
		l, err := nh.LinkByName(name)
		if err != nil {
			t.Fatal(err)
		}
		pa, _ := netlink.ParseAddr(a)
		if err := nh.AddrAdd(l, pa); err != nil {
			t.Fatalf("%s %s: %v", name, a, err)
		}
		if err := nh.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
	}
	m, err := ipvs.Open(ipvs.Options{Netns: "/run/netns/" + ns, NoModprobe: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	daemons := func() string {
		ds, err := m.SyncDaemons()
		if err != nil {
			t.Fatal(err)
		}
		var l []string
		for _, d := range ds {
			l = append(l, fmt.Sprintf("%s/%s/%d/%d", d.State, d.Interface, d.SyncID, d.Port))
		}
		return strings.Join(l, " ")
	}
	// A crashed predecessor's backup daemon, with other settings.
	if err := m.StartSyncDaemon(ipvs.SyncDaemon{State: ipvs.SyncBackup, Interface: "vspb", SyncID: 99}); err != nil {
		t.Fatal(err)
	}
	if got := daemons(); got != "backup/vspb/99/8848" {
		t.Fatalf("the leftover daemon: %q", got)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(file, []byte(syncPairConf), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startChildDaemon(t, ns, ns, file)
	const want = "master/vspa/9/8851 backup/vspa/9/8851"
	waitFor(t, "both daemons", func() (bool, string) {
		got := daemons()
		return got == want, got
	})
	d.stop(t)
	if got := daemons(); got != "" {
		t.Fatalf("sync daemons after the stop: %q", got)
	}
	// Clearing the master daemon that did not run at the start is no
	// error: no sync daemon command failed.
	for _, l := range strings.Split(d.out.String(), "\n") {
		if strings.Contains(l, "sync daemon") {
			t.Errorf("a sync daemon command failed: %s", l)
		}
	}
	t.Logf("both daemons ran (%s) and stopped", want)
}
