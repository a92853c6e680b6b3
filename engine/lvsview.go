package engine

import "github.com/vigil-ha/vigil/engine/lvs"

// VirtualServers reports every LVS virtual server in configuration order:
// quorum, sorry server, real servers and their checkers.
func (e *Engine) VirtualServers() []lvs.VSStatus { return e.lvs.Status() }

// IPVSTable returns the IPVS table the engine's SetIPVS effects have asked
// for: what an IPVS executor reconciles the kernel against.
func (e *Engine) IPVSTable() []lvs.Service { return e.lvs.Table() }
