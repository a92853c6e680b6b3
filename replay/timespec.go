package replay

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/events"
)

// TimeSpec is a moment named on the command line: an event time (what
// timelines print: time since the daemon started, or virtual time in a
// simulation) or a wall-clock time.
type TimeSpec struct {
	// Event is the event time, when Wall is zero.
	Event events.Time
	Wall  time.Time
}

// ParseTime parses "12.5s", "1m30s", "12.5" (seconds) as an event time, or
// an RFC 3339 time ("2025-03-01T12:00:05Z") as a wall-clock time.
func ParseTime(s string) (TimeSpec, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil {
		return TimeSpec{Event: events.Time(d)}, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return TimeSpec{Event: events.Time(f * float64(time.Second))}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return TimeSpec{Wall: t}, nil
	}
	return TimeSpec{}, fmt.Errorf("bad time %q: want a duration (12.5s, 1m30s), seconds, or an RFC 3339 time", s)
}

func (t TimeSpec) String() string {
	if !t.Wall.IsZero() {
		return t.Wall.UTC().Format(time.RFC3339Nano)
	}
	return fmtTime(t.Event)
}

// Locate returns the sequence of the last event at or before t. An event
// time names a moment in the latest run that had started by then (event
// times restart at each daemon start; in a simulation they never do); a
// wall time is converted with each run's start.
func (j *Journal) Locate(t TimeSpec) (uint64, error) {
	run := -1
	var at events.Time
	for k := len(j.Runs) - 1; k >= 0; k-- {
		r := j.Runs[k]
		if t.Wall.IsZero() && r.FirstAt <= t.Event {
			run, at = k, t.Event
			break
		}
		if !t.Wall.IsZero() && !r.Created.After(t.Wall) {
			run, at = k, r.FirstAt.Add(t.Wall.Sub(r.Created))
			break
		}
	}
	if run < 0 {
		return 0, fmt.Errorf("%s is before the journal's first event", t)
	}
	r := j.Runs[run]
	if at >= r.LastAt {
		return r.Last, nil
	}
	last := uint64(0)
	for rec, err := range j.RawRecords(r.First) {
		if err != nil {
			return 0, err
		}
		if rec.Seq > r.Last || rec.Event.EventTime() > at {
			break
		}
		last = rec.Seq
	}
	if last == 0 {
		return 0, fmt.Errorf("%s is before the journal's first event", t)
	}
	return last, nil
}

// fmtTime prints an event time as timelines do: seconds to the
// microsecond.
func fmtTime(t events.Time) string {
	return strconv.FormatFloat(time.Duration(t).Seconds(), 'f', 6, 64) + "s"
}
