package daemon

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events/conf"
)

// gate is an Applier that waits for permission for each effect.
type gate struct {
	next chan struct{}
	got  chan effects.Effect
}

func (g *gate) Apply(e effects.Effect) error {
	<-g.next
	g.got <- e
	return nil
}

func addr(s string) *effects.AddAddress {
	return &effects.AddAddress{Address: conf.Address{Prefix: netip.MustParsePrefix(s)}}
}

// The queue keeps order, copies effects (the engine reuses them) and
// drops rather than blocks when full.
func TestKernelQueueOrderCopyAndDrop(t *testing.T) {
	g := &gate{next: make(chan struct{}), got: make(chan effects.Effect, 16)}
	q := newKernelQueue(g, 2, nil)
	a := addr("10.0.0.1/32")
	if err := q.Apply(a); err != nil {
		t.Fatal(err)
	}
	a.Address.Prefix = netip.MustParsePrefix("10.0.0.9/32") // the engine reuses its effect
	// The goroutine may hold the first effect: fill the queue until it
	// refuses; it must refuse without blocking.
	var refused bool
	for k := 0; k < 4; k++ {
		if err := q.Apply(addr("10.0.0.2/32")); err == ErrKernelQueueFull {
			refused = true
			break
		}
	}
	if !refused || q.dropped.Load() == 0 {
		t.Fatal("a full queue did not refuse")
	}
	close(g.next)
	first := <-g.got
	if p := first.(*effects.AddAddress).Address.Prefix.String(); p != "10.0.0.1/32" {
		t.Fatalf("first applied %s: not the queued copy", p)
	}
	if !q.Drain(5 * time.Second) {
		t.Fatal("queue did not drain")
	}
	q.Close()
}
