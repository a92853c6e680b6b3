package daemon

import "testing"

// TestPIDFiles: keepalived's pid file names for instance and use_pid_dir.
func TestPIDFiles(t *testing.T) {
	for _, c := range []struct {
		instance   string
		dir        bool
		main, vrrp string
	}{
		{"", false, "/run/keepalived.pid", "/run/vrrp.pid"},
		{"", true, "/run/keepalived/keepalived.pid", "/run/keepalived/vrrp.pid"},
		{"lb1", false, "/run/keepalived/keepalived_lb1.pid", "/run/keepalived/vrrp_lb1.pid"},
		{"lb1", true, "/run/keepalived/keepalived_lb1.pid", "/run/keepalived/vrrp_lb1.pid"},
	} {
		m, v := PIDFiles(c.instance, c.dir)
		if m != c.main || v != c.vrrp {
			t.Errorf("PIDFiles(%q, %t) = %s, %s; want %s, %s", c.instance, c.dir, m, v, c.main, c.vrrp)
		}
	}
}
