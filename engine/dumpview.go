package engine

import "github.com/vigil-ha/vigil/engine/vrrp"

// DumpView returns a read-only copy of the state keepalived's data and
// JSON dumps report (instances with their configuration, tracking, timers
// and priorities; sync groups; track scripts, files and processes). It
// changes nothing; call it on the goroutine that steps the engine and do
// the formatting and writing elsewhere (the view shares the configuration,
// which the engine never modifies in place).
func (e *Engine) DumpView() *vrrp.View { return e.vrrp.View() }
