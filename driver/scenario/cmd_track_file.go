package scenario

import "github.com/vigil-ha/vigil/events"

var trackFileSpec = spec{steps: true, args: []arg{
	{key: "name", kind: value, required: true, hint: "name=NAME"},
	{key: "value", kind: value, required: true, hint: "value=N"},
	{key: "failed", kind: flag},
}}

// cmdTrackFile delivers a TrackFileValue: the value the watcher read
// from a track_file, or with failed that it could not read it.
//
// Syntax:
//
//	track-file name=NAME value=N [failed] [only=(Kind, ...)]
//
// Example:
//
//	track-file name=weight value=-20 only=(StateChanged)
func (h *Harness) cmdTrackFile(a *params) error {
	ev := &events.TrackFileValue{File: a.Str("name", ""), Value: a.Int64("value", 0), Failed: a.Has("failed")}
	if err := a.Err(); err != nil {
		return err
	}
	return h.Step(ev)
}
