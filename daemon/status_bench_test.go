package daemon

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/status"
)

// scaleConf is bench/scale.sh's backup: 1,020 VRRPv3 instances over
// eth0..eth3, VRIDs 1..255 on each, one VIP each.
func scaleConf(t testing.TB) *events.ConfigLoaded {
	t.Helper()
	var b strings.Builder
	b.WriteString("global_defs {\n  router_id bench\n}\n")
	for l := range 4 {
		for v := 1; v <= 255; v++ {
			fmt.Fprintf(&b, "vrrp_instance VI_%d_%d {\n  state BACKUP\n  interface eth%d\n  virtual_router_id %d\n  version 3\n  priority 100\n  advert_int 1\n  virtual_ipaddress {\n    10.77.%d.%d/32\n  }\n}\n",
				l, v, l, v, 100+l, v)
		}
	}
	p := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ev, diags, err := LoadConfig(p, "")
	if err != nil {
		t.Fatalf("load: %v %v", err, diags)
	}
	return ev
}

// scaleObserver is an Observer of the 1,020-instance backup, every
// instance having heard its master, with a snapshot published.
func scaleObserver(t testing.TB) *Observer {
	tl := newTestLoop(t, scaleConf(t), func(l *Loop) {
		l.Status = &Observer{Engine: l.Engine, Now: l.Now, Version: "bench", Host: "b", ConfigFile: "/etc/keepalived/keepalived.conf",
			Started: time.Now(), Journal: func() *status.Journal { return &status.Journal{Dir: "/var/lib/vigil/journal"} }}
	})
	for l := 1; l < 4; l++ {
		ifc := fmt.Sprintf("eth%d", l)
		tl.l.Step(&events.LinkChanged{Interface: ifc, Index: 2 + l, Present: true, Up: true, Running: true})
		tl.l.Step(&events.AddressChanged{Interface: ifc, Prefix: netip.MustParsePrefix(fmt.Sprintf("10.77.%d.2/24", l)), Added: true})
	}
	for l := range 4 {
		for v := 1; v <= 255; v++ {
			ev := &events.AdvertReceived{Interface: fmt.Sprintf("eth%d", l), Src: netip.MustParseAddr(fmt.Sprintf("10.77.%d.1", l)),
				Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255, Length: 12,
				Advert: events.Advert{Version: 3, Type: 1, VRID: uint8(v), Priority: 150, CountAddrs: 1, Interval: 100,
					Addrs: []netip.Addr{netip.MustParseAddr(fmt.Sprintf("10.77.%d.%d", 100+l, v))}}}
			ev.At = tl.l.Now()
			tl.l.Step(ev)
		}
	}
	tl.l.Status.Publish()
	if s := tl.l.Status.Snapshot(); s == nil || len(s.Instances) != 1020 || s.Instances[1019].Master != "10.77.3.1" {
		t.Fatalf("snapshot not as expected")
	}
	return tl.l.Status
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per op since start (all
// goroutines, the GC's included): on a shared machine, ns/op is wall
// time, inflated by whatever else runs.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkStatus1020 is `vigil status` at 1,020 instances, piece by
// piece. The daemon's side: read the published snapshot and encode it as
// JSON (server-json, `vigil status --json`), or render the text
// (server-text, `vigil status`); the client's side as it was before the
// daemon rendered the text: decode the JSON (client-decode) and render it
// (client-text); and whole requests over a real Unix socket, process
// start excluded: the JSON decoded and rendered by the client
// (socket-json), the text rendered by the daemon (socket-text).
func BenchmarkStatus1020(b *testing.B) {
	o := scaleObserver(b)
	req := []byte(`{"v":1,"cmd":"status"}` + "\n")
	reqText := []byte(`{"v":1,"cmd":"status","format":"text"}` + "\n")
	answer, err := json.Marshal(status.Answer(req, o))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("server-json", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, cpuTime(b))
		for b.Loop() {
			resp := status.Answer(req, o)
			var err error
			if answer, err = json.Marshal(resp); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(answer)), "bytes")
	})
	var resp status.Response
	if err := json.Unmarshal(answer, &resp); err != nil {
		b.Fatal(err)
	}
	b.Run("server-text", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, cpuTime(b))
		var buf []byte
		for b.Loop() {
			resp := status.Answer(reqText, o)
			if resp.Format != status.FormatText {
				b.Fatalf("answer %+v", resp)
			}
			buf = status.AppendText(buf[:0], resp.Status, time.Now())
		}
		b.ReportMetric(float64(len(buf)), "bytes")
	})
	b.Run("client-decode", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, cpuTime(b))
		for b.Loop() {
			resp = status.Response{}
			if err := json.NewDecoder(bytes.NewReader(answer)).Decode(&resp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("client-text", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, cpuTime(b))
		var n int
		for b.Loop() {
			var buf bytes.Buffer
			status.WriteText(bufio.NewWriter(&buf), resp.Status, time.Now())
			n = buf.Len()
		}
		_ = n
	})
	sock := filepath.Join(b.TempDir(), "ctl")
	ln, err := status.Listen(sock)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go status.Serve(ln, o, nil)
	b.Run("socket-text", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, cpuTime(b))
		for b.Loop() {
			w := bufio.NewWriterSize(io.Discard, 64<<10)
			if err := status.QueryText(sock, 5*time.Second, w); err != nil {
				b.Fatal(err)
			}
			w.Flush()
		}
	})
	b.Run("socket-json", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, cpuTime(b))
		for b.Loop() {
			r, err := status.Query(sock, status.Request{Cmd: status.CmdStatus}, 5*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			w := bufio.NewWriter(io.Discard)
			status.WriteText(w, r.Status, time.Now())
			w.Flush()
		}
	})
}
