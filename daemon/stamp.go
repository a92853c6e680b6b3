package daemon

import "github.com/vigil-ha/vigil/events"

// stamp sets ev's time to t. The loop stamps every event with the clock as
// it takes it, so the times the engine sees never go backwards even when
// two sources' events are interleaved (an advert stamped by its reader
// could otherwise be stepped after a timer stamped later).
func stamp(ev events.Event, t events.Time) {
	switch v := ev.(type) {
	case *events.ConfigLoaded:
		v.At = t
	case *events.Start:
		v.At = t
	case *events.Stop:
		v.At = t
	case *events.AdvertReceived:
		v.At = t
	case *events.TimerFired:
		v.At = t
	case *events.LinkChanged:
		v.At = t
	case *events.AddressChanged:
		v.At = t
	case *events.RouteChanged:
		v.At = t
	case *events.RuleChanged:
		v.At = t
	case *events.ScriptResult:
		v.At = t
	case *events.TrackFileValue:
		v.At = t
	case *events.ProcessCount:
		v.At = t
	case *events.BFDState:
		v.At = t
	case *events.CheckResult:
		v.At = t
	case *events.GroupJoined:
		v.At = t
	}
}
