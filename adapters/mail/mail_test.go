package mail

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/adapters/mail/mailtest"
	"github.com/vigil-ha/vigil/effects"
)

var date = time.Date(2024, 3, 1, 9, 44, 8, 0, time.FixedZone("", 3600))

func alert(srv *mailtest.Server) *effects.SendMail {
	return &effects.SendMail{Server: srv.Addr, Port: srv.Port, Timeout: 5 * time.Second, Helo: "lb1.example.com",
		From: "Load balancer <lb1@example.com>", To: []string{"ops@example.com", "oncall@example.com"},
		Subject: "[lb1] VRRP Instance VI_1 - Entering MASTER state", Body: "=> VRRP Instance is now owning VRRP VIPs <="}
}

// TestSendMail sends an alert to a real SMTP server and checks the
// envelope and the message keepalived's dialogue gives.
func TestSendMail(t *testing.T) {
	srv := mailtest.Start(t)
	s := New(Options{Now: func() time.Time { return date }})
	defer s.Close()
	m := alert(srv)
	if err := s.Apply(m); err != nil {
		t.Fatal(err)
	}
	m.Subject = "changed after Apply" // the engine reuses its effects
	got := srv.Wait(t, 1, 10*time.Second)[0]
	if got.Helo != "lb1.example.com" || got.From != "lb1@example.com" ||
		strings.Join(got.To, " ") != "ops@example.com oncall@example.com" {
		t.Errorf("envelope: %+v", got)
	}
	want := "Date: Fri, 01 Mar 2024 09:44:08 +0100\r\n" +
		"From: Load balancer <lb1@example.com>\r\n" +
		"Subject: [lb1] VRRP Instance VI_1 - Entering MASTER state\r\n" +
		"X-Mailer: Keepalived\r\n" +
		"To: ops@example.com, oncall@example.com\r\n" +
		"\r\n" +
		"=> VRRP Instance is now owning VRRP VIPs <=\r\n" +
		"\r\n"
	if got.Data != want {
		t.Errorf("message:\n%q\nwant\n%q", got.Data, want)
	}
	waitStats(t, s, Stats{Sent: 1})
}

// TestMessage is the DATA on the wire, CRLF and all.
func TestMessage(t *testing.T) {
	m := &effects.SendMail{From: "a@b", To: []string{"c@d"}, Subject: "S", Body: "B"}
	want := "Date: Fri, 01 Mar 2024 09:44:08 +0100\r\nFrom: a@b\r\nSubject: S\r\nX-Mailer: Keepalived\r\nTo: c@d\r\n\r\nB\r\n\r\n.\r\n"
	if got := Message(m, date); got != want {
		t.Errorf("%q\nwant %q", got, want)
	}
}

// TestOutageLoggedOnce: a server that refuses connections is logged
// once for the outage, not once per alert, and its end is logged with
// the number of alerts lost.
func TestOutageLoggedOnce(t *testing.T) {
	srv := mailtest.Start(t)
	var buf syncBuffer
	down := true
	s := New(Options{Logger: slog.New(slog.NewTextHandler(&buf, nil)),
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if down {
				return nil, &net.OpError{Op: "dial", Net: network, Err: errRefused}
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}})
	defer s.Close()
	for range 3 {
		s.Apply(alert(srv))
	}
	waitStats(t, s, Stats{Failed: 3})
	down = false // the sender is idle: no race with its reads
	s.Apply(alert(srv))
	srv.Wait(t, 1, 10*time.Second)
	waitStats(t, s, Stats{Sent: 1, Failed: 3})
	out := buf.String()
	if n := strings.Count(out, "cannot send SMTP alert"); n != 1 {
		t.Errorf("%d failure lines, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "SMTP server reachable again") || !strings.Contains(out, "lost=3") {
		t.Errorf("no recovery line with lost=3:\n%s", out)
	}
}

// TestRejectedRecipient: a reply with an unexpected code fails the alert
// (keepalived then says QUIT).
func TestRejectedRecipient(t *testing.T) {
	srv := mailtest.Start(t)
	srv.RejectRecipients()
	s := New(Options{Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	defer s.Close()
	s.Apply(alert(srv))
	waitStats(t, s, Stats{Failed: 1})
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages accepted", n)
	}
}

// TestQueueFullDrops: Apply never blocks; alerts beyond the queue are
// dropped and counted.
func TestQueueFullDrops(t *testing.T) {
	block := make(chan struct{})
	s := New(Options{Queue: 2, Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)),
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			<-block
			return nil, errRefused
		}})
	m := &effects.SendMail{Server: "192.0.2.1", Port: 25, To: []string{"x@y"}}
	done := make(chan struct{})
	go func() {
		for range 10 {
			s.Apply(m)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Apply blocked")
	}
	// One alert is with the dialer, two wait: at least 7 dropped.
	if d := s.Stats().Dropped; d < 7 {
		t.Errorf("dropped %d, want >= 7", d)
	}
	close(block)
	s.Close()
}

var errRefused = &net.AddrError{Err: "connection refused (test)"}

func waitStats(t *testing.T, s *Sender, want Stats) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats() != want {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v, want %+v", s.Stats(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCloseDrains: alerts queued when Close is called are still sent,
// as keepalived sends its shutdown alerts before it exits. The first
// connection waits until Close has begun, so that all three are queued
// then.
func TestCloseDrains(t *testing.T) {
	srv := mailtest.Start(t)
	var s *Sender
	var once sync.Once
	closed := make(chan struct{})
	s = New(Options{Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), Drain: time.Minute,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			once.Do(func() {
				go func() { s.Close(); close(closed) }()
				<-s.closing
			})
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}})
	for i := range 3 {
		m := alert(srv)
		m.Subject = fmt.Sprintf("alert %d", i)
		if err := s.Apply(m); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return")
	}
	got := srv.Messages()
	if len(got) != 3 {
		t.Fatalf("%d alerts reached the server by Close's return, want 3", len(got))
	}
	for i, m := range got {
		if want := fmt.Sprintf("Subject: alert %d\r\n", i); !strings.Contains(m.Data, want) {
			t.Errorf("alert %d: no %q in %q", i, want, m.Data)
		}
	}
	if st := s.Stats(); st != (Stats{Sent: 3}) {
		t.Errorf("stats %+v, want 3 sent", st)
	}
}

// TestCloseBounded: a server that accepts and never greets holds the
// drain no longer than its bound; the alert being sent and those queued
// are abandoned, counted as dropped and logged once.
func TestCloseBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c // held open, silent
		}
	}()
	defer func() {
		for len(accepted) > 0 {
			(<-accepted).Close()
		}
	}()
	var buf syncBuffer
	s := New(Options{Logger: slog.New(slog.NewTextHandler(&buf, nil)), Drain: 50 * time.Millisecond})
	a := ln.Addr().(*net.TCPAddr)
	for range 3 {
		s.Apply(&effects.SendMail{Server: a.IP.String(), Port: a.Port, Timeout: time.Hour, To: []string{"x@y"}})
	}
	select {
	case <-accepted: // the first alert is with the server
	case <-time.After(30 * time.Second):
		t.Fatal("no connection")
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close waited on a silent server")
	}
	if st := s.Stats(); st != (Stats{Dropped: 3}) {
		t.Errorf("stats %+v, want 3 dropped", st)
	}
	out := buf.String()
	if n := strings.Count(out, "SMTP alerts not sent at shutdown"); n != 1 || !strings.Contains(out, "abandoned=3") {
		t.Errorf("want one abandoned=3 line:\n%s", out)
	}
	if strings.Contains(out, "cannot send SMTP alert") {
		t.Errorf("the abandoned alert was logged as a server failure:\n%s", out)
	}
}
