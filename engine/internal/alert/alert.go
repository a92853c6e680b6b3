// Package alert builds keepalived's email alerts (smtp_alert) for both
// parts of the engine: whether an alert can be sent at all, its envelope
// from global_defs, and the subject's "[router_id] " prefix. When an
// alert is due and what its subject and body say is decided where the
// transition happens (engine/vrrp, engine/lvs).
package alert

import (
	"slices"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events/conf"
)

// keepalived formats the subject and body into fixed buffers
// (MAX_HEADERS_LENGTH, MAX_BODY_LENGTH) and sends what fits.
const (
	maxSubject = 255
	maxBody    = 511
)

// unknownHost is keepalived's router_id when the host's name is unknown
// (vigil check, dump, sim and the scenarios do not look at the host).
const unknownHost = "[unknown]"

// Enabled reports whether keepalived would send email at all: only with
// a notification_email address and an smtp_server.
func Enabled(g *conf.GlobalDefs) bool {
	return g != nil && len(g.NotificationEmail) > 0 && g.SMTPServer != ""
}

// Mail returns the SendMail of an alert whose subject, without its
// router_id prefix, is what (keepalived's "VRRP Instance VI_1 - Entering
// MASTER state"), or nil when no email can be sent (see Enabled).
func Mail(g *conf.GlobalDefs, what, body string) *effects.SendMail {
	if !Enabled(g) {
		return nil
	}
	rid := g.RouterID
	if rid == "" {
		rid = unknownHost
	}
	helo := g.SMTPHeloName
	if helo == "" {
		helo = "localhost"
	}
	port := g.SMTPPort
	if port == 0 {
		port = conf.DefaultSMTPPort
	}
	return &effects.SendMail{
		Server: g.SMTPServer, Port: port, Timeout: g.SMTPConnectTimeout.Std(),
		Helo: helo, From: g.NotificationEmailFrom, To: slices.Clone(g.NotificationEmail),
		Subject: clip("["+rid+"] "+what, maxSubject), Body: clip(body, maxBody),
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
