package arp

import (
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	nlad "github.com/vigil-ha/vigil/adapters/netlink"
)

// iface sends the bursts queued for one interface.
type iface struct {
	name    string
	s       *Sender
	in      chan *job
	pending atomic.Int64 // jobs in `in` or active
	active  []*job

	conn [2]*packet.Conn // ARP and IPv6 sockets, opened on demand
	mac  net.HardwareAddr
}

// dropAll is a socket filter accepting nothing: the sockets only send.
var dropAll = func() []bpf.RawInstruction {
	raw, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	if err != nil {
		panic(err) // a constant program
	}
	return raw
}()

// run interleaves the active bursts until the sender closes.
func (f *iface) run() {
	defer f.s.wg.Done()
	defer f.closeConns()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var wake <-chan time.Time
		if len(f.active) > 0 {
			next := f.active[0].next
			for _, j := range f.active[1:] {
				if j.next.Before(next) {
					next = j.next
				}
			}
			timer.Reset(max(time.Until(next), 0))
			wake = timer.C
		}
		select {
		case <-f.s.done:
			return
		case j := <-f.in:
			j.next = time.Now()
			f.active = append(f.active, j)
		case <-wake:
		}
		timer.Stop()
		f.sendDue()
	}
}

// sendDue sends one frame of every burst that is due and retires finished
// bursts.
func (f *iface) sendDue() {
	now := time.Now()
	kept := f.active[:0]
	for _, j := range f.active {
		if !j.next.After(now) {
			f.send(j)
			j.left--
			j.next = now.Add(j.interval)
		}
		if j.left > 0 {
			kept = append(kept, j)
		} else {
			f.pending.Add(-1)
		}
	}
	clear(f.active[len(kept):])
	f.active = kept
}

// send writes one frame of a burst, opening the socket if needed. A failure
// closes the sockets so the next frame re-resolves the interface (a VMAC
// may have been re-created with a new index).
func (f *iface) send(j *job) {
	k := 0
	if j.na {
		k = 1
	}
	if f.conn[k] == nil {
		if err := f.open(k); err != nil {
			f.s.report(fmt.Errorf("%s on %s: %w", j, f.name, err))
			return
		}
		j.frame = nil // the MAC may have changed
	}
	if j.frame == nil {
		var err error
		if j.na {
			j.frame, err = naFrame(f.mac, j.addr, f.forwarding())
		} else {
			j.frame, err = garpFrame(f.mac, j.addr)
		}
		if err != nil {
			f.s.report(fmt.Errorf("%s on %s: %w", j, f.name, err))
			return
		}
	}
	dst := net.HardwareAddr(j.frame[0:6])
	if _, err := f.conn[k].WriteTo(j.frame, &packet.Addr{HardwareAddr: dst}); err != nil {
		f.closeConns()
		f.s.report(fmt.Errorf("%s on %s: %w", j, f.name, err))
		return
	}
	f.s.sent.Add(1)
}

// open opens socket k (0 ARP, 1 IPv6) on the interface, in the sender's
// namespace, and records the interface's MAC.
func (f *iface) open(k int) error {
	proto := unix.ETH_P_ARP
	if k == 1 {
		proto = unix.ETH_P_IPV6
	}
	return nlad.InNamespace(f.s.ns, func() error {
		ifi, err := net.InterfaceByName(f.name)
		if err != nil {
			return fmt.Errorf("interface: %w", err)
		}
		if len(ifi.HardwareAddr) != 6 {
			return fmt.Errorf("interface %s has no Ethernet address", f.name)
		}
		c, err := packet.Listen(ifi, packet.Raw, proto, &packet.Config{Filter: dropAll})
		if err != nil {
			return fmt.Errorf("packet socket: %w", err)
		}
		if f.mac != nil && f.mac.String() != ifi.HardwareAddr.String() {
			f.closeConns() // the other socket belongs to the old interface
		}
		f.conn[k], f.mac = c, ifi.HardwareAddr
		return nil
	})
}

// forwarding reports whether the interface forwards IPv6, so that its
// advertisements carry the router flag (RFC 4861 §7.2.4), as keepalived's do.
func (f *iface) forwarding() bool {
	fwd := false
	nlad.InNamespace(f.s.ns, func() error {
		b, err := os.ReadFile("/proc/sys/net/ipv6/conf/" + f.name + "/forwarding")
		fwd = err == nil && strings.TrimSpace(string(b)) == "1"
		return nil
	})
	return fwd
}

func (f *iface) closeConns() {
	for i, c := range f.conn {
		if c != nil {
			c.Close()
			f.conn[i] = nil
		}
	}
}
