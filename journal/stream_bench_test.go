package journal

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// streamRecord is one record of a benchmark stream.
type streamRecord struct {
	ev   events.Event
	effs []effects.Effect
}

// benchStream returns the stream the format benchmarks write: the records
// of the journal files named by $VIGIL_BENCH_JOURNAL (comma-separated;
// e.g. what `KEEPTMP=1 bench/scale.sh 1` leaves in run1/{m,b}/journal), or
// else steadyStream's.
func benchStream(tb testing.TB) []streamRecord {
	paths := os.Getenv("VIGIL_BENCH_JOURNAL")
	if paths == "" {
		return steadyStream(1020, 20*time.Second)
	}
	var out []streamRecord
	for _, p := range filepath.SplitList(paths) {
		r, err := OpenReader(p)
		if err != nil {
			tb.Fatal(err)
		}
		for rec, err := range r.Records(0) {
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, streamRecord{rec.Event, rec.Effects})
		}
		r.Close()
	}
	return out
}

// steadyStream is a steady-state stream of a master and a backup of n
// VRRPv3 instances (as bench/scale.sh runs them: four links, VRIDs 1..255
// on each, one VIP each, advert_int 1) over d, interleaved: the master's
// advert timer firing, with the SendAdvert, Count and SetTimer it
// produces, and the backup's receipt of that advert, with its Count and
// master-down SetTimer — the records of the journals a run of
// bench/scale.sh leaves, field for field. The times are the daemon's: each
// event is stamped when the loop serves it, after the timer's deadline by
// a log-normal lateness (median 1.25 ms, 10 % over 10 ms: what that run
// showed on this 2-core machine under load), and the backup hears the
// advert 30–130 µs after it was sent.
func steadyStream(n int, d time.Duration) []streamRecord {
	rng := rand.New(rand.NewPCG(1, 2))
	const interval = time.Second
	type inst struct {
		name, iface string
		vrid        uint8
		src, vip    netip.Addr
		deadline    events.Time
	}
	insts := make([]inst, n)
	for i := range insts {
		link, vrid := i/255, i%255+1
		insts[i] = inst{
			name: fmt.Sprintf("VI_%d_%d", link, vrid), iface: fmt.Sprintf("eth%d", link), vrid: uint8(vrid),
			src:      netip.AddrFrom4([4]byte{10, 77, byte(link), 1}),
			vip:      netip.AddrFrom4([4]byte{10, 77, byte(100 + link), byte(vrid)}),
			deadline: events.Time(3600e9 + rng.Int64N(int64(interval))),
		}
	}
	group := netip.MustParseAddr("224.0.0.18")
	var out []streamRecord
	for range int(d / interval) {
		// Timers fire in deadline order.
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		slicesSortBy(order, func(i int) events.Time { return insts[i].deadline })
		for _, i := range order {
			in := &insts[i]
			at := in.deadline + events.Time(1.25e6*math.Exp(1.6*rng.NormFloat64()))
			key := "vrrp/" + in.name + "/adv"
			send := &effects.SendAdvert{Instance: in.name, Interface: in.iface, Version: 3, VRID: in.vrid, Priority: 150,
				Interval: 100, Addrs: []netip.Addr{in.vip}, Src: in.src, Dst: []netip.Addr{group}, TTL: 255,
				Checksum: events.ChecksumStandard}
			in.deadline += events.Time(interval)
			out = append(out, streamRecord{&events.TimerFired{Header: events.Header{At: at}, Key: key},
				[]effects.Effect{send, &effects.Count{Instance: in.name, Counter: "advert_sent", Delta: 1},
					&effects.SetTimer{Key: key, At: in.deadline}}})
			rat := at + events.Time(30e3+rng.Int64N(100e3))
			out = append(out, streamRecord{&events.AdvertReceived{Header: events.Header{At: rat}, Interface: in.iface,
				Src: in.src, Dst: group, TTL: 255, Length: 12,
				Advert: events.Advert{Version: 3, Type: 1, VRID: in.vrid, Priority: 150, CountAddrs: 1, Interval: 100,
					Addrs: []netip.Addr{in.vip}, Checksum: events.ChecksumStandard}},
				[]effects.Effect{&effects.Count{Instance: in.name, Counter: "advert_rcvd", Delta: 1},
					&effects.SetTimer{Key: "vrrp/" + in.name + "/down", At: rat + 3_609_375_000}}})
		}
	}
	return out
}

func slicesSortBy(s []int, key func(int) events.Time) {
	for i := 1; i < len(s); i++ { // insertion sort: nearly sorted already
		for j := i; j > 0 && key(s[j]) < key(s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// BenchmarkFormat writes a realistic steady-state stream (benchStream) in
// format 2 and in format 3, committing as the daemon does at 10,000
// events/s (a commit every 20 ms: 200 records), and reports the file's
// growth per record (file-B: the file's size, bbolt's growth steps
// included; data-B: the pages bbolt uses, free ones included), the writer's
// CPU per record (Append in the caller plus the writer goroutine) and the
// records per second of wall time.
func BenchmarkFormat(b *testing.B) {
	stream := benchStream(b)
	for _, format := range []int{2, 3} {
		for _, perCommit := range []int{20, 200} {
			b.Run(fmt.Sprintf("format%d/commit%d", format, perCommit), func(b *testing.B) {
				benchFormat(b, stream, format, perCommit)
			})
		}
	}
}

func benchFormat(b *testing.B, stream []streamRecord, format, perCommit int) {
	dir := b.TempDir()
	w, err := Open(dir, Options{NoSync: true, RotateSize: 1 << 40, format: format, QueueSize: 1 << 20, MaxBatchAge: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	files, _ := listFiles(dir)
	info0, _ := os.Stat(files[0].path)
	b.ReportAllocs()
	seq := uint64(0)
	start, cpu0 := time.Now(), cpuTime()
	for b.Loop() {
		r := &stream[seq%uint64(len(stream))]
		seq++
		if err := w.Append(seq, r.ev, r.effs); err != nil {
			b.Fatal(err)
		}
		if seq%uint64(perCommit) == 0 {
			if err := w.Sync(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.Sync(); err != nil {
		b.Fatal(err)
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	var data int64
	w.db.View(func(tx *bolt.Tx) error { data = tx.Size(); return nil })
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	info, _ := os.Stat(files[0].path)
	b.ReportMetric(float64(w.Stats().Bytes)/float64(seq), "value-B/record")
	b.ReportMetric(float64(info.Size()-info0.Size())/float64(seq), "file-B/record")
	b.ReportMetric(float64(data-info0.Size())/float64(seq), "data-B/record")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(seq), "cpu-ns/record")
	b.ReportMetric(float64(seq)/elapsed.Seconds(), "records/s")
}
