package e2e

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// TestOldUnicastChecksumInterop runs vigil and Debian's keepalived in a
// VRRPv3 unicast group where the master (priority 150) has
// old_unicast_checksum and the backup (priority 100) has not, both ways
// round:
//
//  1. the backup accepts the master's old-checksum adverts (it logs
//     keepalived's "Setting unicast VRRPv3 checksum to old version") and
//     stays BACKUP;
//  2. the master is stopped and the backup takes over, now sending the old
//     checksum;
//  3. when vigil is the new master: the old master (keepalived) returns
//     with priority 50; it accepts only the old checksum, and it stays
//     BACKUP, so vigil's adverts carry it. (keepalived 2.2.7, once switched,
//     still sends the standard checksum when it becomes MASTER - seen in
//     captures - so a returning vigil with old_unicast_checksum rejects
//     its adverts, as a keepalived with old_unicast_checksum does.)
func TestOldUnicastChecksumInterop(t *testing.T) {
	lab.Require(t, "keepalived")
	for _, vigilMaster := range []bool{true, false} {
		role := "vigil-old-checksum"
		if !vigilMaster {
			role = "keepalived-old-checksum"
		}
		t.Run(role, func(t *testing.T) { oldChecksumInterop(t, vigilMaster) })
	}
}

func oldChecksumInterop(t *testing.T, vigilMaster bool) {
	l := lab.New(t, 2)
	m, b := l.Nodes[0], l.Nodes[1]
	inst := func(self, other *lab.Node, prio int, extra ...string) instance {
		return instance{Priority: prio, Version: 3, VIPs: []string{vip4}, Extra: extra,
			UnicastSrc: self.Addr4.Addr(), UnicastPeers: []netip.Addr{other.Addr4.Addr()}}
	}
	start := func(n *lab.Node, conf string, vigil bool) *lab.Proc {
		if vigil {
			return n.StartVigil(t, conf)
		}
		return n.StartKeepalived(t, conf)
	}
	mp := start(m, conf("master", inst(m, b, 150, "old_unicast_checksum")), vigilMaster)
	bp := start(b, conf("backup", inst(b, m, 100)), !vigilMaster)

	// 1. The backup switches and stays BACKUP.
	holds(t, electTimeout, lab.VIP4, m, m, b)
	const switched = "(VI_1) Setting unicast VRRPv3 checksum to old version"
	lab.MustWait(t, electTimeout, bp.Name+" logging the switch", func() bool { return bp.LogContains(switched) })
	time.Sleep(4 * time.Second) // more than a master-down interval
	holds(t, time.Second, lab.VIP4, m, m, b)

	// 2. The master goes; the backup takes over.
	if err := mp.Stop(takeoverTimeout); err != nil {
		t.Fatalf("%s stop: %v", mp.Name, err)
	}
	holds(t, takeoverTimeout, lab.VIP4, b, m, b)
	if vigilMaster {
		return
	}

	// 3. The old master returns below the new one: it stays BACKUP only
	// if the new master's adverts carry the old checksum.
	start(m, conf("master", inst(m, b, 50, "old_unicast_checksum")), vigilMaster)
	time.Sleep(6 * time.Second) // its master-down interval and more
	holds(t, time.Second, lab.VIP4, b, m, b)
}
