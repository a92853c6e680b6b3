package script

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events/conf"
)

// argvScript records its argv ($0 first), uid, gid and two environment
// variables, one per line, into the file named by its first argument.
const argvScript = `#!/bin/sh
out="$1"
{
  printf '%s\n' "$0" "$@"
  echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"
  echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH-unset} VIGIL_TEST_ENV=${VIGIL_TEST_ENV-unset}"
} > "$out.tmp" && mv "$out.tmp" "$out"
`

func TestNotifyRunsExactArgvAsNobody(t *testing.T) {
	requireRoot(t)
	dir := openDir(t)
	outDir := filepath.Join(dir, "out")
	if err := os.Mkdir(outDir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(outDir, 0o777)
	script := writeScript(t, dir, "notify.sh", argvScript, 0o755)
	t.Setenv("LD_LIBRARY_PATH", "/should/be/removed")
	t.Setenv("VIGIL_TEST_ENV", "kept")

	x, _ := newExecutor(t, Options{})
	backupOut, notifyOut := filepath.Join(outDir, "backup"), filepath.Join(outDir, "notify")
	x.Notify(&effects.Notify{
		Type: "INSTANCE", Name: "VI_1", State: "MASTER", Priority: 100,
		Scripts: [][]string{
			{script, backupOut, "two words"},
			// The engine appended INSTANCE VI_1 MASTER 100 to `notify`.
			{script, notifyOut, "x", "INSTANCE", "VI_1", "MASTER", "100"},
		},
		User: "nobody", FIFOLine: `INSTANCE "VI_1" MASTER 100`,
	})

	want := map[string][]string{
		backupOut: {script, backupOut, "two words"},
		notifyOut: {script, notifyOut, "x", "INSTANCE", "VI_1", "MASTER", "100"},
	}
	for out, argv := range want {
		lines := strings.Split(strings.TrimSuffix(string(waitFile(t, out)), "\n"), "\n")
		if got := lines[:len(lines)-2]; !slices.Equal(got, argv) {
			t.Errorf("argv = %q, want %q", got, argv)
		}
		// keepalived (2.2.7) runs the script as the user with the user's
		// group as its only group.
		if got, want := lines[len(lines)-2], "uid=65534 gid=65534 groups=65534"; got != want {
			t.Errorf("identity = %q, want %q", got, want)
		}
		if got, want := lines[len(lines)-1], "LD_LIBRARY_PATH=unset VIGIL_TEST_ENV=kept"; got != want {
			t.Errorf("environment = %q, want %q", got, want)
		}
	}
}

func TestNotifyKeepsInstanceOrder(t *testing.T) {
	dir := openDir(t)
	log := filepath.Join(dir, "log")
	// Each run takes a little while, so without ordering later states
	// would overtake earlier ones.
	script := writeScript(t, dir, "state.sh", `#!/bin/sh
case "$3" in BACKUP) sleep 0.3;; MASTER) sleep 0.1;; esac
echo "$2 $3" >> "$1"
`, 0o755)
	x, _ := newExecutor(t, Options{})
	for _, st := range []string{"BACKUP", "MASTER", "STOP"} {
		for _, name := range []string{"VI_1", "VI_2"} {
			x.Notify(&effects.Notify{Type: "INSTANCE", Name: name, State: st, Priority: 100,
				Scripts: [][]string{{script, log, name, st}}})
		}
	}
	lines := waitLines(t, log, 6)
	for _, name := range []string{"VI_1", "VI_2"} {
		var got []string
		for _, l := range lines {
			if n, st, _ := strings.Cut(l, " "); n == name {
				got = append(got, st)
			}
		}
		if want := []string{"BACKUP", "MASTER", "STOP"}; !slices.Equal(got, want) {
			t.Errorf("%s states in order %q, want %q", name, got, want)
		}
	}
}

func TestNotifyFIFOLinesInOrderWithReaderScript(t *testing.T) {
	dir := openDir(t)
	out := filepath.Join(dir, "received")
	reader := writeScript(t, dir, "reader.sh", `#!/bin/sh
# keepalived passes the FIFO path as the last argument.
echo "$1 $2" > "`+out+`.args"
exec cat "$2" > "`+out+`"
`, 0o755)
	vrrpPath := filepath.Join(dir, "vrrp.fifo")
	globalPath := filepath.Join(dir, "global.fifo")
	x, _ := newExecutor(t, Options{
		VRRPNotifyFIFO: &conf.NotifyFIFO{Path: vrrpPath, Script: &conf.Script{Argv: []string{reader, "first"}}},
		NotifyFIFO:     &conf.NotifyFIFO{Path: globalPath},
	})
	for _, p := range []string{vrrpPath, globalPath} {
		st, err := os.Stat(p)
		if err != nil || st.Mode()&os.ModeNamedPipe == 0 || st.Mode().Perm() != 0o644 {
			t.Fatalf("%s: want a 0644 FIFO, have %v, %v", p, st, err)
		}
	}
	want := []string{`INSTANCE "VI_1" BACKUP 100`, `INSTANCE "VI_1" MASTER 100`, `GROUP "G1" MASTER 0`, `INSTANCE "VI_1" STOP 100`}
	for _, l := range want {
		ty, _, _ := strings.Cut(l, " ")
		x.Notify(&effects.Notify{Type: ty, FIFOLine: l})
	}
	// An LVS line goes to notify_fifo and lvs_notify_fifo, not to the
	// VRRP FIFO.
	x.Notify(&effects.Notify{Type: "RS", FIFOLine: "RS [10.0.0.2]:tcp:80 [10.0.0.1]:tcp:80 UP"})

	if got := waitLines(t, out, len(want)); !slices.Equal(got, want) {
		t.Errorf("FIFO lines = %q, want %q", got, want)
	}
	if got := strings.TrimSpace(string(waitFile(t, out+".args"))); got != "first "+vrrpPath {
		t.Errorf("reader args = %q, want %q", got, "first "+vrrpPath)
	}
	// The global FIFO has no reader: read what it holds.
	fd, err := syscall.Open(globalPath, syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, _ := syscall.Read(fd, buf)
	syscall.Close(fd)
	wantGlobal := strings.Join(want, "\n") + "\nRS [10.0.0.2]:tcp:80 [10.0.0.1]:tcp:80 UP\n"
	if got := string(buf[:max(n, 0)]); got != wantGlobal {
		t.Errorf("notify_fifo holds %q, want %q", got, wantGlobal)
	}

	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{vrrpPath, globalPath} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s: created FIFO not removed at Close (%v)", p, err)
		}
	}
}

func TestNotifyFIFOWithoutReaderNeverBlocks(t *testing.T) {
	dir := openDir(t)
	path := filepath.Join(dir, "noreader.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil { // pre-existing: kept at Close
		t.Fatal(err)
	}
	x, _ := newExecutor(t, Options{VRRPNotifyFIFO: &conf.NotifyFIFO{Path: path}})
	done := make(chan struct{})
	const n = 5000 // ~150 KB, well past a pipe's 64 KiB buffer
	go func() {
		defer close(done)
		for i := 0; i < n; i++ {
			x.Notify(&effects.Notify{Type: "INSTANCE", FIFOLine: `INSTANCE "VI_1" MASTER 100`})
		}
	}()
	select {
	case <-done:
	case <-time.After(hangBound):
		t.Fatal("Notify blocked on a FIFO without a reader")
	}
	if s := x.Stats(); s.FIFODropped == 0 || s.FIFODropped >= n {
		t.Errorf("FIFODropped = %d, want some but not all of %d", s.FIFODropped, n)
	}
	x.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("pre-existing FIFO removed: %v", err)
	}
}

func TestNotifyFIFORefusesPlantedFile(t *testing.T) {
	dir := openDir(t)
	path := filepath.Join(dir, "planted")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	x, err := New(Options{VRRPNotifyFIFO: &conf.NotifyFIFO{Path: path}})
	if err == nil || !strings.Contains(err.Error(), "not a FIFO") {
		t.Fatalf("New error = %v, want a 'not a FIFO' error", err)
	}
	defer x.Close()
	x.Notify(&effects.Notify{Type: "INSTANCE", FIFOLine: "INSTANCE \"VI_1\" MASTER 100"})
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Errorf("wrote %q into a regular file", b)
	}
}

func TestNotifyQueueOverflowDropsAndCounts(t *testing.T) {
	dir := openDir(t)
	release := filepath.Join(dir, "release")
	block := writeScript(t, dir, "block.sh", "#!/bin/sh\nwhile [ ! -e "+release+" ]; do sleep 0.02; done\n", 0o755)
	x, _ := newExecutor(t, Options{QueueLen: 2})
	// The first notification's script blocks the queue (the worker may
	// already hold the second while it waits); two more fill it; the rest
	// overflow.
	for i := 0; i < 6; i++ {
		x.Notify(&effects.Notify{Type: "INSTANCE", Name: "VI_1", Scripts: [][]string{{block}}})
	}
	deadline := time.Now().Add(hangBound)
	for x.Stats().NotifyDropped == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if d := x.Stats().NotifyDropped; d < 2 || d > 4 {
		t.Errorf("NotifyDropped = %d, want 2 to 4 of 6 with a queue of 2", d)
	}
	os.WriteFile(release, nil, 0o644)
}

// The notify scripts of the shutdown itself (notify_stop, notify ... STOP)
// are handed over just before Close: they must run to completion rather
// than be killed at once, as keepalived's do.
func TestCloseLetsShutdownNotifyScriptsFinish(t *testing.T) {
	dir := openDir(t)
	out := filepath.Join(dir, "stopped")
	script := writeScript(t, dir, "stop.sh", "#!/bin/sh\nsleep 0.3\necho \"$@\" > \""+out+"\"\n", 0o755)
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	x.Notify(&effects.Notify{Type: "INSTANCE", Name: "VI_1", State: "STOP", Priority: 100,
		Scripts: [][]string{{script, "INSTANCE", "VI_1", "STOP", "100"}}, FIFOLine: `INSTANCE "VI_1" STOP 100`})
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the STOP notify script did not complete before Close returned: %v", err)
	}
	if got := strings.TrimSpace(string(b)); got != "INSTANCE VI_1 STOP 100" {
		t.Errorf("script got %q", got)
	}
}
