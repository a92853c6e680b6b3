// Package lab builds network-namespace laboratories for vigil's end-to-end
// tests and benchmarks: N node namespaces, each with an eth0 veth whose
// peer sits on a bridge in a switch namespace, addresses in 10.77.0.0/24
// and fd77::/64, helpers to run commands, vigil and keepalived inside a
// node, to read its addresses and neighbours, and to capture the bridge
// with tcpdump. Everything is created under unique names (vge2e-PID-N-...)
// and removed by exact name at cleanup; nothing touches the caller's own
// namespace.
package lab

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Subnet and address plan of every lab (namespaces isolate labs from each
// other, so they all use the same addresses).
var (
	Subnet4 = netip.MustParsePrefix("10.77.0.0/24")
	Subnet6 = netip.MustParsePrefix("fd77::/64")
	// VIP4 and VIP6 are free addresses for virtual IPs.
	VIP4 = netip.MustParseAddr("10.77.0.100")
	VIP6 = netip.MustParseAddr("fd77::100")
)

// Lab is a set of node namespaces on one bridge.
type Lab struct {
	t testing.TB
	// Prefix starts every namespace name of this lab.
	Prefix string
	// Switch is the namespace holding the bridge br0.
	Switch string
	Nodes  []*Node
	// LogTail, when positive, makes a failed test print only the last
	// LogTail lines of each daemon's log at cleanup (default: all of it).
	LogTail int
}

// Node is one namespace on the lab's bridge.
type Node struct {
	lab *Lab
	// Index is the node's position (0-based).
	Index int
	// NS is the namespace name; Port the bridge port (in Switch) of its
	// eth0.
	NS, Port string
	// Addr4 and Addr6 are eth0's addresses (10.77.0.11/24, fd77::11/64...).
	Addr4, Addr6 netip.Prefix
	// MAC is eth0's hardware address.
	MAC string
	// Cgroup, when set, is the cgroup the daemons started from now on
	// run in (and everything they fork).
	Cgroup *Cgroup
	// checkpoint is what Lab.Checkpoint recorded (reset.go).
	checkpoint *nodeState
}

var labSeq atomic.Int32

// Require skips the test unless it runs as root with the tools a lab
// needs.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("lab: needs root (network namespaces)")
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("lab: %s not installed", tool)
		}
	}
}

// New creates a lab of n nodes and registers its removal with t.Cleanup.
// It skips the test when not root.
func New(t testing.TB, n int) *Lab {
	t.Helper()
	Require(t)
	checkNeighbourTable(t)
	seq := labSeq.Add(1)
	l := &Lab{t: t, Prefix: fmt.Sprintf("vge2e-%d-%d-", os.Getpid(), seq)}
	l.Switch = l.Prefix + "sw"
	t.Cleanup(l.destroy)
	l.mustIP("netns", "add", l.Switch)
	l.mustNS(l.Switch, "ip", "link", "set", "lo", "up")
	l.mustNS(l.Switch, "ip", "link", "add", "br0", "type", "bridge", "mcast_snooping", "0", "forward_delay", "0")
	l.mustNS(l.Switch, "ip", "link", "set", "br0", "up")
	for k := 0; k < n; k++ {
		l.addNode(k)
	}
	return l
}

func (l *Lab) addNode(k int) {
	nd := &Node{lab: l, Index: k, NS: fmt.Sprintf("%sn%d", l.Prefix, k+1), Port: fmt.Sprintf("p%d", k+1),
		Addr4: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 77, 0, byte(11 + k)}), 24),
		Addr6: netip.PrefixFrom(netip.MustParseAddr(fmt.Sprintf("fd77::%d", 11+k)), 64),
		MAC:   fmt.Sprintf("02:77:00:00:00:%02x", 11+k)}
	l.Nodes = append(l.Nodes, nd)
	l.mustIP("netns", "add", nd.NS)
	// No duplicate address detection: addresses (link-local ones too) are
	// usable at once, so a VRRPv3 IPv6 test need not wait a second.
	l.mustNS(nd.NS, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
	l.mustNS(nd.NS, "ip", "link", "set", "lo", "up")
	l.mustNS(nd.NS, "ip", "link", "add", "eth0", "address", nd.MAC, "type", "veth", "peer", "name", nd.Port, "netns", l.Switch)
	l.mustNS(l.Switch, "ip", "link", "set", nd.Port, "master", "br0", "up")
	l.mustNS(nd.NS, "ip", "addr", "add", nd.Addr4.String(), "dev", "eth0")
	l.mustNS(nd.NS, "ip", "addr", "add", nd.Addr6.String(), "dev", "eth0", "nodad")
	l.mustNS(nd.NS, "ip", "link", "set", "eth0", "up")
}

// destroy removes the lab's namespaces by exact name. Processes started by
// the lab are stopped by their own cleanups, registered later and so run
// earlier.
func (l *Lab) destroy() {
	for _, nd := range l.Nodes {
		exec.Command("ip", "netns", "del", nd.NS).Run()
	}
	exec.Command("ip", "netns", "del", l.Switch).Run()
}

// Exec runs a command in namespace ns and returns its combined output.
func Exec(ns string, args ...string) (string, error) {
	full := append([]string{"netns", "exec", ns}, args...)
	out, err := exec.Command("ip", full...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip netns exec %s %s: %w: %s", ns, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func (l *Lab) mustIP(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("lab: ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func (l *Lab) mustNS(ns string, args ...string) {
	l.t.Helper()
	if _, err := Exec(ns, args...); err != nil {
		l.t.Fatalf("lab: %v", err)
	}
}

// Exec runs a command in the node's namespace.
func (n *Node) Exec(args ...string) (string, error) { return Exec(n.NS, args...) }

// MustExec runs a command in the node's namespace and fails the test on
// error.
func (n *Node) MustExec(args ...string) string {
	n.lab.t.Helper()
	out, err := Exec(n.NS, args...)
	if err != nil {
		n.lab.t.Fatalf("lab: %v", err)
	}
	return out
}

// SetPortUp sets the node's bridge port (its cable) up or down: the node's
// eth0 loses carrier, as when a cable is pulled.
func (n *Node) SetPortUp(up bool) error {
	st := "down"
	if up {
		st = "up"
	}
	_, err := Exec(n.lab.Switch, "ip", "link", "set", n.Port, st)
	return err
}

// SetLinkUp sets the node's eth0 administratively up or down.
func (n *Node) SetLinkUp(up bool) error {
	st := "down"
	if up {
		st = "up"
	}
	_, err := n.Exec("ip", "link", "set", "eth0", st)
	return err
}

// checkNeighbourTable fails the test when the kernel's IPv4 neighbour
// table is full. The table is one for all namespaces, bounded by the
// initial namespace's gc_thresh3: once other namespaces hold that many
// entries that garbage collection cannot free, a new neighbour
// (multicast ones included, so every VRRP advert) cannot be created and
// packets are dropped with ENOBUFS, which would show as spurious
// elections rather than as the real cause. Full means at gc_thresh3 with
// the kernel's table_fulls counter (forced collections that freed
// nothing) still rising.
func checkNeighbourTable(t testing.TB) {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/ipv4/neigh/default/gc_thresh3")
	if err != nil {
		return
	}
	thresh, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return
	}
	entries, fulls, ok := arpCacheStat()
	if !ok || entries < thresh {
		return
	}
	time.Sleep(500 * time.Millisecond)
	if e2, f2, ok := arpCacheStat(); ok && e2 >= thresh && f2 > fulls {
		t.Fatalf("lab: the host's IPv4 neighbour table is full (%d entries, gc_thresh3 %d, shared by all namespaces; %d failed allocations in 0.5 s): packets between namespaces are dropped; another namespace holds the entries (ip -n NS neigh)", e2, thresh, f2-fulls)
	}
}

// arpCacheStat reads the neighbour table's entry count and its
// table_fulls counter from /proc/net/stat/arp_cache (hexadecimal; the
// first CPU's line holds the table-wide entry count).
func arpCacheStat() (entries, fulls uint64, ok bool) {
	st, err := os.ReadFile("/proc/net/stat/arp_cache")
	if err != nil {
		return 0, 0, false
	}
	lines := strings.Split(strings.TrimSpace(string(st)), "\n")
	if len(lines) < 2 {
		return 0, 0, false
	}
	head := strings.Fields(lines[0])
	col := -1
	for i, h := range head {
		if h == "table_fulls" {
			col = i
		}
	}
	if col < 0 {
		return 0, 0, false
	}
	for k, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) <= col {
			return 0, 0, false
		}
		if k == 0 {
			if entries, err = strconv.ParseUint(f[0], 16, 64); err != nil {
				return 0, 0, false
			}
		}
		v, err := strconv.ParseUint(f[col], 16, 64)
		if err != nil {
			return 0, 0, false
		}
		fulls += v
	}
	return entries, fulls, true
}
