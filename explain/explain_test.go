package explain

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

func TestChainCollapsesAndBounds(t *testing.T) {
	var c Chain
	for k := 1; k <= 3; k++ {
		c.Add(ChainLine{Seq: uint64(k), LastSeq: uint64(k), At: events.Time(k), LastAt: events.Time(k), Count: 1, Event: "advert", Effects: "timer"})
	}
	if len(c.Lines) != 1 || c.Lines[0].Count != 3 || c.Lines[0].LastSeq != 3 || c.Lines[0].Seq != 1 {
		t.Fatalf("repeats not collapsed: %+v", c.Lines)
	}
	for k := 0; k < MaxChain+5; k++ {
		c.Add(ChainLine{Seq: uint64(10 + k), Count: 1, Event: fmt.Sprint("event ", k)})
	}
	if len(c.Lines) != MaxChain || c.Omitted != 6 || c.Lines[MaxChain-1].Event != fmt.Sprint("event ", MaxChain+4) {
		t.Fatalf("%d lines, %d omitted, last %q", len(c.Lines), c.Omitted, c.Lines[len(c.Lines)-1].Event)
	}
	d := c.Clone()
	d.Lines[0].Event = "changed"
	if c.Lines[0].Event == "changed" {
		t.Error("Clone shares its lines")
	}
	var b bytes.Buffer
	c.Print(&b, FmtTime)
	if !strings.HasPrefix(b.String(), "  (6 earlier lines left out)\n") {
		t.Errorf("print:\n%s", b.String())
	}
}

func TestSummarizeAndInterpret(t *testing.T) {
	effs := []effects.Effect{
		&effects.StateChanged{Instance: "VI_1", From: effects.StateBackup, To: effects.StateMaster, Priority: 100, Reason: "priority-0-advert"},
		&effects.SendAdvert{Instance: "VI_1", Priority: 100},
		&effects.Count{Instance: "VI_1", Counter: effects.CounterAdvertSent, Delta: 1},
		&effects.SendAdvert{Instance: "VI_2", Priority: 50},
	}
	if got := Summarize("VI_1", 0, effs, nil); got != "BACKUP -> MASTER prio 100 (priority-0-advert); advert prio 100" {
		t.Errorf("summary %q", got)
	}
	a := &events.AdvertReceived{Advert: events.Advert{Priority: 0}}
	if got := Interpret(*effs[0].(*effects.StateChanged), a, 100, true, a, 0); !strings.Contains(got, "resigned with a priority-0 advert") {
		t.Errorf("interpretation %q", got)
	}
}
