//go:build linux

package vrrpnet

import (
	"slices"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events"
)

// junkKinds are packets the receive path rejects in user space (the
// kernel filter cannot judge them): a bad checksum, a truncated message,
// a version the VRID does not run.
func junkKinds(tb testing.TB) map[string][]byte {
	golden := ipPart(tb, goldenV3Frame)
	bad := slices.Clone(golden)
	bad[27] ^= 0xff
	short := slices.Clone(golden[:26])
	short[3] = 26
	return map[string][]byte{"checksum": bad, "truncated": short, "version": ipPart(tb, goldenV2Frame)}
}

// benchConn is a Conn reading a loopback UDP socket, whose payloads are
// whole IPv4 packets (the receive path does not care), VRID 77 running
// VRRPv3.
func benchConn(tb testing.TB) (*Conn, func([]byte)) {
	s, out := udpRawSock(tb)
	c := &Conn{ifname: "bench", family: IPv4, clock: func() events.Time { return 1 }, vrrp: s}
	c.dec = DecodeOptions{AHKey: c.authKey}
	c.version[77].Store(3)
	return c, func(p []byte) {
		if _, err := out.Write(p); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestRejectPathNoAlloc: receiving, judging and tallying a rejected
// packet allocates nothing (after the first of its cause), and the flush
// delivers one event per cause with the count.
func TestRejectPathNoAlloc(t *testing.T) {
	c, write := benchConn(t)
	var ev events.AdvertReceived
	for name, p := range junkKinds(t) {
		write(p)
		if err := c.receive(c.vrrp, &ev); err != nil || ev.Verdict == events.VerdictOK {
			t.Fatalf("%s: %v %+v", name, err, ev)
		}
		c.rejects.add(&ev)
		allocs := testing.AllocsPerRun(100, func() {
			write(p)
			if err := c.receive(c.vrrp, &ev); err != nil {
				t.Fatal(err)
			}
			c.rejects.add(&ev)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per rejected packet, want 0", name, allocs)
		}
	}
	batch, reports := c.rejects.flush(c, c.clock, time.Now(), time.Second, nil, nil)
	if len(batch) != 3 || len(reports) != 3 {
		t.Fatalf("flush: %d events, %d reports, want 3 and 3", len(batch), len(reports))
	}
	for _, e := range batch {
		if e.Count != 102 { // 1 + the 101 runs of AllocsPerRun
			t.Errorf("%v: count %d, want 102", e.Verdict, e.Count)
		}
	}
	if batch, reports = c.rejects.flush(c, c.clock, time.Now(), time.Second, batch[:0], reports[:0]); len(batch)+len(reports) != 0 {
		t.Fatalf("second flush: %d events, %d reports", len(batch), len(reports))
	}
}

// BenchmarkRejectPath is the user-space cost of one junk packet the
// kernel filter lets through: receive, decode, judge, tally.
func BenchmarkRejectPath(b *testing.B) {
	for name, p := range junkKinds(b) {
		b.Run(name, func(b *testing.B) {
			c, write := benchConn(b)
			var ev events.AdvertReceived
			b.ReportAllocs()
			for b.Loop() {
				write(p)
				if err := c.receive(c.vrrp, &ev); err != nil {
					b.Fatal(err)
				}
				c.rejects.add(&ev)
			}
		})
	}
}
