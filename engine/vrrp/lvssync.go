package vrrp

import (
	"slices"

	"github.com/vigil-ha/vigil/effects"
)

// The IPVS connection synchronisation daemons (global_defs
// lvs_sync_daemon INTERFACE [VRRP_INSTANCE] ..., or a vrrp_instance's
// lvs_sync_daemon_interface).
//
// With a VRRP instance, one daemon follows the instance, as keepalived's
// VRRP process drives it (vrrp_init_state, vrrp_state_become_master,
// vrrp_state_leave_master, and its shutdown):
//
//   - at a start, once the instances are started and before any leaves
//     INIT, the backup daemon is started, whatever state the instance
//     will reach (an address owner goes MASTER at once, and swaps);
//   - entering MASTER, the backup daemon is stopped, then the master
//     daemon started, so that the new master sends the connections;
//   - leaving MASTER (for BACKUP or FAULT), the master daemon is stopped,
//     then the backup daemon started; BACKUP and FAULT change nothing
//     between them (a FAULT director keeps receiving);
//   - at a stop, the daemon running is stopped (the master daemon if the
//     instance is MASTER, else the backup one).
//
// The sync id is then the configured one, else the instance's VRID.
//
// Without a VRRP instance, keepalived's checker process runs both daemons
// for as long as it runs (check_daemon.c start_check and
// checker_terminate_phase2), so only with virtual servers (without any,
// or with -P, keepalived starts no checker process):
//
//   - at a start (or when a reload first asks for them), the master and
//     the backup daemons a crashed predecessor may have left are stopped,
//     whatever their settings (IfRunning: the kernel's "no such daemon"
//     is no error), then the master daemon and the backup daemon are
//     started, with the configured sync id, else 0;
//   - at a stop, the master daemon and then the backup daemon stop.
//
// At a reload, the daemons are compared with what the new configuration
// (and the instance's state) asks for: unchanged, nothing happens;
// changed settings stop the running daemons and start the wanted ones
// with the new ones; lvs_sync_daemon removed (or, without an instance,
// the last virtual server) stops them, added starts them; a change
// between the two forms is one such change. keepalived's reloads aim at
// the same end with more churn or noise: its checker stops and restarts
// both daemons, or asks the kernel to start them again and logs the
// refusals, and leaves them running when lvs_sync_daemon is removed (and
// at its exit: it then stops only the daemons its configuration names).
//
// The engine remembers the daemons it asked for (syncd, part of the
// snapshot) and only ever stops a daemon it started (bar the IfRunning
// stops at a start), so the effects are a minimal diff in keepalived's
// order: the old daemons stop before the new ones start, the master's
// before the backup's.

// syncdWant is the daemons the configuration and its instance's state ask
// for now, the master daemon first.
func (m *Machine) syncdWant() []effects.IPVSSyncDaemon {
	if m.cfg == nil || !m.started || m.stopped {
		return nil
	}
	sd := m.cfg.GlobalDefs.LVSSyncDaemon
	if sd == nil {
		return nil
	}
	e := effects.IPVSSyncDaemon{Op: effects.SyncDaemonStart, Interface: sd.Interface,
		MaxLen: sd.MaxLen, Port: sd.Port, TTL: sd.TTL, Group: sd.Group}
	if sd.SyncID != nil {
		e.SyncID = uint8(*sd.SyncID)
	}
	if sd.Instance == "" {
		if len(m.cfg.VirtualServers) == 0 {
			return nil
		}
		master, backup := e, e
		master.State, backup.State = effects.SyncDaemonMaster, effects.SyncDaemonBackup
		return []effects.IPVSSyncDaemon{master, backup}
	}
	i := m.byName[sd.Instance]
	if i == nil {
		return nil
	}
	if sd.SyncID == nil {
		e.SyncID = i.vrid
	}
	switch i.dyn.State {
	case effects.StateMaster:
		e.State = effects.SyncDaemonMaster
	case effects.StateStop, effects.StateDeleted:
		return nil
	default:
		e.State = effects.SyncDaemonBackup
	}
	return []effects.IPVSSyncDaemon{e}
}

// syncdApply makes the daemons the engine has asked for the ones wanted:
// those that go stop first, then those that come start. It does nothing
// during a reload, which applies it once at its end.
func (m *Machine) syncdApply() {
	if m.reloading {
		return
	}
	want := m.syncdWant()
	if slices.Equal(want, m.syncd) {
		return
	}
	if len(want) == 2 && len(m.syncd) == 0 {
		// Both daemons, none of ours running: those a crashed
		// predecessor may have left go first, as keepalived's checker
		// clears them when it starts.
		for _, w := range want {
			m.out.add(&effects.IPVSSyncDaemon{Op: effects.SyncDaemonStop, State: w.State, IfRunning: true})
		}
	}
	for _, have := range m.syncd {
		if !slices.Contains(want, have) {
			stop := have
			stop.Op = effects.SyncDaemonStop
			m.out.add(&stop)
		}
	}
	for _, w := range want {
		if !slices.Contains(m.syncd, w) {
			start := w // the effect is the caller's to read, syncd ours
			m.out.add(&start)
		}
	}
	m.syncd = want
}
