package script

import (
	"bytes"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/vigil-ha/vigil/events/conf"
)

func TestLookupIdentity(t *testing.T) {
	id, err := LookupIdentity("nobody", "")
	if err != nil {
		t.Fatal(err)
	}
	if id.UID != 65534 || id.GID != 65534 || !slices.Equal(id.Groups, []uint32{65534}) {
		t.Errorf("nobody = %+v, want 65534:65534 with only its own group", id)
	}
	id, err = LookupIdentity("nobody", "root")
	if err != nil || id.UID != 65534 || id.GID != 0 || !slices.Equal(id.Groups, []uint32{0}) {
		t.Errorf("nobody root = %+v, %v; want 65534:0", id, err)
	}
	// ":" asks for the user's supplementary groups, keeping its own group.
	id, err = LookupIdentity("nobody", ":")
	if err != nil || id.GID != 65534 || !slices.Contains(id.Groups, 65534) {
		t.Errorf("nobody : = %+v, %v", id, err)
	}
	if _, err := LookupIdentity("vigil-no-such-user", ""); err == nil {
		t.Error("unknown user accepted")
	}
	if _, err := LookupIdentity("nobody", "vigil-no-such-group"); err == nil {
		t.Error("unknown group accepted")
	}
}

func TestDefaultIdentity(t *testing.T) {
	if _, err := user.Lookup(DefaultScriptUser); err == nil {
		t.Skip(DefaultScriptUser + " exists on this host")
	}
	if id, err := DefaultIdentity("", "", false); err != nil || id.UID != uint32(os.Geteuid()) {
		t.Errorf("no script_user, no security: %+v, %v; want vigil's own uid", id, err)
	}
	// keepalived refuses to fall back to its own (root) identity when
	// enable_script_security is set.
	if _, err := DefaultIdentity("", "", true); err == nil {
		t.Error("fell back to vigil's identity with enable_script_security")
	}
	if id, err := DefaultIdentity("nobody", "", true); err != nil || id.UID != 65534 {
		t.Errorf("script_user nobody: %+v, %v", id, err)
	}
}

func TestNotifyFIFOOwnedByItsUser(t *testing.T) {
	requireRoot(t)
	path := filepath.Join(openDir(t), "owned.fifo")
	x, err := New(Options{NotifyFIFO: &conf.NotifyFIFO{Path: path, User: "nobody"}})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil || st.Uid != 65534 || st.Gid != 65534 {
		t.Errorf("FIFO owner %d:%d (%v), want 65534:65534", st.Uid, st.Gid, err)
	}
	// Reopening a FIFO owned by its configured user is accepted.
	y, err := New(Options{NotifyFIFO: &conf.NotifyFIFO{Path: path, User: "nobody"}})
	if err != nil {
		t.Errorf("existing FIFO of the configured user refused: %v", err)
	}
	y.Close()
	// But not by anyone else's configuration.
	z, err := New(Options{NotifyFIFO: &conf.NotifyFIFO{Path: path}})
	if err == nil {
		t.Error("FIFO owned by another user accepted")
	}
	z.Close()
}

// A script with no user, and no script_user, runs as vigil when
// keepalived_script does not exist, and keepalived's warning is logged
// once however many scripts run.
func TestDefaultUserFallbackWarnsOnce(t *testing.T) {
	if _, err := user.Lookup(DefaultScriptUser); err == nil {
		t.Skip(DefaultScriptUser + " exists on this host")
	}
	var buf syncBuffer
	x, err := New(Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for range 3 {
		if id, err := x.identity("", ""); err != nil || id.UID != uint32(os.Geteuid()) {
			t.Fatalf("identity %+v, %v; want vigil's own", id, err)
		}
	}
	if n := strings.Count(buf.String(), "default user '"+DefaultScriptUser+"'"); n != 1 {
		t.Fatalf("warning logged %d times:\n%s", n, buf.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
