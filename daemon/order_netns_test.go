package daemon

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/adapters/arp"
	"github.com/vigil-ha/vigil/adapters/netlink"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events/conf"
)

// requireNetns skips a test that needs root and iproute2.
func requireNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces (run the test as root)")
	}
	for _, c := range []string{"ip"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("needs the %s command", c)
		}
	}
}

// ipn runs `ip -n ns ARGS`, failing the test on error.
func ipn(t *testing.T, ns string, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("ip -n %s %s: %v: %s", ns, strings.Join(args, " "), err, out)
	}
}

// newNetns creates a namespace named after the test and the process,
// deleted (by that exact name) at cleanup.
func newNetns(t *testing.T, suffix string) string {
	t.Helper()
	name := fmt.Sprintf("vgord-%d-%s", os.Getpid(), suffix)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	return name
}

// orderObserver checks, without timestamps, that every gratuitous ARP
// leaves after its address was added. It holds a route-netlink socket
// subscribed to IPv4 address notifications in the sender's namespace and
// a packet socket for ARP on the receiving end of the veth. The kernel
// queues an RTM_NEWADDR on subscribed sockets inside the add itself,
// before the executor's request is answered; so if the dispatcher sends a
// GARP only after its address's add was answered, the notification is
// already queued when the GARP is read, and the observer, which drains
// the netlink socket before it reads each packet, knows the address. A
// GARP for an address it has not seen added left before the add.
type orderObserver struct {
	nlFD, pktFD int
	added       map[netip.Addr]bool
	garps       map[netip.Addr]bool
	early       []netip.Addr
}

func newOrderObserver(t *testing.T, addrNS, pktNS, pktIf string) *orderObserver {
	t.Helper()
	o := &orderObserver{nlFD: -1, pktFD: -1, added: map[netip.Addr]bool{}, garps: map[netip.Addr]bool{}}
	t.Cleanup(func() {
		if o.nlFD >= 0 {
			unix.Close(o.nlFD)
		}
		if o.pktFD >= 0 {
			unix.Close(o.pktFD)
		}
	})
	in := func(name string, fn func() error) {
		t.Helper()
		ns, err := netlink.OpenNamespace(name)
		if err != nil {
			t.Fatal(err)
		}
		defer ns.Close()
		if err := netlink.InNamespace(ns, fn); err != nil {
			t.Fatal(err)
		}
	}
	in(addrNS, func() error {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("netlink socket: %w", err)
		}
		o.nlFD = fd
		// Room for every notification of the burst: an overflow would
		// lose some, and is reported as a failure rather than guessed at.
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20); err != nil {
			return fmt.Errorf("netlink SO_RCVBUFFORCE: %w", err)
		}
		return unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_IPV4_IFADDR})
	})
	in(pktNS, func() error {
		proto := int(htons(unix.ETH_P_ARP))
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, proto)
		if err != nil {
			return fmt.Errorf("packet socket: %w", err)
		}
		o.pktFD = fd
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20); err != nil {
			return fmt.Errorf("packet SO_RCVBUFFORCE: %w", err)
		}
		ifi, err := net.InterfaceByName(pktIf)
		if err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: ifi.Index})
	})
	return o
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// drainAddrs reads every queued address notification.
func (o *orderObserver) drainAddrs() error {
	buf := make([]byte, 64<<10)
	for {
		n, _, err := unix.Recvfrom(o.nlFD, buf, 0)
		if err == unix.EAGAIN {
			return nil
		}
		if err != nil {
			return fmt.Errorf("address notifications: %w (an overflow loses some: the check cannot be made)", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("address notification: %w", err)
		}
		for i := range msgs {
			if msgs[i].Header.Type != unix.RTM_NEWADDR {
				continue
			}
			attrs, err := syscall.ParseNetlinkRouteAttr(&msgs[i])
			if err != nil {
				return fmt.Errorf("address notification: %w", err)
			}
			for _, a := range attrs {
				if a.Attr.Type == unix.IFA_LOCAL || a.Attr.Type == unix.IFA_ADDRESS {
					if ip, ok := netip.AddrFromSlice(a.Value); ok {
						o.added[ip.Unmap()] = true
					}
				}
			}
		}
	}
}

// run checks each gratuitous ARP against the addresses added so far,
// until want distinct ones were seen or stop is closed. It runs while the
// executors work: read after the fact, every address would be known.
func (o *orderObserver) run(want int, stop <-chan struct{}) error {
	fds := []unix.PollFd{{Fd: int32(o.pktFD), Events: unix.POLLIN}}
	buf := make([]byte, 2048)
	for len(o.garps) < want {
		select {
		case <-stop:
			return nil
		default:
		}
		if _, err := unix.Poll(fds, 10); err != nil && err != unix.EINTR {
			return fmt.Errorf("poll: %w", err)
		}
		for {
			// Notifications first: any add that preceded this packet
			// is queued by now.
			if err := o.drainAddrs(); err != nil {
				return err
			}
			n, _, err := unix.Recvfrom(o.pktFD, buf, 0)
			if err == unix.EAGAIN {
				break
			}
			if err != nil {
				return fmt.Errorf("packet socket: %w", err)
			}
			// Ethernet/IPv4 ARP: op at 6, sender IP at 14, target IP at 24.
			if n < 28 || buf[7] != 1 {
				continue
			}
			spa, _ := netip.AddrFromSlice(buf[14:18])
			tpa, _ := netip.AddrFromSlice(buf[24:28])
			if spa != tpa || o.garps[spa] {
				continue
			}
			o.garps[spa] = true
			if !o.added[spa] {
				o.early = append(o.early, spa)
			}
		}
	}
	return nil
}

// The real executors (netlink, the ARP sender) behind the dispatcher, in
// a namespace: every gratuitous ARP is captured on the peer no earlier
// than its address appeared on the interface.
func TestNetnsGARPAfterAddress(t *testing.T) {
	requireNetns(t)
	const instances, perInstance = 20, 10
	a, b := newNetns(t, "a"), newNetns(t, "b")
	ipn(t, a, "link", "add", "vgoa", "type", "veth", "peer", "name", "vgob", "netns", b)
	ipn(t, a, "link", "set", "vgoa", "up")
	ipn(t, b, "link", "set", "vgob", "up")

	obs := newOrderObserver(t, a, b, "vgob")
	stop, finished := make(chan struct{}), make(chan struct{})
	stopObserver := sync.OnceFunc(func() { close(stop) })
	var observed error
	go func() { defer close(finished); observed = obs.run(instances*perInstance, stop) }()
	t.Cleanup(func() { stopObserver(); <-finished })

	nl, err := netlink.NewExecutor(netlink.ExecutorOptions{Namespace: a})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nl.Close() })
	snd, err := arp.New(arp.Options{Namespace: a, OnError: func(err error) { t.Errorf("arp: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(snd.Close)
	q := newKernelQueue(nl, 0, func(e effects.Effect, err error) { t.Errorf("%v: %v", e, err) })
	t.Cleanup(q.Close)
	d := newDispatcher(Executors{Kernel: q, Announce: snd}, new(zerolog.Logger))

	// One Step per instance, as a takeover: its addresses, then their
	// announcements.
	var vips []string
	start := time.Now()
	for i := range instances {
		var effs []effects.Effect
		var ips []netip.Addr
		for j := range perInstance {
			ip := netip.AddrFrom4([4]byte{10, 77, byte(1 + i), byte(1 + j)})
			ips = append(ips, ip)
			vips = append(vips, ip.String())
			effs = append(effs, &effects.AddAddress{Interface: "vgoa",
				Address: conf.Address{Prefix: netip.PrefixFrom(ip, 32)}})
		}
		for _, ip := range ips {
			effs = append(effs, &effects.SendGARP{Interface: "vgoa", Addr: ip, Count: 1})
		}
		d.dispatch(effs)
	}
	if !q.Drain(30 * time.Second) {
		t.Fatal("kernel queue did not drain")
	}
	applied := time.Since(start)
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		stopObserver()
		<-finished
	}
	if observed != nil {
		t.Fatal(observed)
	}
	if len(obs.garps) < len(vips) {
		t.Fatalf("%d GARPs received of %d (sender: %+v)", len(obs.garps), len(vips), snd.Stats())
	}
	for _, ip := range obs.early {
		t.Errorf("%s: GARP sent before the address was added", ip)
	}
	t.Logf("%d addresses and GARPs applied in %v; every GARP followed its address", len(vips), applied)
}
