package lvs

import (
	"math"
	"testing"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// keepalived's reading of a track file for a FILE_CHECK: a verdict with
// weight 0, a weight otherwise, down when the product reaches INT32_MIN.
func TestFileVerdict(t *testing.T) {
	fc := func(weight int, reverse bool) *conf.FileCheck {
		return &conf.FileCheck{TrackFile: "f", Weight: weight, WeightReverse: reverse}
	}
	for _, c := range []struct {
		name    string
		check   *conf.FileCheck
		value   int64
		failed  bool
		ok, dyn bool
		weight  int
	}{
		{"zero is up", fc(0, false), 0, false, true, false, 0},
		{"non-zero is down", fc(0, false), 7, false, false, false, 0},
		{"missing file reads 0", fc(0, false), 7, true, true, false, 0},
		{"reverse: zero is down", fc(0, true), 0, false, false, false, 0},
		{"reverse: non-zero is up", fc(0, true), -3, false, true, false, 0},
		{"weight scales", fc(5, false), 3, false, true, true, 15},
		{"weight reverse negates", fc(5, true), 3, false, true, true, -15},
		{"weight with 0", fc(5, false), 0, false, true, true, 0},
		{"product reaching INT32_MIN is down", fc(-2, false), 1 << 30, false, false, false, 0},
		{"product clamped high", fc(4, false), 1 << 30, false, true, true, math.MaxInt32},
	} {
		ok, w, dyn := fileVerdict(c.check, &events.TrackFileValue{File: "f", Value: c.value, Failed: c.failed})
		if ok != c.ok || dyn != c.dyn || w != c.weight {
			t.Errorf("%s: got ok=%v dynamic=%v weight=%d", c.name, ok, dyn, w)
		}
	}
}
