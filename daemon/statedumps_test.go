package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
)

// StateDumps writes each dump on its signal, with keepalived's mode 0600,
// and counts what the loop stepped.
func TestStateDumpsSignals(t *testing.T) {
	cfg, _, err := config.LoadString("k.conf", "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n priority 150\n virtual_ipaddress {\n  10.77.0.100/24\n }\n}\n", config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	e := engine.New()
	d := &StateDumps{Engine: e, Now: func() events.Time { return 0 }, Log: zerolog.Nop(),
		DataFile: filepath.Join(dir, "data"), StatsFile: filepath.Join(dir, "stats"), JSONFile: filepath.Join(dir, "json")}
	for _, ev := range []events.Event{&events.ConfigLoaded{Config: cfg}, &events.Start{Seed: 1}} {
		d.Observe(ev, e.Step(ev))
	}
	read := func(path string) string {
		var b []byte
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if b, err = os.ReadFile(path); err == nil {
				st, _ := os.Stat(path)
				if st.Mode().Perm() != 0o600 {
					t.Errorf("%s mode %v, want 0600", path, st.Mode().Perm())
				}
				return string(b)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s not written", path)
		return ""
	}
	for sig, want := range map[syscall.Signal]string{
		syscall.SIGUSR1: " VRRP Instance = VI_1\n   VRRP Version = 2\n   State = BACKUP\n",
		syscall.SIGUSR2: "VRRP Instance: VI_1\n  Advertisements:\n",
		SigJSON:         `[{"data":{"iname":"VI_1",`,
	} {
		if !d.Signal(sig) {
			t.Fatalf("signal %v not served", sig)
		}
		path := map[syscall.Signal]string{syscall.SIGUSR1: d.DataFile, syscall.SIGUSR2: d.StatsFile, SigJSON: d.JSONFile}[sig]
		if got := read(path); !strings.Contains(got, want) {
			t.Errorf("signal %v: %s lacks %q:\n%s", sig, path, want, got)
		}
	}
	if d.Signal(syscall.SIGHUP) {
		t.Error("SIGHUP taken as a dump signal")
	}
}
