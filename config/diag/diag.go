// Package diag holds configuration diagnostics: a problem found while
// reading a keepalived.conf, with the place it was found and how bad it is.
package diag

import "fmt"

// Severity says whether a diagnostic stops the configuration from loading.
type Severity uint8

// Severities. keepalived reports unknown keywords as warnings; with
// --strict vigil turns every warning into an error.
const (
	Warning Severity = iota
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// MarshalText writes the severity as its name ("warning" or "error"), the
// form JSON output uses.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "warning":
		*s = Warning
	case "error":
		*s = Error
	default:
		return fmt.Errorf("diag: unknown severity %q", b)
	}
	return nil
}

// Diagnostic is one problem in a configuration.
type Diagnostic struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Col      int      `json:"col,omitempty"`
	Keyword  string   `json:"keyword,omitempty"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// String formats the diagnostic as FILE:LINE:COL: SEVERITY: KEYWORD: MESSAGE,
// the form `vigil check` prints.
func (d Diagnostic) String() string {
	pos := fmt.Sprintf("%s:%d", d.File, d.Line)
	if d.Col > 0 {
		pos += fmt.Sprintf(":%d", d.Col)
	}
	if d.Keyword != "" {
		return fmt.Sprintf("%s: %s: %s: %s", pos, d.Severity, d.Keyword, d.Message)
	}
	return fmt.Sprintf("%s: %s: %s", pos, d.Severity, d.Message)
}

// List is a set of diagnostics in the order found.
type List []Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (l List) HasErrors() bool {
	for _, d := range l {
		if d.Severity == Error {
			return true
		}
	}
	return false
}
