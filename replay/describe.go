package replay

import (
	"github.com/vigil-ha/vigil/driver"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
)

// effectInstance returns the instance an effect concerns ("" if none);
// timers says what the step's timer keys stand for.
func effectInstance(ef effects.Effect, timers *timerBook) string {
	switch e := ef.(type) {
	case *effects.SendAdvert:
		return e.Instance
	case *effects.AddAddress:
		return e.Instance
	case *effects.DelAddress:
		return e.Instance
	case *effects.AddRoute:
		return e.Instance
	case *effects.DelRoute:
		return e.Instance
	case *effects.AddRule:
		return e.Instance
	case *effects.DelRule:
		return e.Instance
	case *effects.CreateVMAC:
		return e.Instance
	case *effects.DeleteVMAC:
		return e.Instance
	case *effects.SendGARP:
		return e.Instance
	case *effects.SendNA:
		return e.Instance
	case *effects.SetTimer:
		info, _ := timers.timer(e.Key)
		return info.Instance
	case *effects.CancelTimer:
		info, _ := timers.timer(e.Key)
		return info.Instance
	case *effects.Notify:
		if e.Type == "INSTANCE" {
			return e.Name
		}
	case *effects.Count:
		return e.Instance
	case *effects.StateChanged:
		return e.Instance
	case *effects.Log:
		return e.Instance
	}
	return ""
}

func upWord(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

// rerun steps a recorded event through the driver, at its recorded time:
// the way every re-run of a journal (verify, at, explain) steps the
// engine.
func rerun(eng *engine.Engine, ev events.Event) []effects.Effect {
	d := driver.Driver{Engine: eng}
	return d.Step(ev, ev.EventTime())
}
