package scenario

import (
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

// Walk runs every scenario file under dir (a subtest each) and returns
// how many it ran.
func Walk(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	datadriven.Walk(t, dir, func(t *testing.T, path string) {
		n++
		RunFile(t, path)
	})
	return n
}

func describe(ev events.Event) string { return driver.DescribeEvent(ev) }
