package e2e

import (
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// fifoReloadScenario runs one daemon with fifo_write_vrrp_states_on_reload
// and three instances — VI_1 MASTER in sync group G1, VI_2 BACKUP below a
// keepalived peer, VI_3 MASTER alone — and returns the notify FIFO lines
// of a reload that changes no state.
func fifoReloadScenario(t *testing.T, vigil bool) []string {
	l := lab.New(t, 2)
	n, peerNode := l.Nodes[0], l.Nodes[1]
	r := newNotifyRig(t)
	g := strings.Replace(r.globals("n1"), "\n}\n", "\n  fifo_write_vrrp_states_on_reload\n}\n", 1)
	cfg := g + "vrrp_sync_group G1 {\n  group {\n    VI_1\n  }\n}\n" + instancesConf(
		instance{Name: "VI_1", VRID: 77, Priority: 150, VIPs: []string{vip4}},
		instance{Name: "VI_2", VRID: 78, Priority: 50, VIPs: []string{"10.77.0.101/24"}},
		instance{Name: "VI_3", VRID: 79, Priority: 150, VIPs: []string{"10.77.0.102/24"}},
	)
	peerNode.StartKeepalived(t, conf("peer", instance{Name: "VI_2", VRID: 78, Priority: 100, VIPs: []string{"10.77.0.101/24"}}))
	var p *lab.Proc
	if vigil {
		p = n.StartVigil(t, cfg)
	} else {
		p = n.StartKeepalived(t, cfg)
	}
	lab.MustWait(t, 3*electTimeout, "the states on the FIFO", func() bool {
		f := r.fifo()
		return slices.Contains(f, `INSTANCE "VI_1" MASTER 150`) && slices.Contains(f, `INSTANCE "VI_3" MASTER 150`) && slices.Contains(f, `INSTANCE "VI_2" BACKUP 50`)
	})
	rc := &recorder{r: r, settleTime: time.Second}
	rc.cut("start")
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	rc.settleTime = 3 * time.Second
	rc.cut("reload")
	if t.Failed() || testing.Verbose() {
		t.Logf("%s phases: %+v\nlog:\n%s", p.Name, rc.phases, p.LogTail(40))
	}
	return rc.phases[1].fifo
}

// TestFIFOStatesOnReloadParity: with fifo_write_vrrp_states_on_reload a
// reload writes the unchanged states to the notify FIFO, the same lines
// as keepalived's.
func TestFIFOStatesOnReloadParity(t *testing.T) {
	lab.Require(t, "keepalived")
	var k, v []string
	t.Run("keepalived", func(t *testing.T) { k = fifoReloadScenario(t, false) })
	if testing.Short() {
		return
	}
	t.Run("vigil", func(t *testing.T) { v = fifoReloadScenario(t, true) })
	if len(k) == 0 {
		t.Fatal("keepalived wrote nothing at the reload: the scenario is not what it should be")
	}
	ks, vs := slices.Sorted(slices.Values(k)), slices.Sorted(slices.Values(v))
	if !slices.Equal(ks, vs) {
		t.Errorf("reload FIFO lines differ:\nkeepalived %q\nvigil      %q", k, v)
	}
}
