package lvs

import (
	"strconv"

	"github.com/vigil-ha/vigil/engine/internal/alert"
	"github.com/vigil-ha/vigil/events/conf"
)

// Email alerts (smtp_alert) of the checker process, as keepalived sends
// them: a checker's verdict (from the checker, with its own body), a
// virtual server's quorum (do_vs_notifies) and a real server removed or
// shut down (clear_service_rs). Each follows the notifications of the
// same change, in the notes.

// mailRS emits the alert of real server r, its subject saying whether it
// is alive: "[router_id] Realserver RS of virtual server VS - UP|DOWN".
func (m *Machine) mailRS(r *rserver, body string) {
	if r.cfg == nil || !r.cfg.SMTPAlert || !alert.Enabled(&m.cfg.GlobalDefs) {
		return
	}
	state := "DOWN"
	if r.dyn.Alive {
		state = "UP"
	}
	what := "Realserver " + r.logName + " of virtual server " + r.vs.logName + " - " + state
	m.out.notes = append(m.out.notes, alert.Mail(&m.cfg.GlobalDefs, what, body))
}

// mailVS emits the alert of virtual server v's quorum:
// "[router_id] Virtualserver VS - UP|DOWN".
func (m *Machine) mailVS(v *vserver, body string) {
	if !v.cfg.SMTPAlert || !alert.Enabled(&m.cfg.GlobalDefs) {
		return
	}
	state := "DOWN"
	if v.dyn.QuorumUp {
		state = "UP"
	}
	m.out.notes = append(m.out.notes, alert.Mail(&m.cfg.GlobalDefs, "Virtualserver "+v.logName+" - "+state, body))
}

// quorumMailBody is do_vs_notifies' body: "=> Gained quorum 2+1=3 <= 3 <="
// (keepalived writes quorum+hysteresis=threshold for a loss too).
func quorumMailBody(v *vserver, init bool, threshold, sum int) string {
	what := "Lost quorum"
	switch {
	case v.dyn.QuorumUp && init:
		what = "Starting with quorum up"
	case v.dyn.QuorumUp:
		what = "Gained quorum"
	case init:
		what = "Starting with quorum down"
	}
	return "=> " + what + " " + strconv.Itoa(v.cfg.Quorum) + "+" + strconv.Itoa(v.cfg.Hysteresis) + "=" +
		strconv.Itoa(threshold) + " <= " + strconv.Itoa(sum) + " <="
}

// mailChecker emits a checker's alert after its verdict, as each of
// keepalived's checkers does: when its state changed (a MISC_CHECK: at
// every verdict), and, with no_checker_emails, only when the real
// server's state changed too. reason is the failure's message.
func (m *Machine) mailChecker(ck *checker, changed, wasAlive, up bool, reason string) {
	if !changed && ck.cfg.Type != conf.CheckMisc {
		return
	}
	if wasAlive == ck.rs.dyn.Alive && m.cfg.GlobalDefs.NoCheckerEmails {
		return
	}
	if body, ok := checkerMailBody(ck.cfg.Type, up, reason); ok {
		m.mailRS(ck.rs, body)
	}
}

// checkerMailBody is the body of a checker's alert, keepalived's text for
// each type; FILE_CHECK (and BFD_CHECK) send none.
func checkerMailBody(typ string, up bool, reason string) (string, bool) {
	verdict := func(ok, fail string) (string, bool) {
		if up {
			return ok, true
		}
		return fail, true
	}
	switch typ {
	case conf.CheckTCP:
		return verdict("=> TCP CHECK succeed on service <=", "=> TCP CHECK failed on service <=")
	case conf.CheckHTTP, conf.CheckSSL:
		return verdict("=> CHECK succeed on service <=", "=> CHECK failed on service : HTTP request failed <=")
	case conf.CheckSMTP:
		fail := "=> CHECK failed on service <="
		if reason != "" {
			fail = "=> CHECK failed on service : " + reason + " <="
		}
		return verdict("=> CHECK succeed on service <=", fail)
	case conf.CheckDNS:
		return verdict("=> DNS_CHECK: succeed on service <=", "=> DNS_CHECK: failed on service <=")
	case conf.CheckPing:
		return verdict("=> ICMP CHECK succeed on service <=", "=> ICMP CHECK failed on service <=")
	case conf.CheckUDP:
		return verdict("=> UDP CHECK succeed on service <=", "=> UDP CHECK failed on service <=")
	case conf.CheckMisc:
		how := "failed"
		if reason == "timed out" {
			how = "timed out"
		}
		return verdict("=> MISC CHECK succeeded on service <=", "=> MISC CHECK "+how+" on service <=")
	}
	return "", false
}
