package scenario

import (
	"fmt"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/events"
)

var configSpec = spec{input: true, steps: true}

// cmdConfig (config, reload) loads the keepalived.conf of the input block
// and delivers it as a ConfigLoaded: the first one, or a reload (the
// same event; the engine tells them apart). A configuration with an
// error fails the scenario.
//
// Syntax:
//
//	config [only=(Kind, ...)]
//	<keepalived.conf>
//	reload [only=(Kind, ...)]
//	<keepalived.conf>
//
// Example:
//
//	config
//	vrrp_instance VI_1 {
//	  interface eth0
//	  virtual_router_id 51
//	  priority 100
//	  virtual_ipaddress {
//	    10.0.0.1/24
//	  }
//	}
//	reload only=(StateChanged)
//	vrrp_instance VI_1 {
//	  ...
//	}
func (h *Harness) cmdConfig(a *params) error {
	cfg, diags, err := config.LoadString("keepalived.conf", a.input, config.Options{})
	if err != nil {
		return fmt.Errorf("%s: %v\n%v", a.cmd, err, diags)
	}
	h.Config = cfg
	return h.Step(&events.ConfigLoaded{Config: cfg})
}
