package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/adapters/ipvs"
	"github.com/vigil-ha/vigil/lab"
)

// checkTimeout bounds a real server's change of state: delay_loop 1 s,
// connect_timeout 1 s, no retry, plus start-up.
const checkTimeout = 15 * time.Second

// httpRS is an HTTP real server in a lab node, answering /health; it can
// be stopped and started again on the same port.
type httpRS struct {
	node *lab.Node
	addr string
	srv  *http.Server
}

func (h *httpRS) start(t *testing.T) {
	t.Helper()
	ln, err := h.node.Listen("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	h.srv = &http.Server{Handler: mux}
	go h.srv.Serve(ln)
}

func (h *httpRS) stop() {
	if h.srv != nil {
		h.srv.Close()
		h.srv = nil
	}
}

// lvsConf is a VRRP instance and a virtual server whose two HTTP real
// servers live in another node, each with notify_up and notify_down
// through the rig's recording script; LVS notifications also go to the
// rig's FIFO as lvs_notify_fifo.
func lvsConf(r *notifyRig, rsAddr string) string {
	rec := r.path("rec.sh")
	var rss strings.Builder
	for _, port := range []int{8081, 8082} {
		fmt.Fprintf(&rss, `  real_server %s %d {
    weight 1
    notify_up "%s up %d"
    notify_down "%s down %d"
    HTTP_GET {
      url {
        path /health
        status_code 200
      }
      connect_timeout 1
      retry 0
    }
  }
`, rsAddr, port, rec, port, rec, port)
	}
	return fmt.Sprintf("global_defs {\n  router_id lvs\n  lvs_notify_fifo %s\n}\n", r.path("fifo")) +
		instancesConf(instance{Name: "VI_1", VRID: 71, Priority: 100, VIPs: []string{vip4}}) +
		fmt.Sprintf("virtual_server 10.77.0.200 80 {\n  delay_loop 1\n  lvs_sched rr\n  lvs_method NAT\n  protocol TCP\n%s}\n", rss.String())
}

// rsLines are the FIFO's real server lines.
func rsLines(r *notifyRig) []string {
	var out []string
	for _, l := range r.fifo() {
		if strings.HasPrefix(l, "RS ") {
			out = append(out, l)
		}
	}
	return out
}

// On a kernel without IPVS, vigil logs it once and its checkers still
// work: a real server that stops answering runs its notify_down script
// and writes the RS DOWN line to lvs_notify_fifo; back, notify_up and the
// UP line. VRRP runs alongside in the same process.
func TestCheckersWithoutIPVS(t *testing.T) {
	l := lab.New(t, 2)
	dir, rsNode := l.Nodes[0], l.Nodes[1]
	r := newNotifyRig(t)
	rsAddr := rsNode.Addr4.Addr().String()
	rs1 := &httpRS{node: rsNode, addr: rsAddr + ":8081"}
	rs2 := &httpRS{node: rsNode, addr: rsAddr + ":8082"}
	rs1.start(t)
	rs2.start(t)
	defer rs1.stop()
	defer rs2.stop()

	p := dir.StartVigil(t, lvsConf(r, rsAddr))
	holds(t, electTimeout, lab.VIP4, dir, dir)
	// The IPVS family is global to the kernel: the namespace sees what
	// the host has.
	if errors.Is(ipvs.Available(""), ipvs.ErrNoIPVS) {
		const msg = "the kernel has no IPVS (ip_vs module): virtual servers are not programmed"
		lab.MustWait(t, 5*time.Second, "the no-IPVS error", func() bool { return p.LogContains(msg) })
		if n := strings.Count(p.Log(), msg); n != 1 {
			t.Errorf("the no-IPVS error logged %d times", n)
		}
	}
	// Both checkers see their servers up: no transition, no notify (no
	// rs_init_notifies).
	lab.MustWait(t, checkTimeout, "first checks", func() bool {
		return p.LogContains("HTTP_GET on service ["+rsAddr+"]:tcp:8081") && p.LogContains("HTTP_GET on service ["+rsAddr+"]:tcp:8082")
	})

	rs2.stop()
	down := fmt.Sprintf("RS [%s]:tcp:8082 [10.77.0.200]:tcp:80 DOWN", rsAddr)
	lab.MustWait(t, checkTimeout, "notify_down of 8082", func() bool {
		return slices.Contains(r.scripts(), "down 8082") && slices.Contains(rsLines(r), down)
	})
	rs2.start(t)
	up := fmt.Sprintf("RS [%s]:tcp:8082 [10.77.0.200]:tcp:80 UP", rsAddr)
	lab.MustWait(t, checkTimeout, "notify_up of 8082", func() bool {
		return slices.Contains(r.scripts(), "up 8082") && slices.Contains(rsLines(r), up)
	})
	if got, want := rsLines(r), []string{down, up}; !slices.Equal(got, want) {
		t.Errorf("lvs_notify_fifo RS lines %q, want %q", got, want)
	}
	if got := r.scripts(); !slices.Equal(got, []string{"down 8082", "up 8082"}) {
		t.Errorf("notify scripts ran with %q, want [down 8082] then [up 8082]", got)
	}
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
}
