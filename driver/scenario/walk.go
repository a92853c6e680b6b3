package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/vigil-ha/vigil/driver"
	"github.com/vigil-ha/vigil/events"
)

// RunFile runs one scenario file with a fresh harness, then checks the
// determinism of the events it stepped. It returns the harness.
func RunFile(t *testing.T, path string) *Harness {
	t.Helper()
	h := New()
	datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string { return h.Run(t, d) })
	CheckDeterminism(t, h.Log)
	return h
}

// Walk runs every scenario file (*.txt) under dir, a subtest each,
// nested by directory and named by the file without .txt (as
// datadriven.Walk names them), and returns how many it ran. Other files
// (an index, notes) are not scenarios.
func Walk(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		path := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir():
			t.Run(e.Name(), func(t *testing.T) { n += Walk(t, path) })
		case strings.HasSuffix(e.Name(), ".txt"):
			n++
			t.Run(strings.TrimSuffix(e.Name(), ".txt"), func(t *testing.T) { RunFile(t, path) })
		}
	}
	return n
}

// Files lists the scenario files (*.txt) under dir, sorted.
func Files(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".txt") {
			out = append(out, path)
		}
		return err
	})
	return out, err
}

func describe(ev events.Event) string { return driver.DescribeEvent(ev) }
