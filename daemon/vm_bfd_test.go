package daemon

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/adapters/ipvs"
)

// BFD_CHECK against a real IPVS table, in the qemu lane: the checker
// daemon (in-process, -C) runs a BFD session to a second vigil daemon in
// its own namespace across a veth, and a real server of its virtual
// service follows the session.

// vmBFDConf is the director: the session to_peer (250 ms × 4: under
// software emulation on a shared host the guest stalls for hundreds of
// milliseconds, and 100 ms × 3 flapped) and the virtual service 10.77.0.3:80 whose real server
// 10.77.5.2:80 is checked by BFD_CHECK; 10.77.5.3:80, unchecked, keeps
// the service non-empty.
const vmBFDConf = `bfd_instance to_peer {
  neighbor_ip 10.77.5.2
  source_ip 10.77.5.1
  min_rx 250
  min_tx 250
  multiplier 4
}
virtual_server 10.77.0.3 80 {
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server 10.77.5.2 80 {
    weight 4
    BFD_CHECK {
      name to_peer
    }
  }
  real_server 10.77.5.3 80 {
    weight 1
  }
}
`

// vmBFDPeerConf is the peer: a session back to the director and nothing
// else (the peer's daemon runs VRRP and checkers with nothing to do).
const vmBFDPeerConf = `bfd_instance to_director {
  neighbor_ip 10.77.5.1
  source_ip 10.77.5.2
  min_rx 250
  min_tx 250
  multiplier 4
}
`

// bfdDests reads the kernel's destinations of 10.77.0.3:80 and their
// weights.
func bfdDests(t *testing.T, m *ipvs.Manager) map[string]int {
	t.Helper()
	tbl, err := m.Read()
	if err != nil {
		t.Fatal(err)
	}
	ds := map[string]int{}
	for _, s := range tbl {
		if s.Addr == netip.MustParseAddr("10.77.0.3") && s.Port == 80 {
			for _, d := range s.Dests {
				ds[d.Key().String()] = d.Weight
			}
		}
	}
	return ds
}

// TestDaemonBFDCheckInVM: the real server checked by BFD_CHECK enters the
// kernel's table when the session comes Up; leaves it when the peer's
// end of the link goes down and returns when it comes back up; leaves it
// again when the peer daemon is killed (SIGKILL: no AdminDown is sent,
// the detection time runs out) and returns when a new peer daemon has
// brought the session Up again. The unchecked real server stays
// throughout. Each cut is made once the checked server has been in the
// table for 2 s, so that a removal is the cut's doing. The times from the cut to the removal are logged, not
// asserted (emulation is slow and shared).
func TestDaemonBFDCheckInVM(t *testing.T) {
	if os.Getenv(vmEnv) == "" {
		t.Skip(vmEnv + " is not set: this test builds a namespace and rewrites the IPVS table and runs in the qemu lane only (test/qemu/run.sh)")
	}
	const ns, here, there = "vigil-bfd-peer", "vbfd0", "vbfd1"
	vmNamedNetns(t, ns)

	// The veth: vbfd0 (10.77.5.1) here, vbfd1 (10.77.5.2) in the peer's
	// namespace.
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: here}, PeerName: there}); err != nil {
		t.Fatalf("veth: %v", err)
	}
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(here); err == nil {
			netlink.LinkDel(l)
		}
	})
	h, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	peerNL, err := netlink.NewHandleAt(h, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer peerNL.Close()
	if l, err := netlink.LinkByName(there); err != nil {
		t.Fatal(err)
	} else if err := netlink.LinkSetNsFd(l, int(h)); err != nil {
		t.Fatalf("%s to %s: %v", there, ns, err)
	}
	up := func(nh *netlink.Handle, name, addr string) {
		l, err := nh.LinkByName(name)
		if err != nil {
			t.Fatal(err)
		}
		if addr != "" {
			pa, _ := netlink.ParseAddr(addr)
			if err := nh.AddrAdd(l, pa); err != nil {
				t.Fatalf("%s %s: %v", name, addr, err)
			}
		}
		if err := nh.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
	}
	rootNL, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer rootNL.Close()
	up(rootNL, here, "10.77.5.1/24")
	up(peerNL, there, "10.77.5.2/24")
	up(peerNL, "lo", "")
	peerLink := func(on bool) {
		t.Helper()
		l, err := peerNL.LinkByName(there)
		if err == nil {
			if on {
				err = peerNL.LinkSetUp(l)
			} else {
				err = peerNL.LinkSetDown(l)
			}
		}
		if err != nil {
			t.Fatalf("%s up=%v: %v", there, on, err)
		}
	}

	m, err := ipvs.Open(ipvs.Options{NoModprobe: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	conf := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(conf, []byte(vmBFDConf), 0o644); err != nil {
		t.Fatal(err)
	}
	peerConf := filepath.Join(t.TempDir(), "peer.conf")
	if err := os.WriteFile(peerConf, []byte(vmBFDPeerConf), 0o644); err != nil {
		t.Fatal(err)
	}

	const checked, unchecked = "10.77.5.2:80", "10.77.5.3:80"
	// wait waits for the checked real server to be in the table (with
	// its weight) or out of it, and returns how long it took to get there. With in,
	// it must have stayed in for stable: a session just Up still uses
	// the neighbour's idle_tx (1 s) in its detection time until the
	// neighbour's poll sequence ends, and a cut must not race a flap.
	wait := func(what string, in bool) time.Duration {
		t.Helper()
		const stable = 2 * time.Second
		start := time.Now()
		var since time.Time
		waitFor(t, what, func() (bool, string) {
			ds := bfdDests(t, m)
			w, ok := ds[checked]
			if ds[unchecked] != 1 {
				t.Fatalf("the unchecked real server moved while waiting for %s: %v", what, ds)
			}
			if ok != in || in && w != 4 {
				since = time.Time{}
				return false, fmt.Sprint(ds)
			}
			if !in {
				return true, ""
			}
			if since.IsZero() {
				since = time.Now()
			}
			return time.Since(since) >= stable, fmt.Sprintf("%v, in for %v", ds, time.Since(since))
		})
		if in {
			return since.Sub(start)
		}
		return time.Since(start)
	}

	d := startVMDaemon(t, conf, false)
	// Without a peer the session is Down: only the unchecked server.
	waitFor(t, "the unchecked real server alone", func() (bool, string) {
		ds := bfdDests(t, m)
		return len(ds) == 1 && ds[unchecked] == 1, fmt.Sprint(ds)
	})
	peer := startBFDPeer(t, ns, peerConf)
	t.Logf("session Up, real server in the table %v after the peer started", wait("the BFD_CHECK real server in (session Up)", true).Round(time.Millisecond))

	peerLink(false)
	t.Logf("real server out %v after the peer's link went down", wait("the BFD_CHECK real server out (link down)", false).Round(time.Millisecond))
	peerLink(true)
	t.Logf("real server back %v after the peer's link came up", wait("the BFD_CHECK real server back (link up)", true).Round(time.Millisecond))

	if err := peer.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-peer.done
	peer.stopped = true
	t.Logf("real server out %v after the peer was killed", wait("the BFD_CHECK real server out (peer killed)", false).Round(time.Millisecond))
	peer = startBFDPeer(t, ns, peerConf)
	t.Logf("real server back %v after the peer restarted", wait("the BFD_CHECK real server back (peer restarted)", true).Round(time.Millisecond))

	peer.stop(t)
	d.stop(t)
	if ds := bfdDests(t, m); len(ds) != 0 {
		t.Fatalf("the service is still in the table after the stop: %v", ds)
	}
}

// startBFDPeer runs the peer daemon on conf in the namespace ns.
func startBFDPeer(t *testing.T, ns, conf string) *director {
	t.Helper()
	return startChildDaemon(t, ns, "bfd peer", conf)
}
