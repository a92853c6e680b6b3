package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// startStopConf has a startup script that takes 2 s (VRRP must wait for
// it) and a shutdown script; both record when they ran, and the shutdown
// script what addresses eth0 still had.
func startStopConf(dir string) string {
	return fmt.Sprintf(`global_defs {
  router_id startstop
  startup_script %[1]s/start.sh
  startup_script_timeout 5
  shutdown_script %[1]s/stop.sh
  shutdown_script_timeout 5
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 77
  priority 255
  advert_int 1
  virtual_ipaddress {
    %[2]s/24
  }
}
`, dir, lab.VIP4)
}

// readStamp reads a file of "TAG SECONDS.NANOSECONDS" lines into a map.
func readStamps(t *testing.T, path string) map[string]time.Time {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]time.Time{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		tag, ts, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(ts, 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", path, line, err)
		}
		out[tag] = time.Unix(0, int64(f*1e9))
	}
	return out
}

// runStartStop runs one daemon through start and stop and checks the
// order: the startup script ends before the first advert (VRRP waits for
// it), and the shutdown script starts after the priority-0 advert, when
// the VIP is already gone.
func runStartStop(t *testing.T, vigil bool) {
	l := lab.New(t, 1)
	n := l.Nodes[0]
	dir := t.TempDir()
	log := filepath.Join(dir, "stamps")
	for name, body := range map[string]string{
		"start.sh": "echo start $(date +%s.%N) >> " + log + "\nsleep 2\necho started $(date +%s.%N) >> " + log + "\n",
		"stop.sh": "echo stop $(date +%s.%N) >> " + log + "\nip -br addr show dev eth0 > " + filepath.Join(dir, "addrs") +
			"\nsleep 1\necho stopped $(date +%s.%N) >> " + log + "\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	capt := l.Capture(t, "vrrp")
	var p *lab.Proc
	if vigil {
		p = n.StartVigil(t, startStopConf(dir))
	} else {
		p = n.StartKeepalived(t, startStopConf(dir))
	}
	lab.MustWait(t, electTimeout, "the VIP", func() bool { return n.HasAddress(lab.VIP4) })
	time.Sleep(1500 * time.Millisecond)
	if err := p.Stop(15 * time.Second); err != nil {
		t.Logf("stop: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	capt.Stop()
	st := readStamps(t, log)
	for _, tag := range []string{"start", "started", "stop", "stopped"} {
		if st[tag].IsZero() {
			t.Fatalf("no %s stamp: %v", tag, st)
		}
	}
	ads := capt.Adverts()
	if len(ads) == 0 {
		t.Fatal("no advert captured")
	}
	first, zero := ads[0], lab.Advert{}
	for _, a := range ads {
		if a.Prio == 0 {
			zero = a
		}
	}
	if zero.Time.IsZero() {
		t.Fatalf("no priority-0 advert: %v", ads)
	}
	t.Logf("startup script %s to %s, first advert %s; priority-0 advert %s, shutdown script %s to %s",
		st["start"].Format("15:04:05.000"), st["started"].Format("15:04:05.000"), first.Time.Format("15:04:05.000"),
		zero.Time.Format("15:04:05.000"), st["stop"].Format("15:04:05.000"), st["stopped"].Format("15:04:05.000"))
	if !first.Time.After(st["started"]) {
		t.Errorf("first advert at %s, before the startup script ended at %s", first.Time, st["started"])
	}
	if !st["stop"].After(zero.Time) {
		t.Errorf("shutdown script started at %s, before the priority-0 advert at %s", st["stop"], zero.Time)
	}
	addrs, _ := os.ReadFile(filepath.Join(dir, "addrs"))
	if strings.Contains(string(addrs), lab.VIP4.String()) {
		t.Errorf("the VIP was still on eth0 when the shutdown script ran: %s", addrs)
	}
	if !p.Exited() {
		t.Error("the daemon has not exited")
	}
}

// TestStartupShutdownScripts: keepalived and vigil run startup_script
// before VRRP starts (the first advert follows the script's end) and
// shutdown_script after it stopped (after the priority-0 advert and the
// VIP's removal), waiting for it before exiting.
func TestStartupShutdownScripts(t *testing.T) {
	for _, vigil := range []bool{false, true} {
		name := "keepalived"
		if vigil {
			name = "vigil"
		}
		t.Run(name, func(t *testing.T) { runStartStop(t, vigil) })
	}
}
