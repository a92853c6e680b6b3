package vrrp

import (
	"github.com/vigil-ha/vigil/effects"
)

// The IPVS connection synchronisation daemon (global_defs
// lvs_sync_daemon INTERFACE VRRP_INSTANCE ..., or a vrrp_instance's
// lvs_sync_daemon_interface) follows the VRRP instance it names, as
// keepalived's VRRP process drives it (vrrp_init_state,
// vrrp_state_become_master, vrrp_state_leave_master, and its shutdown):
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
//     instance is MASTER, else the backup one);
//   - at a reload, the daemon is compared with what the new
//     configuration and the instance's state ask for: unchanged, nothing
//     happens; changed settings stop the running daemon and start the
//     one wanted with the new ones (keepalived's reload aims at the same
//     end by restarting both); lvs_sync_daemon removed stops it, added
//     starts the one the instance's state calls for.
//
// The sync id is the configured one, else the instance's VRID. The
// engine remembers the daemon it asked for (syncd, part of the snapshot)
// and only ever stops a daemon it started, so the effects are a minimal
// diff in keepalived's order: the old daemon stops before the new one
// starts.

// syncdWant is the daemon the configuration and its instance's state ask
// for now, or nil.
func (m *Machine) syncdWant() *effects.IPVSSyncDaemon {
	if m.cfg == nil || !m.started || m.stopped {
		return nil
	}
	sd := m.cfg.GlobalDefs.LVSSyncDaemon
	if sd == nil || sd.Instance == "" {
		return nil
	}
	i := m.byName[sd.Instance]
	if i == nil {
		return nil
	}
	e := &effects.IPVSSyncDaemon{Op: effects.SyncDaemonStart, Interface: sd.Interface, SyncID: i.vrid,
		MaxLen: sd.MaxLen, Port: sd.Port, TTL: sd.TTL, Group: sd.Group}
	if sd.SyncID != nil {
		e.SyncID = uint8(*sd.SyncID)
	}
	switch i.dyn.State {
	case effects.StateMaster:
		e.State = effects.SyncDaemonMaster
	case effects.StateStop, effects.StateDeleted:
		return nil
	default:
		e.State = effects.SyncDaemonBackup
	}
	return e
}

// syncdApply makes the daemon the engine has asked for the one wanted:
// the running one stops first, then the wanted one starts. It does
// nothing during a reload, which applies it once at its end.
func (m *Machine) syncdApply() {
	if m.reloading {
		return
	}
	want := m.syncdWant()
	if have := m.syncd; have != nil {
		if want != nil && *want == *have {
			return
		}
		stop := *have
		stop.Op = effects.SyncDaemonStop
		m.out.add(&stop)
		m.syncd = nil
	}
	if want != nil {
		m.out.add(want)
		c := *want
		m.syncd = &c
	}
}
