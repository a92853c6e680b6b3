package daemon

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDaemonDoesNotLinkTools checks the daemon's import graph: it writes
// its journal with package journal and must link neither the simulator
// (sim and its subpackages, such as sim/simjournal, which records a
// simulation as journals) nor the tools that read a journal back
// (replay).
func TestDaemonDoesNotLinkTools(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool:", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list -deps: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	const module = "github.com/vigil-ha/vigil/"
	deps := strings.Fields(string(out))
	journal := false
	for _, p := range deps {
		for _, banned := range []string{"sim", "replay"} {
			if p == module+banned || strings.HasPrefix(p, module+banned+"/") {
				t.Errorf("the daemon links %s", p)
			}
		}
		journal = journal || p == module+"journal"
	}
	if !journal {
		// The list is not what this test thinks it is.
		t.Fatalf("go list -deps does not list %sjournal:\n%s", module, out)
	}
}
