package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// notifyRig is a directory with a recording notify script and a notify
// FIFO that the test reads, appending every line to a file. (A
// vrrp_notify_fifo_script reader would lose keepalived's last line: it is
// killed at shutdown, racing the STOP line.)
type notifyRig struct {
	dir  string
	stop atomic.Bool
}

func newNotifyRig(t *testing.T) *notifyRig {
	t.Helper()
	r := &notifyRig{dir: t.TempDir()}
	// rec.sh appends its arguments, one call per line.
	r.write(t, "rec.sh", "#!/bin/sh\necho \"$*\" >> "+r.path("scripts.log")+"\n", 0o755)
	if err := syscall.Mkfifo(r.path("fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(r.path("fifo.log"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !r.stop.Load() {
			// Open blocks until a daemon opens the FIFO for writing;
			// EOF comes when it exits, and the loop waits for the next.
			f, err := os.Open(r.path("fifo"))
			if err != nil {
				return
			}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				fmt.Fprintln(out, sc.Text())
			}
			f.Close()
		}
	}()
	t.Cleanup(func() {
		r.stop.Store(true)
		// Unblock a pending open.
		if w, err := os.OpenFile(r.path("fifo"), os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-done
		out.Close()
	})
	return r
}

func (r *notifyRig) path(name string) string { return filepath.Join(r.dir, name) }

func (r *notifyRig) write(t *testing.T, name, text string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(r.path(name), []byte(text), mode); err != nil {
		t.Fatal(err)
	}
}

// globals is the global_defs part that sets up the FIFO.
func (r *notifyRig) globals(routerID string) string {
	return fmt.Sprintf("global_defs {\n  router_id %s\n  vrrp_notify_fifo %s\n}\n", routerID, r.path("fifo"))
}

// notifyLines are an instance's notify settings, all through rec.sh.
func (r *notifyRig) notifyLines() []string {
	rec := r.path("rec.sh")
	return []string{
		fmt.Sprintf("notify_master %q", rec+" master"),
		fmt.Sprintf("notify_backup %q", rec+" backup"),
		fmt.Sprintf("notify_fault %q", rec+" fault"),
		fmt.Sprintf("notify_stop %q", rec+" stop"),
		fmt.Sprintf("notify %q", rec+" generic"),
	}
}

// instancesConf is conf without its global_defs block.
func instancesConf(insts ...instance) string {
	c := conf("x", insts...)
	return c[strings.Index(c, "}\n")+2:]
}

func readLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

func (r *notifyRig) fifo() []string    { return readLines(r.path("fifo.log")) }
func (r *notifyRig) scripts() []string { return readLines(r.path("scripts.log")) }

// phase is what one step of a scenario produced: FIFO lines in order and
// script calls as a sorted multiset (keepalived forks the scripts of one
// transition concurrently, so their order is not defined).
type phase struct {
	name    string
	fifo    []string
	scripts []string
}

// recorder cuts a rig's output into phases.
type recorder struct {
	r          *notifyRig
	nf, ns     int
	phases     []phase
	settleTime time.Duration
}

// cut waits for the output to settle and records what appeared since the
// previous cut.
func (rc *recorder) cut(name string) {
	time.Sleep(rc.settleTime)
	lab.WaitFor(5*time.Second, func() bool {
		a, b := len(rc.r.fifo()), len(rc.r.scripts())
		time.Sleep(300 * time.Millisecond)
		return a == len(rc.r.fifo()) && b == len(rc.r.scripts())
	})
	f, s := rc.r.fifo(), rc.r.scripts()
	p := phase{name: name, fifo: slices.Clone(f[min(rc.nf, len(f)):]), scripts: slices.Clone(s[min(rc.ns, len(s)):])}
	slices.Sort(p.scripts)
	rc.nf, rc.ns = len(f), len(s)
	rc.phases = append(rc.phases, p)
}

// notifyScenario runs one daemon (vigil or keepalived) at priority 100
// against a keepalived peer at priority 150 through: start (BACKUP),
// failover by stopping the peer (MASTER), fault by setting eth0 down,
// recovery by setting it up, reload, and stop. It returns the phases.
func notifyScenario(t *testing.T, vigil bool) []phase {
	l := lab.New(t, 2)
	n, peerNode := l.Nodes[0], l.Nodes[1]
	r := newNotifyRig(t)
	cfg := r.globals("n1") + instancesConf(instance{Priority: 100, VIPs: []string{vip4}, Extra: r.notifyLines()})
	peer := peerNode.StartKeepalived(t, conf("peer", instance{Priority: 150, VIPs: []string{vip4}}))
	holds(t, electTimeout, lab.VIP4, peerNode, peerNode)
	var p *lab.Proc
	if vigil {
		p = n.StartVigil(t, cfg)
	} else {
		p = n.StartKeepalived(t, cfg)
	}
	rc := &recorder{r: r, settleTime: time.Second}
	lab.MustWait(t, electTimeout, "BACKUP reported on the FIFO", func() bool {
		return slices.Contains(r.fifo(), `INSTANCE "VI_1" BACKUP 100`)
	})
	rc.cut("start")

	if err := peer.Stop(takeoverTimeout); err != nil {
		t.Fatal(err)
	}
	holds(t, takeoverTimeout, lab.VIP4, n, n, peerNode)
	rc.cut("failover")

	if err := n.SetLinkUp(false); err != nil {
		t.Fatal(err)
	}
	lab.MustWait(t, takeoverTimeout, "FAULT on the FIFO", func() bool {
		return slices.Contains(r.fifo(), `INSTANCE "VI_1" FAULT 100`)
	})
	rc.cut("link down")

	if err := n.SetLinkUp(true); err != nil {
		t.Fatal(err)
	}
	lab.MustWait(t, electTimeout, "the VIP back", func() bool { return n.HasAddress(lab.VIP4) })
	rc.cut("link up")

	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	rc.settleTime = 3 * time.Second
	rc.cut("reload")

	if err := p.Stop(takeoverTimeout); err != nil {
		t.Fatal(err)
	}
	rc.settleTime = time.Second
	rc.cut("stop")
	if t.Failed() || testing.Verbose() {
		t.Logf("%s phases: %+v\nlog:\n%s", p.Name, rc.phases, p.Log())
	}
	return rc.phases
}

// TestNotifyParity runs the same scenario under keepalived and vigil and
// requires the same notify FIFO lines, in order, and the same notify
// script calls for each step.
func TestNotifyParity(t *testing.T) {
	lab.Require(t, "keepalived")
	var k, v []phase
	t.Run("keepalived", func(t *testing.T) { k = notifyScenario(t, false) })
	t.Run("vigil", func(t *testing.T) { v = notifyScenario(t, true) })
	if len(k) != len(v) {
		t.Fatalf("keepalived ran %d phases, vigil %d", len(k), len(v))
	}
	for i := range k {
		if !slices.Equal(k[i].fifo, v[i].fifo) {
			t.Errorf("%s: FIFO lines differ:\nkeepalived %q\nvigil      %q", k[i].name, k[i].fifo, v[i].fifo)
		}
		if !slices.Equal(k[i].scripts, v[i].scripts) {
			t.Errorf("%s: script calls differ:\nkeepalived %q\nvigil      %q", k[i].name, k[i].scripts, v[i].scripts)
		}
	}
	// The scenario itself must have happened as designed.
	want := map[string][]string{
		"start":    {`INSTANCE "VI_1" BACKUP 100`},
		"failover": {`INSTANCE "VI_1" MASTER 100`},
		"stop":     {`INSTANCE "VI_1" STOP 100`},
	}
	for _, p := range k {
		if w, ok := want[p.name]; ok && !slices.Equal(p.fifo, w) {
			t.Errorf("keepalived %s: FIFO %q, want %q", p.name, p.fifo, w)
		}
	}
}
