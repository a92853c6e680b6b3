package sim

import _ "embed"

// Demo is the scenario `vigil sim` runs without a file: three nodes, the
// master crashes, the backup takes over, the master returns.
//
//go:embed demo.scn
var Demo string
