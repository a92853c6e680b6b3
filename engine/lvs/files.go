package lvs

import (
	"math"
	"strconv"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// TrackFile handles a track_file value for the FILE_CHECK checkers reading
// that file. FILE_CHECK is event driven: no RunCheck asks for it; the
// value the track-file watcher reports (the same events.TrackFileValue the
// VRRP track_file uses) is the check, and the verdict is decided here, so
// the journal, what-if and the simulator see it.
func (m *Machine) TrackFile(ev *events.TrackFileValue) {
	if !m.running() {
		return
	}
	for _, v := range m.model.vservers {
		for _, r := range v.reals {
			for _, ck := range r.checkers {
				if ck.cfg.Type != conf.CheckFile || ck.cfg.File == nil || ck.cfg.File.TrackFile != ev.File {
					continue
				}
				ok, weight, dynamic := fileVerdict(ck.cfg.File, ev)
				msg := "track file " + ev.File + " value " + strconv.FormatInt(fileValue(ev), 10)
				m.dynamicWeight(ck, ok, weight, dynamic)
				m.verdict(ck, ok, msg, false)
			}
		}
	}
}

// fileValue is a track file's value; a missing or unreadable file reads 0.
func fileValue(ev *events.TrackFileValue) int64 {
	if ev.Failed {
		return 0
	}
	return ev.Value
}

// fileVerdict is keepalived's reading of a track file for a FILE_CHECK.
// With weight 0 the value is a verdict: 0 is up, anything else down
// (reversed by "weight 0 reverse"). With a weight the checker stays up
// and contributes value×weight (negated by reverse) to the real server's
// weight, unless that product reaches IPVS_WEIGHT_FAULT (INT32_MIN),
// which is down.
func fileVerdict(c *conf.FileCheck, ev *events.TrackFileValue) (ok bool, weight int, dynamic bool) {
	val := fileValue(ev)
	w := int64(c.Weight)
	if w == 0 {
		return (val == 0) != c.WeightReverse, 0, false
	}
	if c.WeightReverse {
		w = -w
	}
	status := weightRange(val, w)
	if status <= math.MinInt32 {
		return false, 0, false
	}
	return true, int(status), true
}

// weightRange is val×w clamped to int32, as keepalived's weight_range:
// track file values are at most 2^31 and weights below 2^31, so the
// product needs more than 64 bits only in theory; it is computed in float
// to stay safe.
func weightRange(val, w int64) int64 {
	p := float64(val) * float64(w)
	switch {
	case p <= math.MinInt32:
		return math.MinInt32
	case p >= math.MaxInt32:
		return math.MaxInt32
	}
	return val * w
}
