package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestPIDFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "vrrp.pid")
	if err := WritePIDFile(p); err != nil {
		t.Fatal(err)
	}
	if pid, ok := ReadPIDFile(p); !ok || pid != os.Getpid() {
		t.Fatalf("read %d %v", pid, ok)
	}
	// Our own pid again is fine (a restart under the same pid).
	if err := WritePIDFile(p); err != nil {
		t.Fatal(err)
	}
	// A live other process (our parent) is "already running".
	os.WriteFile(p, []byte(strconv.Itoa(os.Getppid())+"\n"), 0o644)
	if err := WritePIDFile(p); !errors.Is(err, ErrRunning) {
		t.Fatalf("got %v, want ErrRunning", err)
	}
	// RemovePIDFile leaves another process's file alone.
	RemovePIDFile(p)
	if _, err := os.Stat(p); err != nil {
		t.Fatal("removed another process's pid file")
	}
	// A stale file (no such process) is replaced.
	os.WriteFile(p, []byte("999999999\n"), 0o644)
	if err := WritePIDFile(p); err != nil {
		t.Fatalf("stale pid file: %v", err)
	}
	RemovePIDFile(p)
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatal("own pid file not removed")
	}
}

func TestLoadConfigDigest(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "keepalived.conf")
	inc := filepath.Join(dir, "inc.conf")
	os.WriteFile(main, []byte("include "+inc+"\n"), 0o644)
	os.WriteFile(inc, []byte(sprintf(testConf, "10.77.0.100/24")), 0o644)
	a, _, err := LoadConfig(main, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Config.Instances) != 1 {
		t.Fatalf("instances %d", len(a.Config.Instances))
	}
	// Changing an included file changes the digest.
	os.WriteFile(inc, []byte(sprintf(testConf, "10.77.0.101/24")), 0o644)
	b, _, err := LoadConfig(main, "")
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest == b.Digest || len(a.Digest) != 64 {
		t.Fatalf("digests %q %q", a.Digest, b.Digest)
	}
	if _, _, err := LoadConfig(filepath.Join(dir, "missing.conf"), ""); err == nil {
		t.Fatal("missing file loaded")
	}
}
