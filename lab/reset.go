package lab

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// Reusing a lab. Creating and deleting namespaces is costly for the whole
// machine (namespace teardown holds the kernel's rtnl lock while devices
// go away), which delays the daemons of other labs running at the same
// time: a test that runs many short scenarios in parallel can keep a few
// labs and reset them between scenarios instead. Checkpoint records what
// a daemon may change; Reset, once the daemons are stopped, undoes it.

// nodeState is what Checkpoint records of a node.
type nodeState struct {
	sysctls map[string]string
}

// Checkpoint records the state Reset returns the lab to: each node's
// IPv4 and IPv6 interface sysctls (all, default, lo, eth0), which daemons
// change (keepalived's VMAC set-up, for instance) and a killed daemon does
// not restore.
func (l *Lab) Checkpoint() error {
	for _, n := range l.Nodes {
		s, err := n.readSysctls()
		if err != nil {
			return err
		}
		n.checkpoint = &nodeState{sysctls: s}
	}
	return nil
}

func (n *Node) readSysctls() (map[string]string, error) {
	// sysctl -a reports unreadable keys (stable_secret) on stderr and exits
	// non-zero: read its output regardless.
	out, _ := n.Exec("sysctl", "-a", "-r", `^net\.ipv[46]\.conf\.(all|default|lo|eth0)\.`)
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, " = ")
		if !ok || strings.HasPrefix(k, "sysctl:") {
			continue
		}
		m[k] = v
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("lab: no sysctls read in %s: %s", n.NS, out)
	}
	return m, nil
}

// Reset returns the lab to its planned state once the daemons in it have
// stopped: in every node it deletes the links other than lo and eth0
// (VMACs a killed daemon left), the addresses that are not the node's own
// (VIPs a killed master left), flushes the neighbour table and restores the
// sysctls recorded by Checkpoint; it sets the ports and eth0 up and
// flushes the bridge's forwarding database. Firewall state (keepalived's
// nftables table, left by a killed keepalived) is not undone.
func (l *Lab) Reset() error {
	var errs []string
	for _, n := range l.Nodes {
		if err := n.reset(); err != nil {
			errs = append(errs, err.Error())
		}
		if err := n.SetPortUp(true); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if _, err := Exec(l.Switch, "ip", "link", "set", "br0", "type", "bridge", "fdb_flush"); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("lab: reset: %s", strings.Join(errs, "; "))
	}
	return nil
}

func (n *Node) reset() error {
	out, err := n.Exec("ip", "-j", "link", "show")
	if err != nil {
		return err
	}
	var links []ipAddrJSON
	if err := json.Unmarshal([]byte(out), &links); err != nil {
		return fmt.Errorf("ip -j link: %w", err)
	}
	for _, lk := range links {
		if lk.IfName == "lo" || lk.IfName == "eth0" {
			continue
		}
		// A VMAC shows as "vrrp.77@eth0" in text output; -j gives the name.
		if _, err := n.Exec("ip", "link", "del", lk.IfName); err != nil {
			return err
		}
	}
	if _, err := n.Exec("ip", "link", "set", "eth0", "up"); err != nil {
		return err
	}
	own := map[netip.Addr]bool{n.Addr4.Addr(): true, n.Addr6.Addr(): true, n.LinkLocal(): true}
	for _, ifname := range []string{"eth0", "lo"} {
		ps, err := n.Addresses(ifname)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if own[p.Addr()] || p.Addr().IsLoopback() {
				continue
			}
			if _, err := n.Exec("ip", "addr", "del", p.String(), "dev", ifname); err != nil {
				return err
			}
		}
	}
	for _, a := range []netip.Prefix{n.Addr4, n.Addr6} {
		if n.HasAddress(a.Addr()) {
			continue
		}
		args := []string{"ip", "addr", "add", a.String(), "dev", "eth0"}
		if a.Addr().Is6() {
			args = append(args, "nodad")
		}
		if _, err := n.Exec(args...); err != nil {
			return err
		}
	}
	if _, err := n.Exec("ip", "neigh", "flush", "all"); err != nil {
		return err
	}
	if n.checkpoint == nil {
		return nil
	}
	now, err := n.readSysctls()
	if err != nil {
		return err
	}
	var set []string
	for k, v := range n.checkpoint.sysctls {
		if cur, ok := now[k]; ok && cur != v {
			set = append(set, k+"="+v)
		}
	}
	if len(set) > 0 {
		args := append([]string{"sysctl", "-q", "-w"}, set...)
		if out, err := n.Exec(args...); err != nil {
			return fmt.Errorf("restore sysctls in %s: %v: %s", n.NS, err, out)
		}
	}
	return nil
}
