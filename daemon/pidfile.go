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

// PIDDir is keepalived's directory of pid files, used with use_pid_dir
// and instance.
const PIDDir = "/run/keepalived"

// PIDFiles returns the default main and VRRP pid files for the
// configuration's `instance` and `use_pid_dir` settings, named as
// keepalived names them: DefaultPIDFile and DefaultVRRPPIDFile without
// either; keepalived.pid and vrrp.pid in PIDDir with use_pid_dir; and
// keepalived_NAME.pid and vrrp_NAME.pid in PIDDir with instance NAME
// (which implies the directory), so that several daemons can run side by
// side.
func PIDFiles(instance string, usePIDDir bool) (main, vrrp string) {
	if instance == "" && !usePIDDir {
		return DefaultPIDFile, DefaultVRRPPIDFile
	}
	suffix := ""
	if instance != "" {
		suffix = "_" + instance
	}
	return filepath.Join(PIDDir, "keepalived"+suffix+".pid"), filepath.Join(PIDDir, "vrrp"+suffix+".pid")
}

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
