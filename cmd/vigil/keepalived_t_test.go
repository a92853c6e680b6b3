package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

const checkHelperEnv = "VIGIL_CHECK_HELPER_ARGS"

// TestCheckHelper is a child of TestCheckAgreesWithKeepalived: it runs
// vigil with the arguments (separated by US, 0x1f) in VIGIL_CHECK_HELPER_ARGS (in
// the test's network namespace) and exits with vigil's status.
func TestCheckHelper(t *testing.T) {
	args := os.Getenv(checkHelperEnv)
	if args == "" {
		t.Skip("the child process of TestCheckAgreesWithKeepalived (needs " + checkHelperEnv + ")")
	}
	os.Exit(realMain(strings.Split(args, "\x1f"), io.Discard, io.Discard))
}

// keepalivedTDisagrees lists the files on which `keepalived -t` and vigil
// may disagree, with the reason.
var keepalivedTDisagrees = map[string]string{
	"testdata/config/lvs.conf": "keepalived 2.2.7 -t kills itself (SIGTERM, status 143) when it checks a script run as " +
		"another user (MISC_CHECK user nobody): check_script_secure compares getppid() with main_pid, which -t never sets",
	"testdata/config/vrrp.conf": "keepalived 2.2.7 -t kills itself (SIGTERM, status 143) when it checks a script run as " +
		"another user (script_user nobody): check_script_secure compares getppid() with main_pid, which -t never sets",
}

// TestCheckAgreesWithKeepalived: on every Debian sample configuration
// and every configuration under testdata/, `vigil check --host` and
// `vigil run -t` exit with `keepalived -t`'s status, run in a network
// namespace the test creates (lo, eth0-eth3 up: the samples name eth0-3,
// and others, which then do not exist). `vigil check` without --host
// agrees wherever the host plays no part (its status is --host's).
func TestCheckAgreesWithKeepalived(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace (run the test as root)")
	}
	kbin, err := exec.LookPath("keepalived")
	if err != nil {
		t.Skip("needs keepalived (Debian's package) to compare with")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip")
	}
	ns := fmt.Sprintf("vigil-kt-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	for _, c := range [][]string{{"link", "set", "lo", "up"},
		{"link", "add", "eth0", "type", "veth", "peer", "name", "eth1"},
		{"link", "add", "eth2", "type", "veth", "peer", "name", "eth3"},
		{"link", "set", "eth0", "up"}, {"link", "set", "eth1", "up"}, {"link", "set", "eth2", "up"}, {"link", "set", "eth3", "up"}} {
		if out, err := exec.Command("ip", append([]string{"-n", ns}, c...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip -n %s %s: %v: %s", ns, strings.Join(c, " "), err, out)
		}
	}

	files := map[string]string{} // name shown → path
	samples, _ := filepath.Glob("/usr/share/doc/keepalived/samples/keepalived.conf*")
	tmp := t.TempDir()
	for _, s := range samples {
		if strings.HasSuffix(s, ".gz") {
			s = gunzipTo(t, s, tmp)
		}
		files[s] = s
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(filepath.Join(root, "testdata"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".conf") {
			rel, _ := filepath.Rel(root, p)
			files[rel] = p
		}
		return nil
	})
	if len(samples) == 0 {
		t.Log("no Debian samples in /usr/share/doc/keepalived/samples (only testdata/ is compared)")
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)

	status := func(dir string, name string, args ...string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), out.String() // as the shell says it
		}
		return cmd.ProcessState.ExitCode(), out.String()
	}
	vigil := func(dir string, args ...string) int {
		cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^TestCheckHelper$")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), checkHelperEnv+"="+strings.Join(args, "\x1f"))
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("vigil %v: %v: %s", args, err, out)
		}
		return cmd.ProcessState.ExitCode()
	}
	agreePlain := 0
	for _, n := range names {
		p := files[n]
		dir := filepath.Dir(p)
		k, kout := status(dir, kbin, "-t", "-f", p)
		host := vigil(dir, "check", "--host", "-f", p)
		runT := vigil(dir, "run", "-t", "-f", p)
		plain := vigil(dir, "check", "-f", p)
		if why, ok := keepalivedTDisagrees[n]; ok {
			t.Logf("%s: keepalived -t %d, vigil check --host %d, vigil run -t %d: allowed: %s", n, k, host, runT, why)
			continue
		}
		if host != k || runT != k {
			t.Errorf("%s: keepalived -t exits %d, vigil check --host %d, vigil run -t %d; keepalived said:\n%s", n, k, host, runT, kout)
		}
		if plain == host {
			agreePlain++
		}
	}
	t.Logf("%d files compared; vigil check without --host agrees on %d (the others depend on the host)", len(names), agreePlain)
}

// gunzipTo decompresses a sample into dir, returning its path.
func gunzipTo(t *testing.T, path, dir string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), ".gz"))
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}
