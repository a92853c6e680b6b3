package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
	"github.com/vigil-ha/vigil/status"
)

const metricsPort = 9650

// scrape fetches a node's /metrics from another node of the lab.
func scrape(t *testing.T, from, target *lab.Node) string {
	t.Helper()
	url := fmt.Sprintf("http://%s:%d/metrics", target.Addr4.Addr(), metricsPort)
	var body string
	lab.MustWait(t, 10*time.Second, "scrape of "+url, func() bool {
		resp, err := from.HTTPClient().Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		body = string(b)
		return err == nil && resp.StatusCode == 200
	})
	return body
}

// sample finds the value of the series of metric name whose labels
// include every name="value" of labels; ok is false when there is none.
func sample(text, name string, labels ...string) (float64, bool) {
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		series, value, ok := strings.Cut(line, "} ")
		if !ok {
			series, value, _ = strings.Cut(line, " ")
		}
		match := true
		for k := 0; k+1 < len(labels); k += 2 {
			if !strings.Contains(series, labels[k]+`="`+labels[k+1]+`"`) {
				match = false
			}
		}
		if match {
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			return v, err == nil
		}
	}
	return 0, false
}

func wantSample(t *testing.T, node, text, name string, want float64, labels ...string) {
	t.Helper()
	v, ok := sample(text, name, labels...)
	if !ok {
		t.Errorf("%s: no %s%v in the scrape", node, name, labels)
	} else if v != want {
		t.Errorf("%s: %s%v = %v, want %v", node, name, labels, v, want)
	}
}

// promtoolCheck lints a scrape with promtool check metrics (skipped when
// promtool is missing). The only problems allowed are those of the
// gen2brain exporter's names, served as they are (its counters have no
// _total suffix).
func promtoolCheck(t *testing.T, text string) {
	t.Helper()
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Log("promtool not installed: the scrape is not linted")
		return
	}
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, _ := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		if (strings.HasPrefix(line, "keepalived_vrrp_") || strings.HasPrefix(line, "keepalived_lvs_")) &&
			strings.Contains(line, `counter metrics should have "_total" suffix`) {
			continue
		}
		t.Errorf("promtool check metrics: %s", line)
	}
}

// Two vigils with --metrics-listen, scraped over HTTP from a third node:
// the exporters' and vigil's metrics agree with who is master, promtool
// accepts them, and a graceful stop of the master shows up as a takeover
// by its rule on the backup.
func TestMetricsFailover(t *testing.T) {
	l := lab.New(t, 3)
	n1, n2, n3 := l.Nodes[0], l.Nodes[1], l.Nodes[2]
	listen := func(n *lab.Node) string { return fmt.Sprintf("--metrics-listen=%s:%d", n.Addr4.Addr(), metricsPort) }
	p1 := n1.StartVigil(t, conf("n1", instance{Priority: 150, VIPs: []string{vip4}}), listen(n1))
	p2 := n2.StartVigil(t, conf("n2", instance{Priority: 100, VIPs: []string{vip4}}), listen(n2))
	holds(t, electTimeout, lab.VIP4, n1, n1, n2)

	m1, m2 := scrape(t, n3, n1), scrape(t, n3, n2)
	for _, c := range []struct {
		node, text string
		state      float64
		prio       float64
	}{{"n1", m1, 2, 150}, {"n2", m2, 1, 100}} {
		wantSample(t, c.node, c.text, "keepalived_up", 1)
		wantSample(t, c.node, c.text, "keepalived_vrrp_state", c.state, "iname", "VI_1", "intf", "eth0", "vrid", "77", "ip_address", vip4)
		wantSample(t, c.node, c.text, "vigil_vrrp_state", c.state, "iname", "VI_1", "vrid", "77")
		wantSample(t, c.node, c.text, "vigil_vrrp_priority", c.prio, "iname", "VI_1")
		wantSample(t, c.node, c.text, "vigil_vrrp_base_priority", c.prio, "iname", "VI_1")
		wantSample(t, c.node, c.text, "vigil_vrrp_master", 1, "iname", "VI_1", "master", n1.Addr4.Addr().String())
		for _, name := range []string{"keepalived_advertisements_received_total", "keepalived_advert_rcvd_total", "keepalived_vrrp_advert_rcvd",
			"keepalived_pri_zero_rcvd_total", "keepalived_auth_failure_total", "keepalived_garp_delay_total", "keepalived_become_master_total",
			"vigil_journal_records_written_total", "vigil_journal_bytes_written_total", "vigil_loop_latency_seconds_count",
			"vigil_advert_timer_lateness_seconds_count", "vigil_events_total"} {
			if _, ok := sample(c.text, name); !ok {
				t.Errorf("%s: no %s in the scrape", c.node, name)
			}
		}
	}
	wantSample(t, "n1", m1, "keepalived_become_master_total", 1, "iname", "VI_1")
	wantSample(t, "n1", m1, "vigil_vrrp_takeovers_total", 1, "iname", "VI_1", "reason", "master-down-timer")
	if v, _ := sample(m1, "keepalived_advertisements_sent_total", "iname", "VI_1"); v < 1 {
		t.Errorf("n1 sent %v adverts", v)
	}
	// The first advert timer fires an advert interval after the takeover.
	lab.MustWait(t, 5*time.Second, "n1's advert timers in the lateness histogram", func() bool {
		m1 = scrape(t, n3, n1)
		v, _ := sample(m1, "vigil_advert_timer_lateness_seconds_count")
		return v >= 1
	})
	promtoolCheck(t, m1)

	// The master stops: n2 takes over on its priority-0 advert.
	t0 := time.Now()
	if err := p1.Stop(takeoverTimeout); err != nil {
		t.Fatalf("vigil stop: %v", err)
	}
	holds(t, takeoverTimeout, lab.VIP4, n2, n1, n2)
	var m string
	lab.MustWait(t, 5*time.Second, "n2's metrics to show it MASTER", func() bool {
		m = scrape(t, n3, n2)
		v, _ := sample(m, "keepalived_vrrp_state", "iname", "VI_1")
		return v == 2
	})
	wantSample(t, "n2", m, "vigil_vrrp_state", 2, "iname", "VI_1")
	wantSample(t, "n2", m, "keepalived_become_master_total", 1, "iname", "VI_1")
	wantSample(t, "n2", m, "keepalived_pri_zero_rcvd_total", 1, "iname", "VI_1", "state", "MASTER")
	wantSample(t, "n2", m, "vigil_vrrp_takeovers_total", 1, "iname", "VI_1", "reason", "priority-0-advert")
	wantSample(t, "n2", m, "vigil_vrrp_transitions_total", 1, "iname", "VI_1", "from", "BACKUP", "to", "MASTER", "reason", "priority-0-advert")
	wantSample(t, "n2", m, "vigil_vrrp_master", 1, "iname", "VI_1", "master", n2.Addr4.Addr().String())
	if age, ok := sample(m, "vigil_vrrp_last_transition_age_seconds", "iname", "VI_1", "to", "MASTER", "reason", "priority-0-advert"); !ok ||
		age < 0 || age > time.Since(t0).Seconds() {
		t.Errorf("n2: last transition age %v (found %v), want within the %s since the stop", age, ok, time.Since(t0))
	}
	promtoolCheck(t, m)

	// vigil status explains it.
	out, err := p2.Status(t, "explain", "VI_1")
	if err != nil {
		t.Fatalf("vigil status explain: %v\n%s", err, out)
	}
	for _, want := range []string{"VI_1 on", "BACKUP -> MASTER", "rule:    priority-0-advert", "resigned with a priority-0 advert",
		"what led to it", "state now", "effective priority 100"} {
		if !strings.Contains(out, want) {
			t.Errorf("vigil status explain VI_1 lacks %q:\n%s", want, out)
		}
	}
}

// vigil status against a running vigil: the table, --json, explain, and
// the refusals.
func TestStatusCommand(t *testing.T) {
	l := lab.New(t, 1)
	n1 := l.Nodes[0]
	p := n1.StartVigil(t, conf("n1", instance{Priority: 120, VIPs: []string{vip4},
		Extra: []string{"track_interface {\n    lo weight 10\n  }"}}))
	if p.ControlSocket == "" {
		t.Skip("this vigil has no control socket")
	}
	lab.MustWait(t, electTimeout, "VIP on n1", func() bool { return n1.HasAddress(lab.VIP4) })
	var out string
	lab.MustWait(t, 5*time.Second, "vigil status to show MASTER", func() bool {
		var err error
		out, err = p.Status(t)
		return err == nil && strings.Contains(out, "MASTER")
	})
	for _, want := range []string{"VI_1", "MASTER", "130/120", "10.77.0.11 (this node)", "BACKUP->MASTER (master-down-timer)",
		"interface lo", "weight +10: +10", "vip:         " + vip4 + " dev eth0"} {
		if !strings.Contains(out, want) {
			t.Errorf("vigil status lacks %q:\n%s", want, out)
		}
	}

	js, err := p.Status(t, "--json")
	if err != nil {
		t.Fatalf("vigil status --json: %v\n%s", err, js)
	}
	var s status.Snapshot
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		t.Fatalf("vigil status --json: %v\n%s", err, js)
	}
	in := s.Instance("VI_1")
	switch {
	case in == nil:
		t.Fatalf("no VI_1 in %s", js)
	case in.State != "MASTER" || in.Priority != 130 || in.BasePriority != 120 || !in.MasterIsSelf || in.Master != "10.77.0.11":
		t.Errorf("VI_1: %+v", in)
	case in.LastTransition == nil || in.LastTransition.To != "MASTER" || in.LastTransition.Reason == "":
		t.Errorf("VI_1's last transition: %+v", in.LastTransition)
	case len(in.Trackers) != 1 || in.Trackers[0].Delta != 10:
		t.Errorf("VI_1's trackers: %+v", in.Trackers)
	}
	if s.Journal == nil || s.Journal.Appended == 0 {
		t.Errorf("journal: %+v", s.Journal)
	}

	ex, err := p.Status(t, "explain", "VI_1", "--json")
	if err != nil {
		t.Fatalf("vigil status explain --json: %v\n%s", err, ex)
	}
	var e status.Explanation
	if err := json.Unmarshal([]byte(ex), &e); err != nil {
		t.Fatalf("explain --json: %v\n%s", err, ex)
	}
	if !e.Fresh || len(e.Transitions) < 2 || len(e.Led.Lines) == 0 || !strings.Contains(e.Text, "master-down-timer") {
		t.Errorf("explain: %+v", e)
	}

	if out, err := p.Status(t, "explain", "VI_9"); err == nil || !strings.Contains(out, `no instance "VI_9"`) {
		t.Errorf("explain of an unknown instance: %v\n%s", err, out)
	}
	if fi, err := osStat(p.ControlSocket); err != nil || fi&0o077 != 0 {
		t.Errorf("control socket mode %o, %v; want 0600", fi, err)
	}
}

func osStat(path string) (uint32, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return uint32(fi.Mode().Perm()), nil
}
