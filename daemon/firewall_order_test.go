package daemon

import (
	"net/netip"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events/conf"
)

// The drop-set changes are kernel effects: they go to the Firewall
// executor in the kernel stream's order, so a VIP enters its set before
// the (slow) AddAddress after it is applied, and leaves it only after the
// DelAddress before it.
func TestDispatchOrdersFirewallWithAddresses(t *testing.T) {
	log := &orderLog{}
	k := &slowKernel{log: log, hold: make(chan struct{}), delay: 10 * time.Millisecond}
	x, q := orderedExecutors(t, log, k)
	x.Firewall = logApplier{log}
	d := newDispatcher(x, new(zerolog.Logger))
	addr := conf.Address{Prefix: netip.MustParsePrefix("10.77.0.100/24")}
	vips := []effects.FirewallVIP{{Addr: addr.Prefix.Addr()}}
	tab := effects.FirewallTable{Name: "keepalived", Priority: -1}
	d.dispatch([]effects.Effect{
		&effects.RemoveFirewall{Table: "keepalived"},
		&effects.AddFirewallVIPs{Instance: "VI_1", Table: tab, VIPs: vips},
		&effects.AddAddress{Instance: "VI_1", Address: addr},
		&effects.DelAddress{Instance: "VI_1", Address: addr},
		&effects.DelFirewallVIPs{Instance: "VI_1", Table: tab, VIPs: vips},
	})
	close(k.hold)
	if !q.Drain(5 * time.Second) {
		t.Fatal("kernel queue did not drain")
	}
	got := log.snapshot()
	before(t, got, "RemoveFirewall", "AddFirewallVIPs")
	before(t, got, "AddFirewallVIPs", "begin AddAddress 10.77.0.100")
	before(t, got, "end DelAddress 10.77.0.100", "DelFirewallVIPs")
	if n := d.unhandled[effects.KindAddFirewallVIPs]; n != 0 {
		t.Errorf("%d AddFirewallVIPs unhandled", n)
	}
}
