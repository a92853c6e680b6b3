package status

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

type fakeSource struct {
	snap  *Snapshot
	delay time.Duration
}

func (f *fakeSource) Snapshot() *Snapshot { return f.snap }

func (f *fakeSource) Explain(name string, timeout time.Duration) (*Explanation, error) {
	time.Sleep(f.delay)
	if f.snap == nil {
		return nil, ErrNotRunning
	}
	in := f.snap.Instance(name)
	if in == nil {
		return nil, errors.New("no instance " + name)
	}
	return &Explanation{Fresh: true, Instance: *in, Text: "why " + name}, nil
}

func testSnapshot() *Snapshot {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return &Snapshot{Version: "vigil test", Host: "lb1", PID: 42, Started: t0, Taken: t0.Add(time.Minute), Events: 99,
		Instances: []Instance{{Name: "VI_1", Interface: "eth0", VRID: 51, Version: 2, Family: 4, State: "MASTER", StateCode: 2, Want: "MASTER",
			Priority: 110, BasePriority: 100, TotalPriority: 110, Master: "10.0.0.1", MasterPriority: 110, MasterIsSelf: true,
			VIPs:     []VIP{{Text: "10.0.0.100/24 dev eth0 scope global set", Address: "10.0.0.100/24", Dev: "eth0"}},
			Trackers: []Tracker{{What: "track_script chk", Status: "OK (result 2)", Weight: 10, Delta: 10}},
			LastTransition: &Transition{At: t0.Add(30 * time.Second), From: "BACKUP", To: "MASTER", Priority: 110,
				Reason: "master-down-timer", Trigger: "TimerFired vrrp/VI_1/down", Why: "no master was heard"},
			Transitions: []TransitionCount{{From: "BACKUP", To: "MASTER", Reason: "master-down-timer", Count: 1}}}},
		VirtualServers: []VirtualServer{{ID: "tcp/10.0.0.100:80", Name: "[10.0.0.100]:tcp:80", QuorumUp: true, LiveWeight: 1,
			RealServers: []RealServer{{ID: "10.0.1.1:80", Alive: true, Weight: 1, Checkers: []Checker{{Type: "TCP_CHECK", Up: true, HasRun: true}}}}}},
		Loop:    Loop{Latency: Histogram{Bounds: []float64{0.001, 0.01}, Counts: []uint64{9, 10}, Count: 10, Sum: 0.02}},
		Journal: &Journal{Committed: 99, Bytes: 12345}}
}

func TestAnswer(t *testing.T) {
	src := &fakeSource{snap: testSnapshot()}
	for _, c := range []struct {
		req, wantErr string
		check        func(*Response) bool
	}{
		{`{"v":1,"cmd":"status"}`, "", func(r *Response) bool { return r.Status != nil && r.Status.Events == 99 }},
		{`{"v":1,"cmd":"explain","instance":"VI_1"}`, "", func(r *Response) bool { return r.Explain != nil && r.Explain.Text == "why VI_1" }},
		{`{"v":1,"cmd":"explain","instance":"VI_2"}`, "no instance VI_2", nil},
		{`{"v":1,"cmd":"reboot"}`, `unknown command "reboot"`, nil},
		{`{"v":2,"cmd":"status"}`, "protocol version 2 not spoken", nil},
		{`status`, "bad request", nil},
	} {
		r := Answer([]byte(c.req), src)
		if r.V != ProtocolVersion || !strings.Contains(r.Error, c.wantErr) || (c.wantErr == "") != (r.Error == "") ||
			(c.check != nil && !c.check(r)) {
			t.Errorf("%s: %+v", c.req, r)
		}
	}
	if r := Answer([]byte(`{"v":1,"cmd":"status"}`), &fakeSource{}); r.Error != ErrNotRunning.Error() {
		t.Errorf("before start: %+v", r)
	}
}

// A round trip through a real socket: Listen's mode and stale-socket
// handling, Serve, Query.
func TestSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "vigil.ctl")
	// A stale socket (its daemon died) is replaced.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()
	ln, err := Listen(path)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer ln.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v", fi.Mode(), err)
	}
	// A live one is not taken over.
	if _, err := Listen(path); err == nil || !strings.Contains(err.Error(), "another daemon") {
		t.Errorf("Listen over a live socket: %v", err)
	}
	src := &fakeSource{snap: testSnapshot()}
	go Serve(ln, src, func(err error) { t.Log(err) })

	r, err := Query(path, Request{Cmd: CmdStatus}, 5*time.Second)
	if err != nil || r.Status == nil || r.Status.Instance("VI_1") == nil || r.Status.Instance("VI_1").LastTransition.Reason != "master-down-timer" {
		t.Fatalf("status: %+v, %v", r, err)
	}
	// The text, rendered by the server: what AppendText prints (the
	// snapshot has no age shorter than a minute, so the second it is
	// rendered in does not matter).
	var text bytes.Buffer
	if err := QueryText(path, 5*time.Second, &text); err != nil {
		t.Fatalf("status as text: %v", err)
	}
	if want := AppendText(nil, src.snap, time.Now()); !bytes.Equal(dropUp(text.Bytes()), dropUp(want)) {
		t.Errorf("status as text:\n%s\nwant:\n%s", text.Bytes(), want)
	}
	raw, err := QueryRaw(path, Request{Cmd: CmdStatus}, 5*time.Second)
	if want, _ := json.Marshal(src.snap); err != nil || !bytes.Equal(raw.Status, want) {
		t.Errorf("raw status: %s, %v", raw.Status, err)
	}
	if _, err := Query(path, Request{Cmd: CmdExplain, Instance: "VI_1", Format: FormatText}, 5*time.Second); err == nil ||
		!strings.Contains(err.Error(), `format "text" not served for "explain"`) {
		t.Errorf("explain as text: %v", err)
	}
	if _, err := Query(path, Request{Cmd: CmdExplain, Instance: "VI_2"}, 5*time.Second); err == nil || err.Error() != "no instance VI_2" {
		t.Errorf("explain VI_2: %v", err)
	}
	// Slow answers do not hold other clients up.
	src.delay = 300 * time.Millisecond
	done := make(chan error, 1)
	go func() {
		_, err := Query(path, Request{Cmd: CmdExplain, Instance: "VI_1"}, 5*time.Second)
		done <- err
	}()
	start := time.Now()
	if _, err := Query(path, Request{Cmd: CmdStatus}, 5*time.Second); err != nil || time.Since(start) > 200*time.Millisecond {
		t.Errorf("status during a slow explain: %v after %s", err, time.Since(start))
	}
	if err := <-done; err != nil {
		t.Errorf("slow explain: %v", err)
	}
	// A closed socket answers nothing.
	ln.Close()
	if _, err := Query(path, Request{Cmd: CmdStatus}, time.Second); err == nil {
		t.Error("query of a closed socket succeeded")
	}
}

func TestWriteText(t *testing.T) {
	s := testSnapshot()
	var b bytes.Buffer
	WriteText(&b, s, s.Taken)
	out := b.String()
	for _, w := range []string{
		"vigil test on lb1 (pid 42), up 1m0s, 99 events",
		"journal: 99 records, 0 gapped, 12.1 KiB",
		"VI_1      MASTER  110/100  51    eth0       10.0.0.1 (this node)  30s ago BACKUP->MASTER (master-down-timer)",
		"last change: 30s ago (2025-01-01T00:00:30Z): BACKUP -> MASTER prio 110, rule master-down-timer",
		"why: no master was heard",
		"track_script chk                 OK (result 2)      weight +10: +10",
		"vip:         10.0.0.100/24 dev eth0 scope global set",
		"virtual server [10.0.0.100]:tcp:80: quorum up, live weight 1",
		"10.0.1.1:80              UP    weight 1    TCP_CHECK up",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("text lacks %q:\n%s", w, out)
		}
	}
	// The JSON form round-trips.
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Snapshot
	if err := json.Unmarshal(js, &back); err != nil || back.Instance("VI_1").Trackers[0] != s.Instances[0].Trackers[0] {
		t.Errorf("JSON round trip: %v", err)
	}
}

func TestQuantile(t *testing.T) {
	h := Histogram{Bounds: []float64{1, 2, 4}, Counts: []uint64{0, 10, 10}, Count: 10}
	if q := h.Quantile(0.5); q != 1.5 {
		t.Errorf("median %v, want 1.5", q)
	}
	if q := (&Histogram{}).Quantile(0.5); q != 0 {
		t.Errorf("empty: %v", q)
	}
}

// variedSnapshot has an instance of every shape the text distinguishes.
func variedSnapshot() *Snapshot {
	s := testSnapshot()
	t0 := s.Started
	base := s.Instances[0]
	for k, name := range []string{"VI_backup_with_a_long_name", "VI_ü", "V", "VI_fault", "VI_none"} {
		in := base
		in.Name = name
		in.VRID = 100 + k*50
		in.Trackers = nil
		in.VIPs = nil
		switch k {
		case 0:
			in.State, in.Want, in.Master, in.MasterIsSelf, in.MasterPriority = "BACKUP", "BACKUP", "10.0.0.2", false, 150
			in.Timers = []Timer{{Kind: "master-down", At: t0.Add(61*time.Second + 234567*time.Microsecond), Why: "master-down-timer"},
				{Kind: "advert", At: t0.Add(59 * time.Second)}}
			in.LastTransition = &Transition{At: t0.Add(-2 * time.Hour), From: "INIT", To: "BACKUP", Priority: 100, Reason: "start", Trigger: "Start"}
		case 1:
			in.State, in.Want, in.Master, in.Interface, in.SyncGroup = "BACKUP", "MASTER", "", "", "G1"
			in.TotalPriority = 300
			in.Trackers = []Tracker{{What: "track_interface eth1", Status: "DOWN", Weight: 0, Fault: true},
				{What: "track_file /a/very/long/path/to/a/file/that/overflows", Status: "value 7 (a long status text)", Weight: -5, Reverse: true, Delta: 35},
				{What: "track_script chk_x", Status: "INIT", Pending: true}, {What: "track_process p", Status: "running", Weight: 0}}
			in.ExcludedVIPs = []VIP{{Text: "10.9.9.9/32 dev eth2"}}
		case 2:
			in.State, in.Want, in.Fault, in.FaultReason = "FAULT", "FAULT", true, "eth0 is down"
			in.LastTransition = nil
			in.Master = ""
		case 3:
			in.Stats = Stats{AdvertRcvd: 123456789, AdvertSent: 5, BecomeMaster: 3, ReleaseMaster: 2}
			in.AdvertsLate = 17
			in.LastTransition = &Transition{At: t0.Add(59 * time.Second), From: "MASTER", To: "FAULT", Priority: 0, Reason: "fault", Trigger: "LinkChanged eth0 down"}
		}
		s.Instances = append(s.Instances, in)
	}
	s.ConfigFile = "/etc/keepalived/keepalived.conf"
	s.SyncGroups = []SyncGroup{{Name: "G1", State: "BACKUP", Members: []string{"VI_ü", "V"}}}
	s.VirtualServers = append(s.VirtualServers, VirtualServer{Name: "[10.0.0.101]:udp:53", SorryOn: true,
		RealServers: []RealServer{{ID: "10.0.1.2:53", Checkers: []Checker{{Type: "MISC_CHECK"}, {Type: "DNS_CHECK", HasRun: true}}}}})
	return s
}

// AppendText prints exactly what the fmt and tabwriter renderer it
// replaced printed.
func TestAppendTextAsBefore(t *testing.T) {
	for _, s := range []*Snapshot{testSnapshot(), variedSnapshot(), {Version: "v", Host: "h", Started: time.Unix(0, 0)}} {
		for _, now := range []time.Time{s.Taken, s.Started.Add(3*time.Hour + 7*time.Second), s.Started.Add(-time.Second)} {
			var want bytes.Buffer
			refWriteText(&want, s, now)
			got := AppendText([]byte("prefix\n"), s, now)
			if string(got) != "prefix\n"+want.String() {
				t.Errorf("AppendText differs from the old renderer:\n--- got\n%s\n--- want\nprefix\n%s", got, want.String())
			}
			var w bytes.Buffer
			WriteText(&w, s, now)
			if w.String() != want.String() {
				t.Errorf("WriteText differs")
			}
		}
	}
}

// dropUp blanks the uptime, the one age in these texts that depends on
// the second they were rendered in.
func dropUp(b []byte) []byte { return upRE.ReplaceAll(b, []byte("up -,")) }

var upRE = regexp.MustCompile(`up [^,]*,`)

// A daemon that predates FormatText answers a text request with the
// snapshot: QueryText renders it itself.
func TestQueryTextFromAnOlderDaemon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.ctl")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	snap := testSnapshot()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var req map[string]any
		if err := json.NewDecoder(c).Decode(&req); err != nil || req["format"] != FormatText {
			t.Errorf("request %v, %v", req, err)
		}
		b, _ := json.Marshal(struct {
			V      int       `json:"v"`
			Status *Snapshot `json:"status"`
		}{1, snap})
		c.Write(append(b, '\n'))
	}()
	var text bytes.Buffer
	if err := QueryText(path, 5*time.Second, &text); err != nil {
		t.Fatal(err)
	}
	if want := AppendText(nil, snap, time.Now()); !bytes.Equal(dropUp(text.Bytes()), dropUp(want)) {
		t.Errorf("rendered here:\n%s\nwant:\n%s", text.Bytes(), want)
	}
}

// BenchmarkText renders 1,020 instances with AppendText and with the fmt
// and tabwriter renderer it replaced (the text is the same).
func BenchmarkText(b *testing.B) {
	s := variedSnapshot()
	one := s.Instances[1]
	s.Instances = s.Instances[:0]
	for k := range 1020 {
		in := one
		in.Name = fmt.Sprintf("VI_%d_%d", k/255, k%255+1)
		s.Instances = append(s.Instances, in)
	}
	now := s.Taken
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = AppendText(buf[:0], s, now)
		}
	})
	b.Run("fmt-tabwriter", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			refWriteText(&buf, s, now)
		}
	})
}
