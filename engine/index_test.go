package engine_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/vigil-ha/vigil/driver/scenario"
)

// TestScenarioIndex checks testdata/INDEX.md, the map from rule areas to
// scenario files: every scenario file of the engine (VRRP and LVS) is
// listed, and every file listed exists, so a scenario cannot silently
// disappear or go unindexed.
func TestScenarioIndex(t *testing.T) {
	md, err := os.ReadFile("testdata/INDEX.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`\]\(([^)]+\.txt)\)`).FindAllStringSubmatch(string(md), -1) {
		listed[filepath.Join("testdata", m[1])] = true
	}
	var files []string
	for _, dir := range []string{"testdata", "lvs/testdata"} {
		fs, err := scenario.Files(dir)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	for _, f := range files {
		if !listed[f] {
			t.Errorf("%s is not listed in testdata/INDEX.md", f)
		}
	}
	for f := range listed {
		if !slices.Contains(files, f) {
			t.Errorf("testdata/INDEX.md lists %s, which does not exist", f)
		}
	}
	if len(files) < 79 {
		t.Errorf("%d scenario files; there were 79", len(files))
	}
}
