package metrics

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// TestREADMEAlerts runs the README's alert rules through promtool's rule
// tests (testdata/alerts_test.yml: a split brain and a VRID without a
// master across two nodes). Skipped when promtool is missing.
func TestREADMEAlerts(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(groups:.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("no alert rules (```yaml groups: ...```) in the README")
	}
	dir := t.TempDir()
	tests, err := os.ReadFile("testdata/alerts_test.yml")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"rules.yml": m[1], "alerts_test.yml": tests} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(promtool, "test", "rules", "alerts_test.yml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
