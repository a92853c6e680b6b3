package engine

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine/lvs"
)

// VirtualServers reports every LVS virtual server in configuration order:
// quorum, sorry server, real servers and their checkers.
func (e *Engine) VirtualServers() []lvs.VSStatus { return e.lvs.Status() }

// IPVSTable returns the IPVS table the engine has asked for: its last
// ReconcileIPVS and the SetIPVS effects since, applied.
func (e *Engine) IPVSTable() []effects.IPVSTableService { return e.lvs.Table() }
