package scenario

var timersSpec = spec{}

// cmdTimers lists the armed timers in the order they will fire.
//
// Syntax:
//
//	timers
//
// Example:
//
//	timers
func (h *Harness) cmdTimers(*params) error {
	for _, t := range h.Timers.Armed() {
		h.report("%s @%s", t.Key, t.At)
	}
	return nil
}
