package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
	"github.com/vigil-ha/vigil/status"
)

// Journal messages the daemon logs once per episode of trouble.
const (
	journalFailedMsg  = "journal: writing failed"
	journalResumedMsg = "journal: writing resumed"
)

// journalTmpfs mounts a tmpfs of size on a new temporary directory and
// unmounts it (lazily: a daemon's mount namespace may still hold it) at
// cleanup. The daemons see it because `ip netns exec` copies the mounts
// of its caller; a remount changes the one superblock they share.
func journalTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "vigil-test-journal", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a file in dir until its file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !strings.Contains(err.Error(), "no space left") {
				t.Fatalf("filling %s: %v", dir, err)
			}
			break
		}
	}
	// Byte by byte to the last one a page short of full.
	for {
		if _, err := f.Write(buf[:1]); err != nil {
			break
		}
	}
	return path
}

// journalStatus asks the daemon for its journal counters.
func journalStatus(t *testing.T, p *lab.Proc) *status.Journal {
	t.Helper()
	out, err := p.Status(t, "--json")
	if err != nil {
		t.Fatalf("%s status: %v: %s", p.Name, err, out)
	}
	var s status.Snapshot
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%s status: %v: %s", p.Name, err, out)
	}
	if s.Journal == nil {
		t.Fatalf("%s status: no journal", p.Name)
	}
	return s.Journal
}

// verifyJournal runs `vigil replay verify` on dir and fails the test
// unless the journal opens and re-runs without a divergence.
func verifyJournal(t *testing.T, dir string) string {
	t.Helper()
	out, err := exec.Command(lab.VigilBinary(t), "replay", "verify", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("vigil replay verify %s: %v:\n%s", dir, err, out)
	}
	return string(out)
}

// The journal's disk fails under a running pair (master n1, backup n2,
// both journals on one small tmpfs): full from the start, full in the
// middle of the run, read-only. VRRP must go on — adverts keep coming,
// the backup still takes over when the master dies — while the lost
// events are counted and recorded as gaps, the failure is logged once per
// episode, writing resumes when the disk is healed, and the journal then
// opens and verifies.
func TestJournalDiskFaults(t *testing.T) {
	lab.Require(t, "tcpdump", "mount", "umount")
	cases := []struct {
		name string
		// before runs before the daemons start, after runs once both
		// are up and elected; either breaks the disk. heal mends it.
		before, after func(t *testing.T, dir string)
		heal          func(t *testing.T, dir string)
	}{
		{
			name:   "full-at-start",
			before: func(t *testing.T, dir string) { fill(t, dir) },
			heal:   func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "filler")) },
		},
		{
			name:  "full-while-running",
			after: func(t *testing.T, dir string) { fill(t, dir) },
			heal:  func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "filler")) },
		},
		{
			// Read-only superblock (root ignores file modes). Remounting
			// read-only needs no file open for writing, so it is done
			// before the daemons start.
			name: "read-only",
			before: func(t *testing.T, dir string) {
				for _, n := range []string{"n1", "n2"} {
					os.Mkdir(filepath.Join(dir, n), 0o700)
				}
				// The superblock read-only, the mount itself read-write:
				// the daemons' copies of the mount then see the superblock
				// turn read-write again at heal.
				for _, opt := range []string{"remount,ro", "remount,bind,rw"} {
					if out, err := exec.Command("mount", "-o", opt, dir).CombinedOutput(); err != nil {
						t.Fatalf("mount -o %s: %v: %s", opt, err, out)
					}
				}
			},
			heal: func(t *testing.T, dir string) {
				if out, err := exec.Command("mount", "-o", "remount,rw", dir).CombinedOutput(); err != nil {
					t.Fatalf("remount rw: %v: %s", err, out)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			disk := journalTmpfs(t, "4m")
			if c.before != nil {
				c.before(t, disk)
			}
			l := lab.New(t, 2)
			cap := l.Capture(t, "ip proto 112")
			n1, n2 := l.Nodes[0], l.Nodes[1]
			j1, j2 := filepath.Join(disk, "n1"), filepath.Join(disk, "n2")
			p1 := n1.StartVigil(t, conf("n1", instance{Priority: 150, VIPs: []string{vip4}}), "--journal", j1)
			p2 := n2.StartVigil(t, conf("n2", instance{Priority: 100, VIPs: []string{vip4}}), "--journal", j2)
			holds(t, electTimeout, lab.VIP4, n1, n1, n2)
			if c.after != nil {
				c.after(t, disk)
				// A configuration with a long virtual_ipaddress_excluded
				// block: each reload journals it, several pages.
				excluded := make([]string, 400)
				for i := range excluded {
					excluded[i] = fmt.Sprintf("10.77.%d.%d/32", 100+i/200, 1+i%200)
				}
				big := conf("n2", instance{Priority: 100, VIPs: []string{vip4}, ExcludedVIPs: excluded})
				if err := os.WriteFile(filepath.Join(p2.Dir, "keepalived.conf"), []byte(big), 0o644); err != nil {
					t.Fatal(err)
				}
				// The backup journals each advert it receives; a full
				// disk shows once bbolt needs a page it has not written
				// yet. Reloads journal the whole configuration (new
				// pages) and make that soon.
				last := time.Time{}
				lab.MustWait(t, 30*time.Second, "the backup's journal failure logged", func() bool {
					if p2.LogContains(journalFailedMsg) {
						return true
					}
					if time.Since(last) > time.Second {
						p2.Signal(syscall.SIGHUP)
						last = time.Now()
					}
					return false
				})
			}
			// Both nodes fail when the disk is broken before they start;
			// in the middle of a run, the backup that was made to need pages.
			broken := []*lab.Proc{p1, p2}
			if c.before == nil {
				broken = broken[1:]
			}
			lab.MustWait(t, 10*time.Second, "the journal failures logged", func() bool {
				for _, p := range broken {
					if !p.LogContains(journalFailedMsg) {
						return false
					}
				}
				return true
			})
			before := len(advertsFrom(cap, n1.Addr4.Addr()))
			time.Sleep(4 * time.Second) // several failed commits on each node
			if got := len(advertsFrom(cap, n1.Addr4.Addr())) - before; got < 3 {
				t.Errorf("%d adverts from the master in 4 s with its journal failing", got)
			}
			js := journalStatus(t, p2)
			if !js.Failing || js.Episodes != 1 || js.Lost == 0 {
				t.Errorf("backup's journal status during the fault: %+v", js)
			}
			// Failover still works: the master dies, the backup takes over.
			p1.Crash()
			lab.MustWait(t, takeoverTimeout, "the VIP on the backup", func() bool { return n2.HasAddress(lab.VIP4) })

			c.heal(t, disk)
			// An episode ends 5 s after its last failure.
			lab.MustWait(t, 15*time.Second, "the backup's journal resumed", func() bool {
				return p2.LogContains(journalResumedMsg)
			})
			// The status snapshot is republished at most every 2 s: poll.
			lab.WaitFor(10*time.Second, func() bool { js = journalStatus(t, p2); return !js.Failing })
			if js.Failing || js.Episodes != 1 || js.Committed == 0 {
				t.Errorf("backup's journal status after healing: %+v", js)
			}
			for _, p := range broken {
				if n := strings.Count(p.Log(), journalFailedMsg); n != 1 {
					t.Errorf("%s logged the journal failure %d times, want once for the episode", p.Name, n)
				}
			}
			if err := p2.Stop(takeoverTimeout); err != nil {
				t.Fatal(err)
			}
			out := verifyJournal(t, j2)
			t.Logf("backup journal: %+v\nverify:\n%s", js, out)
		})
	}
}

// A journal file truncated or overwritten while the daemon was stopped:
// the next start sets it aside (renamed *.damaged, logged), runs VRRP and
// journals into a new file; the journal directory then verifies.
func TestJournalDamagedWhileStopped(t *testing.T) {
	for _, damage := range []string{"truncate", "corrupt"} {
		t.Run(damage, func(t *testing.T) {
			l := lab.New(t, 1)
			n := l.Nodes[0]
			jdir := filepath.Join(t.TempDir(), "journal")
			cfg := conf("n1", instance{Priority: 150, VIPs: []string{vip4}})
			p := n.StartVigil(t, cfg, "--journal", jdir)
			lab.MustWait(t, electTimeout, "the VIP", func() bool { return n.HasAddress(lab.VIP4) })
			time.Sleep(2 * time.Second)
			if err := p.Stop(takeoverTimeout); err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(jdir, "*.journal"))
			if len(files) != 1 {
				t.Fatalf("journal files %v", files)
			}
			data, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			used := len(data)
			for used > 0 && data[used-1] == 0 {
				used--
			}
			switch damage {
			case "truncate":
				data = data[:used/2]
			case "corrupt":
				for i := 2 * 4096; i < used; i += 64 { // past the two meta pages
					data[i] ^= 0x5a
				}
			}
			if err := os.WriteFile(files[0], data, 0o600); err != nil {
				t.Fatal(err)
			}
			p = n.StartVigil(t, cfg, "--journal", jdir)
			lab.MustWait(t, electTimeout, "the VIP after the restart", func() bool { return n.HasAddress(lab.VIP4) })
			lab.MustWait(t, 5*time.Second, "the damaged file logged", func() bool {
				return p.LogContains("damaged last file set aside")
			})
			if _, err := os.Stat(files[0] + ".damaged"); err != nil {
				t.Errorf("the damaged file was not set aside: %v", err)
			}
			time.Sleep(2 * time.Second)
			if err := p.Stop(takeoverTimeout); err != nil {
				t.Fatal(err)
			}
			t.Logf("verify:\n%s", verifyJournal(t, jdir))
		})
	}
}
