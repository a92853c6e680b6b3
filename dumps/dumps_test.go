package dumps

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
)

const testConf = `global_defs {
  router_id n1
}
vrrp_script chk {
  script "/bin/true x"
  interval 2
  weight 10
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 77
  priority 150
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass s3cret
  }
  track_script {
    chk
  }
  notify_master "/usr/local/bin/notify master"
  virtual_ipaddress {
    10.77.0.100/24
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 78
  version 3
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.77.0.101/24
  }
}
`

// run drives an engine through start-up until both instances are MASTER
// (firing each due timer in order), recording effects as the daemon does.
func run(t *testing.T, text string) (*engine.Engine, *Recorder, events.Time) {
	t.Helper()
	cfg, _, err := config.LoadString("keepalived.conf", text, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, rec := engine.New(), NewRecorder()
	timers := map[string]events.Time{}
	var now events.Time
	step := func(ev events.Event) {
		effs := e.Step(ev)
		rec.Observe(ev.EventTime(), effs)
		for _, f := range effs {
			switch v := f.(type) {
			case *effects.SetTimer:
				timers[v.Key] = v.At
			case *effects.CancelTimer:
				delete(timers, v.Key)
			}
		}
	}
	step(&events.ConfigLoaded{Config: cfg})
	step(&events.LinkChanged{Interface: "eth0", Present: true, Up: true, Running: true})
	step(&events.AddressChanged{Interface: "eth0", Prefix: netip.MustParsePrefix("10.77.0.11/24"), Added: true})
	step(&events.Start{Seed: 1})
	step(&events.ScriptResult{Header: events.Header{At: now}, Script: "chk", Status: 0})
	for n := 0; n < 40; n++ {
		key, at := "", events.Time(0)
		for k, a := range timers {
			if key == "" || a < at || (a == at && k < key) {
				key, at = k, a
			}
		}
		if key == "" || at > events.Time(10*time.Second) {
			break
		}
		delete(timers, key)
		now = at
		step(&events.TimerFired{Header: events.Header{At: at}, Key: key})
	}
	return e, rec, now
}

func take(t *testing.T, text string) *Input {
	e, rec, now := run(t, text)
	in := Take(e.DumpView(), rec, now, time.Unix(1795313997, 241570000).UTC())
	in.ScriptUID, in.ScriptGID, in.HaveScriptUser = 0, 0, true
	return in
}

func TestStatsLayout(t *testing.T) {
	in := take(t, testConf)
	var b bytes.Buffer
	if err := WriteStats(&b, in); err != nil {
		t.Fatal(err)
	}
	s1 := in.Records.Stats["VI_1"]
	if s1.BecomeMaster != 1 || s1.AdvertSent == 0 {
		t.Fatalf("VI_1 stats %+v: want one become-master and adverts sent", s1)
	}
	want := "VRRP Instance: VI_1\n" +
		"  Advertisements:\n" +
		"    Received: 0\n" +
		"    Sent: " + itoa(int(s1.AdvertSent)) + "\n" +
		"  Became master: 1\n" +
		"  Released master: 0\n" +
		"  Packet Errors:\n" +
		"    Length: 0\n" +
		"    TTL: 0\n" +
		"    Invalid Type: 0\n" +
		"    Advertisement Interval: 0\n" +
		"    Address List: 0\n" +
		"  Authentication Errors:\n" +
		"    Invalid Type: 0\n" +
		"    Type Mismatch: 0\n" +
		"    Failure: 0\n" +
		"  Priority Zero:\n" +
		"    Received: 0\n" +
		"    Sent: 0\n"
	if got := b.String(); !strings.HasPrefix(got, want) || strings.Count(got, "VRRP Instance: ") != 2 {
		t.Fatalf("stats dump:\n%s\nwant first instance:\n%s", got, want)
	}
}

func TestStatsClearAndKeep(t *testing.T) {
	r := NewRecorder()
	r.Observe(5, []effects.Effect{&effects.Count{Instance: "A", Counter: effects.CounterAdvertSent, Delta: 1},
		&effects.Count{Instance: "B", Counter: effects.CounterPriorityZeroReceived, Delta: 2},
		&effects.Count{Instance: "A", Counter: effects.CounterVersionError, Delta: 1},
		&effects.StateChanged{Instance: "A", To: effects.StateMaster}})
	if r.Stats("A").AdvertSent != 1 || r.Stats("B").PriZeroRcvd != 2 || r.LastTransition("A") != 5 {
		t.Fatalf("recorded %+v %+v %v", r.Stats("A"), r.Stats("B"), r.LastTransition("A"))
	}
	r.Keep([]string{"A"})
	if r.Stats("B") != (Stats{}) {
		t.Fatal("B survived a reload that removed it")
	}
	r.Clear()
	if r.Stats("A") != (Stats{}) || r.LastTransition("A") != 5 {
		t.Fatal("Clear must zero counters and keep transition times")
	}
}

func TestJSONv1(t *testing.T) {
	in := take(t, testConf)
	var b bytes.Buffer
	if err := WriteJSON(&b, in, JSONv1); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasSuffix(out, "}}]\n") || strings.Contains(out, " ") && !strings.Contains(out, "dev eth0") {
		t.Fatalf("not keepalived's compact form: %s", out)
	}
	var got []map[string]map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got) != 2 {
		t.Fatalf("%d instances", len(got))
	}
	d := got[0]["data"]
	for k, want := range map[string]any{"iname": "VI_1", "vrid": 77.0, "base_priority": 150.0, "effective_priority": 160.0,
		"state": 2.0, "wantstate": 2.0, "version": 2.0, "vipset": true, "auth_type": 1.0, "auth_data": "s3cret",
		"adver_int": 1.0, "garp_delay": 5.0, "ifp_ifname": "eth0", "vmac_ifname": "", "accept": 1.0,
		"script_master": "'/usr/local/bin/notify' 'master'"} {
		if d[k] != want {
			t.Errorf("data.%s = %#v, want %#v", k, d[k], want)
		}
	}
	if v, _ := d["vips"].([]any); len(v) != 1 || v[0] != "10.77.0.100/24 dev eth0 scope global set" {
		t.Errorf("vips %#v", d["vips"])
	}
	if v, _ := d["track_script"].([]any); len(v) != 1 || v[0] != "'/bin/true' 'x'" {
		t.Errorf("track_script %#v", d["track_script"])
	}
	if _, ok := got[1]["data"]["auth_data"]; ok {
		t.Error("VRRPv3 instance has auth_data")
	}
	// Field order is keepalived's.
	order := []string{`"iname"`, `"dont_track_primary"`, `"skip_check_adv_addr"`, `"strict_mode"`, `"vmac_ifname"`,
		`"ifp_ifname"`, `"master_priority"`, `"last_transition"`, `"garp_delay"`, `"garp_refresh"`, `"garp_rep"`,
		`"garp_refresh_rep"`, `"garp_lower_prio_delay"`, `"garp_lower_prio_rep"`, `"lower_prio_no_advert"`,
		`"higher_prio_send_advert"`, `"vrid"`, `"base_priority"`, `"effective_priority"`, `"vipset"`,
		`"promote_secondaries"`, `"adver_int"`, `"master_adver_int"`, `"accept"`, `"nopreempt"`, `"preempt_delay"`,
		`"state"`, `"wantstate"`, `"version"`, `"smtp_alert"`, `"notify_deleted"`, `"script_master"`, `"vips"`,
		`"track_script"`, `"auth_type"`, `"auth_data"`, `"stats"`, `"advert_rcvd"`, `"advert_sent"`, `"become_master"`,
		`"release_master"`, `"packet_len_err"`, `"advert_interval_err"`, `"ip_ttl_err"`, `"invalid_type_rcvd"`,
		`"addr_list_err"`, `"invalid_authtype"`, `"authtype_mismatch"`, `"auth_failure"`, `"pri_zero_rcvd"`, `"pri_zero_sent"`}
	first := out[:strings.Index(out, `"iname":"VI_2"`)]
	pos := 0
	for _, k := range order {
		n := strings.Index(first[pos:], k)
		if n < 0 {
			t.Fatalf("%s missing or out of order in %s", k, first)
		}
		pos += n
	}
	if !strings.Contains(out, `"last_transition":1795313997.241570`) && !strings.Contains(out, `"last_transition":179531399`) {
		t.Errorf("last_transition not printed as %%f seconds: %s", out)
	}
}

func TestJSONv2(t *testing.T) {
	text := strings.Replace(testConf, "router_id n1", "router_id n1\n  json_version 2", 1) +
		"vrrp_track_process sshd {\n  process sshd\n  weight 5\n}\n"
	text = strings.Replace(text, "  track_script {\n    chk\n  }\n", "  track_script {\n    chk\n  }\n  track_process {\n    sshd\n  }\n", 1)
	in := take(t, text)
	if JSONVersion(in.View) != JSONv2 {
		t.Fatal("json_version 2 not seen")
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, in, JSONVersion(in.View)); err != nil {
		t.Fatal(err)
	}
	var got struct {
		VRRP []map[string]map[string]any `json:"vrrp"`
		TP   []map[string]any            `json:"track_process"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, b.String())
	}
	if len(got.VRRP) != 2 || len(got.TP) != 1 {
		t.Fatalf("v2: %s", b.String())
	}
	if tp, _ := got.VRRP[0]["data"]["track_process"].([]any); len(tp) != 1 || tp[0] != "sshd" {
		t.Errorf("instance track_process %#v", got.VRRP[0]["data"]["track_process"])
	}
	p := got.TP[0]
	for k, want := range map[string]any{"process": "sshd", "param_match": "none", "min_processes": 1.0,
		"weight": 5.0, "full_command": false, "fork_delay": 0.0} {
		if p[k] != want {
			t.Errorf("track_process.%s = %#v, want %#v", k, p[k], want)
		}
	}
}

func TestDataTopology(t *testing.T) {
	in := take(t, testConf)
	in.Hostname = "ignored"
	var b bytes.Buffer
	if err := WriteData(&b, in); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"------< Global definitions >------\n Network namespace = (default)\n Network namespace ipvs = (main namespace)\n Router ID = n1\n",
		" VRRP Instance = VI_1\n   VRRP Version = 2\n   State = MASTER\n   Flags: none\n   Wantstate = MASTER\n   Number of config faults = 0\n",
		"   Last transition = 17953",
		"   Master down timer = 3375000 usecs\n   Interface = eth0\n   Using src_ip = 10.77.0.11\n   Multicast address 224.0.0.18\n",
		"   Virtual Router ID = 77\n   Priority = 150\n   Effective priority = 160\n   Total priority = 160\n   Advert interval = 1 sec\n   Accept = enabled\n   Preempt = enabled\n   Promote_secondaries = disabled\n   Authentication type = SIMPLE_PASSWORD\n   Password = s3cret\n   Virtual IP (1):\n     10.77.0.100/24 dev eth0 scope global set\n   Tracked scripts :\n     chk weight 10\n",
		"   Master state transition script = '/usr/local/bin/notify' 'master', uid:gid 0:0\n   Notify priority changes = false\n",
		" VRRP Instance = VI_2\n   VRRP Version = 3\n",
		"   Master down timer = 3609375 usecs\n",
		"   Advert interval = 1000 milli-sec\n",
		"------< VRRP Scripts >------\n VRRP Script = chk\n   Command = '/bin/true' 'x'\n   Interval = 2 sec\n   Timeout = 2 sec\n   Weight = 10\n   Rise = 1\n   Fall = 1\n",
		"   Status = GOOD\n   Script uid:gid = 0:0\n   VRRP instances :\n   Tracking instances :\n     VI_1, weight 10\n   State = idle\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("data dump lacks:\n%s\n--- dump:\n%s", want, out)
		}
	}
	if strings.Contains(out, "fd_in") || strings.Contains(out, "Sockpool") {
		t.Error("data dump has socket details vigil deliberately leaves out")
	}
}

func TestFormatHelpers(t *testing.T) {
	for v, want := range map[float64]string{1: "1", 0.5: "0.5", 5: "5", 0.00001: "1e-05", 1234567: "1.23457e+06", 0: "0", 2.25: "2.25"} {
		if got := cFormatG(v); got != want {
			t.Errorf("cFormatG(%v) = %q, want %q", v, got, want)
		}
	}
	if got := prefixStr(netip.MustParsePrefix("10.0.0.1/32")); got != "10.0.0.1" {
		t.Errorf("host prefix printed as %q", got)
	}
	var b bytes.Buffer
	j := &jsonw{b: bufioWriter(&b)}
	j.str(`a/b\c"d`)
	j.b.Flush()
	if b.String() != `"a\/b\\c\"d"` {
		t.Errorf("json escape %s", b.String())
	}
	tm := time.Date(2026, 11, 2, 2, 19, 57, 241570000, time.UTC)
	if got := timeUS(tm); got != "1793585997.241570 (Mon Nov  2 02:19:57.241570 2026)" {
		t.Errorf("timeUS %q", got)
	}
}
