package replay

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
)

func TestTimelineFlap(t *testing.T) {
	set := openSet(t, simJournal(t, "testdata/replay/flap.scn"))
	var out bytes.Buffer
	n, err := Timeline(set, TimelineOptions{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	// a: 4 × (INIT->BACKUP, BACKUP->MASTER); b: INIT->BACKUP, then 4 ×
	// (BACKUP->MASTER, MASTER->BACKUP).
	if n != 17 {
		t.Errorf("%d state changes, want 17:\n%s", n, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"   8.414062s a #",
		"VI_1 BACKUP -> MASTER prio 150 (master-down-timer)  <- TimerFired vrrp/VI_1/down",
		"b #", "VI_1 MASTER -> BACKUP prio 100 (higher-priority-advert)  <- AdvertReceived eth0 from 10.0.0.1",
		"AddAddress VI_1 10.0.0.100/24 dev eth0", "SendGARP VI_1 eth0 10.0.0.100 x5",
		"first advert as MASTER, prio 150", `Notify INSTANCE "VI_1" MASTER 150`,
		"== run 2 starts", "== run 1 ends without a Stop (crash or kill)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("timeline lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "SetTimer") || strings.Contains(text, "Count ") {
		t.Errorf("timers or counters without --all:\n%s", text)
	}
	// Merged in time: the lines' times never go back.
	last := -1.0
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		var at float64
		if _, err := fmtSscan(l, &at); err != nil || at < last {
			t.Fatalf("line out of order or unparsable (%v): %s", err, l)
		}
		last = at
	}

	out.Reset()
	if _, err := Timeline(set[:1], TimelineOptions{All: true}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "SetTimer vrrp/VI_1/down @8.414062s") || strings.Contains(out.String(), " b ") {
		t.Errorf("--all on node a lacks timers or shows b:\n%s", out.String())
	}
}

// TestTimelineInstanceFilter keeps one instance of a sync group.
func TestTimelineInstanceFilter(t *testing.T) {
	set := openSet(t, simJournal(t, "testdata/sim/sync_group.scn"))
	var out bytes.Buffer
	if _, err := Timeline(set, TimelineOptions{Instance: "VI_2"}, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.Contains(text, "VI_2 MASTER -> FAULT prio 150 (interface-down)") || !strings.Contains(text, "!! eth1 down") {
		t.Errorf("VI_2's fault missing:\n%s", text)
	}
	// VI_1 appears only in causes (VI_2 follows VI_1's timer in the group).
	if strings.Contains(text, `"VI_1"`) || strings.Contains(text, "VI_1 BACKUP") || strings.Contains(text, "AddAddress VI_1") || strings.Contains(text, "group/G1") {
		t.Errorf("other instances shown:\n%s", text)
	}
}

func TestAtMatchesStraightReplay(t *testing.T) {
	j := node(t, openSet(t, simJournal(t, "testdata/sim/track_script.scn")), "a")
	ts, err := ParseTime("12.5s")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	seq, origin, err := j.At(ts, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !origin.Snapshot || origin.Steps == 0 {
		t.Errorf("origin %+v: want the snapshot after Start and a re-run", origin)
	}
	// The same state by stepping every event from the start.
	eng := engine.New()
	var lastAt time.Duration
	for rec, err := range j.Records(0) {
		if err != nil {
			t.Fatal(err)
		}
		if rec.Seq > seq {
			if time.Duration(rec.Event.EventTime()) <= 12500*time.Millisecond {
				t.Errorf("seq %d at %s is not after 12.5s", rec.Seq, rec.Event.EventTime())
			}
			break
		}
		eng.Step(rec.Event)
		lastAt = time.Duration(rec.Event.EventTime())
	}
	if lastAt > 12500*time.Millisecond {
		t.Errorf("state includes an event at %s", lastAt)
	}
	want, _ := eng.MarshalState()
	var got, wantV any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	json.Unmarshal(want, &wantV)
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(wantV)
	if !bytes.Equal(g, w) {
		t.Errorf("state at 12.5s differs from a straight re-run")
	}
	// At 12.5s a's script has failed: priority 90, BACKUP.
	var st struct {
		VRRP struct {
			Instances []struct {
				Name  string        `json:"name"`
				State effects.State `json:"state"`
				Prio  int           `json:"prio"`
			} `json:"instances"`
		} `json:"vrrp"`
	}
	json.Unmarshal(out.Bytes(), &st)
	if l := st.VRRP.Instances; len(l) != 1 || l[0].Name != "VI_1" || l[0].Prio != 90 || l[0].State != effects.StateBackup {
		t.Errorf("instances at 12.5s: %+v, want VI_1 BACKUP prio 90", l)
	}
	if _, err := j.Locate(TimeSpec{Event: -1}); err == nil {
		t.Error("a time before the journal was accepted")
	}
}

func TestExplainPreemption(t *testing.T) {
	j := node(t, openSet(t, simJournal(t, "testdata/replay/flap.scn")), "a")
	at, _ := ParseTime("20s")
	ex, err := Explain(j, "VI_1", &at)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Change.To != effects.StateMaster || ex.Change.Reason != "master-down-timer" || ex.Run.N != 2 {
		t.Fatalf("explained %+v in run %d, want run 2's BACKUP -> MASTER", ex.Change, ex.Run.N)
	}
	if ex.Previous.To != effects.StateBackup || ex.Before.State != effects.StateBackup || ex.After.State != effects.StateMaster {
		t.Errorf("previous %+v, before %v, after %v", ex.Previous, ex.Before.State, ex.After.State)
	}
	if ex.LastAdvert == nil || ex.LastAdvert.Src.String() != "10.0.0.2" || ex.LastAdvert.Advert.Priority != 100 {
		t.Errorf("last advert %+v, want b's at 100", ex.LastAdvert)
	}
	if !strings.Contains(ex.Interpretation(), "preemption") {
		t.Errorf("interpretation %q", ex.Interpretation())
	}
	var out bytes.Buffer
	ex.Print(&out)
	for _, want := range []string{"VI_1 on a: BACKUP -> MASTER at 18.414062s", "rule:    master-down-timer",
		"trigger: TimerFired vrrp/VI_1/down", "AdvertReceived eth0 from 10.0.0.2 v2 vrid 51 prio 100  (x4",
		"received lower priority (100) advert from 10.0.0.2 - discarding", "master-down at 18.414062s (in 0s)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explanation lacks %q:\n%s", want, out.String())
		}
	}
}

// TestExplainTracking explains a track script moving mastership: the
// script's contribution must account for the priority.
func TestExplainTracking(t *testing.T) {
	j := node(t, openSet(t, simJournal(t, "testdata/sim/track_script.scn")), "a")
	at, _ := ParseTime("12s")
	ex, err := Explain(j, "VI_1", &at)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Change.From != effects.StateMaster || ex.Change.Reason != "higher-priority-advert" {
		t.Fatalf("explained %+v", ex.Change)
	}
	b := ex.Before
	if b.Effective != 90 || b.Total != 90 || len(b.Parts) != 1 {
		t.Fatalf("before: prio %d, total %d, parts %+v", b.Effective, b.Total, b.Parts)
	}
	if c := b.Parts[0]; c.What != "track_script chk_nginx" || c.Delta != -60 || c.Weight != -60 || !strings.HasPrefix(c.Status, "KO") {
		t.Errorf("contribution %+v", c)
	}
	var out bytes.Buffer
	ex.Print(&out)
	if !strings.Contains(out.String(), "Changing effective priority from 150 to 90") {
		t.Errorf("the chain lacks the priority change:\n%s", out.String())
	}
	if _, err := Explain(j, "VI_9", nil); err == nil {
		t.Error("an unknown instance was explained")
	}
}

// TestSVGFlap checks the picture is well-formed XML with a lane per node
// and instance, and renders it with rsvg-convert when installed.
func TestSVGFlap(t *testing.T) {
	set := openSet(t, simJournal(t, "testdata/replay/flap.scn"))
	var b bytes.Buffer
	if err := SVG(set, SVGOptions{Title: "flap"}, &b); err != nil {
		t.Fatal(err)
	}
	lanes, texts := parseSVG(t, b.Bytes())
	if strings.Join(lanes, ",") != "a/VI_1,b/VI_1" {
		t.Errorf("lanes %v", lanes)
	}
	for _, want := range []string{"MASTER", "BACKUP", "down", "crash", "start", "0s", "40s"} {
		if !texts[want] {
			t.Errorf("no %q text in the picture", want)
		}
	}
	renderPNG(t, b.Bytes())
}
