package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// trackConf has one instance per kind of tracker, each unweighted (a
// failing tracker puts its instance in FAULT):
//
//	VI_1 a script that succeeds while the file "ok" exists
//	VI_2 a track_file (FAULT while its value is not 0)
//	VI_3 a tracked process (FAULT unless one runs; it runs at first)
//	VI_4 a script that hangs past its timeout
//	VI_5 a script that is not executable
func trackConf(r *notifyRig, proc string) string {
	d := r.dir
	c := r.globals("track") + fmt.Sprintf(`vrrp_script flag {
  script "%[1]s/flag.sh"
  interval 1
}
vrrp_script hang {
  script "%[1]s/hang.sh"
  interval 2
  timeout 1
}
vrrp_script noexec {
  script "%[1]s/noexec.sh"
  interval 1
}
track_file tf {
  file %[1]s/track
}
vrrp_track_process proc {
  process %[2]s
}
`, d, proc)
	track := []string{"track_script {\n    flag\n  }", "track_file {\n    tf weight 0\n  }",
		"track_process {\n    proc\n  }", "track_script {\n    hang\n  }", "track_script {\n    noexec\n  }"}
	var insts []instance
	for k, tr := range track {
		insts = append(insts, instance{Name: fmt.Sprintf("VI_%d", k+1), VRID: 60 + k, Priority: 100,
			VIPs: []string{fmt.Sprintf("10.77.0.%d/24", 101+k)}, Extra: []string{tr}})
	}
	return c + instancesConf(insts...)
}

// trackScenario runs one daemon through the trackers' changes and returns
// the FIFO lines of each step, sorted (instances change concurrently).
func trackScenario(t *testing.T, vigil bool) []phase {
	l := lab.New(t, 1)
	n := l.Nodes[0]
	r := newNotifyRig(t)
	r.write(t, "flag.sh", "#!/bin/sh\ntest -e "+r.path("ok")+"\n", 0o755)
	r.write(t, "hang.sh", "#!/bin/sh\nexec sleep 30\n", 0o755)
	r.write(t, "noexec.sh", "#!/bin/sh\nexit 0\n", 0o644)
	r.write(t, "ok", "", 0o644)
	r.write(t, "track", "0\n", 0o644)
	// A uniquely named process to track: a copy of sleep.
	proc := fmt.Sprintf("vgdm%d", os.Getpid()%100000)
	sleepBin, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	b, err := os.ReadFile(sleepBin)
	if err != nil {
		t.Fatal(err)
	}
	r.write(t, proc, string(b), 0o755)
	// The tracked process runs from the start: keepalived learns of
	// processes from a /proc scan at start and then from the kernel's
	// process connector, which a network namespace does not deliver to,
	// so a process started later is not seen by keepalived in this lab.
	cmd := exec.Command(r.path(proc), "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var p *lab.Proc
	if vigil {
		p = n.StartVigil(t, trackConf(r, proc))
	} else {
		p = n.StartKeepalived(t, trackConf(r, proc))
	}
	rc := &recorder{r: r, settleTime: 6 * time.Second}
	cut := func(name string) {
		rc.cut(name)
		slices.Sort(rc.phases[len(rc.phases)-1].fifo)
	}
	cut("start")

	os.Remove(r.path("ok"))
	rc.settleTime = 5 * time.Second
	cut("script fails")
	r.write(t, "ok", "", 0o644)
	cut("script succeeds")

	r.write(t, "track", "1\n", 0o644)
	cut("track_file 1")
	r.write(t, "track", "0\n", 0o644)
	cut("track_file 0")

	cmd.Process.Kill()
	cmd.Wait()
	cut("process stopped")

	if err := p.Stop(takeoverTimeout); err != nil {
		t.Fatal(err)
	}
	rc.settleTime = time.Second
	cut("stop")
	if t.Failed() || testing.Verbose() {
		t.Logf("%s phases: %+v\nlog:\n%s", p.Name, rc.phases, p.Log())
	}
	return rc.phases
}

// TestTrackersParity runs the trackers' scenario under keepalived and
// vigil: every step must produce the same state changes (FIFO lines).
// The hanging script counts as failed and the non-executable script is
// refused with an error, its instance then running untracked, in both.
//
// VI_3 (the tracked process) is the exception: keepalived cannot track
// processes in a network namespace (the kernel's process connector does
// not deliver there) and holds the instance in FAULT, while vigil falls
// back to scanning /proc. For VI_3 the test checks keepalived's intended
// behaviour instead: MASTER at the unweighted priority while the process
// runs, FAULT once it is gone.
func TestTrackersParity(t *testing.T) {
	lab.Require(t, "keepalived")
	var k, v []phase
	t.Run("keepalived", func(t *testing.T) { k = trackScenario(t, false) })
	t.Run("vigil", func(t *testing.T) { v = trackScenario(t, true) })
	if len(k) != len(v) {
		t.Fatalf("keepalived ran %d steps, vigil %d", len(k), len(v))
	}
	notVI3 := func(lines []string) []string {
		return slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return strings.Contains(l, `"VI_3"`) && !strings.Contains(l, " STOP ") })
	}
	for i := range k {
		if kl, vl := notVI3(k[i].fifo), notVI3(v[i].fifo); !slices.Equal(kl, vl) {
			t.Errorf("%s: FIFO lines differ:\nkeepalived %q\nvigil      %q", k[i].name, kl, vl)
		}
	}
	want := map[string]string{"start": `INSTANCE "VI_3" MASTER 100`, "process stopped": `INSTANCE "VI_3" FAULT 100`}
	for _, p := range v {
		if w, ok := want[p.name]; ok && !slices.Contains(p.fifo, w) {
			t.Errorf("vigil %s: VI_3 FIFO lines %q, want %q", p.name, p.fifo, w)
		}
	}
}
