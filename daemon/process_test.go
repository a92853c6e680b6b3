package daemon

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// The process settings are checked in a child process (this test binary
// run again as a helper), never in the test process itself: a real-time
// thread or mlockall must not outlive the daemon that asked for them.

const processHelperEnv = "VIGIL_PROCESS_HELPER"

// TestProcessHelper is the child: with VIGIL_PROCESS_HELPER=FILE it runs
// the daemon on FILE (no VRRP socket, no IPVS: only the configuration's
// process settings and startup script act), prints READY once started
// and stops at SIGTERM.
func TestProcessHelper(t *testing.T) {
	file := os.Getenv(processHelperEnv)
	if file == "" {
		t.Skip("the child process of TestProcessSettings* (needs " + processHelperEnv + ")")
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM)
	lg, err := NewLogging(LogOptions{Console: true, NoSyslog: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	err = Run(context.Background(), Options{ConfigFile: file, NoVRRP: true, NoLVS: true, Log: lg, Signals: sigs,
		UmaskFromCommandLine: os.Getenv(processHelperEnv+"_UMASK") != "",
		Ready:                func() { fmt.Println("READY") }})
	if err != nil {
		t.Fatal(err)
	}
}

// daemonChild runs the helper on text; it returns the child's pid once the
// daemon is ready and stops it at cleanup.
func daemonChild(t *testing.T, text string, env ...string) int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: real-time scheduling, mlockall and nice values below 0 (run the test as root)")
	}
	file := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcessHelper$", "-test.v")
	cmd.Env = append(append(os.Environ(), processHelperEnv+"="+file), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if !ok && sc.Text() == "READY" {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("daemon child: %v", err)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("daemon child did not stop at SIGTERM")
		}
	})
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("the daemon child ended before it was ready")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the daemon child is not ready after 20s")
	}
	return cmd.Process.Pid
}

// taskStat is what /proc/PID/task/TID/stat says of a thread.
type taskStat struct {
	tid, nice, rtPriority, policy int
}

// tasks reads every thread of pid.
func tasks(t *testing.T, pid int) []taskStat {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []taskStat
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "stat"))
		if err != nil {
			continue // the thread ended
		}
		// Fields after the command's ")": state is field 3, nice 19,
		// rt_priority 40, policy 41 (proc(5)).
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		num := func(field int) int {
			v, err := strconv.Atoi(f[field-3])
			if err != nil {
				t.Fatalf("%s/stat field %d: %v", e.Name(), field, err)
			}
			return v
		}
		tid, _ := strconv.Atoi(e.Name())
		out = append(out, taskStat{tid: tid, nice: num(19), rtPriority: num(40), policy: num(41)})
	}
	return out
}

// statusField returns a line's value from /proc/PID/status.
func statusField(t *testing.T, pid int, name string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == name {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, name)
	return ""
}

// rttimeLimits returns the soft and hard "Max realtime timeout" of pid.
func rttimeLimits(t *testing.T, pid int) (string, string) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Max realtime timeout") {
			f := strings.Fields(strings.TrimPrefix(l, "Max realtime timeout"))
			return f[0], f[1]
		}
	}
	t.Fatal("no Max realtime timeout line")
	return "", ""
}

// waitFile waits for path to exist.
func waitFile(t *testing.T, path string) os.FileInfo {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if fi, err := os.Stat(path); err == nil {
			return fi
		}
	}
	t.Fatalf("%s was not created", path)
	return nil
}

// TestProcessSettingsRealtime: vrrp_rt_priority makes the engine's thread,
// and it alone, SCHED_RR at that priority with vrrp_rlimit_rttime's
// RLIMIT_RTTIME (soft half of hard, as keepalived); vrrp_cpu_affinity
// binds that thread; vrrp_no_swap locks the process in memory; umask is
// the process's, which the files it creates (here by its startup
// script) get. vrrp_priority is ignored with a real-time priority, as in
// keepalived.
func TestProcessSettingsRealtime(t *testing.T) {
	var mine unix.CPUSet
	if err := unix.SchedGetaffinity(0, &mine); err != nil {
		t.Fatal(err)
	}
	cpu := -1
	for c := 0; c < 1024; c++ {
		if mine.IsSet(c) {
			cpu = c
		}
	}
	dir := t.TempDir()
	created := filepath.Join(dir, "created")
	pid := daemonChild(t, fmt.Sprintf(`global_defs {
	vrrp_priority -7
	vrrp_rt_priority 7
	vrrp_rlimit_rttime 40000
	vrrp_no_swap
	vrrp_cpu_affinity %d
	umask IWGRP | IROTH|IWOTH |IXOTH
	startup_script "/usr/bin/touch %s"
}
`, cpu, created))

	myNice := tasks(t, os.Getpid())[0].nice
	var rr []taskStat
	ts := tasks(t, pid)
	for _, x := range ts {
		if x.policy == unix.SCHED_RR {
			rr = append(rr, x)
		} else if x.policy != unix.SCHED_NORMAL {
			t.Errorf("thread %d: policy %d", x.tid, x.policy)
		}
		if x.policy != unix.SCHED_RR && x.nice != myNice {
			t.Errorf("thread %d: nice %d, want %d, the test's (vrrp_priority is ignored with vrrp_rt_priority)", x.tid, x.nice, myNice)
		}
	}
	if len(rr) != 1 {
		t.Fatalf("%d SCHED_RR threads among %d, want 1 (the engine's): %+v", len(rr), len(ts), ts)
	}
	if rr[0].rtPriority != 7 {
		t.Errorf("engine thread rt_priority %d, want 7", rr[0].rtPriority)
	}
	// SCHED_RESET_ON_FORK: sched_getscheduler reports the flag.
	pol, _, e := unix.RawSyscall(unix.SYS_SCHED_GETSCHEDULER, uintptr(rr[0].tid), 0, 0)
	if e != 0 || pol != unix.SCHED_RR|unix.SCHED_RESET_ON_FORK {
		t.Errorf("sched_getscheduler(%d) = %#x, %v; want SCHED_RR|SCHED_RESET_ON_FORK", rr[0].tid, pol, e)
	}
	if soft, hard := rttimeLimits(t, pid); soft != "20000" || hard != "40000" {
		t.Errorf("RLIMIT_RTTIME %s/%s, want 20000/40000", soft, hard)
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(rr[0].tid, &set); err != nil {
		t.Fatal(err)
	}
	if set.Count() != 1 || !set.IsSet(cpu) {
		t.Errorf("engine thread affinity: %d CPUs, CPU %d set: %v; want CPU %d only", set.Count(), cpu, set.IsSet(cpu), cpu)
	}
	for _, x := range ts {
		if x.tid == rr[0].tid {
			continue
		}
		var other unix.CPUSet
		if unix.SchedGetaffinity(x.tid, &other) == nil && other != mine {
			t.Errorf("thread %d: affinity changed (%d CPUs); only the engine's thread is bound", x.tid, other.Count())
		}
	}
	if v := statusField(t, pid, "VmLck"); v == "0 kB" {
		t.Errorf("VmLck %s: the process is not locked in memory", v)
	}
	if v := statusField(t, pid, "Umask"); v != "0027" {
		t.Errorf("umask %s, want 0027", v)
	}
	if m := waitFile(t, created).Mode().Perm(); m != 0o640 {
		t.Errorf("a file the daemon's startup script created has mode %o, want 640 (umask 027)", m)
	}
}

// TestProcessSettingsNice: vrrp_priority is the nice value of every
// thread of the process; without vrrp_no_swap nothing is locked, without
// vrrp_rt_priority no thread is real-time; -u/--umask wins over the
// configuration's umask.
func TestProcessSettingsNice(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	pid := daemonChild(t, "global_defs {\n\tvrrp_priority -5\n\tumask 0077\n}\n", processHelperEnv+"_UMASK=1")
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); f[19-3] != "-5" {
		t.Errorf("/proc/%d/stat nice %s, want -5", pid, f[19-3])
	}
	for _, x := range tasks(t, pid) {
		if x.nice != -5 || x.policy != unix.SCHED_NORMAL {
			t.Errorf("thread %d: nice %d policy %d, want -5 and SCHED_OTHER", x.tid, x.nice, x.policy)
		}
	}
	if v := statusField(t, pid, "VmLck"); v != "0 kB" {
		t.Errorf("VmLck %s without vrrp_no_swap", v)
	}
	if v := statusField(t, pid, "Umask"); v != "0022" {
		t.Errorf("umask %s, want the command line's 0022 (the configuration's is ignored)", v)
	}
}

// TestProcessSettingsAutoPriority: with max_auto_priority, each timer the
// engine runs later than min_auto_priority_delay raises its thread to
// SCHED_RR, one priority at a time up to max_auto_priority, with
// RLIMIT_RTTIME set (keepalived's increment_process_priority). Run in the
// child: the settings apply to the thread that runs them.
func TestProcessSettingsAutoPriority(t *testing.T) {
	if os.Getenv(processHelperEnv+"_AUTO") != "" {
		autoPriorityChild(t)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: real-time scheduling (run the test as root)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcessSettingsAutoPriority$", "-test.v")
	cmd.Env = append(os.Environ(), processHelperEnv+"_AUTO=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, want := range []string{"after 1 late timer(s): policy 0x40000002 priority 1",
		"after 3 late timer(s): policy 0x40000002 priority 2", "RLIMIT_RTTIME 5000/10000"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
}

// autoPriorityChild drives processSettings on a locked thread.
func autoPriorityChild(t *testing.T) {
	runtime.LockOSThread() // never unlocked: the thread ends with the test
	log := zerolog.New(os.Stdout)
	p := newProcessSettings(&log, false)
	p.apply(&conf.GlobalDefs{MaxAutoPriority: 2, MinAutoPriorityDelay: conf.Duration(time.Millisecond)}, true)
	report := func(n int) {
		pol, _, _ := unix.RawSyscall(unix.SYS_SCHED_GETSCHEDULER, 0, 0, 0)
		var param struct{ priority int32 }
		unix.RawSyscall(unix.SYS_SCHED_GETPARAM, 0, uintptr(unsafe.Pointer(&param)), 0)
		fmt.Printf("after %d late timer(s): policy %#x priority %d\n", n, pol, param.priority)
	}
	p.late(time.Millisecond) // not later than the delay
	report(0)
	p.late(2 * time.Millisecond)
	report(1)
	p.late(2 * time.Millisecond)
	p.late(2 * time.Millisecond) // max_auto_priority reached
	report(3)
	var lim unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_RTTIME, &lim)
	fmt.Printf("RLIMIT_RTTIME %d/%d\n", lim.Cur, lim.Max)
}

// TestLoopLate: the loop tells Late how long each timer waited between
// the clock's stamp and the loop taking it.
func TestLoopLate(t *testing.T) {
	now := events.Time(5 * time.Second)
	timers := make(chan *events.TimerFired, 1)
	var got []time.Duration
	ctx, cancel := context.WithCancel(context.Background())
	l := &Loop{Engine: engine.New(), Log: zerolog.Nop(), Now: func() events.Time { return now }, Timers: timers}
	l.Late = func(d time.Duration) {
		got = append(got, d)
		cancel()
	}
	timers <- &events.TimerFired{Header: events.Header{At: now - events.Time(1500*time.Millisecond)}, Key: "x"}
	l.Run(ctx)
	if len(got) != 1 || got[0] != 1500*time.Millisecond {
		t.Errorf("Late got %v, want [1.5s]", got)
	}
}

// TestProcessSettingsCheckerNoSwap: checker_no_swap locks the process in
// memory (vigil's checkers run in it), with no thread made real-time.
func TestProcessSettingsCheckerNoSwap(t *testing.T) {
	pid := daemonChild(t, "global_defs {\n\tchecker_no_swap\n}\n")
	if v := statusField(t, pid, "VmLck"); v == "0 kB" {
		t.Errorf("VmLck %s: the process is not locked in memory", v)
	}
	for _, x := range tasks(t, pid) {
		if x.policy != unix.SCHED_NORMAL {
			t.Errorf("thread %d: policy %d", x.tid, x.policy)
		}
	}
}
