package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/journal"
	"github.com/vigil-ha/vigil/lab"
)

// reloadConf is n instances (VRIDs 1..n, VIPs 10.77.1.1..n), all
// reporting through the rig's FIFO and notify script; prio5 is VI_5's
// priority.
func reloadConf(r *notifyRig, n, prio5 int) string {
	var insts []instance
	for k := 1; k <= n; k++ {
		prio := 100
		if k == 5 {
			prio = prio5
		}
		insts = append(insts, instance{Name: fmt.Sprintf("VI_%d", k), VRID: k, Priority: prio,
			VIPs:  []string{fmt.Sprintf("10.77.1.%d/32", k)},
			Extra: []string{fmt.Sprintf("notify %q", r.path("rec.sh")+" generic")}})
	}
	return r.globals("reload") + instancesConf(insts...)
}

// TestReloadKeepsOthers: with 20 MASTER instances, a reload that changes
// one priority and adds one instance must touch nothing else: no address
// is deleted or re-added (ip monitor), no notify runs and no FIFO line is
// written for the 19 others.
func TestReloadKeepsOthers(t *testing.T) {
	l := lab.New(t, 1)
	n := l.Nodes[0]
	r := newNotifyRig(t)
	p := n.StartVigil(t, reloadConf(r, 20, 100))
	lab.MustWait(t, 20*time.Second, "20 VIPs", func() bool {
		return strings.Count(n.MustExec("ip", "-br", "addr", "show", "dev", "eth0"), "10.77.1.") == 20
	})
	rc := &recorder{r: r, settleTime: time.Second}
	rc.cut("start")

	// Watch address changes from now on.
	mon := exec.Command("ip", "-n", n.NS, "monitor", "address")
	monOut, err := os.Create(r.path("monitor.log"))
	if err != nil {
		t.Fatal(err)
	}
	mon.Stdout, mon.Stderr = monOut, monOut
	if err := mon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mon.Process.Kill(); mon.Wait(); monOut.Close() })
	time.Sleep(300 * time.Millisecond)

	if err := os.WriteFile(p.Dir+"/keepalived.conf", []byte(reloadConf(r, 21, 120)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	lab.MustWait(t, electTimeout, "the new instance's VIP", func() bool {
		return strings.Contains(n.MustExec("ip", "-br", "addr", "show", "dev", "eth0"), "10.77.1.21/32")
	})
	rc.settleTime = 3 * time.Second
	rc.cut("reload")
	ph := rc.phases[1]

	for _, line := range ph.fifo {
		if !strings.Contains(line, `"VI_21"`) {
			t.Errorf("FIFO line for an unchanged instance after the reload: %q", line)
		}
	}
	for _, line := range ph.scripts {
		if !strings.Contains(line, " VI_21 ") {
			t.Errorf("notify script for an unchanged instance after the reload: %q", line)
		}
	}
	if len(ph.fifo) == 0 {
		t.Error("the new instance reported nothing on the FIFO")
	}
	monText, _ := os.ReadFile(r.path("monitor.log"))
	for _, line := range strings.Split(strings.TrimSpace(string(monText)), "\n") {
		if line == "" || strings.HasPrefix(strings.TrimSpace(line), "valid_lft") {
			continue
		}
		if strings.HasPrefix(line, "Deleted") || !strings.Contains(line, "10.77.1.21/32") {
			t.Errorf("address churn after the reload: %q", line)
		}
	}
	if !strings.Contains(p.Log(), "Changing effective priority from 100 to 120") && !strings.Contains(p.Log(), "priority") {
		t.Logf("note: no priority change logged for VI_5")
	}
	if t.Failed() {
		t.Logf("phases %+v\nmonitor:\n%s", rc.phases, monText)
	}
	// The journal, read once the daemon has stopped (a running writer holds
	// it), shows the reload and then only the new instance's transition,
	// addresses and notification.
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	checkReloadJournal(t, p.Dir+"/journal")
}

// checkReloadJournal asserts that between the second ConfigLoaded (the
// reload) and the Stop, the world-touching effects concern VI_21 only.
func checkReloadJournal(t *testing.T, dir string) {
	t.Helper()
	r, err := journal.OpenReader(dir)
	if err != nil {
		t.Fatalf("journal: %v", err)
	}
	defer r.Close()
	loads, sawNew := 0, false
	for rec, err := range r.Records(0) {
		if err != nil {
			t.Fatalf("journal: %v", err)
		}
		switch rec.Event.(type) {
		case *events.ConfigLoaded:
			loads++
			continue
		case *events.Stop:
			if loads < 2 {
				t.Fatalf("journal: Stop before the reload's ConfigLoaded")
			}
			if !sawNew {
				t.Error("journal: no transition of VI_21 after the reload")
			}
			return
		}
		if loads < 2 {
			continue
		}
		for _, e := range rec.Effects {
			inst := ""
			switch v := e.(type) {
			case *effects.StateChanged:
				inst = v.Instance
				sawNew = sawNew || v.Instance == "VI_21"
			case *effects.AddAddress:
				inst = v.Instance
			case *effects.DelAddress:
				inst = v.Instance
			case *effects.Notify:
				inst = v.Name
			default:
				continue
			}
			if inst != "VI_21" {
				t.Errorf("journal seq %d (%s): %s for %s after the reload", rec.Seq, rec.Event.EventKind(), e.EffectKind(), inst)
			}
		}
	}
	t.Errorf("journal: %d ConfigLoaded events and no Stop", loads)
}
