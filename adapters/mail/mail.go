// Package mail executes the engine's email alerts (effects.SendMail): it
// speaks keepalived's SMTP dialogue to the server the effect names. The
// engine has decided everything the alert says; this package only
// transports it.
//
// The dialogue is keepalived's (core/smtp.c): wait for the 220 greeting,
// HELO with the effect's name, MAIL FROM:<from>, one RCPT TO:<address>
// per recipient, DATA, then the headers Date (the local time of sending,
// RFC 822), From, Subject, X-Mailer: Keepalived and To (the recipients
// joined by ", "), a blank line, the body, and the end of data; QUIT.
// Every reply must carry the code keepalived expects (220, 250, 354,
// 221); any other ends the attempt with QUIT. There is no TLS, no AUTH
// and no retry: a failed alert is lost, as in keepalived. A sender or
// recipient written "Name <address>" gives the envelope its <address>
// (as keepalived since 2.3 does).
//
// Apply never blocks: alerts wait in a bounded queue for the one goroutine
// that sends them, one at a time, and an alert that finds the queue full
// is dropped and counted. A failing server is logged once when the
// failures begin (not once per alert), and once when an alert gets
// through again, with the number lost meanwhile.
//
// Close drains, within a bound: the alerts queued when it is called (a
// stop's "Stopping" and "Shutting down" alerts among them) are still
// sent, for at most Options.Drain (DefaultDrain, one second), and what
// is left then is abandoned, counted as dropped and logged once.
// keepalived does the same: its VRRP process keeps its scheduler, and
// with it the SMTP connections it has opened, running for one second
// after its shutdown notifications (vrrp_terminate_phase1's shutdown
// timer), then exits, dropping whatever alert is not through.
package mail

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-ha/vigil/effects"
)

// DefaultQueue is the number of alerts that may wait for the sender.
const DefaultQueue = 64

// DefaultDrain bounds how long Close keeps sending the alerts queued
// when it is called: keepalived's one second of shutdown timer.
const DefaultDrain = time.Second

// Options configure a Sender.
type Options struct {
	// Queue bounds the alerts waiting to be sent (DefaultQueue if 0).
	Queue int
	// Logger receives operator messages; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock of the Date header; nil means time.Now.
	Now func() time.Time
	// Dial opens the connection; nil means a net.Dialer's DialContext.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Drain bounds how long Close keeps sending the queued alerts
	// (DefaultDrain if 0; negative: none are sent).
	Drain time.Duration
}

// Stats count what happened to the alerts given to Apply.
type Stats struct {
	Sent, Failed, Dropped uint64
}

// Sender sends email alerts from one goroutine. Close stops it.
type Sender struct {
	queue chan *effects.SendMail
	log   *slog.Logger
	now   func() time.Time
	dial  func(ctx context.Context, network, addr string) (net.Conn, error)

	ctx    context.Context
	cancel context.CancelFunc
	// closing is closed when Close begins: the sender then sends what is
	// queued and ends, unless ctx ends first.
	closing chan struct{}
	drain   time.Duration
	done    chan struct{}
	once    sync.Once

	sent, failed, dropped atomic.Uint64
	// failing is the sender goroutine's own: whether the last alert
	// failed, and how many have failed since the last success.
	failing bool
	lost    uint64
	// abandoned counts the alerts given up when the drain's bound
	// passed; read by Close once the goroutine is done.
	abandoned uint64
}

// New starts a Sender.
func New(o Options) *Sender {
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Dial == nil {
		var d net.Dialer
		o.Dial = d.DialContext
	}
	if o.Drain == 0 {
		o.Drain = DefaultDrain
	}
	s := &Sender{queue: make(chan *effects.SendMail, o.Queue), log: o.Logger, now: o.Now, dial: o.Dial,
		closing: make(chan struct{}), drain: o.Drain, done: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.run()
	return s
}

// Apply queues a SendMail (a copy: the engine reuses its effects) and
// returns at once. A full queue drops the alert, counted in Stats.
func (s *Sender) Apply(e effects.Effect) error {
	m, ok := e.(*effects.SendMail)
	if !ok {
		return fmt.Errorf("mail: cannot apply %v", e.EffectKind())
	}
	select {
	case <-s.done:
		s.dropped.Add(1)
		return errors.New("mail: sender closed")
	default:
	}
	select {
	case s.queue <- effects.Clone(m).(*effects.SendMail):
		return nil
	default:
		if s.dropped.Add(1) == 1 {
			s.log.Warn("SMTP alert queue full: alert dropped (further drops are only counted)", "subject", m.Subject)
		}
		return nil
	}
}

// Stats returns the counts so far.
func (s *Sender) Stats() Stats {
	return Stats{Sent: s.sent.Load(), Failed: s.failed.Load(), Dropped: s.dropped.Load()}
}

// Close stops the sender. The alerts queued (and the one being sent) are
// still sent, one at a time, for at most the drain bound; then the one
// being sent is abandoned and the queued ones are dropped. Close returns
// once the sender has ended; it never waits much longer than the bound.
func (s *Sender) Close() {
	s.once.Do(func() {
		close(s.closing)
		if s.drain > 0 {
			t := time.NewTimer(s.drain)
			select {
			case <-s.done:
			case <-t.C:
			}
			t.Stop()
		}
		s.cancel()
		<-s.done
		for len(s.queue) > 0 { // queued by Apply as the sender ended
			<-s.queue
			s.dropped.Add(1)
			s.abandoned++
		}
		if s.abandoned > 0 {
			s.log.Warn("SMTP alerts not sent at shutdown: the drain's bound passed", "abandoned", s.abandoned, "bound", s.drain)
		}
	})
}

func (s *Sender) run() {
	defer close(s.done)
	for {
		select {
		case <-s.ctx.Done():
			s.abandonQueued()
			return
		case <-s.closing:
			s.drainQueue()
			return
		case m := <-s.queue:
			s.one(m)
		}
	}
}

// drainQueue sends the queued alerts until none is left or Close's
// bound has passed.
func (s *Sender) drainQueue() {
	for s.ctx.Err() == nil {
		select {
		case m := <-s.queue:
			s.one(m)
		default:
			return
		}
	}
	s.abandonQueued()
}

// abandonQueued drops what is left in the queue once Close's bound has
// passed.
func (s *Sender) abandonQueued() {
	for {
		select {
		case <-s.queue:
			s.dropped.Add(1)
			s.abandoned++
		default:
			return
		}
	}
}

func (s *Sender) one(m *effects.SendMail) {
	server := net.JoinHostPort(m.Server, strconv.Itoa(m.Port))
	err := s.send(m, server)
	if err != nil && s.ctx.Err() != nil {
		// Cut off by Close's bound: abandoned, not a server failure.
		s.dropped.Add(1)
		s.abandoned++
		return
	}
	if err == nil {
		s.sent.Add(1)
		if s.failing {
			s.log.Info("SMTP server reachable again", "server", server, "lost", s.lost)
			s.failing, s.lost = false, 0
		}
		return
	}
	s.failed.Add(1)
	s.lost++
	if !s.failing {
		s.failing = true
		s.log.Error("cannot send SMTP alert (further failures are not logged until one succeeds)",
			"server", server, "subject", m.Subject, "err", err)
	}
}

// send runs the dialogue with server for m.
func (s *Sender) send(m *effects.SendMail, server string) (err error) {
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	conn, err := s.dial(ctx, "tcp", server)
	cancel()
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(s.ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	c := &client{conn: conn, r: bufio.NewReader(conn), timeout: timeout}
	if err := c.expect("(E)SMTP", 220); err != nil {
		return err
	}
	defer func() {
		// keepalived says QUIT after the message and after an error
		// reply; its answer changes nothing.
		if c.replied {
			if qerr := c.cmd("QUIT", 221, "QUIT\r\n"); err == nil && qerr != nil {
				s.log.Debug("SMTP QUIT", "server", server, "err", qerr)
			}
		}
	}()
	steps := []struct {
		name string
		code int
		line string
	}{
		{"HELO", 250, "HELO " + m.Helo + "\r\n"},
		{"MAIL", 250, "MAIL FROM:<" + envelope(m.From) + ">\r\n"},
	}
	for _, to := range m.To {
		steps = append(steps, struct {
			name string
			code int
			line string
		}{"RCPT", 250, "RCPT TO:<" + envelope(to) + ">\r\n"})
	}
	for _, st := range steps {
		if err := c.cmd(st.name, st.code, st.line); err != nil {
			return err
		}
	}
	if err := c.cmd("DATA", 354, "DATA\r\n"); err != nil {
		return err
	}
	return c.cmd("BODY", 250, Message(m, s.now()))
}

// Message is the DATA keepalived sends for m at time t: its headers, the
// body and the end of data.
func Message(m *effects.SendMail, t time.Time) string {
	return "Date: " + t.Format("Mon, 02 Jan 2006 15:04:05 -0700") + "\r\n" +
		"From: " + m.From + "\r\n" +
		"Subject: " + m.Subject + "\r\n" +
		"X-Mailer: Keepalived\r\n" +
		"To: " + strings.Join(m.To, ", ") + "\r\n\r\n" +
		m.Body + "\r\n" +
		"\r\n.\r\n"
}

// envelope is the address of a header address: the part between the
// last < and a final >, else the whole.
func envelope(a string) string {
	if strings.HasSuffix(a, ">") {
		if i := strings.LastIndexByte(a, '<'); i >= 0 {
			return a[i+1 : len(a)-1]
		}
	}
	return a
}

// client is one SMTP conversation.
type client struct {
	conn    net.Conn
	r       *bufio.Reader
	timeout time.Duration
	// replied is set once the server has greeted: QUIT is then due.
	replied bool
}

// cmd sends line and waits for code.
func (c *client) cmd(name string, code int, line string) error {
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if _, err := c.conn.Write([]byte(line)); err != nil {
		return fmt.Errorf("send %s: %w", name, err)
	}
	return c.expect(name, code)
}

// expect reads one reply (the last line of a multi-line one decides) and
// checks its code.
func (c *client) expect(name string, code int) error {
	if err := c.conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("%s reply: %w", name, err)
		}
		l = strings.TrimRight(l, "\r\n")
		if len(l) < 3 {
			return fmt.Errorf("%s reply %q: not an SMTP reply", name, l)
		}
		if len(l) > 3 && l[3] == '-' {
			continue
		}
		c.replied = true
		got, err := strconv.Atoi(l[:3])
		if err != nil {
			return fmt.Errorf("%s reply %q: not an SMTP reply", name, l)
		}
		if got != code {
			return fmt.Errorf("error processing %s cmd: SMTP status code = %d (%s)", name, got, l)
		}
		return nil
	}
}
