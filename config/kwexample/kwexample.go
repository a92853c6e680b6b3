// Package kwexample writes, for a keyword of config's keyword table, a
// small configuration that uses it where it belongs, so that tests can
// check what vigil reports for it (config, vigil check, the daemon's
// configuration load).
package kwexample

import (
	"fmt"
	"strings"

	"github.com/vigil-ha/vigil/config"
)

// args are sample arguments for keywords that need some.
var args = map[string]string{
	"net_namespace": "blue", "net_namespace_ipvs": "blue", "instance": "i1", "child_wait_time": "5",
	"tmp_config_directory": "/tmp", "config_save_dir": "/tmp", "process_name": "ka",
	"vrrp_process_name": "ka_vrrp", "checker_process_name": "ka_check", "lvs_process_name": "ka_lvs",
	"bfd_process_name": "ka_bfd", "startup_script": "/bin/true", "startup_script_timeout": "5",
	"shutdown_script": "/bin/true", "shutdown_script_timeout": "5",
	"notification_email_from": "ka@example.com", "smtp_helo_name": "lb.example.com", "smtp_server": "192.0.2.25", "smtp_connect_timeout": "30",
	"lvs_sync_daemon": "eth0", "lvs_timeouts": "tcp 900", "vrrp_vmac_garp_intvl": "60", "vrrp_garp_extra_if": "60",
	"nftables": "keepalived", "nftables_priority": "-1", "nftables_ipvs": "keepalived_ipvs",
	"nftables_ipvs_priority": "-1", "nftables_ipvs_start_fwmark": "1000", "vrrp_iptables": "keepalived",
	"vrrp_ipsets": "keepalived", "max_auto_priority": "10", "min_auto_priority_delay": "1000000",
	"vrrp_priority": "-5", "checker_priority": "-5", "bfd_priority": "-5", "vrrp_cpu_affinity": "0",
	"checker_cpu_affinity": "0", "bfd_cpu_affinity": "0", "vrrp_rt_priority": "10", "checker_rt_priority": "10",
	"bfd_rt_priority": "10", "vrrp_rlimit_rttime": "10000", "checker_rlimit_rttime": "10000",
	"bfd_rlimit_rttime": "10000", "vrrp_rlimit_rtime": "10000", "checker_rlimit_rtime": "10000",
	"bfd_rlimit_rtime": "10000", "snmp_socket": "udp:127.0.0.1:705", "dbus_service_name": "org.keepalived.Vrrp1",
	"vrrp_netlink_cmd_rcv_bufs": "1048576", "vrrp_netlink_monitor_rcv_bufs": "1048576",
	"lvs_netlink_cmd_rcv_bufs": "1048576", "lvs_netlink_monitor_rcv_bufs": "1048576",
	"process_monitor_rcv_bufs": "1048576", "vrrp_rx_bufs_policy": "MTU", "vrrp_rx_bufs_multiplier": "3",
	"umask": "022", "vmac_prefix": "vr", "vmac_addr_prefix": "va", "reload_check_config": "/tmp/check.log",
	"reload_time_file": "/run/reload", "reload_file": "/run/reload",
	"vrf": "blue", "use_ipvlan": "ipv1", "garp_extra_if": "60", "vmac_garp_intvl": "60", "debug": "1",
	"kernel_rx_buf_size": "65536", "lvs_sync_daemon_interface": "eth0", "snmp_name": "web",
	"regex_stack": "1024 4096", "vrrp_higher_prio_send_advert": "off", "higher_prio_send_advert": "off",
	"fast_recovery": "off",
}

// blockLines are keywords whose example is a block.
var blockLines = map[string]string{
	"notification_email":  "notification_email {\n        ops@example.com\n    }",
	"linkbeat_interfaces": "linkbeat_interfaces {\n    eth0\n}",
	"bfd_instance":        "bfd_instance b1 {\n    neighbor_ip 192.0.2.1\n}",
	"garp_group":          "garp_group {\n    garp_interval 0.1\n    interface eth0\n}",
	"track_bfd":           "track_bfd {\n        b1\n    }",
	"BFD_CHECK":           "BFD_CHECK {\n            name b1\n        }",
}

// Example returns a configuration using keyword k once, and the line it
// is on (from 1).
func Example(k config.Keyword) (string, int) {
	stmt := k.Name
	if b, ok := blockLines[k.Name]; ok {
		stmt = b
	} else if a := args[k.Name]; a != "" {
		stmt += " " + a
	}
	const mark = "@@KW@@"
	var text string
	instance := func(name string, vrid int, extra string) string {
		return fmt.Sprintf("vrrp_instance %s {\n    interface eth0\n    virtual_router_id %d\n%s    virtual_ipaddress {\n        10.0.0.%d/24\n    }\n}\n",
			name, vrid, extra, vrid)
	}
	rsBlock := func(inner string) string {
		return "virtual_server 10.0.0.1 80 {\n    protocol TCP\n    real_server 10.0.1.1 80 {\n" + inner + "    }\n}\n"
	}
	switch k.Block {
	case "":
		text = mark + "\n" + instance("VI_1", 1, "")
	case "global_defs":
		text = "global_defs {\n    " + mark + "\n}\n" + instance("VI_1", 1, "")
	case "vrrp_instance":
		text = instance("VI_1", 1, "    "+mark+"\n")
	case "vrrp_sync_group":
		text = "vrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_2\n    }\n    " + mark + "\n}\n" +
			instance("VI_1", 1, "") + instance("VI_2", 2, "")
	case "virtual_server":
		text = "virtual_server 10.0.0.1 80 {\n    protocol TCP\n    " + mark + "\n    real_server 10.0.1.1 80 {\n        TCP_CHECK {\n        }\n    }\n}\n"
	case "real_server":
		text = rsBlock("        " + mark + "\n        TCP_CHECK {\n        }\n")
	case "CHECKER_TYPE":
		text = rsBlock("        TCP_CHECK {\n            " + mark + "\n        }\n")
	case "HTTP_GET", "SSL_GET":
		text = rsBlock("        " + k.Block + " {\n            " + mark + "\n            url {\n                path /\n            }\n        }\n")
	case "url":
		text = rsBlock("        HTTP_GET {\n            url {\n                path /\n                " + mark + "\n            }\n        }\n")
	default:
		panic("kwexample: no example for keywords of block " + k.Block)
	}
	if k.Name == "track_bfd" || k.Name == "BFD_CHECK" {
		text = blockLines["bfd_instance"] + "\n" + text // what they name
	}
	line := strings.Count(text[:strings.Index(text, mark)], "\n") + 1
	return strings.Replace(text, mark, stmt, 1), line
}

// Reported returns the table's keywords vigil reports when used as
// Example uses them: every Partial and Refused keyword except those
// inside a refused block (the block is reported).
func Reported() []config.Keyword {
	var out []config.Keyword
	for _, k := range config.Keywords() {
		if k.Class != config.Acted && k.Reported != config.Never {
			out = append(out, k)
		}
	}
	return out
}
