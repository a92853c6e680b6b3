package vrrp

import (
	"slices"
	"strconv"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine/internal/alert"
	"github.com/vigil-ha/vigil/events/conf"
)

func itoa(n int) string { return strconv.Itoa(n) }

// notifyInstance emits keepalived's notification of an instance entering
// a state: the notify_<state> script, then `notify` with
// "INSTANCE name STATE prio" appended, and the FIFO line.
func (m *Machine) notifyInstance(i *instance, st effects.State) {
	n := &i.cfg.Notify
	name := st.String()
	var s *conf.Script
	switch st {
	case effects.StateMaster:
		s = n.Master
	case effects.StateBackup:
		s = n.Backup
	case effects.StateFault:
		s = n.Fault
	case effects.StateStop:
		s = n.Stop
	case effects.StateDeleted:
		// Without notify_deleted keepalived reports a deleted instance as
		// FAULT (and runs notify_fault); a bare notify_deleted reports
		// DELETED with no script of its own.
		s = n.Deleted
		if !n.SendDeleted && s == nil {
			name, s = "FAULT", n.Fault
		}
	default:
		return
	}
	m.out.add(m.buildNotify("INSTANCE", i.name, name, i.dyn.Priority, s, n.Notify))
	if name == "FAULT" {
		st = effects.StateFault // a deleted instance reported as FAULT
	}
	m.mail(i.cfg.SMTPAlert, &i.dyn.LastMail, st, "VRRP Instance "+i.name, instanceMail)
}

// instanceMail and groupMail are the subjects and bodies of keepalived's
// VRRP email alerts (vrrp_smtp_notifier, vrrp_sync_smtp_notifier) by
// state; ok is false for a state that has none.
func instanceMail(st effects.State) (subject, body string, ok bool) {
	switch st {
	case effects.StateMaster:
		return "Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <=", true
	case effects.StateBackup:
		return "Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <=", true
	case effects.StateFault:
		return "Entering FAULT state", "=> VRRP Instance is no longer owning VRRP VIPs <=", true
	case effects.StateStop:
		return "Stopping", "=> VRRP Instance stopping <=", true
	case effects.StateDeleted:
		return "Deleted", "=> VRRP Deleted at reload <=", true
	}
	return "", "", false
}

func groupMail(st effects.State) (subject, body string, ok bool) {
	switch st {
	case effects.StateMaster:
		return "Entering MASTER state", "=> All VRRP group instances are now in MASTER state <=", true
	case effects.StateBackup:
		return "Entering BACKUP state", "=> All VRRP group instances are now in BACKUP state <=", true
	case effects.StateFault:
		return "Entering FAULT state", "=> All VRRP group instances are now in FAULT state <=", true
	case effects.StateStop:
		return "Stopping", "=> All VRRP group instances are now stopping <=", true
	}
	return "", "", false
}

// mail emits keepalived's email alert for an instance or sync group
// (who: "VRRP Instance NAME", "VRRP Group NAME") entering st, after its
// notifications: when its smtp_alert is on, the state is one that has an
// alert, it is not FAULT with no_email_faults, and the last alert did not
// already announce it.
func (m *Machine) mail(on bool, last *effects.State, st effects.State, who string, texts func(effects.State) (string, string, bool)) {
	if !on || m.cfg == nil || !alert.Enabled(&m.cfg.GlobalDefs) || *last == st {
		return
	}
	if st == effects.StateFault && m.cfg.GlobalDefs.NoEmailFaults {
		return
	}
	subject, body, ok := texts(st)
	if !ok {
		return
	}
	*last = st
	m.out.add(alert.Mail(&m.cfg.GlobalDefs, who+" - "+subject, body))
}

// notifyEvent reports an instance event that is not a state (such as
// MASTER_RX_LOWER_PRI): its own script and the FIFO line only.
func (m *Machine) notifyEvent(i *instance, what string, s *conf.Script) {
	m.out.add(m.buildNotify("INSTANCE", i.name, what, i.dyn.Priority, s, nil))
}

func (m *Machine) notifySyncGroup(g *syncGroup, state string) {
	n := &g.cfg.Notify
	var s *conf.Script
	switch state {
	case "MASTER":
		s = n.Master
	case "BACKUP":
		s = n.Backup
	case "FAULT":
		s = n.Fault
	case "STOP":
		s = n.Stop
	}
	m.out.add(m.buildNotify("GROUP", g.cfg.Name, state, 0, s, n.Notify))
	m.mail(g.cfg.SMTPAlert, &g.dyn.LastMail, g.dyn.State, "VRRP Group "+g.cfg.Name, groupMail)
}

func (m *Machine) buildNotify(typ, name, state string, prio int, s, generic *conf.Script) *effects.Notify {
	p := itoa(prio)
	nt := &effects.Notify{Type: typ, Name: name, State: state, Priority: prio,
		FIFOLine: typ + ` "` + name + `" ` + state + " " + p}
	if s != nil && len(s.Argv) > 0 {
		nt.Scripts = append(nt.Scripts, slices.Clone(s.Argv))
		nt.Users = append(nt.Users, m.scriptCred(s))
	}
	if generic != nil && len(generic.Argv) > 0 {
		argv := append(slices.Clip(slices.Clone(generic.Argv)), typ, name, state, p)
		nt.Scripts = append(nt.Scripts, argv)
		nt.Users = append(nt.Users, m.scriptCred(generic))
	}
	if len(nt.Users) > 0 {
		nt.User, nt.Group = nt.Users[0].User, nt.Users[0].Group
	} else if m.cfg != nil {
		nt.User, nt.Group = m.cfg.GlobalDefs.ScriptUser, m.cfg.GlobalDefs.ScriptGroup
	}
	return nt
}

// scriptCred is who runs a notify script: the user (and group) written
// after it, else script_user (keepalived gives each script its own).
func (m *Machine) scriptCred(s *conf.Script) effects.ScriptCred {
	if s.User != "" || m.cfg == nil {
		return effects.ScriptCred{User: s.User, Group: s.Group}
	}
	return effects.ScriptCred{User: m.cfg.GlobalDefs.ScriptUser, Group: m.cfg.GlobalDefs.ScriptGroup}
}
