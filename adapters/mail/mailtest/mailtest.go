// Package mailtest runs a real SMTP server on loopback for tests
// (github.com/emersion/go-smtp), recording every message it accepts with
// its envelope. Only tests import it.
package mailtest

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one accepted message: the HELO name, the envelope and the
// DATA as received (CRLF line ends, without the final ".").
type Message struct {
	Helo string
	From string
	To   []string
	Data string
}

// Server is a running SMTP server.
type Server struct {
	// Addr is the server's loopback address and Port its port.
	Addr string
	Port int

	mu       sync.Mutex
	messages []Message
	arrived  chan struct{}
	// RejectRcpt, when set, makes every RCPT fail with 550.
	rejectRcpt bool
}

// Start starts a server on 127.0.0.1 and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s := &Server{arrived: make(chan struct{}, 1000)}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, helo: c.Hostname()}, nil
	}))
	srv.Domain = "mailtest.invalid"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.AllowInsecureAuth = true
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Logf("mailtest: serve: %v", err)
		}
	}()
	t.Cleanup(func() { srv.Close() })
	a := ln.Addr().(*net.TCPAddr)
	s.Addr, s.Port = a.IP.String(), a.Port
	return s
}

// RejectRecipients makes the server answer every RCPT with 550.
func (s *Server) RejectRecipients() {
	s.mu.Lock()
	s.rejectRcpt = true
	s.mu.Unlock()
}

// Wait returns once n messages have arrived in all, or fails t after
// timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		got := append([]Message(nil), s.messages...)
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-s.arrived:
		case <-deadline:
			t.Fatalf("mailtest: %d message(s) after %v, want %d: %+v", len(got), timeout, n, got)
		}
	}
}

// Messages returns the messages so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

type session struct {
	s    *Server
	helo string
	msg  Message
}

func (x *session) Reset()        { x.msg = Message{} }
func (x *session) Logout() error { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.msg = Message{Helo: x.helo, From: from}
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	reject := x.s.rejectRcpt
	x.s.mu.Unlock()
	if reject {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	x.msg.To = append(x.msg.To, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.msg.Data = string(b)
	x.s.mu.Lock()
	x.s.messages = append(x.s.messages, x.msg)
	x.s.mu.Unlock()
	x.s.arrived <- struct{}{}
	return nil
}
