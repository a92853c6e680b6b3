package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// bfdTimeout bounds each BFD transition in the interop test: the
// handshake at idle_tx (1 s between packets until Up) takes a few
// seconds; detection is 3 × 50 ms.
const bfdTimeout = 10 * time.Second

// bfdConf is a bfd_instance for a neighbour, with min_rx and min_tx of
// 50 ms and a multiplier of 3.
func bfdConf(name string, self, peer *lab.Node) string {
	return fmt.Sprintf("bfd_instance %s {\n  neighbor_ip %s\n  source_ip %s\n  min_rx 50\n  min_tx 50\n  multiplier 3\n}\n",
		name, peer.Addr4.Addr(), self.Addr4.Addr())
}

// startKeepalivedBFD runs keepalived with its BFD process (VRRP and BFD,
// no checkers) and returns it with the path of its BFD pid file. The BFD
// child is killed at cleanup by its pid (read from that file, checked to
// be a keepalived).
func startKeepalivedBFD(t *testing.T, n *lab.Node, conf string) (*lab.Proc, string) {
	t.Helper()
	pidFile := filepath.Join(t.TempDir(), "bfd.pid")
	p := n.StartKeepalived(t, conf, "-b", pidFile)
	t.Cleanup(func() { killKeepalivedChild(pidFile) })
	return p, pidFile
}

// killKeepalivedChild SIGKILLs the keepalived child whose pid file is
// path, if it runs; false if there was none.
func killKeepalivedChild(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var pid int
	fmt.Sscan(string(b), &pid)
	if pid <= 0 {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "keepalived") {
		return false
	}
	return syscall.Kill(pid, syscall.SIGKILL) == nil
}

// TestBFDInteropKeepalived runs a BFD session between vigil and
// keepalived 2.2.7's BFD process (min_rx/min_tx 50 ms, multiplier 3) on
// a bridge. vigil's only VRRP instance tracks the session unweighted, so
// it holds the VIP (MASTER) exactly while the session is Up, and is in
// FAULT otherwise. The session must come Up; go Down when keepalived's
// cable is pulled and come back when it is plugged in again; go Down when
// keepalived's BFD process is killed and come back Up when keepalived is
// started again. keepalived's log must show its side coming Up too.
func TestBFDInteropKeepalived(t *testing.T) {
	lab.Require(t, "keepalived")
	l := lab.New(t, 2)
	v, k := l.Nodes[0], l.Nodes[1]
	vconf := bfdConf("to_keepalived", v, k) + conf("vigil", instance{Priority: 100, VIPs: []string{vip4},
		Extra: []string{"track_bfd {\n    to_keepalived\n  }"}})
	kconf := "global_defs {\n  router_id keepalived\n}\n" + bfdConf("to_vigil", k, v)
	vp := v.StartVigil(t, vconf)
	kp, kpid := startKeepalivedBFD(t, k, kconf)

	up := func(what string, kp *lab.Proc) {
		t.Helper()
		d := lab.MustWait(t, bfdTimeout, "vigil holding the VIP (session Up) "+what, func() bool { return v.HasAddress(lab.VIP4) })
		t.Logf("session Up %s after %v", what, d.Round(time.Millisecond))
		lab.MustWait(t, bfdTimeout, "keepalived's side Up "+what, func() bool {
			return strings.Count(kp.Log(), "(to_vigil) Entering Up state") > 0
		})
	}
	down := func(what string) {
		t.Helper()
		d := lab.MustWait(t, bfdTimeout, "vigil releasing the VIP (session Down) "+what, func() bool { return !v.HasAddress(lab.VIP4) })
		t.Logf("session Down %s after %v", what, d.Round(time.Millisecond))
	}

	up("at start", kp)
	if !vp.LogContains("(to_keepalived) Entering Up state") {
		t.Errorf("vigil did not log the session Up")
	}

	// The link: keepalived's cable pulled, then plugged in again.
	if err := k.SetPortUp(false); err != nil {
		t.Fatal(err)
	}
	down("after the cable was pulled")
	if !vp.LogContains("(to_keepalived) Entering Down state (Local diagnostic - Control Detection Time Expired") {
		t.Errorf("vigil did not log the detection time expiring")
	}
	if err := k.SetPortUp(true); err != nil {
		t.Fatal(err)
	}
	up("after the cable was plugged in", kp)

	// The peer process killed, then keepalived started again.
	if !killKeepalivedChild(kpid) {
		t.Fatal("keepalived's BFD process is not running")
	}
	down("after keepalived's BFD process was killed")
	kp.Crash()
	kp, _ = startKeepalivedBFD(t, k, kconf)
	up("after keepalived was started again", kp)
}
