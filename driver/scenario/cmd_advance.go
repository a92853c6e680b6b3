package scenario

var advanceSpec = spec{steps: true, positional: "DURATION"}

// cmdAdvance moves the clock forward by DURATION, firing the timers due
// on the way, each at its deadline, in the daemon clock's order
// (deadline, then the order they were set).
//
// Syntax:
//
//	advance DURATION [only=(Kind, ...)]
//
// Example:
//
//	advance 3700ms only=(StateChanged, SendAdvert)
func (h *Harness) cmdAdvance(a *params) error {
	d := a.Duration()
	if err := a.Err(); err != nil {
		return err
	}
	return h.Advance(d)
}
