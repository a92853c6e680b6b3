package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/adapters/mail"
	"github.com/vigil-ha/vigil/adapters/mail/mailtest"
)

// mailGlobals is a global_defs that sends alerts to srv.
func mailGlobals(srv *mailtest.Server, extra string) string {
	return sprintf(`global_defs {
  router_id lb1
  notification_email {
    ops@example.com
    oncall@example.com
  }
  notification_email_from "Load balancer <lb1@example.com>"
  smtp_server %s %d
  smtp_helo_name lb1.example.com
  smtp_connect_timeout 5
%s}
`, srv.Addr, srv.Port, extra)
}

func newMailSender(t *testing.T) *mail.Sender {
	s := mail.New(mail.Options{Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	t.Cleanup(s.Close)
	return s
}

// checkMail checks a received alert's envelope, and that its DATA holds
// keepalived's headers and body.
func checkMail(t *testing.T, m mailtest.Message, subject, body string) {
	t.Helper()
	if m.Helo != "lb1.example.com" || m.From != "lb1@example.com" || strings.Join(m.To, " ") != "ops@example.com oncall@example.com" {
		t.Errorf("envelope %+v", m)
	}
	head, text, ok := strings.Cut(m.Data, "\r\n\r\n")
	if !ok {
		t.Fatalf("no header/body separator in %q", m.Data)
	}
	lines := strings.Split(head, "\r\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "Date: ") {
		t.Fatalf("headers %q", lines)
	}
	if _, err := time.Parse("Mon, 02 Jan 2006 15:04:05 -0700", strings.TrimPrefix(lines[0], "Date: ")); err != nil {
		t.Errorf("Date header: %v", err)
	}
	want := []string{"From: Load balancer <lb1@example.com>", "Subject: " + subject, "X-Mailer: Keepalived",
		"To: ops@example.com, oncall@example.com"}
	for i, w := range want {
		if lines[i+1] != w {
			t.Errorf("header %d: %q, want %q", i+1, lines[i+1], w)
		}
	}
	if text != body+"\r\n\r\n" {
		t.Errorf("body %q, want %q", text, body+"\r\n\r\n")
	}
}

// A VRRP instance with smtp_alert, from the configuration text through
// the loop, the dispatcher and the mail sender to a real SMTP server:
// the BACKUP alert of the start, then the MASTER alert of its takeover.
func TestLoopMailVRRPTransition(t *testing.T) {
	srv := mailtest.Start(t)
	cfg := loadConfText(t, mailGlobals(srv, "  smtp_alert\n")+sprintf(testConf, "10.77.0.100/24"))
	sender := newMailSender(t)
	tl := newTestLoop(t, cfg, func(l *Loop) { l.Exec.Mail = sender })
	tl.run()
	tl.becomeMaster(t)
	got := srv.Wait(t, 2, 10*time.Second)
	checkMail(t, got[0], "[lb1] VRRP Instance VI_1 - Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <=")
	checkMail(t, got[1], "[lb1] VRRP Instance VI_1 - Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <=")
}

// A real server's TCP_CHECK fails against a refused port: the checker's
// alert reaches the SMTP server (real servers alert by default).
func TestLoopMailRealServerDown(t *testing.T) {
	srv := mailtest.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // refused
	sender := newMailSender(t)
	ll := newLVSLoop(t, loadConfText(t, mailGlobals(srv, "")+sprintf(lvsTestConf, 80, port)), func(l *Loop) { l.Exec.Mail = sender })
	ll.run()
	ll.fireCheck(t)
	got := srv.Wait(t, 1, 10*time.Second)
	checkMail(t, got[0], sprintf("[lb1] Realserver [127.0.0.1]:tcp:%d of virtual server [127.0.0.1]:tcp:80 - DOWN", port),
		"=> TCP CHECK failed on service <=")
}

// The stop's alerts are sent before the daemon ends: the loop stops (the
// instance's "Stopping" alert is its last effect), then the sender is
// closed as the daemon's shutdown closes it, and every alert, the
// stop's among them, has reached the SMTP server by then. No connection
// opens before the loop has ended, so that all three alerts are still
// queued when the shutdown begins.
func TestLoopMailStopAlertSentAtShutdown(t *testing.T) {
	srv := mailtest.Start(t)
	cfg := loadConfText(t, mailGlobals(srv, "  smtp_alert\n")+sprintf(testConf, "10.77.0.100/24"))
	loopDone := make(chan struct{})
	sender := mail.New(mail.Options{Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), Drain: 30 * time.Second,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			<-loopDone
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}})
	tl := newTestLoop(t, cfg, func(l *Loop) { l.Exec.Mail = sender })
	tl.run()
	tl.becomeMaster(t)
	tl.sigs <- syscall.SIGTERM
	<-tl.done
	close(loopDone)
	sender.Close()
	got := srv.Messages()
	if len(got) != 3 {
		t.Fatalf("%d alerts reached the server by the shutdown's end, want 3: %+v", len(got), got)
	}
	checkMail(t, got[0], "[lb1] VRRP Instance VI_1 - Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <=")
	checkMail(t, got[1], "[lb1] VRRP Instance VI_1 - Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <=")
	checkMail(t, got[2], "[lb1] VRRP Instance VI_1 - Stopping", "=> VRRP Instance stopping <=")
}
