package daemon

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// orderLog records, in the order they happen and from any goroutine, what
// the fake executors did.
type orderLog struct {
	mu      sync.Mutex
	entries []string
}

func (o *orderLog) add(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.entries = append(o.entries, s)
}

func (o *orderLog) snapshot() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.entries)
}

// index is the position of entry s, or -1.
func (o *orderLog) index(s string) int {
	return slices.Index(o.snapshot(), s)
}

// effName names an effect by kind and what it acts on.
func effName(e effects.Effect) string {
	switch v := e.(type) {
	case *effects.AddAddress:
		return "AddAddress " + v.Address.Prefix.Addr().String()
	case *effects.DelAddress:
		return "DelAddress " + v.Address.Prefix.Addr().String()
	case *effects.SendGARP:
		return "SendGARP " + v.Addr.String()
	case *effects.SendNA:
		return "SendNA " + v.Addr.String()
	case *effects.CreateVMAC:
		return "CreateVMAC " + v.Name
	case *effects.AddRoute:
		return "AddRoute " + v.Route.Dst.String()
	case *effects.SendAdvert:
		return fmt.Sprintf("SendAdvert %d", v.Priority)
	}
	return e.EffectKind().String()
}

// slowKernel is a fake netlink executor: every AddAddress and CreateVMAC
// first waits for hold to be closed (so that a test can look at what
// happened meanwhile), then takes delay, as netlink does under RTNL
// contention.
type slowKernel struct {
	log   *orderLog
	hold  chan struct{}
	delay time.Duration
}

func (k *slowKernel) Apply(e effects.Effect) error {
	n := effName(e)
	k.log.add("begin " + n)
	switch e.(type) {
	case *effects.AddAddress, *effects.CreateVMAC:
		<-k.hold
		time.Sleep(k.delay)
	}
	k.log.add("end " + n)
	return nil
}

// logApplier records the effects it applies (the ARP sender, the clock).
type logApplier struct{ log *orderLog }

func (a logApplier) Apply(e effects.Effect) error { a.log.add(effName(e)); return nil }

// logNet records the network effects, which run inline in the loop.
type logNet struct{ log *orderLog }

func (n logNet) Send(a *effects.SendAdvert) error { n.log.add(effName(a)); return nil }
func (n logNet) Join(j *effects.JoinGroup) error  { n.log.add("JoinGroup " + j.Interface); return nil }
func (n logNet) Leave(j *effects.LeaveGroup) error {
	n.log.add("LeaveGroup " + j.Interface)
	return nil
}
func (n logNet) CloseInterface(name string) error { n.log.add("CloseSockets " + name); return nil }

// orderedExecutors are fake executors around a real kernelQueue.
func orderedExecutors(t *testing.T, log *orderLog, k *slowKernel) (Executors, *kernelQueue) {
	t.Helper()
	q := newKernelQueue(k, 0, func(e effects.Effect, err error) { t.Errorf("%v: %v", e, err) })
	t.Cleanup(q.Close)
	return Executors{Net: logNet{log}, Kernel: q, Announce: logApplier{log}, Timers: logApplier{log},
		Scripts: &recorder{}}, q
}

// before fails unless entry a was recorded, and recorded before b.
func before(t *testing.T, got []string, a, b string) {
	t.Helper()
	i, j := slices.Index(got, a), slices.Index(got, b)
	if i < 0 || j < 0 || i > j {
		t.Errorf("%q (at %d) not before %q (at %d) in\n  %s", a, i, b, j, strings.Join(got, "\n  "))
	}
}

// The dispatcher keeps a step's order between dependent effects on
// different goroutines: a VMAC before its addresses, an address before
// its announcement, a route after the address emitted before it; and the
// adverts leave at once, while the kernel is still busy.
func TestDispatchOrdersAnnouncementsAfterKernel(t *testing.T) {
	log := &orderLog{}
	k := &slowKernel{log: log, hold: make(chan struct{}), delay: 20 * time.Millisecond}
	x, q := orderedExecutors(t, log, k)
	d := newDispatcher(x, new(zerolog.Logger))
	vip := func(s, ifname string) *effects.AddAddress {
		return &effects.AddAddress{Interface: ifname, Address: conf.Address{Prefix: netip.MustParsePrefix(s)}}
	}
	effs := []effects.Effect{
		&effects.SendAdvert{Interface: "eth0", Priority: 100},
		&effects.CreateVMAC{Name: "vrrp.77", Parent: "eth0", MAC: "00:00:5e:00:01:4d"},
		vip("10.77.0.1/32", "vrrp.77"),
		vip("10.77.0.2/32", "eth0"),
		vip("fd77::1/128", "eth0"),
		&effects.AddRoute{Route: conf.Route{Dst: netip.MustParsePrefix("10.77.9.0/24"), Via: netip.MustParseAddr("10.77.0.2")}},
		&effects.SendGARP{Interface: "vrrp.77", Addr: netip.MustParseAddr("10.77.0.1"), Count: 5},
		&effects.SendGARP{Interface: "eth0", Addr: netip.MustParseAddr("10.77.0.2"), Count: 5},
		&effects.SendNA{Interface: "eth0", Addr: netip.MustParseAddr("fd77::1"), Count: 5},
		&effects.SendAdvert{Interface: "eth0", Priority: 101},
	}
	start := time.Now()
	d.dispatch(effs)
	if took := time.Since(start); took > 10*time.Millisecond {
		t.Errorf("dispatch took %v: it waited for the kernel", took)
	}
	log.add("dispatched")
	// The kernel is held in CreateVMAC: both adverts have left, nothing
	// has been announced.
	got := log.snapshot()
	for _, a := range []string{"SendAdvert 100", "SendAdvert 101"} {
		if !slices.Contains(got, a) {
			t.Errorf("%s not sent while the kernel was busy: %v", a, got)
		}
	}
	for _, s := range got {
		if strings.HasPrefix(s, "SendGARP") || strings.HasPrefix(s, "SendNA") || strings.HasPrefix(s, "end Add") {
			t.Errorf("%s before the VMAC was created: %v", s, got)
		}
	}
	close(k.hold)
	if !q.Drain(5 * time.Second) {
		t.Fatal("kernel queue did not drain")
	}
	got = log.snapshot()
	before(t, got, "SendAdvert 101", "end CreateVMAC vrrp.77")
	before(t, got, "end CreateVMAC vrrp.77", "begin AddAddress 10.77.0.1")
	before(t, got, "end AddAddress 10.77.0.1", "SendGARP 10.77.0.1")
	before(t, got, "end AddAddress 10.77.0.2", "SendGARP 10.77.0.2")
	before(t, got, "end AddAddress fd77::1", "SendNA fd77::1")
	before(t, got, "end AddAddress 10.77.0.2", "begin AddRoute 10.77.9.0/24")
	before(t, got, "SendGARP 10.77.0.1", "SendGARP 10.77.0.2")
	before(t, got, "SendGARP 10.77.0.2", "SendNA fd77::1")
}

// A Kernel executor that applies synchronously (no Sequencer) keeps the
// order by itself; the dispatcher then calls Announce directly.
func TestDispatchSynchronousKernelAnnouncesInline(t *testing.T) {
	log := &orderLog{}
	k := &slowKernel{log: log, hold: make(chan struct{})}
	close(k.hold)
	d := newDispatcher(Executors{Kernel: k, Announce: logApplier{log}}, new(zerolog.Logger))
	d.dispatch([]effects.Effect{
		&effects.AddAddress{Interface: "eth0", Address: conf.Address{Prefix: netip.MustParsePrefix("10.77.0.1/32")}},
		&effects.SendGARP{Interface: "eth0", Addr: netip.MustParseAddr("10.77.0.1"), Count: 1},
	})
	want := []string{"begin AddAddress 10.77.0.1", "end AddAddress 10.77.0.1", "SendGARP 10.77.0.1"}
	if got := log.snapshot(); !slices.Equal(got, want) {
		t.Errorf("applied %v, want %v", got, want)
	}
}

// The engine's own takeover, through the loop: with a slow kernel (each
// address takes 20 ms), every GARP is applied after its address, and the
// takeover's advert has left before the first address was configured.
func TestLoopTakeoverAnnouncesAfterAddresses(t *testing.T) {
	vips := []string{"10.77.0.100/24", "10.77.0.101/24", "10.77.0.102/24", "10.77.0.103/24"}
	cfg := loadTestConf(t, strings.Join(vips, "\n    "))
	log := &orderLog{}
	k := &slowKernel{log: log, hold: make(chan struct{}), delay: 20 * time.Millisecond}
	x, q := orderedExecutors(t, log, k)
	timers := &recorder{}
	x.Timers = timers
	var now events.Time
	l := &Loop{Engine: engine.New(), Log: zerolog.Nop(), Exec: x,
		Now: func() events.Time { now += events.Time(time.Millisecond); return now }}
	l.Step(cfg)
	l.Step(&events.LinkChanged{Interface: "eth0", Index: 2, Present: true, Up: true, Running: true})
	l.Step(&events.AddressChanged{Interface: "eth0", Prefix: netip.MustParsePrefix("10.77.0.11/24"), Added: true})
	l.Step(&events.Start{Seed: 1, ReportsJoins: true})
	var set *effects.SetTimer
	for _, e := range timers.snapshot() {
		if s, ok := e.(*effects.SetTimer); ok {
			set = s
		}
	}
	if set == nil {
		t.Fatal("no timer set after Start")
	}
	now = set.At
	log.add("takeover")
	l.Step(&events.TimerFired{Key: set.Key})
	log.add("stepped")
	// The kernel is held in the first AddAddress.
	got := log.snapshot()
	sent := slices.ContainsFunc(got[slices.Index(got, "takeover"):], func(s string) bool {
		return strings.HasPrefix(s, "SendAdvert")
	})
	if !sent {
		t.Errorf("no advert sent while the kernel was busy: %v", got)
	}
	close(k.hold)
	if !q.Drain(5 * time.Second) {
		t.Fatal("kernel queue did not drain")
	}
	got = log.snapshot()
	var garps int
	for _, s := range got {
		a, ok := strings.CutPrefix(s, "SendGARP ")
		if !ok {
			continue
		}
		garps++
		before(t, got, "end AddAddress "+a, s)
	}
	if garps < len(vips) {
		t.Errorf("%d GARPs for %d VIPs:\n  %s", garps, len(vips), strings.Join(got, "\n  "))
	}
	// The advert left before the first address was configured.
	adv := slices.IndexFunc(got, func(s string) bool { return strings.HasPrefix(s, "SendAdvert") })
	end := slices.IndexFunc(got, func(s string) bool { return strings.HasPrefix(s, "end AddAddress") })
	if adv < 0 || end < 0 || adv > end {
		t.Errorf("advert at %d, first address configured at %d:\n  %s", adv, end, strings.Join(got, "\n  "))
	}
}
