package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/lab"
)

// vrrpRcvBufs returns the receive buffer sizes (SO_RCVBUF as read back:
// twice what was set) of the raw VRRP sockets process pid holds in node n.
// ss names the sockets' descriptors; each is duplicated into this process
// with pidfd_getfd to read its option.
func vrrpRcvBufs(t *testing.T, n *lab.Node, pid int) []int {
	t.Helper()
	out, err := n.Exec("ss", "-w", "-a", "-n", "-p")
	if err != nil {
		t.Fatalf("ss: %v\n%s", err, out)
	}
	pfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open %d: %v", pid, err)
	}
	defer unix.Close(pfd)
	var rbs []int
	fdRE := regexp.MustCompile(fmt.Sprintf(`pid=%d,fd=(\d+)`, pid))
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, ":112 ") {
			continue
		}
		for _, m := range fdRE.FindAllStringSubmatch(l, -1) {
			fd, _ := strconv.Atoi(m[1])
			local, err := unix.PidfdGetfd(pfd, fd, 0)
			if err != nil {
				t.Fatalf("pidfd_getfd %d/%d: %v", pid, fd, err)
			}
			v, err := unix.GetsockoptInt(local, unix.SOL_SOCKET, unix.SO_RCVBUF)
			unix.Close(local)
			if err != nil {
				t.Fatalf("SO_RCVBUF of %d/%d: %v", pid, fd, err)
			}
			rbs = append(rbs, v)
		}
	}
	slices.Sort(rbs)
	return rbs
}

// TestRxBufsParity: kernel_rx_buf_size and vrrp_rx_bufs_policy size the
// receiving VRRP socket as keepalived sizes its own: the largest raw VRRP
// socket buffer of each daemon (keepalived also has a send socket at the
// default size) is the same, 2 × (100000 + 3 × 1500) (the kernel doubles
// SO_RCVBUF; both stay under net.core.rmem_max's default).
func TestRxBufsParity(t *testing.T) {
	lab.Require(t, "keepalived", "ss")
	l := lab.New(t, 2)
	cfg := func(id string) string {
		c := conf(id,
			instance{Name: "VI_1", VRID: 77, Priority: 100, Version: 3, VIPs: []string{vip4}, Extra: []string{"kernel_rx_buf_size 100000"}},
			instance{Name: "VI_2", VRID: 78, Priority: 100, Version: 3, VIPs: []string{"10.77.0.101/24"}})
		return strings.Replace(c, "router_id "+id+"\n", "router_id "+id+"\n  vrrp_rx_bufs_policy MTU\n", 1)
	}
	kp := l.Nodes[0].StartKeepalived(t, cfg("k"))
	vp := l.Nodes[1].StartVigil(t, cfg("v"))
	const want = 2 * (100000 + 3*1500)
	largest := func(n *lab.Node, pid func() int) int {
		var got []int
		lab.WaitFor(electTimeout, func() bool {
			got = vrrpRcvBufs(t, n, pid())
			return len(got) > 0 && got[len(got)-1] == want
		})
		if len(got) == 0 {
			out, _ := n.Exec("ss", "-w", "-a", "-n", "-p")
			t.Fatalf("no raw VRRP socket of pid %d in %s:\n%s", pid(), n.NS, out)
		}
		return got[len(got)-1]
	}
	time.Sleep(time.Second)
	if k := largest(l.Nodes[0], kp.VRRPPid); k != want {
		t.Errorf("keepalived's VRRP socket buffer is %d, want %d", k, want)
	}
	if v := largest(l.Nodes[1], vp.Pid); v != want {
		t.Errorf("vigil's VRRP socket buffer is %d, want %d (keepalived's)", v, want)
	}
}
