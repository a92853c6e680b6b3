package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

// VigilBinary builds cmd/vigil once per test process (into a temporary
// directory that RemoveBuild deletes) and returns its path. When the
// environment names a prebuilt binary in VIGIL_BINARY, that one is used
// instead (to test a given build, e.g. another commit's).
func VigilBinary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("VIGIL_BINARY"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("lab: VIGIL_BINARY: %v", err)
		}
		return bin
	}
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		buildDir, buildErr = os.MkdirTemp("", "vigil-lab-bin-")
		if buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "vigil")
		cmd := exec.Command("go", "build", "-o", buildBin, "./cmd/vigil")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/vigil: %w: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("lab: %v", buildErr)
	}
	return buildBin
}

// RemoveBuild deletes the binary VigilBinary built (call it from TestMain).
func RemoveBuild() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the vigil module")
	}
	return filepath.Dir(mod), nil
}

// Proc is a daemon (vigil or keepalived) running in a node.
type Proc struct {
	// Name is "vigil" or "keepalived".
	Name string
	Node *Node
	// Dir holds its configuration, pid files, journal and log.
	Dir     string
	LogPath string
	// VRRPPIDFile is the VRRP process's pid file (keepalived's child).
	VRRPPIDFile string
	// ControlSocket is vigil's control socket (`vigil status --socket`),
	// in Dir; "" for keepalived, or a vigil that has none.
	ControlSocket string
	cmd           *exec.Cmd
	wrapper       []string // exec'd between ip netns exec and the daemon
	logf          *os.File
	done          chan struct{}
	waitErr       error
}

// StartVigil runs `vigil run -n -l -D -G` with the configuration text conf
// in the node, plus extra arguments, and stops it (SIGTERM, then SIGKILL)
// at cleanup.
func (n *Node) StartVigil(t testing.TB, conf string, extra ...string) *Proc {
	t.Helper()
	return n.StartVigilVia(t, nil, conf, extra...)
}

// StartVigilVia is StartVigil with the daemon run through wrapper, a
// command that ends by exec'ing its arguments (e.g. setpriv dropping a
// capability), so that the pid stays the daemon's.
func (n *Node) StartVigilVia(t testing.TB, wrapper []string, conf string, extra ...string) *Proc {
	t.Helper()
	bin := VigilBinary(t)
	p := n.newProc(t, "vigil", conf)
	args := []string{"run", "-n", "-l", "-D", "-G", "-f", filepath.Join(p.Dir, "keepalived.conf"),
		"-p", filepath.Join(p.Dir, "vigil.pid"), "-r", p.VRRPPIDFile, "--journal", filepath.Join(p.Dir, "journal")}
	// Each vigil gets its own control socket: the default path is shared
	// by every namespace of the host.
	if hasControlSocket(bin) && !slices.ContainsFunc(extra, func(a string) bool { return strings.HasPrefix(a, "--control-socket") }) {
		p.ControlSocket = filepath.Join(p.Dir, "vigil.ctl")
		args = append(args, "--control-socket", p.ControlSocket)
	}
	p.wrapper = wrapper
	p.start(t, bin, append(args, extra...))
	return p
}

var controlSocketSupport sync.Map // binary path → bool

// hasControlSocket reports whether the vigil binary knows
// --control-socket (a VIGIL_BINARY of an older commit does not).
func hasControlSocket(bin string) bool {
	if v, ok := controlSocketSupport.Load(bin); ok {
		return v.(bool)
	}
	out, _ := exec.Command(bin, "run", "--help").CombinedOutput()
	ok := bytes.Contains(out, []byte("--control-socket"))
	controlSocketSupport.Store(bin, ok)
	return ok
}

// Status runs `vigil status ARGS...` against the daemon's control socket
// and returns its output.
func (p *Proc) Status(t testing.TB, args ...string) (string, error) {
	t.Helper()
	if p.ControlSocket == "" {
		t.Fatalf("lab: %s has no control socket", p.Name)
	}
	bin := VigilBinary(t)
	out, err := exec.Command(bin, append([]string{"status", "--socket", p.ControlSocket}, args...)...).CombinedOutput()
	return string(out), err
}

// StartKeepalived runs Debian's keepalived in the node in the foreground,
// VRRP only, logging to the console only (-G: no syslog, which here would
// fall back to a blocking /dev/console), with its own pid files.
func (n *Node) StartKeepalived(t testing.TB, conf string, extra ...string) *Proc {
	t.Helper()
	return n.StartKeepalivedVia(t, nil, conf, extra...)
}

// StartKeepalivedVia is StartKeepalived through wrapper (see StartVigilVia).
func (n *Node) StartKeepalivedVia(t testing.TB, wrapper []string, conf string, extra ...string) *Proc {
	t.Helper()
	bin, err := exec.LookPath("keepalived")
	if err != nil {
		t.Skip("lab: keepalived not installed")
	}
	p := n.newProc(t, "keepalived", conf)
	args := []string{"-n", "-l", "-D", "-G", "-P", "-f", filepath.Join(p.Dir, "keepalived.conf"),
		"-p", filepath.Join(p.Dir, "keepalived.pid"), "-r", p.VRRPPIDFile, "-c", filepath.Join(p.Dir, "checkers.pid")}
	p.wrapper = wrapper
	p.start(t, bin, append(args, extra...))
	return p
}

func (n *Node) newProc(t testing.TB, name, conf string) *Proc {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keepalived.conf"), []byte(conf), 0o644); err != nil {
		t.Fatalf("lab: %v", err)
	}
	return &Proc{Name: name, Node: n, Dir: dir, LogPath: filepath.Join(dir, name+".log"), VRRPPIDFile: filepath.Join(dir, "vrrp.pid")}
}

func (p *Proc) start(t testing.TB, bin string, args []string) {
	t.Helper()
	f, err := os.Create(p.LogPath)
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	p.logf = f
	// ip netns exec execs the program: the pid is the daemon's own.
	argv := append(append(append([]string{"netns", "exec", p.Node.NS}, p.wrapper...), bin), args...)
	p.cmd = exec.Command("ip", argv...)
	if cg := p.Node.Cgroup; cg != nil {
		// The shell joins the cgroup and execs: the daemon is born in
		// it, and so is everything it forks (keepalived's children too).
		p.cmd = exec.Command("/bin/sh", append([]string{"-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, cg.Dir}, p.cmd.Args...)...)
	}
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.Dir = p.Dir
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("lab: start %s: %v", p.Name, err)
	}
	p.done = make(chan struct{})
	go func() {
		p.waitErr = p.cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.Exited() {
			p.Stop(10 * time.Second)
		}
		p.killChild()
		if t.Failed() {
			if n := p.Node.lab.LogTail; n > 0 {
				t.Logf("%s log, last %d lines (%s, node %s):\n%s", p.Name, n, p.LogPath, p.Node.NS, p.LogTail(n))
			} else {
				t.Logf("%s log (%s, node %s):\n%s", p.Name, p.LogPath, p.Node.NS, p.Log())
			}
		}
	})
}

// Pid is the daemon's (main process's) pid.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// VRRPPid is the pid of the process that runs VRRP: vigil's own, or
// keepalived's VRRP child (0 if its pid file is not there yet).
func (p *Proc) VRRPPid() int {
	b, err := os.ReadFile(p.VRRPPIDFile)
	if err != nil {
		return 0
	}
	var pid int
	fmt.Sscan(string(b), &pid)
	return pid
}

// Signal sends sig to the daemon's main process.
func (p *Proc) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// Exited reports whether the main process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits up to timeout for the main process to exit.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.waitErr
	case <-time.After(timeout):
		return fmt.Errorf("%s still running after %v", p.Name, timeout)
	}
}

// Stop is a graceful stop: SIGTERM, then SIGKILL if it has not exited
// within timeout.
func (p *Proc) Stop(timeout time.Duration) error {
	if p.Exited() {
		return p.waitErr
	}
	p.Signal(syscall.SIGTERM)
	if err := p.Wait(timeout); err == nil || p.Exited() {
		return err
	}
	p.Signal(syscall.SIGKILL)
	return p.Wait(5 * time.Second)
}

// Crash kills the daemon with SIGKILL, as a crash would: for keepalived the
// VRRP child first (killing only its parent is not a crash: the child then
// shuts down gracefully).
func (p *Proc) Crash() {
	p.killChild()
	p.Signal(syscall.SIGKILL)
	p.Wait(5 * time.Second)
}

// killChild SIGKILLs keepalived's VRRP child if it is still running.
func (p *Proc) killChild() {
	if p.Name != "keepalived" {
		return
	}
	pid := p.VRRPPid()
	if pid <= 0 || pid == p.Pid() {
		return
	}
	// The pid file may be stale and the pid reused: kill only a keepalived.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte("keepalived")) {
		return
	}
	syscall.Kill(pid, syscall.SIGKILL)
}

// Log returns what the daemon has logged so far.
func (p *Proc) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// LogTail returns the last n lines the daemon has logged.
func (p *Proc) LogTail(n int) string {
	lines := strings.SplitAfter(p.Log(), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// LogContains reports whether the log holds s.
func (p *Proc) LogContains(s string) bool { return strings.Contains(p.Log(), s) }
