package harness

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/sim"
)

// TestScenarios runs every testdata/sim/*.scn on the real engine and fails
// on any failed expectation.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("../../testdata/sim/*.scn")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".scn"), func(t *testing.T) {
			s, err := sim.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			res, err := sim.RunScenario(s, Backend(), 1, &out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if res.Failed > 0 || res.Passed == 0 {
				t.Fatalf("%d passed, %d failed:\n%s\n--- timeline ---\n%s",
					res.Passed, res.Failed, strings.Join(res.Failures, "\n"), out.String())
			}
		})
	}
}
