package track

import (
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

func TestMatcher(t *testing.T) {
	cmd := func(words ...string) []byte {
		var b []byte
		for _, w := range words {
			b = append(append(b, w...), 0)
		}
		return b
	}
	for _, c := range []struct {
		name string
		tp   conf.TrackProcess
		comm string
		cmd  []byte
		want bool
	}{
		{"comm exact", conf.TrackProcess{Process: "nginx"}, "nginx", cmd("/usr/sbin/nginx"), true},
		{"comm is not a regexp", conf.TrackProcess{Process: "ssh"}, "sshd", cmd("sshd"), false},
		{"full command argv0", conf.TrackProcess{Process: "/usr/sbin/nginx", FullCommand: true}, "nginx", cmd("/usr/sbin/nginx", "-g"), true},
		{"full command not comm", conf.TrackProcess{Process: "nginx", FullCommand: true}, "nginx", cmd("/usr/sbin/nginx"), false},
		{"params exact", conf.TrackProcess{Process: "p", Params: []string{"a", "b"}}, "x", cmd("p", "a", "b"), true},
		{"params exact, extra", conf.TrackProcess{Process: "p", Params: []string{"a", "b"}}, "x", cmd("p", "a", "b", "c"), false},
		{"params exact, longer", conf.TrackProcess{Process: "p", Params: []string{"a", "b"}}, "x", cmd("p", "a", "bc"), false},
		{"exact, no params wanted", conf.TrackProcess{Process: "p", ParamMatch: "exact"}, "x", cmd("p"), true},
		{"exact, no params wanted, has one", conf.TrackProcess{Process: "p", ParamMatch: "exact"}, "x", cmd("p", "a"), false},
		{"partial", conf.TrackProcess{Process: "p", Params: []string{"a"}, ParamMatch: "partial"}, "x", cmd("p", "a", "z"), true},
		{"partial, longer word", conf.TrackProcess{Process: "p", Params: []string{"a"}, ParamMatch: "partial"}, "x", cmd("p", "ab"), false},
		{"initial, longer last word", conf.TrackProcess{Process: "p", Params: []string{"a", "b"}, ParamMatch: "initial"}, "x", cmd("p", "a", "bcd", "e"), true},
		{"initial, first word differs", conf.TrackProcess{Process: "p", Params: []string{"a", "b"}, ParamMatch: "initial"}, "x", cmd("p", "ax", "b"), false},
		{"partial without params", conf.TrackProcess{Process: "p", ParamMatch: "partial"}, "x", cmd("p", "q"), true},
	} {
		m := newMatcher(c.tp)
		if got := m.match(c.comm, c.cmd); got != c.want {
			t.Errorf("%s: match = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestDecodeProcEvents(t *testing.T) {
	ne := binary.NativeEndian
	msg := func(what uint32, ack uint32, words ...uint32) []byte {
		b := make([]byte, nlmsgHdrLen+cnMsgLen+procEvHdr+40)
		ne.PutUint32(b[0:], uint32(len(b)))
		ne.PutUint16(b[4:], syscall.NLMSG_DONE)
		ne.PutUint32(b[16:], cnIdxProc)
		ne.PutUint32(b[20:], cnValProc)
		ne.PutUint32(b[28:], ack)
		ev := b[nlmsgHdrLen+cnMsgLen:]
		ne.PutUint32(ev[0:], what)
		for i, w := range words {
			ne.PutUint32(ev[procEvHdr+4*i:], w)
		}
		return b
	}
	comm := msg(procEventComm, 0, 7, 7)
	copy(comm[nlmsgHdrLen+cnMsgLen+procEvHdr+8:], "newname\x00")
	var b []byte
	b = append(b, msg(procEventNone, 1, 0)...)
	b = append(b, msg(procEventFork, 0, 10, 10, 11, 11)...)
	b = append(b, msg(procEventFork, 0, 10, 10, 12, 10)...) // a thread: ignored
	b = append(b, msg(procEventExec, 0, 11, 11)...)
	b = append(b, comm...)
	b = append(b, msg(procEventExit, 0, 11, 11)...)
	b = append(b, msg(procEventExit, 0, 13, 11)...) // a thread: ignored
	got := decodeProcEvents(b, nil)
	want := []procEvent{
		{what: procEventNone, ack: true},
		{what: procEventFork, parent: 10, pid: 11},
		{what: procEventExec, pid: 11},
		{what: procEventComm, pid: 7, comm: "newname"},
		{what: procEventExit, pid: 11},
	}
	if !slices.Equal(got, want) {
		t.Errorf("decoded %+v\nwant    %+v", got, want)
	}
}

// counts follows ProcessCount events.
type counts struct {
	t    *testing.T
	ch   chan events.Event
	seqs map[string][]int // every count reported, per tracker
}

func newCounts(t *testing.T) *counts {
	return &counts{t: t, ch: make(chan events.Event, 256), seqs: make(map[string][]int)}
}

// until receives events until the latest counts include want.
func (c *counts) until(want map[string]int) {
	c.t.Helper()
	deadline := time.After(hangBound)
	for {
		done := true
		for name, n := range want {
			s := c.seqs[name]
			if len(s) == 0 || s[len(s)-1] != n {
				done = false
			}
		}
		if done {
			return
		}
		select {
		case ev := <-c.ch:
			pc, ok := ev.(*events.ProcessCount)
			if !ok {
				c.t.Fatalf("got %T", ev)
			}
			c.seqs[pc.Process] = append(c.seqs[pc.Process], pc.Count)
		case <-deadline:
			c.t.Fatalf("counts %v never reached %v", c.seqs, want)
		}
	}
}

func (c *counts) expectSeq(name string, want ...int) {
	c.t.Helper()
	if got := c.seqs[name]; !slices.Equal(got, want) {
		c.t.Errorf("%s reported %v, want %v", name, got, want)
	}
}

// copyExe copies an executable to dir/name so its processes have a unique
// comm.
func copyExe(t *testing.T, src, dir, name string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(dir, name)
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// start runs a process killed at the end of the test.
func start(t *testing.T, path string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(path, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(cmd) })
	return cmd
}

func stop(cmd *exec.Cmd) {
	if cmd.ProcessState == nil {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

func TestProcessTrackerConnector(t *testing.T) {
	dir := t.TempDir()
	exe := copyExe(t, "/bin/sleep", dir, "vgtrackproc")
	c := newCounts(t)
	p, err := TrackProcesses(ProcessOptions{Out: c.ch, Processes: []conf.TrackProcess{
		{Name: "comm", Process: "vgtrackproc"},
		{Name: "exact", Process: exe, Params: []string{"300"}},
		{Name: "initial", Process: exe, Params: []string{"30"}, ParamMatch: "initial"},
		{Name: "partial", Process: exe, Params: []string{"300"}, ParamMatch: "partial"},
		{Name: "argv0", Process: exe, FullCommand: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c.until(map[string]int{"comm": 0, "exact": 0, "initial": 0, "partial": 0, "argv0": 0})
	if !p.UsingConnector() {
		t.Fatal("proc connector not in use (kernel without CONFIG_PROC_EVENTS, or not in the initial PID namespace?)")
	}

	p1 := start(t, exe, "300")
	c.until(map[string]int{"comm": 1, "exact": 1, "initial": 1, "partial": 1, "argv0": 1})
	p2 := start(t, exe, "301")
	c.until(map[string]int{"comm": 2, "initial": 2, "argv0": 2})
	p3 := start(t, exe, "300", "1")
	c.until(map[string]int{"comm": 3, "initial": 3, "partial": 2, "argv0": 3})
	stop(p2)
	c.until(map[string]int{"comm": 2, "initial": 2, "argv0": 2})
	stop(p1)
	c.until(map[string]int{"comm": 1, "exact": 0, "initial": 1, "partial": 1, "argv0": 1})
	stop(p3)
	c.until(map[string]int{"comm": 0, "initial": 0, "partial": 0, "argv0": 0})

	c.expectSeq("comm", 0, 1, 2, 3, 2, 1, 0)
	c.expectSeq("exact", 0, 1, 0)
	c.expectSeq("initial", 0, 1, 2, 3, 2, 1, 0)
	c.expectSeq("partial", 0, 1, 2, 1, 0)
}

// TestProcessTrackerCommAndForkDelay renames a shell with /proc/PID/comm
// (a comm event), then has it fork a child that execs something else: the
// child briefly counts (it inherits the name), which fork_delay hides.
func TestProcessTrackerCommAndForkDelay(t *testing.T) {
	dir := t.TempDir()
	fifo1, fifo2 := filepath.Join(dir, "go1"), filepath.Join(dir, "go2")
	for _, f := range []string{fifo1, fifo2} {
		if err := syscall.Mkfifo(f, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := newCounts(t)
	p, err := TrackProcesses(ProcessOptions{Out: c.ch, Processes: []conf.TrackProcess{
		{Name: "delayed", Process: "vgrenamed", ForkDelay: conf.Duration(time.Hour)},
		{Name: "immediate", Process: "vgrenamed"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c.until(map[string]int{"delayed": 0, "immediate": 0})

	sh := start(t, "/bin/sh", "-c", `printf vgrenamed > /proc/$$/comm
read x < `+fifo1+`
/bin/true
read y < `+fifo2)
	c.until(map[string]int{"delayed": 1, "immediate": 1})
	if err := os.WriteFile(fifo1, []byte("\n"), 0); err != nil { // let it fork
		t.Fatal(err)
	}
	c.until(map[string]int{"immediate": 2})
	c.until(map[string]int{"immediate": 1})
	stop(sh)
	c.until(map[string]int{"delayed": 0, "immediate": 0})
	c.expectSeq("immediate", 0, 1, 2, 1, 0)
	c.expectSeq("delayed", 0, 1, 0)
}

// TestProcessTrackerTerminateDelay restarts a process within
// terminate_delay: no change is reported.
func TestProcessTrackerTerminateDelay(t *testing.T) {
	dir := t.TempDir()
	exe := copyExe(t, "/bin/sleep", dir, "vgtermdelay")
	c := newCounts(t)
	p, err := TrackProcesses(ProcessOptions{Out: c.ch, Processes: []conf.TrackProcess{
		{Name: "delayed", Process: "vgtermdelay", TerminateDelay: conf.Duration(time.Hour)},
		{Name: "immediate", Process: "vgtermdelay"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c.until(map[string]int{"delayed": 0, "immediate": 0})
	p1 := start(t, exe, "300")
	c.until(map[string]int{"delayed": 1, "immediate": 1})
	stop(p1)
	c.until(map[string]int{"immediate": 0})
	start(t, exe, "300")
	c.until(map[string]int{"immediate": 1})
	// The restart cancelled the pending terminate delay in the same step
	// that reported "immediate", whose event is later in the channel.
	c.expectSeq("delayed", 0, 1)
	c.expectSeq("immediate", 0, 1, 0, 1)
}

func TestProcessTrackerScanFallback(t *testing.T) {
	dir := t.TempDir()
	exe := copyExe(t, "/bin/sleep", dir, "vgscanproc")
	c := newCounts(t)
	p, err := TrackProcesses(ProcessOptions{
		Out: c.ch, NoConnector: true, ScanInterval: 20 * time.Millisecond,
		Processes: []conf.TrackProcess{{Name: "scan", Process: "vgscanproc"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.UsingConnector() {
		t.Fatal("connector in use despite NoConnector")
	}
	c.until(map[string]int{"scan": 0})
	p1 := start(t, exe, "300")
	c.until(map[string]int{"scan": 1})
	p2 := start(t, exe, "300")
	c.until(map[string]int{"scan": 2})
	stop(p1)
	stop(p2)
	c.until(map[string]int{"scan": 0})
}
