package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/daemon"
	"github.com/vigil-ha/vigil/lab"
)

// dumpFiles are keepalived's (and vigil's) dump paths. They are global to
// the machine, so every test that signals for a dump holds dumpMu.
var (
	dumpMu    sync.Mutex
	dumpFiles = map[syscall.Signal]string{
		syscall.SIGUSR1: "/tmp/keepalived.data",
		syscall.SIGUSR2: "/tmp/keepalived.stats",
		daemon.SigJSON:  "/tmp/keepalived.json",
	}
)

// takeDump signals p for one dump and returns the file it wrote. The
// caller holds dumpMu.
func takeDump(t *testing.T, p *lab.Proc, sig syscall.Signal) string {
	t.Helper()
	path := dumpFiles[sig]
	os.Remove(path)
	if err := p.Signal(sig); err != nil {
		t.Fatalf("%s: signal %d: %v", p.Name, sig, err)
	}
	var last []byte
	lab.MustWait(t, 10*time.Second, p.Name+" writing "+path, func() bool {
		b, err := os.ReadFile(path)
		if err != nil || len(b) == 0 {
			return false
		}
		// keepalived writes in place: wait until it stops growing.
		same := bytes.Equal(b, last)
		last = b
		return same
	})
	os.Remove(path)
	return string(last)
}

// dumpConf exercises most of the data dump: a VRRPv2 instance with a
// password, a weighted track script, a weighted track file and a notify
// script, and a VRRPv3 instance.
func dumpConf(dir string) string {
	return fmt.Sprintf(`global_defs {
  router_id dumps
}
vrrp_script chk {
  script "/bin/true check"
  interval 1
  weight 10
}
track_file tf {
  file %[1]s/track
  weight 2
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
  track_file {
    tf
  }
  notify_master "/bin/true master"
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
`, dir)
}

// dumped holds one daemon's three dumps.
type dumped struct{ data, stats, json string }

// runForDumps runs one daemon alone on a fresh lab with dumpConf, waits
// until both instances are MASTER with the track script's weight applied,
// and takes the three dumps.
func runForDumps(t *testing.T, vigil bool) dumped {
	l := lab.New(t, 1)
	n := l.Nodes[0]
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "track"), []byte("3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var p *lab.Proc
	if vigil {
		p = n.StartVigil(t, dumpConf(dir))
	} else {
		p = n.StartKeepalived(t, dumpConf(dir))
	}
	lab.MustWait(t, electTimeout, "both VIPs", func() bool {
		return n.HasAddress(lab.VIP4) && strings.Contains(n.MustExec("ip", "-br", "addr"), "10.77.0.101/24")
	})
	// Two more adverts, so that the script has reported and the
	// statistics have moved.
	time.Sleep(2500 * time.Millisecond)
	dumpMu.Lock()
	defer dumpMu.Unlock()
	return dumped{data: takeDump(t, p, syscall.SIGUSR1), stats: takeDump(t, p, syscall.SIGUSR2),
		json: takeDump(t, p, daemon.SigJSON)}
}

// TestDumpsParity compares vigil's dumps with keepalived's for the same
// configuration and state, field by field: values that depend on the
// moment (times, advert counts) are masked, and the keepalived lines
// vigil deliberately leaves out are listed in keepaliveOnly.
func TestDumpsParity(t *testing.T) {
	lab.Require(t, "keepalived")
	k := runForDumps(t, false)
	v := runForDumps(t, true)
	t.Run("stats", func(t *testing.T) {
		kl, vl := maskStats(k.stats), maskStats(v.stats)
		if !slices.Equal(kl, vl) {
			t.Errorf("stats differ:\n%s", lineDiff(kl, vl))
		}
	})
	t.Run("json", func(t *testing.T) { compareJSON(t, k.json, v.json) })
	t.Run("data", func(t *testing.T) {
		ks, vs := dataSections(k.data), dataSections(v.data)
		for name := range ks {
			if _, ok := vs[name]; !ok && !keepaliveOnlySections[name] {
				t.Errorf("section %q missing from vigil's data dump", name)
			}
		}
		for name, vlines := range vs {
			klines, ok := ks[name]
			if !ok {
				t.Errorf("vigil has section %q keepalived lacks", name)
				continue
			}
			klines = slices.DeleteFunc(klines, keepaliveOnly)
			// Deliberate difference: keepalived shows an unset script
			// timeout as 0, vigil the effective one (the interval).
			for k, line := range klines {
				if line == "   Timeout = 0 sec" && k > 0 {
					klines[k] = strings.Replace(klines[k-1], "Interval", "Timeout", 1)
				}
			}
			if !slices.Equal(klines, vlines) {
				t.Errorf("section %s differs:\n%s", name, lineDiff(klines, vlines))
			}
		}
		if t.Failed() {
			t.Logf("keepalived:\n%s\nvigil:\n%s", k.data, v.data)
		}
	})
}

var (
	reTime   = regexp.MustCompile(`= \d+\.\d{6} \(.*\)$`)
	reNumber = regexp.MustCompile(`: \d+$`)
)

// keepaliveOnlySections are keepalived's sockets and kernel interface
// table: process internals vigil does not reproduce.
var keepaliveOnlySections = map[string]bool{"VRRP Sockpool": true, "Interfaces": true}

// keepaliveOnly reports the data-dump lines vigil deliberately leaves
// out: keepalived's process scheduling, SNMP, DBus, nftables, netlink
// buffer and socket descriptors.
func keepaliveOnly(line string) bool {
	for _, p := range []string{" nftables", " libnftnl", " Max auto priority", " Min auto priority delay",
		" VRRP process priority", " VRRP don't swap", " VRRP realtime", " Checker process", " Checker don't swap",
		" Checker realtime", " BFD process", " BFD don't swap", " BFD realtime", " SNMP", " DBus",
		" vrrp_netlink", " process_monitor", " lvs_netlink", " rx_bufs", " umask", " current realtime",
		"   fd_in "} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// dataSections splits a data dump into its "------< NAME >------"
// sections, masking times.
func dataSections(s string) map[string][]string {
	out := map[string][]string{}
	cur := ""
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if strings.HasPrefix(line, "------< ") {
			cur = strings.TrimSuffix(strings.TrimPrefix(line, "------< "), " >------")
			out[cur] = nil
			continue
		}
		line = reTime.ReplaceAllString(line, "= <time>")
		if strings.HasPrefix(line, "   File = ") {
			line = "   File = <temporary>" // each run has its own directory
		}
		if strings.HasPrefix(line, "   Result = ") {
			line = "   Result = <n>" // the script may have run once more
		}
		out[cur] = append(out[cur], line)
	}
	return out
}

// maskStats masks the counters that depend on timing.
func maskStats(s string) []string {
	var out []string
	section := ""
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		tr := strings.TrimSpace(line)
		if strings.HasSuffix(tr, ":") {
			section = tr
		}
		if section == "Advertisements:" && (strings.HasPrefix(tr, "Sent:") || strings.HasPrefix(tr, "Received:")) {
			line = reNumber.ReplaceAllString(line, ": <n>")
		}
		out = append(out, line)
	}
	return out
}

// compareJSON checks that vigil's JSON dump has keepalived's structure,
// member order and values (masking the moment-dependent ones).
func compareJSON(t *testing.T, k, v string) {
	t.Helper()
	if !strings.HasSuffix(k, "\n") || !strings.HasSuffix(v, "\n") {
		t.Errorf("dumps must end with a newline")
	}
	kk, vk := jsonKeys(t, k), jsonKeys(t, v)
	if !slices.Equal(kk, vk) {
		t.Errorf("JSON members differ (path order):\n%s", lineDiff(kk, vk))
	}
	var ka, va []map[string]map[string]any
	if err := json.Unmarshal([]byte(k), &ka); err != nil {
		t.Fatalf("keepalived JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(v), &va); err != nil {
		t.Fatalf("vigil JSON: %v", err)
	}
	if len(ka) != len(va) {
		t.Fatalf("%d instances in keepalived's JSON, %d in vigil's", len(ka), len(va))
	}
	masked := map[string]bool{"last_transition": true, "advert_rcvd": true, "advert_sent": true}
	for n := range ka {
		for _, part := range []string{"data", "stats"} {
			for key, kvv := range ka[n][part] {
				if masked[key] {
					continue
				}
				if fmt.Sprint(kvv) != fmt.Sprint(va[n][part][key]) {
					t.Errorf("instance %d %s.%s: keepalived %v, vigil %v", n, part, key, kvv, va[n][part][key])
				}
			}
		}
	}
	if t.Failed() {
		t.Logf("keepalived: %s\nvigil: %s", k, v)
	}
}

// jsonKeys lists the object members of a JSON document as paths, in
// document order (array elements share their array's path).
func jsonKeys(t *testing.T, s string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	var out []string
	var walk func(prefix string) error
	walk = func(prefix string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				out = append(out, prefix+fmt.Sprint(k))
				if err := walk(prefix + fmt.Sprint(k) + "."); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for dec.More() {
				if err := walk(prefix); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		}
		return err
	}
	if err := walk(""); err != nil {
		t.Fatalf("JSON: %v: %s", err, s)
	}
	return out
}

// lineDiff shows two line lists side by side where they differ.
func lineDiff(a, b []string) string {
	var sb strings.Builder
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		mark := " "
		if x != y {
			mark = "!"
		}
		fmt.Fprintf(&sb, "%s %-60q | %q\n", mark, x, y)
	}
	return sb.String()
}
