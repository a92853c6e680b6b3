package metrics

import (
	"io"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/status"
)

func snapshot() *status.Snapshot {
	t0 := time.Now().Add(-time.Minute)
	return &status.Snapshot{Version: "vigil test", Started: t0, Taken: time.Now(), Events: 1234,
		Instances: []status.Instance{{Name: "VI_1", Interface: "eth0", VRID: 51, State: "MASTER", StateCode: 2, Want: "MASTER",
			Priority: 110, BasePriority: 100, Master: "10.0.0.1", MasterPriority: 110, MasterIsSelf: true, VIPSet: true, GARPDelay: 5,
			VIPs:         []status.VIP{{Address: "10.0.0.100/24", Dev: "eth0"}, {Address: "10.0.0.101", Dev: "eth1"}},
			ExcludedVIPs: []status.VIP{{Address: "fd00::1/64", Dev: "eth0"}},
			Trackers:     []status.Tracker{{What: "track_script chk", Status: "OK", Weight: 10, Delta: 10}},
			LastTransition: &status.Transition{At: t0.Add(30 * time.Second), From: "BACKUP", To: "MASTER", Priority: 110,
				Reason: "priority-0-advert"},
			Transitions: []status.TransitionCount{{From: "BACKUP", To: "MASTER", Reason: "master-down-timer", Count: 2},
				{From: "BACKUP", To: "MASTER", Reason: "priority-0-advert", Count: 1}, {From: "MASTER", To: "BACKUP", Reason: "higher-priority-advert", Count: 2}},
			Stats:       status.Stats{AdvertRcvd: 7, AdvertSent: 40, BecomeMaster: 3, ReleaseMaster: 2, AuthFailure: 1, PriZeroRcvd: 1},
			AdvertsLate: 4},
			{Name: "VI_2", Interface: "eth1", VRID: 52, State: "BACKUP", StateCode: 1, Want: "BACKUP", Priority: 90, BasePriority: 90,
				Master: "10.0.1.2", MasterPriority: 120}},
		Scripts: []status.Script{{Name: "chk", OK: true, Result: 2}},
		VirtualServers: []status.VirtualServer{{ID: "tcp/10.0.0.100:80", QuorumUp: true, LiveWeight: 2,
			RealServers: []status.RealServer{{ID: "10.0.1.1:80", Alive: true, Weight: 2, Checkers: []status.Checker{{Type: "TCP_CHECK", Up: true, HasRun: true}}},
				{ID: "10.0.1.2:80", Checkers: []status.Checker{{Type: "HTTP_GET"}}}}}},
		Loop: status.Loop{Latency: status.Histogram{Bounds: []float64{0.001, 0.01}, Counts: []uint64{9, 10}, Count: 11, Sum: 0.5},
			AdvertLateness: status.Histogram{Bounds: []float64{0.001}, Counts: []uint64{3}, Count: 4, Sum: 0.05}},
		Journal: &status.Journal{Appended: 1234, Committed: 1200, Lost: 34, Bytes: 99999, Snapshots: 2, Commits: 10}}
}

func scrape(t *testing.T, c *Collector) string {
	t.Helper()
	srv := httptest.NewServer(Handler(c))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("scrape: %d %v\n%s", resp.StatusCode, err, b)
	}
	return string(b)
}

func lvs() ([]LVSService, error) {
	return []LVSService{{Addr: "10.0.0.100:80", Proto: 6, Counters: Counters{Connections: 5, PacketsIn: 50, PacketsOut: 40, BytesIn: 5000, BytesOut: 4000},
		Dests: []LVSDest{{Addr: "10.0.1.1:80", Counters: Counters{Connections: 5, PacketsIn: 50}}}}}, nil
}

func TestCollectorAllSets(t *testing.T) {
	s := snapshot()
	out := scrape(t, New(func() *status.Snapshot { return s }, Options{Compat: AllCompat, IPVS: lvs, CheckScript: "true"}))
	for _, want := range []string{
		"keepalived_up 1",
		// mehdy/keepalived-exporter (current).
		`keepalived_vrrp_state{iname="VI_1",intf="eth0",ip_address="10.0.0.100/24",vrid="51"} 2`,
		`keepalived_vrrp_state{iname="VI_1",intf="eth1",ip_address="10.0.0.101",vrid="51"} 2`,
		`keepalived_vrrp_state{iname="VI_2",intf="eth1",ip_address="",vrid="52"} 1`,
		`keepalived_vrrp_excluded_state{iname="VI_1",intf="eth0",ip_address="fd00::1/64",vrid="51"} 2`,
		`keepalived_advertisements_received_total{iname="VI_1",intf="eth0",vrid="51"} 7`,
		`keepalived_authentication_failure_total{iname="VI_1",intf="eth0",vrid="51"} 1`,
		`keepalived_become_master_total{iname="VI_1",intf="eth0",vrid="51"} 3`,
		`keepalived_release_master_total{iname="VI_1",intf="eth0",vrid="51"} 2`,
		`keepalived_gratuitous_arp_delay_total{iname="VI_1",intf="eth0",vrid="51"} 5`,
		`keepalived_exporter_check_script_status{iname="VI_1",intf="eth0",ip_address="10.0.0.100/24",vrid="51"} 1`,
		`keepalived_script_status{name="chk"} 1`,
		`keepalived_script_state{name="chk"} 0`,
		// mehdy/keepalived-exporter before 1.0.
		`keepalived_advert_rcvd_total{iname="VI_1",intf="eth0",state="MASTER",vrid="51"} 7`,
		`keepalived_packet_len_err_total{iname="VI_1",intf="eth0",state="MASTER",vrid="51"} 0`,
		`keepalived_auth_failure_total{iname="VI_1",intf="eth0",state="MASTER",vrid="51"} 1`,
		`keepalived_pri_zero_rcvd_total{iname="VI_1",intf="eth0",state="MASTER",vrid="51"} 1`,
		`keepalived_pri_zero_sent_total{iname="VI_2",intf="eth1",state="BACKUP",vrid="52"} 0`,
		`keepalived_garp_delay_total{iname="VI_1",intf="eth0",state="MASTER",vrid="51"} 5`,
		`keepalived_check_script_status{iname="VI_1",intf="eth0",ip_address="10.0.0.100/24",vrid="51"} 1`,
		// gen2brain/keepalived_exporter.
		`keepalived_vrrp_advert_sent{intf="eth0",name="VI_1",state="MASTER",vrid="51"} 40`,
		`keepalived_vrrp_become_master{intf="eth0",name="VI_1",state="MASTER",vrid="51"} 3`,
		`keepalived_lvs_vip_conn{addr="10.0.0.100:80",proto="6"} 5`,
		`keepalived_lvs_vip_in_bytes{addr="10.0.0.100:80",proto="6"} 5000`,
		`keepalived_lvs_rs_in_packets{addr="10.0.1.1:80",proto="6",vip="10.0.0.100:80"} 50`,
		// vigil's own.
		`vigil_vrrp_state{iname="VI_2",intf="eth1",vrid="52"} 1`,
		`vigil_vrrp_priority{iname="VI_1",intf="eth0",vrid="51"} 110`,
		`vigil_vrrp_base_priority{iname="VI_1",intf="eth0",vrid="51"} 100`,
		`vigil_vrrp_tracker_priority_delta{iname="VI_1",intf="eth0",tracker="track_script chk",vrid="51"} 10`,
		`vigil_vrrp_tracker_weight{iname="VI_1",intf="eth0",tracker="track_script chk",vrid="51"} 10`,
		`vigil_vrrp_master{iname="VI_2",intf="eth1",master="10.0.1.2",vrid="52"} 1`,
		`vigil_vrrp_master_priority{iname="VI_2",intf="eth1",vrid="52"} 120`,
		`vigil_vrrp_vips_installed{iname="VI_1",intf="eth0",vrid="51"} 1`,
		`vigil_vrrp_last_transition_timestamp_seconds{from="BACKUP",iname="VI_1",intf="eth0",reason="priority-0-advert",to="MASTER",vrid="51"}`,
		`vigil_vrrp_last_transition_age_seconds{from="BACKUP",iname="VI_1",intf="eth0",reason="priority-0-advert",to="MASTER",vrid="51"} 3`,
		`vigil_vrrp_transitions_total{from="MASTER",iname="VI_1",intf="eth0",reason="higher-priority-advert",to="BACKUP",vrid="51"} 2`,
		`vigil_vrrp_takeovers_total{iname="VI_1",intf="eth0",reason="master-down-timer",vrid="51"} 2`,
		`vigil_vrrp_takeovers_total{iname="VI_1",intf="eth0",reason="priority-0-advert",vrid="51"} 1`,
		`vigil_vrrp_adverts_late_total{iname="VI_1",intf="eth0",vrid="51"} 4`,
		`vigil_loop_latency_seconds_bucket{le="0.001"} 9`,
		`vigil_loop_latency_seconds_bucket{le="+Inf"} 11`,
		`vigil_loop_latency_seconds_count 11`,
		`vigil_advert_timer_lateness_seconds_sum 0.05`,
		`vigil_lvs_real_server_up{rs="10.0.1.1:80",vs="tcp/10.0.0.100:80"} 1`,
		`vigil_lvs_real_server_up{rs="10.0.1.2:80",vs="tcp/10.0.0.100:80"} 0`,
		`vigil_lvs_checker_up{checker="0",rs="10.0.1.2:80",type="HTTP_GET",vs="tcp/10.0.0.100:80"} -1`,
		`vigil_lvs_virtual_server_quorum_up{vs="tcp/10.0.0.100:80"} 1`,
		`vigil_lvs_virtual_server_live_weight{vs="tcp/10.0.0.100:80"} 2`,
		`vigil_journal_records_written_total 1200`,
		`vigil_journal_records_gapped_total 34`,
		`vigil_journal_bytes_written_total 99999`,
		`vigil_events_total 1234`,
		`vigil_ipvs_scrape_error 0`,
		`vigil_build_info{goversion="`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", out)
	}
	lint(t, out)
}

// Each set alone; mehdy-v0 alone gives become/release master its own
// labels (with state).
func TestCollectorSets(t *testing.T) {
	s := snapshot()
	for _, c := range []struct {
		sets     []string
		has, not []string
	}{
		{[]string{CompatMehdyV0}, []string{`keepalived_become_master_total{iname="VI_1",intf="eth0",state="MASTER",vrid="51"} 3`, "keepalived_vrrp_state{"},
			[]string{"keepalived_advertisements_received_total", "keepalived_vrrp_advert_rcvd", "keepalived_exporter_build_info"}},
		{[]string{CompatGen2brain}, []string{"keepalived_vrrp_advert_rcvd{", "keepalived_vrrp_release_master{"},
			[]string{"keepalived_vrrp_state{", "keepalived_become_master_total", "keepalived_lvs_vip_conn"}},
		{nil, []string{"keepalived_up 1", "vigil_vrrp_state{"}, []string{"keepalived_vrrp_state{", "keepalived_advert", "keepalived_vrrp_advert"}},
	} {
		out := scrape(t, New(func() *status.Snapshot { return s }, Options{Compat: c.sets}))
		for _, w := range c.has {
			if !strings.Contains(out, w) {
				t.Errorf("%v: scrape lacks %s", c.sets, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(out, w) {
				t.Errorf("%v: scrape has %s", c.sets, w)
			}
		}
		lint(t, out)
	}
}

func TestCollectorBeforeStart(t *testing.T) {
	out := scrape(t, New(func() *status.Snapshot { return nil }, Options{Compat: AllCompat}))
	if !strings.Contains(out, "keepalived_up 0") || strings.Contains(out, "vigil_vrrp_state") {
		t.Errorf("scrape before start:\n%s", out)
	}
}

func TestParseCompat(t *testing.T) {
	for in, want := range map[string]string{"all": "gen2brain,mehdy,mehdy-v0", "none": "", "mehdy, gen2brain,mehdy": "gen2brain,mehdy"} {
		got, err := ParseCompat(in)
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("ParseCompat(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if _, err := ParseCompat("mehdy,prom"); err == nil {
		t.Error("unknown set accepted")
	}
}

// lint runs promtool check metrics when promtool is installed. The only
// problems allowed are gen2brain's counter names, served as that exporter
// names them (without _total).
func lint(t *testing.T, text string) {
	t.Helper()
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Log("promtool not installed: not linted")
		return
	}
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, _ := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" || ((strings.HasPrefix(line, "keepalived_vrrp_") || strings.HasPrefix(line, "keepalived_lvs_")) &&
			strings.Contains(line, `counter metrics should have "_total" suffix`)) {
			continue
		}
		t.Errorf("promtool check metrics: %s", line)
	}
}
