package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-ha/vigil/config/diag"
	"github.com/vigil-ha/vigil/config/kwexample"
)

// TestLoadConfigReportsUnimplementedKeywords: the daemon's configuration
// load (at start and at every reload, whose diagnostics daemon.Run logs)
// reports every keyword the keyword table says vigil does not (fully)
// implement, as a warning at its line, and still loads the configuration.
func TestLoadConfigReportsUnimplementedKeywords(t *testing.T) {
	dir := t.TempDir()
	for i, k := range kwexample.Reported() {
		text, line := kwexample.Example(k)
		p := filepath.Join(dir, fmt.Sprintf("k%d.conf", i))
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		ev, diags, err := LoadConfig(p, "")
		if err != nil || ev == nil {
			t.Errorf("%s/%s: load: %v", k.Block, k.Name, err)
			continue
		}
		found := false
		for _, d := range diags {
			if d.File == p && d.Line == line && d.Col > 0 && d.Keyword == k.Name && d.Message == k.Diagnostic() && d.Severity == diag.Warning {
				found = true
			}
		}
		if !found {
			t.Errorf("%s/%s: no warning at %s:%d with %q; got %v", k.Block, k.Name, p, line, k.Diagnostic(), diags)
		}
	}
}
