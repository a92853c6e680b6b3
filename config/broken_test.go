package config

import (
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/config/diag"
	"github.com/vigil-ha/vigil/events/conf"
)

// memFS is an in-memory file system for Options.ReadFile and Glob.
type memFS map[string]string

func (m memFS) options() Options {
	return Options{
		ConfigID: "test",
		ReadFile: func(p string) ([]byte, error) {
			if s, ok := m[p]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		},
		Glob: func(pattern string) ([]string, error) {
			var out []string
			for name := range m {
				if ok, _ := path.Match(pattern, name); ok {
					out = append(out, name)
				}
			}
			return out, nil
		},
	}
}

// vi is a valid instance to embed in broken configurations.
const vi = `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        10.0.0.1/24
    }
}
`

type broken struct {
	name  string
	files memFS // "/etc/k/keepalived.conf" is loaded
	file  string
	line  int
	sev   diag.Severity
	msg   string // substring of the message
	kw    string // keyword, when checked
}

const mainConf = "/etc/k/keepalived.conf"

func one(text string) memFS { return memFS{mainConf: text} }

var brokenCases = []broken{
	{name: "vrid out of range", files: one("vrrp_instance A {\n interface eth0\n virtual_router_id 256\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n"),
		line: 3, sev: diag.Error, msg: "invalid value '256': must be an integer from 1 to 255", kw: "virtual_router_id"},
	{name: "vrid missing", files: one("vrrp_instance A {\n interface eth0\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n"),
		line: 1, sev: diag.Error, msg: "(A) virtual_router_id must be set", kw: "vrrp_instance"},
	{name: "priority zero", files: one("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n priority 0\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n"),
		line: 4, sev: diag.Error, msg: "must be an integer from 1 to 255", kw: "priority"},
	{name: "priority not a number", files: one("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n priority high\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n"),
		line: 4, sev: diag.Error, msg: "invalid value 'high'"},
	{name: "advert_int too small", files: one("vrrp_instance A {\n interface eth0\n version 3\n virtual_router_id 1\n advert_int 0.005\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n"),
		line: 5, sev: diag.Error, msg: "must be at least 0.01 seconds", kw: "advert_int"},
	{name: "advert_int v2 fraction rounded", files: one("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n advert_int 1.6\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n"),
		line: 4, sev: diag.Warning, msg: "VRRPv2 advertisement interval 1.6s must be whole seconds - rounded to 2s"},
	{name: "advert_int v3 clamped", files: one("vrrp_instance A {\n interface eth0\n version 3\n virtual_router_id 1\n advert_int 41\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n"),
		line: 5, sev: diag.Warning, msg: "using 40.95s"},
	{name: "unknown keyword", files: one("global_defs {\n router_id x\n frobnicate 1\n}\n"),
		line: 3, sev: diag.Warning, msg: "unknown keyword in global_defs", kw: "frobnicate"},
	{name: "unknown top-level keyword", files: one("vrrp_instanse A {\n}\n"),
		line: 1, sev: diag.Warning, msg: "unknown keyword in the top level"},
	{name: "unclosed block", files: one("global_defs {\n router_id x\n"),
		line: 1, sev: diag.Error, msg: "block is never closed"},
	{name: "stray close brace", files: one("global_defs {\n}\n}\n"),
		line: 3, sev: diag.Error, msg: "'}' does not close any block"},
	{name: "track_script not found", files: one("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 10.0.0.1\n }\n track_script {\n  chk_missing\n }\n}\n"),
		line: 8, sev: diag.Error, msg: "(A) vrrp_script chk_missing not found", kw: "track_script"},
	{name: "track_file not found", files: one(vi[:len(vi)-2] + "    track_file {\n        nofile weight 2\n    }\n}\n"),
		line: 8, sev: diag.Error, msg: "track_file nofile not found"},
	{name: "track_process not found", files: one(vi[:len(vi)-2] + "    track_process {\n        noproc\n    }\n}\n"),
		line: 8, sev: diag.Error, msg: "vrrp_track_process noproc not found"},
	{name: "track_bfd not found", files: one(vi[:len(vi)-2] + "    track_bfd {\n        nobfd\n    }\n}\n"),
		line: 8, sev: diag.Error, msg: "bfd_instance nobfd not found"},
	{name: "track weight out of range", files: one(vi[:len(vi)-2] + "    track_interface {\n        eth1 weight 254\n    }\n}\n"),
		line: 8, sev: diag.Error, msg: "must be an integer from -253 to 253"},
	{name: "vrrp_script weight out of range", files: one("vrrp_script s {\n script /bin/true\n weight -254\n}\n"),
		line: 3, sev: diag.Error, msg: "must be an integer from -253 to 253"},
	{name: "sync group member missing", files: one(vi + "vrrp_sync_group G {\n group {\n  VI_1\n  VI_9\n }\n}\n"),
		line: 11, sev: diag.Error, msg: "vrrp_sync_group G: vrrp_instance VI_9 not found", kw: "group"},
	{name: "instance in two sync groups", files: one(vi + "vrrp_sync_group G {\n group {\n  VI_1\n }\n}\nvrrp_sync_group H {\n group {\n  VI_1\n }\n}\n"),
		line: 15, sev: diag.Error, msg: "already in sync group G"},
	{name: "duplicate vrid multicast", files: one(vi + strings.Replace(vi, "VI_1", "VI_2", 1)),
		line: 8, sev: diag.Error, msg: "(VI_2) VRID 51 with IPv4 on interface eth0 is already used by vrrp_instance VI_1 at /etc/k/keepalived.conf:1"},
	{name: "duplicate vrid unicast overlapping peers", files: one(
		"vrrp_instance A {\n interface eth0\n virtual_router_id 9\n unicast_peer {\n  10.1.1.1\n }\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n" +
			"vrrp_instance B {\n interface eth0\n virtual_router_id 9\n unicast_peer {\n  10.1.1.2\n  10.1.1.1\n }\n virtual_ipaddress {\n 10.0.0.2\n }\n}\n"),
		line: 11, sev: diag.Error, msg: "(B) VRID 9"},
	{name: "duplicate instance name", files: one(vi + vi),
		line: 8, sev: diag.Error, msg: "vrrp_instance VI_1 already defined at /etc/k/keepalived.conf:1"},
	{name: "strict mode unicast", files: one("global_defs {\n vrrp_strict\n}\nvrrp_instance A {\n interface eth0\n virtual_router_id 1\n unicast_peer {\n  10.1.1.1\n }\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n"),
		line: 7, sev: diag.Error, msg: "unicast peers are not supported in strict mode"},
	{name: "strict mode auth", files: one("global_defs {\n vrrp_strict\n}\nvrrp_instance A {\n interface eth0\n virtual_router_id 1\n authentication {\n  auth_type PASS\n  auth_pass secret\n }\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n"),
		line: 7, sev: diag.Warning, msg: "strict mode does not support authentication - authentication ignored"},
	{name: "strict mode state master needs 255", files: one("vrrp_instance A {\n strict_mode on\n state MASTER\n priority 200\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n"),
		line: 3, sev: diag.Warning, msg: "in strict mode state MASTER requires priority 255"},
	{name: "strict mode no VIP", files: one("vrrp_instance A {\n strict_mode\n interface eth0\n virtual_router_id 1\n}\n"),
		line: 1, sev: diag.Error, msg: "no virtual_ipaddress specified; at least one is required"},
	{name: "invalid VIP", files: one("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.300/24\n }\n}\n"),
		line: 5, sev: diag.Error, msg: "invalid IP address '10.0.0.300/24'", kw: "virtual_ipaddress"},
	{name: "mixed VIP families", files: one("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n  fe80::1\n }\n}\n"),
		line: 6, sev: diag.Error, msg: "does not match the instance's other virtual addresses"},
	{name: "mcast_dst_ip not multicast", files: one("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n mcast_dst_ip 10.1.1.1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n"),
		line: 4, sev: diag.Error, msg: "is not a multicast address"},
	{name: "bad bool", files: one("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n skip_check_adv_addr maybe\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n"),
		line: 4, sev: diag.Error, msg: "expected on|off|true|false|yes|no"},
	{name: "no interface", files: one("vrrp_instance A {\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n"),
		line: 1, sev: diag.Error, msg: "no interface specified"},
	{name: "interface name too long", files: one("vrrp_instance A {\n interface averyveryverylongname0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n"),
		line: 2, sev: diag.Error, msg: "invalid interface name 'averyveryverylongname0'"},
	{name: "track_group missing", files: one("static_ipaddress {\n 192.168.1.1/24 dev eth0 track_group NOPE\n}\n"),
		line: 2, sev: diag.Error, msg: "track_group NOPE not found", kw: "static_ipaddress"},
	{name: "track_group names missing instance", files: one("track_group G {\n group {\n  VI_X\n }\n}\n"),
		line: 3, sev: diag.Error, msg: "track_group G: vrrp_instance VI_X not found"},
	{name: "nopreempt with 255", files: one("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n priority 255\n nopreempt\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n"),
		line: 5, sev: diag.Warning, msg: "nopreempt is incompatible with priority 255"},
	{name: "weighted track script in sync group", files: one("vrrp_script s {\n script /bin/true\n weight 10\n}\n" + vi[:len(vi)-2] +
		"    track_script {\n        s\n    }\n}\nvrrp_sync_group G {\n group {\n  VI_1\n }\n}\n"),
		line: 12, sev: diag.Warning, msg: "ignoring vrrp_script s with weight 10 due to sync group G"},
	{name: "lvs unknown scheduler", files: one("virtual_server 10.0.0.1 80 {\n lvs_sched xyz\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n}\n"),
		line: 2, sev: diag.Error, msg: "unknown scheduler 'xyz'"},
	{name: "lvs group missing", files: one("virtual_server group G {\n lvs_sched rr\n real_server 10.0.1.1 80 {\n }\n}\n"),
		line: 1, sev: diag.Error, msg: "virtual_server_group G not found"},
	{name: "lvs bad digest", files: one("virtual_server 10.0.0.1 80 {\n lvs_sched rr\n protocol TCP\n real_server 10.0.1.1 80 {\n  HTTP_GET {\n   url {\n    path /\n    digest xyz\n   }\n  }\n }\n}\n"),
		line: 8, sev: diag.Error, msg: "expected 32 hexadecimal digits"},
	{name: "lvs misc without path", files: one("virtual_server 10.0.0.1 80 {\n lvs_sched rr\n protocol TCP\n real_server 10.0.1.1 80 {\n  MISC_CHECK {\n   misc_timeout 5\n  }\n }\n}\n"),
		line: 5, sev: diag.Error, msg: "MISC_CHECK has no misc_path"},
	{name: "lvs real server family", files: one("virtual_server 10.0.0.1 80 {\n lvs_sched rr\n protocol TCP\n real_server 2001:db8::1 80 {\n }\n}\n"),
		line: 4, sev: diag.Error, msg: "not of the virtual server's address family"},
	{name: "lvs quorum reduced", files: one("virtual_server 10.0.0.1 80 {\n lvs_sched rr\n protocol TCP\n quorum 5\n real_server 10.0.1.1 80 {\n  weight 2\n }\n}\n"),
		line: 1, sev: diag.Warning, msg: "quorum 5 exceeds the total weight of the real servers 2 - using 2"},
	{name: "file check unknown track_file", files: one("virtual_server 10.0.0.1 80 {\n lvs_sched rr\n protocol TCP\n real_server 10.0.1.1 80 {\n  FILE_CHECK {\n   track_file nope\n  }\n }\n}\n"),
		line: 5, sev: diag.Error, msg: "FILE_CHECK: track_file nope not found"},
	{name: "error in included file", files: memFS{
		mainConf:                "global_defs {\n router_id r1\n}\ninclude conf.d/*.conf\n",
		"/etc/k/conf.d/vi.conf": "vrrp_instance B {\n interface eth0\n virtual_router_id 300\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n",
	}, file: "/etc/k/conf.d/vi.conf", line: 3, sev: diag.Error, msg: "must be an integer from 1 to 255"},
	{name: "duplicate vrid across files", files: memFS{
		mainConf:            vi + "include other.conf\n",
		"/etc/k/other.conf": strings.Replace(vi, "VI_1", "VI_2", 1),
	}, file: "/etc/k/other.conf", line: 1, sev: diag.Error, msg: "already used by vrrp_instance VI_1 at /etc/k/keepalived.conf:1"},
	{name: "expects a block", files: one("vrrp_instance A\n"),
		line: 1, sev: diag.Error, msg: "expects a block"},
	{name: "lvs_sync_daemon unknown instance", files: one("global_defs {\n lvs_sync_daemon eth0 VI_NOPE\n}\n" + vi),
		line: 2, sev: diag.Error, msg: "vrrp_instance VI_NOPE not found"},
	{name: "auth pass truncated", files: one(vi[:len(vi)-2] + "    authentication {\n        auth_type PASS\n        auth_pass 123456789\n    }\n}\n"),
		line: 9, sev: diag.Warning, msg: "only the first 8 are used"},
	{name: "up/down delay without delays", files: one("interface_up_down_delays {\n eth0\n}\n" + vi),
		line: 2, sev: diag.Warning, msg: "no delays specified for eth0 up/down delays - ignored", kw: "interface_up_down_delays"},
	{name: "up/down delay not a number", files: one("interface_up_down_delays {\n eth0 soon\n}\n" + vi),
		line: 2, sev: diag.Warning, msg: "invalid down delay 'soon' for eth0"},
	{name: "up/down delay too long", files: one("interface_up_down_delays {\n eth0 1 256\n}\n" + vi),
		line: 2, sev: diag.Warning, msg: "invalid up delay '256' for eth0 (must be seconds from 0 to 255) - line ignored"},
	{name: "up/down delay bad interface", files: one("interface_up_down_delays {\n eth0/x 1\n}\n" + vi),
		line: 2, sev: diag.Error, msg: "invalid interface name 'eth0/x'"},
	{name: "up/down delay too many", files: one("interface_up_down_delays {\n eth0 1 1 1\n}\n" + vi),
		line: 2, sev: diag.Warning, msg: "extra argument(s) '1' ignored"},
	{name: "up/down delay over the advert limit", files: one("interface_up_down_delays {\n eth0 5\n}\n" + vi),
		line: 2, sev: diag.Warning, msg: "(VI_1) eth0 down delay 5s is not less than 2 x advert_int - using 1.996094s"},
	{name: "up/down delay with one down advert", files: one("interface_up_down_delays {\n eth0 1\n}\n" +
		strings.Replace(vi, "virtual_router_id 51", "virtual_router_id 51\n    down_timer_adverts 1", 1)),
		line: 2, sev: diag.Warning, msg: "(VI_1) cannot use up/down delays on eth0 with down_timer_adverts 1 - using 0"},
	{name: "nodad without dash", files: one(strings.Replace(vi, "10.0.0.1/24", "10.0.0.1/24 nodad", 1)),
		line: 5, sev: diag.Warning, msg: "unknown configuration entry 'nodad' for ip address - ignored"},
	{name: "param_match invalid", files: one("vrrp_track_process p {\n process nginx\n param_match most\n}\n" + vi),
		line: 3, sev: diag.Warning, msg: "invalid param_match type 'most' (expected initial or partial) - ignored"},
	{name: "sync group weight with owner", files: one("vrrp_script chk {\n script /bin/true\n weight 10\n}\n" +
		"vrrp_sync_group G {\n group {\n VI_1\n }\n track_script {\n chk\n }\n}\n" +
		strings.Replace(vi, "virtual_router_id 51", "virtual_router_id 51\n    priority 255", 1)),
		line: 10, sev: diag.Warning, msg: "(G) cannot have weighted track_script chk with member VI_1 having priority 255 - using weight 0"},
}

// TestAddressAndProcessDefaults checks effective values the parser puts
// in the model: IPv6 addresses get nodad unless -nodad is written (never
// IPv4 ones), param_match with no argument is exact, and so is a tracked
// process with parameters and no param_match; a sync group's weighted
// tracking keeps its weight.
func TestAddressAndProcessDefaults(t *testing.T) {
	text := "vrrp_track_process p1 {\n process a\n param_match\n}\n" +
		"vrrp_track_process p2 {\n process b x y\n}\n" +
		"vrrp_track_process p3 {\n process c\n}\n" +
		"vrrp_script chk {\n script /bin/true\n weight 10\n}\n" +
		"vrrp_sync_group G {\n group {\n VI_1\n VI_2\n }\n track_script {\n chk\n }\n track_process {\n p1\n p2\n p3\n }\n}\n" +
		`vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        fd00::1/64
        fd00::2/64 -nodad
    }
    virtual_ipaddress_excluded {
        10.0.0.1/24
    }
}
` + strings.NewReplacer("VI_1", "VI_2", "51", "52").Replace(vi)
	cfg, diags, err := LoadString("d.conf", text, Options{})
	if err != nil || len(diags) != 0 {
		t.Fatalf("%v\n%s", err, list(diags))
	}
	var dad []bool
	for _, a := range append(cfg.Instances[0].VirtualIPAddresses, cfg.Instances[0].VirtualIPAddressesExcluded...) {
		dad = append(dad, a.NoDAD)
	}
	if !slices.Equal(dad, []bool{true, false, false}) {
		t.Errorf("nodad = %v, want [true false false]", dad)
	}
	var pm []string
	for _, p := range cfg.TrackProcesses {
		pm = append(pm, p.ParamMatch)
	}
	if !slices.Equal(pm, []string{"exact", "exact", ""}) {
		t.Errorf("param_match = %q, want [exact exact \"\"]", pm)
	}
	if r := cfg.SyncGroups[0].TrackScripts[0]; r.Weight != nil && *r.Weight == 0 {
		t.Errorf("sync group track_script weight forced to 0")
	}
}

// TestUpDownDelays checks the model of interface_up_down_delays: the up
// delay is 0 when omitted (keepalived's parser, not its man page), a later
// line for an interface replaces an earlier one, and a delay over the
// instances' limit is reduced (the up delay with it when they are equal).
func TestUpDownDelays(t *testing.T) {
	text := "interface_up_down_delays {\n eth0 1.5\n eth1 0.2 0.3\n eth1 0.4\n eth2 3 3\n eth3 3 1\n}\n" + vi +
		strings.NewReplacer("VI_1", "VI_2", "eth0", "eth2", "51", "52").Replace(vi) +
		strings.NewReplacer("VI_1", "VI_3", "eth0", "eth3", "51", "53").Replace(vi)
	cfg, diags, err := LoadString("d.conf", text, Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, list(diags))
	}
	want := []conf.UpDownDelay{
		{Interface: "eth0", Down: conf.Duration(1500 * time.Millisecond)},
		{Interface: "eth1", Down: conf.Duration(400 * time.Millisecond)},
		{Interface: "eth2", Down: conf.Duration(1996094 * time.Microsecond), Up: conf.Duration(1996094 * time.Microsecond)},
		{Interface: "eth3", Down: conf.Duration(1996094 * time.Microsecond), Up: conf.Duration(time.Second)},
	}
	if !slices.Equal(cfg.InterfaceUpDownDelays, want) {
		t.Errorf("got %+v\nwant %+v", cfg.InterfaceUpDownDelays, want)
	}
	if len(diags) != 2 {
		t.Errorf("want the two limit warnings, got:\n%s", list(diags))
	}
}

func TestBrokenConfigs(t *testing.T) {
	if len(brokenCases) < 30 {
		t.Fatalf("only %d broken cases", len(brokenCases))
	}
	for _, tc := range brokenCases {
		t.Run(tc.name, func(t *testing.T) {
			_, diags, err := Load(mainConf, tc.files.options())
			if tc.sev == diag.Error && err == nil {
				t.Errorf("expected a load error; diagnostics:\n%s", list(diags))
			}
			file := tc.file
			if file == "" {
				file = mainConf
			}
			for _, d := range diags {
				if d.File == file && d.Line == tc.line && d.Severity == tc.sev && strings.Contains(d.Message, tc.msg) &&
					(tc.kw == "" || d.Keyword == tc.kw) && d.Col > 0 {
					return
				}
			}
			t.Errorf("want %s %s:%d %q (keyword %q); got:\n%s", tc.sev, file, tc.line, tc.msg, tc.kw, list(diags))
		})
	}
}

func list(l diag.List) string {
	var b strings.Builder
	for _, d := range l {
		b.WriteString("  " + d.String() + "\n")
	}
	return b.String()
}

func TestStrictPromotesWarnings(t *testing.T) {
	text := "global_defs {\n frobnicate\n}\n" + vi
	_, diags, err := LoadString("s.conf", text, Options{})
	if err != nil || len(diags) != 1 || diags[0].Severity != diag.Warning {
		t.Fatalf("non-strict: err=%v diags=%v", err, diags)
	}
	_, diags, err = LoadString("s.conf", text, Options{Strict: true})
	if err == nil || len(diags) != 1 || diags[0].Severity != diag.Error {
		t.Fatalf("strict: err=%v diags=%v", err, diags)
	}
}

func TestDiagnosticsInSourceOrder(t *testing.T) {
	// Reference errors are found after parsing; they must still come out
	// in line order, interleaved with parse-time diagnostics.
	text := "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n track_script {\n  nope1\n }\n bogus\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n" +
		"vrrp_instance B {\n interface eth0\n virtual_router_id 1\n track_script {\n  nope2\n }\n virtual_ipaddress {\n  10.0.0.2\n }\n}\n"
	_, diags, _ := LoadString("o.conf", text, Options{})
	last := 0
	for _, d := range diags {
		if d.Line < last {
			t.Fatalf("out of order:\n%s", list(diags))
		}
		last = d.Line
	}
	if len(diags) != 4 {
		t.Fatalf("want 4 diagnostics, got:\n%s", list(diags))
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, _, err := Load("/nonexistent/keepalived.conf", memFS{}.options())
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}
