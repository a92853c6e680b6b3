package config

import (
	"testing"
)

// The email settings as keepalived resolves them: smtp_server's port,
// the inheritance of smtp_alert (instances and sync groups from
// smtp_alert_vrrp then smtp_alert; virtual and real servers from
// smtp_alert_checker then smtp_alert, real servers on by default), and
// the defaults taken from the host at load.
func TestSMTPSettings(t *testing.T) {
	const text = `global_defs {
  notification_email {
    ops@example.com
  }
  smtp_server 192.0.2.25 2525
  smtp_alert_vrrp off
  smtp_alert
}
vrrp_sync_group G1 {
  group {
    VI_1
  }
}
vrrp_sync_group G2 {
  group {
    VI_2
  }
  smtp_alert
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    10.0.0.1
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 2
  smtp_alert
  virtual_ipaddress {
    10.0.0.2
  }
}
virtual_server 10.0.0.1 80 {
  real_server 10.0.1.1 80 {
    TCP_CHECK {
    }
  }
}
`
	host := func() (string, string) { return "lb1.example.com", "root" }
	cfg, _, err := LoadString("keepalived.conf", text, Options{Host: host})
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.GlobalDefs
	if g.SMTPServer != "192.0.2.25" || g.SMTPPort != 2525 {
		t.Errorf("smtp_server %q port %d", g.SMTPServer, g.SMTPPort)
	}
	if g.RouterID != "lb1.example.com" || g.NotificationEmailFrom != "root@lb1.example.com" || g.SMTPHeloName != "lb1.example.com" {
		t.Errorf("host defaults: router_id %q from %q helo %q", g.RouterID, g.NotificationEmailFrom, g.SMTPHeloName)
	}
	if cfg.SyncGroups[0].SMTPAlert || !cfg.SyncGroups[1].SMTPAlert {
		t.Errorf("sync groups: %v %v, want smtp_alert_vrrp off, then the group's own", cfg.SyncGroups[0].SMTPAlert, cfg.SyncGroups[1].SMTPAlert)
	}
	if cfg.Instances[0].SMTPAlert || !cfg.Instances[1].SMTPAlert {
		t.Errorf("instances: %v %v", cfg.Instances[0].SMTPAlert, cfg.Instances[1].SMTPAlert)
	}
	vs := cfg.VirtualServers[0]
	if !vs.SMTPAlert || !vs.RealServers[0].SMTPAlert {
		t.Errorf("virtual server %v, real server %v: want both from smtp_alert", vs.SMTPAlert, vs.RealServers[0].SMTPAlert)
	}

	// Without the host (vigil check, dump, sim) nothing is guessed; with
	// no smtp_server the sender and HELO name stay unset.
	cfg, _, err = LoadString("keepalived.conf", text, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g := cfg.GlobalDefs; g.RouterID != "" || g.NotificationEmailFrom != "" || g.SMTPHeloName != "" {
		t.Errorf("no host: %+v", g)
	}
	cfg, _, err = LoadString("keepalived.conf", "global_defs {\n  router_id r1\n}\n", Options{Host: host})
	if err != nil {
		t.Fatal(err)
	}
	if g := cfg.GlobalDefs; g.RouterID != "r1" || g.NotificationEmailFrom != "" || g.SMTPHeloName != "" {
		t.Errorf("no smtp_server: %+v", g)
	}
}
