package replay

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/journal"
	"github.com/vigil-ha/vigil/sim"
	"github.com/vigil-ha/vigil/sim/harness"
	"github.com/vigil-ha/vigil/sim/simjournal"
)

// benchScenario is the replay workload: two nodes with 20 VRRPv3
// instances each at advert_int 0.1 s (so adverts, timers and the odd
// transition dominate, as in production), ten simulated minutes.
func benchScenario(instances int) string {
	var b strings.Builder
	for _, n := range []struct {
		name string
		prio int
	}{{"a", 150}, {"b", 100}} {
		fmt.Fprintf(&b, "config %s.conf <<EOF\n", n.name)
		for k := 1; k <= instances; k++ {
			fmt.Fprintf(&b, "vrrp_instance VI_%d {\n state BACKUP\n interface eth0\n virtual_router_id %d\n priority %d\n version 3\n advert_int 0.1\n virtual_ipaddress {\n  10.0.0.%d/24\n }\n}\n",
				k, k, n.prio, 100+k)
		}
		b.WriteString("EOF\n")
		fmt.Fprintf(&b, "node %s config=%s.conf\n", n.name, n.name)
	}
	b.WriteString("segment lan a:eth0 b:eth0 latency=200us\nstart a b\nrun 5m\nkill a\nrun 10s\nstart a\nrun 5m\n")
	return b.String()
}

// benchJournal records benchScenario and returns node b's journal (the
// backup: it receives the adverts), opened.
func benchJournal(b *testing.B) *Journal {
	b.Helper()
	s, err := sim.Parse("bench.scn", ".", benchScenario(20))
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "journal")
	rec, err := simjournal.New(dir)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sim.RunScenarioRecorded(s, harness.Backend(), 1, io.Discard, rec); err != nil {
		b.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		b.Fatal(err)
	}
	set, err := OpenSet(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { CloseSet(set) })
	return set[1]
}

// BenchmarkReplay measures re-running a journal: Verify end to end (read,
// decode, step, encode, compare), and the engine alone on pre-decoded
// events. It also reports the journal's size per event.
func BenchmarkReplay(b *testing.B) {
	j := benchJournal(b)
	var evs []events.Event
	for rec, err := range j.RawRecords(0) {
		if err != nil {
			b.Fatal(err)
		}
		evs = append(evs, rec.Event)
	}
	var size int64
	for _, f := range j.Files {
		if info, err := os.Stat(f.Path); err == nil {
			size += info.Size()
		}
	}
	b.Logf("journal: %d events, %d runs, %d files, %d bytes", len(evs), len(j.Runs), len(j.Files), size)

	b.Run("verify", func(b *testing.B) {
		start, cpu0, n := time.Now(), cpuTime(), 0
		for b.Loop() {
			rep, err := Verify(j)
			if err != nil || rep.Divergence != nil || rep.Verified != len(evs) {
				b.Fatalf("%v %+v", err, rep)
			}
			n += rep.Verified
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
		b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
		b.ReportMetric(float64(size)/float64(len(evs)), "file-bytes/event")
	})
	b.Run("engine-only", func(b *testing.B) {
		start, n := time.Now(), 0
		for b.Loop() {
			eng := engine.New()
			for _, ev := range evs {
				eng.Step(ev)
			}
			n += len(evs)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
	})
	b.Run("read-decode", func(b *testing.B) {
		start, n := time.Now(), 0
		for b.Loop() {
			for _, err := range j.RawRecords(0) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
	})
}

// BenchmarkDaemonLoop is the daemon's loop: a decode-free event source (a
// recorded node's events, in a loop) → engine.Step → journal Append (and
// Snapshot when due, with the default fsync'd group commit), against the
// same loop without the journal. It reports both throughputs, the
// journal's overhead and the events it had to record as lost.
//
// Two variants. "synthetic" is the loop with no I/O at all: the engine
// step is tens of nanoseconds, so this is the worst case for the journal,
// far below what a daemon does per event. "udp" adds what the daemon does
// besides: one real UDP sendmsg on loopback per event (the advert it sends
// per timer event; adverts are the bulk of its I/O), to an unread socket.
func BenchmarkDaemonLoop(b *testing.B) {
	j := benchJournal(b)
	var evs []events.Event
	for rec, err := range j.RawRecords(j.Runs[0].First) {
		if err != nil {
			b.Fatal(err)
		}
		if rec.Seq > j.Runs[0].Last {
			break
		}
		evs = append(evs, rec.Event)
	}
	b.Run("synthetic", func(b *testing.B) { benchLoop(b, evs, nil) })
	b.Run("udp", func(b *testing.B) {
		rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Skip("no loopback UDP:", err)
		}
		defer rx.Close()
		tx, err := net.DialUDP("udp4", nil, rx.LocalAddr().(*net.UDPAddr))
		if err != nil {
			b.Fatal(err)
		}
		defer tx.Close()
		advert := make([]byte, 20+4) // a VRRPv3 advert with one IPv4 address
		benchLoop(b, evs, func() {
			if _, err := tx.Write(advert); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// benchLoop runs the loop over evs with and without a journal;
// sendAdvert, when set, is the I/O each step does besides.
func benchLoop(b *testing.B, evs []events.Event, sendAdvert func()) {
	// loop steps n events, restarting the engine at the end of the
	// recording; journal, when set, gets every pair.
	var cpuWithout, cpuWith time.Duration // process CPU time, all goroutines
	loop := func(n int, journal *journal.Writer) time.Duration {
		eng := engine.New()
		start, cpu0 := time.Now(), cpuTime()
		defer func() {
			if journal != nil {
				journal.Sync() // the writer goroutine's CPU counts too
				cpuWith += cpuTime() - cpu0
			} else {
				cpuWithout += cpuTime() - cpu0
			}
		}()
		seq := uint64(0)
		for i := range n {
			k := i % len(evs)
			if k == 0 {
				eng = engine.New()
			}
			effs := eng.Step(evs[k])
			seq++
			if journal != nil {
				journal.Append(seq, evs[k], effs)
				if journal.SnapshotDue() {
					if st, err := eng.MarshalState(); err == nil {
						journal.Snapshot(seq, st)
					}
				}
			}
			if sendAdvert != nil {
				sendAdvert()
			}
			sink = effs
		}
		return time.Since(start)
	}
	n := 500_000
	if sendAdvert != nil {
		n = 100_000
	}
	var without, with time.Duration
	var lost, committed uint64
	for b.Loop() {
		without += loop(n, nil)
		w, err := journal.Open(b.TempDir(), journal.Options{})
		if err != nil {
			b.Fatal(err)
		}
		with += loop(n, w)
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		lost += w.Stats().Lost
		committed += w.Stats().Committed
	}
	rate := func(d time.Duration) float64 { return float64(n*b.N) / d.Seconds() }
	b.ReportMetric(rate(without), "events/s-without")
	b.ReportMetric(rate(with), "events/s-with")
	b.ReportMetric(100*(float64(with)/float64(without)-1), "overhead-%")
	b.ReportMetric(float64((with-without).Nanoseconds())/float64(n*b.N), "ns/event-journal")
	// On a shared machine wall time swings with the neighbours; CPU time
	// (the writer goroutine's included) says what the journal costs.
	b.ReportMetric(100*(float64(cpuWith)/float64(cpuWithout)-1), "cpu-overhead-%")
	b.ReportMetric(100*float64(lost)/float64(n*b.N), "lost-%")
	b.Logf("journal committed %d events, lost %d (queue full while the writer fsyncs)", committed, lost)
}

// sink keeps the compiler from discarding the engine's work.
var sink []effects.Effect

// cpuTime is the process's CPU time so far. On a shared machine events per
// CPU-second says more about the code than events per wall-second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
