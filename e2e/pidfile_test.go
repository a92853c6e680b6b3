package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// TestPIDFilesInstance: with `instance NAME` (and with use_pid_dir) in the
// configuration and no -p/-r, vigil writes its pid files where keepalived
// writes them — /run/keepalived/keepalived_NAME.pid and vrrp_NAME.pid —
// holding its pid, and removes them when it stops. keepalived runs the same
// configuration first and the file names are compared. The instance name
// is unique to the test run, so nothing else's pid files are touched.
func TestPIDFilesInstance(t *testing.T) {
	lab.Require(t, "keepalived")
	l := lab.New(t, 1)
	n := l.Nodes[0]
	name := fmt.Sprintf("vge2e%d", os.Getpid())
	base := conf("pid", instance{Priority: 100, VIPs: []string{vip4}})
	cfg := strings.Replace(base, "global_defs {", "instance "+name+"\nglobal_defs {", 1)
	dir := t.TempDir()
	path := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	files := func() []string {
		m, _ := filepath.Glob("/run/keepalived/*_" + name + ".pid")
		slices.Sort(m)
		return m
	}
	t.Cleanup(func() {
		for _, f := range files() {
			os.Remove(f)
		}
	})
	run := func(who string, args ...string) []string {
		t.Helper()
		cmd := exec.Command("ip", append([]string{"netns", "exec", n.NS}, args...)...)
		out, err := os.Create(filepath.Join(dir, who+".log"))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var got []string
		lab.WaitFor(20*time.Second, func() bool { got = files(); return len(got) >= 2 })
		if who == "vigil" {
			for _, f := range got {
				b, _ := os.ReadFile(f)
				if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid != cmd.Process.Pid {
					t.Errorf("%s holds %q, want vigil's pid %d", f, b, cmd.Process.Pid)
				}
			}
		}
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		lab.WaitFor(10*time.Second, func() bool { return len(files()) == 0 })
		if left := files(); len(left) > 0 {
			t.Errorf("%s left %v behind", who, left)
		}
		if len(got) < 2 {
			log, _ := os.ReadFile(filepath.Join(dir, who+".log"))
			t.Fatalf("%s wrote pid files %v, want the main and VRRP ones; log:\n%s", who, got, log)
		}
		return got
	}
	k := run("keepalived", "keepalived", "-n", "-l", "-f", path)
	bin := lab.VigilBinary(t)
	v := run("vigil", bin, "run", "-n", "-l", "-f", path, "--journal", filepath.Join(dir, "journal"), "--control-socket", filepath.Join(dir, "ctl"))
	want := []string{"/run/keepalived/keepalived_" + name + ".pid", "/run/keepalived/vrrp_" + name + ".pid"}
	if !slices.Equal(k, want) {
		t.Errorf("keepalived wrote %v, want %v", k, want)
	}
	if !slices.Equal(v, want) {
		t.Errorf("vigil wrote %v, want %v (keepalived's)", v, want)
	}
}
