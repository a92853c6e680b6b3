package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Default pid files, keepalived's: the main process, the VRRP process and
// the checkers process. vigil is one process, so it writes its own pid to
// the main file and to the file of each subsystem it runs, and tools that
// signal "the VRRP process" find it.
const (
	DefaultPIDFile         = "/run/keepalived.pid"
	DefaultVRRPPIDFile     = "/run/vrrp.pid"
	DefaultCheckersPIDFile = "/run/checkers.pid"
)

// ErrRunning: a pid file names a live process other than this one.
var ErrRunning = errors.New("daemon is already running")

// WritePIDFile writes the current pid to path, refusing (ErrRunning) when
// the file names another live process, as keepalived refuses to start
// twice. A stale file (its process is gone) is replaced.
func WritePIDFile(path string) error {
	if pid, ok := ReadPIDFile(path); ok && pid != os.Getpid() && alive(pid) {
		return fmt.Errorf("%s: pid %d: %w", path, pid, ErrRunning)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	// Write then rename, so a reader never sees a half-written file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pid file: %w", err)
	}
	return nil
}

// ReadPIDFile returns the pid stored in path.
func ReadPIDFile(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// RemovePIDFile removes path if it still holds our pid (a successor may
// already have replaced it).
func RemovePIDFile(path string) {
	if pid, ok := ReadPIDFile(path); ok && pid == os.Getpid() {
		os.Remove(path)
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
