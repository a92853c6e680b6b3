package scenario

import (
	"strconv"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// Health is the checker adapter's model: how each RunCheck is answered.
// An answer is set for a real server ("10.0.1.1:80"), for one of a
// virtual server ("tcp/10.0.0.1:80 10.0.1.1:80") or for one checker of it
// ("tcp/10.0.0.1:80 10.0.1.1:80 1"); the most specific applies, and a
// real server with none is up.
type Health struct {
	by map[string]Answer
}

// Answer is how a check is answered.
type Answer struct {
	// None: never answered (the engine's watchdog fails the check).
	None bool
	OK   bool
	// Message is the failure's reason.
	Message string
	// Dynamic answers carry Weight (MISC_CHECK misc_dynamic).
	Dynamic bool
	Weight  int
}

// Set sets the answer for a real server (vs "", idx < 0), for it in one
// virtual server (idx < 0) or for one of its checkers.
func (h *Health) Set(vs, rs string, idx int, a Answer) {
	if h.by == nil {
		h.by = map[string]Answer{}
	}
	h.by[healthKey(vs, rs, idx)] = a
}

func healthKey(vs, rs string, idx int) string {
	k := rs
	if vs != "" {
		k = vs + " " + k
		if idx >= 0 {
			k += " " + strconv.Itoa(idx)
		}
	}
	return k
}

// Of returns the answer for one checker.
func (h *Health) Of(vs, rs string, idx int) Answer {
	for _, k := range []string{healthKey(vs, rs, idx), healthKey(vs, rs, -1), rs} {
		if a, ok := h.by[k]; ok {
			return a
		}
	}
	return Answer{OK: true}
}

// Answer returns the CheckResult answering r, if it is answered.
func (h *Health) Answer(r *effects.RunCheck) (*events.CheckResult, bool) {
	a := h.Of(r.VirtualServer, r.RealServer, r.Checker)
	if a.None {
		return nil, false
	}
	return &events.CheckResult{VirtualServer: r.VirtualServer, RealServer: r.RealServer, Checker: r.Checker,
		OK: a.OK, Message: a.Message, Weight: a.Weight, Dynamic: a.Dynamic}, true
}
