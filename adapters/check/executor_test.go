package check

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

func nextResult(t *testing.T, ch <-chan events.Event) *events.CheckResult {
	t.Helper()
	select {
	case ev := <-ch:
		return ev.(*events.CheckResult)
	case <-time.After(5 * time.Second):
		t.Fatal("no CheckResult")
	}
	return nil
}

func TestExecutor(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	up := targetOf(t, l.Addr())
	down := closedPort(t)
	results := make(chan events.Event, 16)
	x := NewExecutor(ExecutorOptions{Results: results, Now: func() events.Time { return 42 }, Workers: 2})
	defer x.Close()

	tcp := &conf.Checker{Type: conf.CheckTCP}
	x.Apply(&effects.RunCheck{VirtualServer: "tcp/10.0.0.1:80", RealServer: "127.0.0.1:1", Checker: 0, Type: conf.CheckTCP,
		Addr: up.Addr, Port: up.Port, Timeout: time.Second, Spec: tcp})
	r := nextResult(t, results)
	if !r.OK || r.VirtualServer != "tcp/10.0.0.1:80" || r.RealServer != "127.0.0.1:1" || r.At != 42 {
		t.Fatalf("result = %+v", r)
	}
	x.Apply(&effects.RunCheck{VirtualServer: "vs", RealServer: "rs", Checker: 1, Type: conf.CheckTCP,
		Addr: down.Addr, Port: down.Port, Timeout: time.Second, Spec: tcp})
	if r := nextResult(t, results); r.OK || r.Checker != 1 {
		t.Fatalf("result = %+v", r)
	}

	// A second RunCheck of a checker still running is answered at once,
	// and the first still reports: exactly one result per RunCheck.
	slow := miscCheck(false, miscScript(t, "sleep 0.5"))
	rc := &effects.RunCheck{VirtualServer: "vs", RealServer: "rs", Checker: 2, Type: conf.CheckMisc, Timeout: 3 * time.Second, Spec: slow}
	x.Apply(rc)
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	x.Apply(rc)
	if time.Since(start) > 50*time.Millisecond {
		t.Error("Apply blocked")
	}
	first, second := nextResult(t, results), nextResult(t, results)
	if first.OK || first.Message != "previous check still running" || !second.OK {
		t.Fatalf("results = %+v, %+v", first, second)
	}

	// misc_dynamic weights travel in the event.
	dyn := miscCheck(true, miscScript(t, "exit 12"))
	x.Apply(&effects.RunCheck{VirtualServer: "vs", RealServer: "rs", Checker: 3, Type: conf.CheckMisc, Timeout: time.Second, Spec: dyn})
	if r := nextResult(t, results); !r.OK || !r.Dynamic || r.Weight != 10 {
		t.Fatalf("dynamic result = %+v", r)
	}
	if s := x.Stats(); s.Run != 4 || s.Refused != 1 {
		t.Errorf("stats = %+v", s)
	}
	x.Apply(&effects.Log{Message: "ignored"})
}

func TestExecutorQueueFull(t *testing.T) {
	results := make(chan events.Event, 16)
	x := NewExecutor(ExecutorOptions{Results: results, Workers: 1, QueueLen: 1})
	defer x.Close()
	slow := miscCheck(false, miscScript(t, "sleep 0.3"))
	for i := range 3 {
		x.Apply(&effects.RunCheck{VirtualServer: "vs", RealServer: "rs", Checker: i, Type: conf.CheckMisc, Timeout: 2 * time.Second, Spec: slow})
		time.Sleep(20 * time.Millisecond)
	}
	got := map[int]*events.CheckResult{}
	for range 3 {
		r := nextResult(t, results)
		got[r.Checker] = r
	}
	if !got[0].OK || !got[1].OK || got[2].OK || got[2].Message != "checker queue full" {
		t.Fatalf("results: %+v %+v %+v", got[0], got[1], got[2])
	}
}

func TestExecutorCloseCancels(t *testing.T) {
	results := make(chan events.Event, 16)
	x := NewExecutor(ExecutorOptions{Results: results, Workers: 1})
	hang := miscCheck(false, miscScript(t, "sleep 30"))
	x.Apply(&effects.RunCheck{VirtualServer: "vs", RealServer: "rs", Type: conf.CheckMisc, Timeout: time.Minute, Spec: hang})
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	x.Close()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Close took %v", d)
	}
	x.Apply(&effects.RunCheck{VirtualServer: "vs", RealServer: "rs", Checker: 9, Type: conf.CheckTCP, Spec: &conf.Checker{Type: conf.CheckTCP}})
	for {
		r := nextResult(t, results)
		if r.Checker == 9 {
			if r.OK || r.Message != "checker executor stopped" {
				t.Fatalf("after Close: %+v", r)
			}
			return
		}
	}
}

// TestExecutorNoPool: by default (Workers 0) every check runs at once,
// however many are asked for — more than the old fixed pool (32
// workers) — and none is refused: the server sees all n requests
// before it answers any.
func TestExecutorNoPool(t *testing.T) {
	const n = 200
	arrived := make(chan struct{}, n)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	target := targetOf(t, srv.Listener.Addr())
	results := make(chan events.Event, n)
	x := NewExecutor(ExecutorOptions{Results: results})
	defer x.Close()
	spec := httpCheck(conf.CheckHTTP, conf.URL{Path: "/"})
	for i := range n {
		x.Apply(&effects.RunCheck{VirtualServer: "vs", RealServer: "rs", Checker: i, Type: conf.CheckHTTP,
			Addr: target.Addr, Port: target.Port, Timeout: 30 * time.Second, Spec: spec})
	}
	for i := range n {
		select {
		case <-arrived:
		case ev := <-results:
			t.Fatalf("a result before every check was in flight (%d of %d arrived): %+v", i, n, ev)
		case <-time.After(20 * time.Second):
			close(release)
			t.Fatalf("only %d of %d checks in flight at once", i, n)
		}
	}
	close(release)
	for range n {
		if r := nextResult(t, results); !r.OK {
			t.Fatalf("check %d failed: %s", r.Checker, r.Message)
		}
	}
	if s := x.Stats(); s.Run != n || s.Refused != 0 {
		t.Errorf("stats = %+v, want %d run and none refused", s, n)
	}
}
