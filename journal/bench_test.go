package journal

import (
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// benchAdvert is the realistic hot-path record: an advert and the effects
// a backup produces for it (re-arm the master-down timer, count it).
func benchAdvert(seq uint64) (*events.AdvertReceived, []effects.Effect) {
	at := events.Time(seq * 1_000_000_000)
	return &events.AdvertReceived{
			Header: events.Header{At: at}, Interface: "eth0",
			Src: netip.MustParseAddr("192.168.1.2"), Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255, Length: 20,
			Advert: events.Advert{Version: 3, Type: 1, VRID: 51, Priority: 100, CountAddrs: 1, Interval: 100,
				Addrs: []netip.Addr{netip.MustParseAddr("192.168.1.100")}},
		}, []effects.Effect{
			&effects.SetTimer{Key: "vrrp/VI_1/master-down", At: at + 3_609_375_000},
			&effects.Count{Instance: "VI_1", Counter: "advert_rcvd", Delta: 1},
		}
}

// BenchmarkAppend measures sustained journaling throughput with the
// default group commit (fsync per commit): the producer waits only when
// the queue is nearly full, so the figure is the writer's real capacity,
// not the queue's.
func BenchmarkAppend(b *testing.B) {
	dir := b.TempDir()
	w, err := Open(dir, Options{RotateSize: 1 << 40, NoSync: os.Getenv("NOSYNC") != ""})
	if err != nil {
		b.Fatal(err)
	}
	ev, effs := benchAdvert(1)
	b.ReportAllocs()
	start, cpu0 := time.Now(), cpuTime()
	seq := uint64(0)
	for b.Loop() {
		seq++
		ev.At = events.Time(seq)
		if seq%64 == 0 {
			for w.Backlog() > w.opts.QueueSize-128 { // pace to the writer rather than record gaps
				time.Sleep(50 * time.Microsecond) // leave the CPU to the writer
			}
		}
		if err := w.Append(seq, ev, effs); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Sync(); err != nil {
		b.Fatal(err)
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	st := w.Stats()
	var dataSize int64
	w.db.View(func(tx *bolt.Tx) error { dataSize = tx.Size(); return nil })
	w.Close()
	if st.Lost != 0 {
		b.Fatalf("lost %d events", st.Lost)
	}
	b.ReportMetric(float64(seq)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(seq)/cpu.Seconds(), "events/cpu-s")
	b.ReportMetric(float64(dataSize)/float64(seq), "disk-bytes/event")
	b.ReportMetric(float64(seq)/float64(max(st.Commits, 1)), "events/commit")
}

// BenchmarkAppendCall measures what Append costs the engine's goroutine
// (encoding and queueing), with a queue large enough never to fill. Its
// B/op and allocs/op count every goroutine, so they are the writer
// goroutine's (bbolt's); the caller allocates nothing in the steady state
// (slabs are recycled), as a memory profile focused on Append shows.
func BenchmarkAppendCall(b *testing.B) {
	w, err := Open(b.TempDir(), Options{QueueSize: 1 << 20, NoSync: true, RotateSize: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	ev, effs := benchAdvert(1)
	b.ReportAllocs()
	seq := uint64(0)
	for b.Loop() {
		seq++
		if seq%(1<<19) == 0 {
			b.StopTimer()
			w.Sync()
			b.StartTimer()
		}
		w.Append(seq, ev, effs)
	}
}

// BenchmarkRead measures reading a journal back: open, iterate and decode
// every event and its effects.
func BenchmarkRead(b *testing.B) {
	const n = 200_000
	dir := b.TempDir()
	w, err := Open(dir, Options{QueueSize: n + 1, NoSync: true, RotateSize: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	for seq := uint64(1); seq <= n; seq++ {
		ev, effs := benchAdvert(seq)
		w.Append(seq, ev, effs)
	}
	if err := w.Close(); err != nil || w.Stats().Committed != n {
		b.Fatalf("%v %+v", err, w.Stats())
	}
	files, _ := listFiles(dir)
	info, _ := os.Stat(files[0].path)
	b.ReportAllocs()
	start, cpu0 := time.Now(), cpuTime()
	total := 0
	for b.Loop() {
		r, err := OpenReader(dir)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range r.Records(0) {
			if err != nil {
				b.Fatal(err)
			}
			total++
		}
		r.Close()
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(total)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
	b.ReportMetric(float64(info.Size())/n, "file-bytes/event")
}

// cpuTime is the process's CPU time so far. On a shared machine events per
// CPU-second says more about the code than events per wall-second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
