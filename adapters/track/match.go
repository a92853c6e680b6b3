package track

import (
	"bytes"

	"github.com/vigil-ha/vigil/events/conf"
)

// paramMode is how a process's parameters are compared.
type paramMode uint8

const (
	paramNone    paramMode = iota // parameters are not looked at
	paramExact                    // exactly the configured parameters
	paramPartial                  // the configured parameters first, any after
	paramInitial                  // as partial, but the last one may be longer
)

// matcher decides whether a process counts for one vrrp_track_process.
//
// As in keepalived: without parameters or param_match (or full_command),
// the process name — /proc/PID/comm, at most 15 characters — must equal
// `process` exactly. Giving parameters or param_match implies
// full_command: then the command line's first word must equal `process`
// and, with parameters or param_match, the remaining words are compared
// as the mode says. Parameters default to exact matching.
type matcher struct {
	name    string
	process string
	full    bool
	mode    paramMode
	params  []byte // each parameter followed by a NUL, as in /proc/PID/cmdline
}

func newMatcher(tp conf.TrackProcess) matcher {
	m := matcher{name: tp.Name, process: tp.Process}
	switch tp.ParamMatch {
	case "initial":
		m.mode = paramInitial
	case "partial":
		m.mode = paramPartial
	case "exact":
		m.mode = paramExact
	default:
		if len(tp.Params) > 0 {
			m.mode = paramExact
		}
	}
	for _, p := range tp.Params {
		m.params = append(append(m.params, p...), 0)
	}
	m.full = tp.FullCommand || m.mode != paramNone
	return m
}

// match reports whether a process with this comm and raw cmdline counts.
func (m *matcher) match(comm string, cmdline []byte) bool {
	if !m.full {
		return comm == m.process
	}
	argv0, rest, _ := bytes.Cut(cmdline, []byte{0})
	if string(argv0) != m.process {
		return false
	}
	return m.mode == paramNone || m.checkParams(rest)
}

// checkParams compares the NUL-terminated parameters of a command line
// with the configured ones.
func (m *matcher) checkParams(params []byte) bool {
	want := m.params
	if m.mode == paramExact && len(want) == 0 && len(params) == 0 {
		return true
	}
	if len(params) < len(want) {
		return false
	}
	switch m.mode {
	case paramExact:
		return bytes.Equal(params, want)
	case paramPartial:
		return bytes.HasPrefix(params, want)
	default: // paramInitial: the last configured parameter is a prefix
		return len(want) <= 1 || bytes.HasPrefix(params, want[:len(want)-1])
	}
}
