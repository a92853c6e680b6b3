package check

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-ha/vigil/events/conf"
)

// smtpServer is a minimal SMTP server on loopback speaking RFC 5321's
// greeting, HELO and QUIT; greeting and heloReply are its answers.
type smtpServer struct {
	greeting, heloReply string
	mu                  sync.Mutex
	helo                string
	quit                bool
}

func (s *smtpServer) start(t *testing.T) Target {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return targetOf(t, l.Addr())
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	c.Write([]byte(s.greeting))
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "HELO":
			s.mu.Lock()
			s.helo = arg
			s.mu.Unlock()
			c.Write([]byte(s.heloReply))
		case "QUIT":
			s.mu.Lock()
			s.quit = true
			s.mu.Unlock()
			c.Write([]byte("221 2.0.0 Bye\r\n"))
			return
		default:
			c.Write([]byte("502 5.5.2 Error: command not recognized\r\n"))
		}
	}
}

func TestSMTPCheck(t *testing.T) {
	good := &smtpServer{greeting: "220 mail.example.org ESMTP\r\n", heloReply: "250 mail.example.org\r\n"}
	target := good.start(t)
	cfg := &conf.Checker{Type: conf.CheckSMTP, SMTP: &conf.SMTPCheck{HeloName: "lb1.example.org"}}
	wantOK(t, run(t, &Checker{}, target, cfg))
	good.mu.Lock()
	if good.helo != "lb1.example.org" || !good.quit {
		t.Errorf("server saw HELO %q, QUIT %v", good.helo, good.quit)
	}
	good.mu.Unlock()

	// The global smtp_helo_name when the checker has none.
	wantOK(t, run(t, &Checker{HeloName: "global.example.org"}, target, &conf.Checker{Type: conf.CheckSMTP}))
	good.mu.Lock()
	if good.helo != "global.example.org" {
		t.Errorf("HELO %q", good.helo)
	}
	good.mu.Unlock()

	multi := &smtpServer{greeting: "220-mail.example.org ESMTP\r\n220-no UCE\r\n220 ready\r\n", heloReply: "250 ok\r\n"}
	wantOK(t, run(t, &Checker{}, multi.start(t), cfg))

	busy := &smtpServer{greeting: "421 4.3.2 Service not available\r\n", heloReply: "250 ok\r\n"}
	wantFail(t, run(t, &Checker{}, busy.start(t), cfg), "bad greeting")

	refuse := &smtpServer{greeting: "220 ready\r\n", heloReply: "550 go away\r\n"}
	wantFail(t, run(t, &Checker{}, refuse.start(t), cfg), "bad HELO reply")

	wantFail(t, run(t, &Checker{}, rawServer(t, ""), cfg), "greeting")
	wantFail(t, run(t, &Checker{}, closedPort(t), cfg), "connection refused")
}
