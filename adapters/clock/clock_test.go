package clock

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// These tests use short real durations but never assert how late a timer
// fires: only order, replacement and cancellation, with generous bounds.

const ms = time.Millisecond

func newClock(t *testing.T) *Clock {
	t.Helper()
	c := New(time.Now())
	t.Cleanup(c.Close)
	return c
}

// next receives one fired timer or fails after a generous bound.
func next(t *testing.T, c *Clock) *events.TimerFired {
	t.Helper()
	select {
	case f := <-c.Fired():
		return f
	case <-time.After(10 * time.Second):
		t.Fatal("no timer fired within 10s")
		return nil
	}
}

func set(t *testing.T, c *Clock, key string, in time.Duration) events.Time {
	t.Helper()
	at := c.Now().Add(in)
	if err := c.Apply(&effects.SetTimer{Key: key, At: at}); err != nil {
		t.Fatal(err)
	}
	return at
}

func TestFireOrder(t *testing.T) {
	c := newClock(t)
	deadlines := map[string]events.Time{
		"a": set(t, c, "a", 30*ms),
		"b": set(t, c, "b", 10*ms),
		"c": set(t, c, "c", 20*ms),
	}
	tie := c.Now().Add(40 * ms)
	c.Set("d1", tie)
	c.Set("d2", tie)
	var got []string
	for range 5 {
		f := next(t, c)
		if f.At < deadlines[f.Key] || (f.Key[0] == 'd' && f.At < tie) {
			t.Errorf("%s fired at %v, before its deadline", f.Key, f.At)
		}
		got = append(got, f.Key)
	}
	if fmt.Sprint(got) != "[b c a d1 d2]" {
		t.Errorf("fired %v, want [b c a d1 d2]", got)
	}
	if c.Len() != 0 {
		t.Errorf("%d timers still armed", c.Len())
	}
}

func TestSetReplaces(t *testing.T) {
	c := newClock(t)
	set(t, c, "k", 10*ms)
	later := set(t, c, "k", 60*ms) // replaces: one fire, not before 60ms
	set(t, c, "sentinel", 80*ms)
	f := next(t, c)
	if f.Key != "k" || f.At < later {
		t.Fatalf("got %+v, want k at or after %v", f, later)
	}
	if f := next(t, c); f.Key != "sentinel" {
		t.Fatalf("got %+v, want sentinel (k fired twice?)", f)
	}

	// Re-setting earlier brings the fire forward.
	set(t, c, "k", time.Hour)
	earlier := set(t, c, "k", 10*ms)
	if f := next(t, c); f.Key != "k" || f.At < earlier {
		t.Fatalf("got %+v, want k", f)
	}
}

func TestCancel(t *testing.T) {
	c := newClock(t)
	set(t, c, "gone", 10*ms)
	set(t, c, "kept", 20*ms)
	if err := c.Apply(&effects.CancelTimer{Key: "gone"}); err != nil {
		t.Fatal(err)
	}
	c.Cancel("never-set") // a no-op
	set(t, c, "sentinel", 60*ms)
	for _, want := range []string{"kept", "sentinel"} {
		if f := next(t, c); f.Key != want {
			t.Fatalf("got %s, want %s", f.Key, want)
		}
	}
	// Cancelling the only timer leaves nothing to fire.
	set(t, c, "only", 10*ms)
	c.Cancel("only")
	select {
	case f := <-c.Fired():
		t.Fatalf("cancelled timer fired: %+v", f)
	case <-time.After(50 * ms):
	}
}

func TestPastDeadlineFiresAtOnce(t *testing.T) {
	c := newClock(t)
	c.Set("past", c.Now()-events.Time(time.Second))
	if f := next(t, c); f.Key != "past" {
		t.Fatalf("got %+v", f)
	}
}

func TestManyTimersFireInDeadlineOrder(t *testing.T) {
	c := NewBuffered(time.Now(), 64) // a small buffer: delivery must wait, not drop
	t.Cleanup(c.Close)
	const n = 65000
	// Arm far in the future, cancel every tenth, then bring the rest
	// forward (replacement) in random order: arming 65,000 timers may take
	// a while under the race detector, so nothing may be due meanwhile.
	far := c.Now().Add(time.Hour)
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	for _, i := range r.Perm(n) {
		c.Set(strconv.Itoa(i), far)
	}
	armTime := time.Since(start)
	for i := 0; i < n; i += 10 {
		c.Cancel(strconv.Itoa(i))
	}
	if c.Len() != n-n/10 {
		t.Fatalf("%d armed, want %d", c.Len(), n-n/10)
	}
	// Leave room to re-arm them all before the first is due.
	base := c.Now().Add(20*ms + 3*armTime)
	deadline := map[string]events.Time{}
	for _, i := range r.Perm(n) {
		if i%10 == 0 {
			continue
		}
		k := strconv.Itoa(i)
		deadline[k] = base.Add(time.Duration(i%500) * 100 * time.Microsecond)
		c.Set(k, deadline[k])
	}
	var last events.Time
	seen := map[string]bool{}
	for range n - n/10 {
		f := next(t, c)
		d, ok := deadline[f.Key]
		if !ok || seen[f.Key] {
			t.Fatalf("unexpected fire %+v", f)
		}
		if k, _ := strconv.Atoi(f.Key); k%10 == 0 {
			t.Fatalf("cancelled timer %s fired", f.Key)
		}
		if d < last {
			t.Fatalf("%s (deadline %v) after a timer with deadline %v", f.Key, d, last)
		}
		last = d
		seen[f.Key] = true
	}
	if c.Len() != 0 {
		t.Errorf("%d timers still armed", c.Len())
	}
}

func TestApplyRejectsOtherEffects(t *testing.T) {
	c := newClock(t)
	if err := c.Apply(&effects.SendGARP{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("got %v, want ErrUnsupported", err)
	}
}

func TestNowIsMonotonicSinceOrigin(t *testing.T) {
	origin := time.Now().Add(-time.Second)
	c := New(origin)
	defer c.Close()
	a := c.Now()
	b := c.Now()
	if a < events.Time(time.Second) || b < a {
		t.Errorf("Now: %v then %v", a, b)
	}
}

func TestClose(t *testing.T) {
	c := New(time.Now())
	c.Set("k", c.Now().Add(10*ms))
	c.Close()
	c.Close() // idempotent
	c.Set("after", 0)
	for f := range c.Fired() {
		t.Errorf("fired after Close: %+v", f)
	}
}

// BenchmarkSetCancel measures arming and disarming with 65,000 timers armed.
func BenchmarkSetCancel(b *testing.B) {
	c := New(time.Now())
	defer c.Close()
	const n = 65000
	keys := make([]string, n)
	far := c.Now().Add(time.Hour)
	for i := range keys {
		keys[i] = "vrrp/VI_" + strconv.Itoa(i) + "/adver"
		c.Set(keys[i], far.Add(time.Duration(i)*time.Microsecond))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := keys[i%n]
		c.Set(k, far.Add(time.Duration(i%997)*time.Millisecond))
		if i%4 == 3 {
			c.Cancel(k)
			c.Set(k, far)
		}
	}
}

// TestInline: a clock made by NewInline hands its due timers to Expired
// after a wake, in deadline order, never before their deadline; a timer
// set by the step for a past deadline comes before later ones; a replaced
// or cancelled timer never comes; nothing is due after the last.
func TestInline(t *testing.T) {
	c := NewInline(time.Now())
	defer c.Close()
	if c.Fired() != nil {
		t.Fatal("an inline clock has a Fired channel")
	}
	a := set(t, c, "a", 30*ms)
	set(t, c, "b", 10*ms)
	set(t, c, "gone", 5*ms)
	c.Cancel("gone")
	set(t, c, "moved", 1*ms)
	m := set(t, c, "moved", 40*ms)
	var got []string
	for len(got) < 4 {
		select {
		case <-c.Wake():
		case <-time.After(10 * time.Second):
			t.Fatalf("no wake within 10s; got %v", got)
		}
		c.Expired(func(f *events.TimerFired) {
			got = append(got, f.Key)
			switch f.Key {
			case "a":
				if f.At < a {
					t.Errorf("a fired at %v, before its deadline %v", f.At, a)
				}
			case "moved":
				if f.At < m {
					t.Errorf("moved fired at %v, before its new deadline %v", f.At, m)
				}
			case "b":
				c.Set("now", f.At-1)
			}
		})
	}
	if want := "b now a moved"; fmt.Sprint(got) != "["+want+"]" {
		t.Fatalf("fired %v, want [%s]", got, want)
	}
	if c.Len() != 0 {
		t.Fatalf("%d timers still armed", c.Len())
	}
}
