package harness

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/sim"
)

// deafEngine is the real engine with its BFD detection timers swallowed:
// a broken engine whose sessions never time out.
type deafEngine struct{ realEngine }

func (d deafEngine) Step(ev events.Event) []effects.Effect {
	if t, ok := ev.(*events.TimerFired); ok && strings.HasPrefix(t.Key, "bfd/") && strings.HasSuffix(t.Key, "/detect") {
		return nil
	}
	return d.realEngine.Step(ev)
}

// TestBFDDetectInvariantCatchesAMissedDetection runs bfd_fault.scn on an
// engine that never lets a detection time run out: the bfd-detect
// invariant must report a's session still Up after its detection time,
// and the scenario's expectations must fail.
func TestBFDDetectInvariantCatchesAMissedDetection(t *testing.T) {
	s, err := sim.ParseFile("../../testdata/sim/bfd_fault.scn")
	if err != nil {
		t.Fatal(err)
	}
	b := Backend()
	b.NewEngine = func() sim.Engine { return deafEngine{realEngine{engine.New()}} }
	var out bytes.Buffer
	res, err := sim.RunScenario(s, b, 1, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed == 0 || !strings.Contains(out.String(), "VIOLATION bfd-detect: a bfd to_b is still Up") {
		t.Fatalf("no bfd-detect violation (%d failed):\n%s", res.Failed, out.String())
	}
}

// capture records the BFD packets nodes send and receive.
type capture struct {
	sent []effects.SendBFD
	rcvd map[string][]events.BFDReceived
}

func (c *capture) Started(string, events.Time, sim.Engine) error { return nil }
func (c *capture) Halted(string, events.Time)                    {}
func (c *capture) Stepped(node string, ev events.Event, effs []effects.Effect) {
	if rx, ok := ev.(*events.BFDReceived); ok {
		c.rcvd[node] = append(c.rcvd[node], *rx)
	}
	for _, e := range effs {
		if s, ok := e.(*effects.SendBFD); ok && node == "a" {
			c.sent = append(c.sent, *s)
		}
	}
}

const bfdPair = `
config a.conf <<END
bfd_instance to_b {
    neighbor_ip NEIGHBOR_B
    MULTIHOP
}
END
config b.conf <<END
bfd_instance to_a {
    neighbor_ip 10.0.0.1
    MULTIHOP
}
END
node a config=a.conf
node b config=b.conf
`

// runPair runs a and b's sessions for 5 s with rec capturing.
func runPair(t *testing.T, text string) (*capture, *sim.Runner) {
	t.Helper()
	s, err := sim.Parse("pair.scn", ".", text+"start a b\nrun 5s\nexpect bfd a to_b Up\nexpect bfd b to_a Up\nexpect no-violations\n")
	if err != nil {
		t.Fatal(err)
	}
	c := &capture{rcvd: map[string][]events.BFDReceived{}}
	var out bytes.Buffer
	r := sim.NewRunner(s, Backend(), 1, &out)
	r.W.SetRecorder(c)
	for _, cmd := range s.Cmds {
		if err := r.Exec(cmd); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
	}
	if res := r.Result(); res.Failed > 0 {
		t.Fatalf("%v\n%s", res.Failures, out.String())
	}
	return c, r
}

// TestBFDDeliveryContract checks that a simulated node receives what
// adapters/bfdnet's reader would make of a's SendBFD: source address and
// the sender's port, destination, the arrival interface, the TTL as
// sent, port 3784 (not multihop), verdict OK and the packet's fields.
func TestBFDDeliveryContract(t *testing.T) {
	text := strings.NewReplacer("NEIGHBOR_B", "10.0.0.2", "MULTIHOP", "").Replace(bfdPair) +
		"segment lan a:eth0 b:eth0 latency=1ms\n"
	c, r := runPair(t, text)
	if len(c.sent) == 0 || len(c.rcvd["b"]) == 0 {
		t.Fatalf("sent %d, b received %d", len(c.sent), len(c.rcvd["b"]))
	}
	got, sent := c.rcvd["b"][0], c.sent[0]
	eth0 := r.W.Node("b").Iface("eth0")
	want := events.BFDReceived{Header: got.Header, Src: netip.MustParseAddr("10.0.0.1"), Dst: sent.Dst,
		SrcPort: 49152, Ifindex: eth0.Index, TTL: sent.TTL, Packet: sent.Packet}
	if got != want {
		t.Errorf("b received\n%+v\nwant\n%+v", got, want)
	}
	if sent.TTL != 255 || sent.Multihop {
		t.Errorf("a sent TTL %d multihop %v, want a single-hop 255", sent.TTL, sent.Multihop)
	}
	if at := time.Duration(got.At); at != time.Millisecond {
		t.Errorf("first packet arrived at %s, want the 1ms link delay", at)
	}
}

// TestBFDMultihop: a multihop session between nodes on two segments is
// routed (one TTL less: max_hops lets it pass) and comes Up.
func TestBFDMultihop(t *testing.T) {
	text := strings.NewReplacer("NEIGHBOR_B", "10.0.1.1", "MULTIHOP", "multihop\n    max_hops 5").Replace(bfdPair) +
		"segment lan a:eth0 latency=1ms\nsegment lan2 b:eth0 latency=1ms\n"
	c, _ := runPair(t, text)
	got := c.rcvd["b"][0]
	if !got.Multihop || got.TTL != c.sent[0].TTL-1 || got.Dst != netip.MustParseAddr("10.0.1.1") {
		t.Errorf("b received %+v", got)
	}
}
