package netlink

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// requireRoot skips tests that need root and iproute2.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs the ip command (iproute2)")
	}
}

// newNS creates a uniquely named network namespace, deleted at cleanup.
func newNS(t *testing.T, suffix string) string {
	t.Helper()
	name := fmt.Sprintf("vgnl-%d-%s", os.Getpid(), suffix)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	return name
}

// ipn runs `ip -n ns ARGS` and returns its output, failing the test on error.
func ipn(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip -n %s %s: %v: %s", ns, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ipJSON runs `ip -j -n ns ARGS` and decodes the output.
func ipJSON(t *testing.T, ns string, v any, args ...string) {
	t.Helper()
	out := ipn(t, ns, append([]string{"-j"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("decode ip -j %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// vethNS creates a namespace with an up veth pair va/vb inside it.
func vethNS(t *testing.T, suffix string) string {
	t.Helper()
	ns := newNS(t, suffix)
	ipn(t, ns, "link", "add", "va", "type", "veth", "peer", "name", "vb")
	ipn(t, ns, "link", "set", "va", "up")
	ipn(t, ns, "link", "set", "vb", "up")
	return ns
}

// nsSysctl reads a sysctl inside a namespace.
func nsSysctl(t *testing.T, ns, path string) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "cat", path).CombinedOutput()
	if err != nil {
		t.Fatalf("read %s in %s: %v: %s", path, ns, err, out)
	}
	return strings.TrimSpace(string(out))
}

// setNSSysctl writes a sysctl inside a namespace.
func setNSSysctl(t *testing.T, ns, path, v string) {
	t.Helper()
	if out, err := exec.Command("ip", "netns", "exec", ns, "sh", "-c", "echo "+v+" > "+path).CombinedOutput(); err != nil {
		t.Fatalf("write %s in %s: %v: %s", path, ns, err, out)
	}
}

// newExecutor opens an executor in ns, closed at cleanup.
func newExecutor(t *testing.T, ns string) *Executor {
	t.Helper()
	x, err := NewExecutor(ExecutorOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}
