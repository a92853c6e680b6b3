package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Cgroup is a control group a test creates for one controller ("pids" or
// "memory") to limit a daemon and what it starts, as a systemd unit's
// TasksMax or MemoryMax would. It works on the unified hierarchy (cgroup
// v2, when the controller is enabled at its root) and on a v1 hierarchy
// of that controller otherwise. It is removed by exact name at cleanup,
// after killing whatever is still in it (processes the test started).
type Cgroup struct {
	// Dir is the cgroup's directory; V2 tells which hierarchy it is in.
	Dir string
	V2  bool
	// Controller is "pids" or "memory".
	Controller string
}

// NewCgroup creates a cgroup for controller, named after the test
// process, or skips the test with the reason when the host has no
// writable hierarchy for it.
func NewCgroup(t testing.TB, controller string) *Cgroup {
	t.Helper()
	Require(t)
	name := fmt.Sprintf("vgtest-%d-%d-%s", os.Getpid(), labSeq.Add(1), controller)
	var c *Cgroup
	if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control"); err == nil && hasWord(string(b), controller) {
		c = &Cgroup{Dir: filepath.Join("/sys/fs/cgroup", name), V2: true, Controller: controller}
	} else if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", controller, "cgroup.procs")); err == nil {
		c = &Cgroup{Dir: filepath.Join("/sys/fs/cgroup", controller, name), Controller: controller}
	} else {
		t.Skipf("lab: no cgroup hierarchy with the %s controller (neither cgroup v2 with it enabled at /sys/fs/cgroup nor v1 /sys/fs/cgroup/%s)", controller, controller)
	}
	if err := os.Mkdir(c.Dir, 0o755); err != nil {
		t.Skipf("lab: cannot create a cgroup: %v", err)
	}
	t.Cleanup(c.remove)
	return c
}

func hasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

// file maps a v2 interface file name to the hierarchy's own.
func (c *Cgroup) file(name string) string {
	if !c.V2 {
		switch name {
		case "memory.max":
			name = "memory.limit_in_bytes"
		case "memory.current":
			name = "memory.usage_in_bytes"
		case "memory.peak":
			name = "memory.max_usage_in_bytes"
		}
	}
	return filepath.Join(c.Dir, name)
}

// Set writes value to the interface file name, given by its v2 name
// (pids.max, memory.max).
func (c *Cgroup) Set(name, value string) error {
	if err := os.WriteFile(c.file(name), []byte(value), 0o644); err != nil {
		return fmt.Errorf("cgroup %s: set %s=%s: %w", c.Dir, name, value, err)
	}
	return nil
}

// Int reads an integer interface file (pids.current, memory.current,
// memory.peak), by its v2 name; -1 when unreadable.
func (c *Cgroup) Int(name string) int64 {
	b, err := os.ReadFile(c.file(name))
	if err != nil {
		return -1
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return -1
	}
	return v
}

// Add moves process pid (all its threads) into the cgroup; what it forks
// later is born there.
func (c *Cgroup) Add(pid int) error {
	if err := os.WriteFile(filepath.Join(c.Dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("cgroup %s: add %d: %w", c.Dir, pid, err)
	}
	return nil
}

// Procs lists the processes in the cgroup.
func (c *Cgroup) Procs() []int {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "cgroup.procs"))
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if v, err := strconv.Atoi(f); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// remove kills what is left in the cgroup and removes it.
func (c *Cgroup) remove() {
	var err error
	for i := 0; i < 50; i++ {
		for _, pid := range c.Procs() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if err = os.Remove(c.Dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "lab: cgroup %s not removed: %v\n", c.Dir, err)
}
