package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
	"github.com/vigil-ha/vigil/status"
)

// TestFloodJunk (issue 15): a vigil pair (VRRPv2, PASS, master priority
// 150) with an attacker on the segment sending junk for the group's VRID
// at a moderate rate (bench/floodgen). Under each kind of junk the backup
// never takes over, and the master's counters account for the packets
// that reach user space (the kernel filter drops other VRIDs and TTL≠255
// unseen, so those move no counter). Under a flood of valid
// lower-priority adverts from an unknown source, every one is counted and
// the master's answers are bounded by one per advert interval.
func TestFloodJunk(t *testing.T) {
	lab.Require(t)
	gen := filepath.Join(t.TempDir(), "floodgen")
	if out, err := exec.Command("go", "build", "-o", gen, "github.com/vigil-ha/vigil/bench/floodgen").CombinedOutput(); err != nil {
		t.Fatalf("build floodgen: %v\n%s", err, out)
	}
	l := lab.New(t, 3)
	m, b, atk := l.Nodes[0], l.Nodes[1], l.Nodes[2]
	inst := func(prio int) string {
		return conf("flood", instance{Priority: prio, AuthPass: "secret", VIPs: []string{vip4}})
	}
	mp := m.StartVigil(t, inst(150))
	bp := b.StartVigil(t, inst(100))
	holds(t, electTimeout, lab.VIP4, m, m, b)

	stats := func(p *lab.Proc) status.Stats {
		t.Helper()
		js, err := p.Status(t, "--json")
		if err != nil {
			t.Fatalf("vigil status --json: %v\n%s", err, js)
		}
		var s status.Snapshot
		if err := json.Unmarshal([]byte(js), &s); err != nil {
			t.Fatalf("vigil status --json: %v\n%s", err, js)
		}
		in := s.Instance("VI_1")
		if in == nil {
			t.Fatalf("no VI_1 in %s", js)
		}
		return in.Stats
	}
	flood := func(kind string, rate int, seconds string) int {
		t.Helper()
		out, err := atk.Exec(gen, "-kind", kind, "-rate", strconv.Itoa(rate), "-seconds", seconds,
			"-src", atk.Addr4.Addr().String(), "-vip", lab.VIP4.String())
		f := strings.Fields(out)
		if err != nil || len(f) < 2 || f[0] != "sent" {
			t.Fatalf("floodgen %s: %v\n%s", kind, err, out)
		}
		n, _ := strconv.Atoi(f[1])
		return n
	}

	// settled reads a node's counters until done holds or the status
	// snapshot has been republished at least twice (its counters are
	// published every 2 s), and returns the last reading.
	settled := func(p *lab.Proc, done func(status.Stats) bool) status.Stats {
		deadline := time.Now().Add(5 * time.Second)
		for {
			s := stats(p)
			if done(s) || time.Now().After(deadline) {
				return s
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, tc := range []struct {
		kind    string
		counter func(s status.Stats) uint64 // nil: dropped in the kernel, no counter
	}{
		{"vrid", nil},
		{"ttl", nil},
		{"checksum", func(s status.Stats) uint64 { return s.ChecksumErr }},
		{"truncated", func(s status.Stats) uint64 { return s.PacketLenErr }},
		{"auth", func(s status.Stats) uint64 { return s.AuthFailure }},
		{"version", func(s status.Stats) uint64 { return s.VersionErr }},
	} {
		before, bBefore := stats(mp), stats(bp)
		sent := flood(tc.kind, 2000, "2")
		time.Sleep(600 * time.Millisecond) // the coalesced counts (250 ms)
		holds(t, time.Second, lab.VIP4, m, m, b)
		after := settled(mp, func(s status.Stats) bool {
			return tc.counter == nil || tc.counter(s)-tc.counter(before) >= uint64(sent)
		})
		bAfter := stats(bp)
		if bAfter.BecomeMaster != bBefore.BecomeMaster {
			t.Errorf("%s: the backup took over (%d times)", tc.kind, bAfter.BecomeMaster-bBefore.BecomeMaster)
		}
		if after.AdvertRcvd != before.AdvertRcvd {
			t.Errorf("%s: %d junk packets accepted as adverts", tc.kind, after.AdvertRcvd-before.AdvertRcvd)
		}
		if tc.counter != nil {
			if got := tc.counter(after) - tc.counter(before); got != uint64(sent) {
				t.Errorf("%s: counted %d of %d packets", tc.kind, got, sent)
			}
		}
		t.Logf("%s: %d packets sent; master's stats %+v", tc.kind, sent, after)
	}
	if !mp.LogContains("bad VRRP packets dropped") {
		t.Errorf("the master logged no bad packets:\n%s", mp.LogTail(30))
	}

	// Valid lower-priority adverts: each counted, answered at most once
	// per advert interval (plus the regular adverts).
	before := stats(mp)
	start := time.Now()
	sent := flood("lower", 1000, "3")
	secs := time.Since(start).Seconds()
	time.Sleep(300 * time.Millisecond)
	holds(t, time.Second, lab.VIP4, m, m, b)
	after := settled(mp, func(s status.Stats) bool { return s.AdvertRcvd-before.AdvertRcvd >= uint64(sent) })
	if got := after.AdvertRcvd - before.AdvertRcvd; got != uint64(sent) {
		t.Errorf("lower: %d of %d adverts counted", got, sent)
	}
	// Regular adverts (one a second) and at most one answer a second,
	// with a second of slack at each end.
	if got, limit := after.AdvertSent-before.AdvertSent, uint64(2*secs+4); got > limit {
		t.Errorf("lower: the master sent %d adverts in %.1f s under %d lower-priority adverts (want ≤ %d)", got, secs, sent, limit)
	}
}
