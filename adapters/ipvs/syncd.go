package ipvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/effects"
)

// The kernel's IPVS connection synchronisation daemons (ipvsadm
// --start-daemon): moby/ipvs has no call for them, so this file speaks
// the IPVS generic netlink commands itself (include/uapi/linux/ip_vs.h).

// Generic netlink commands and attributes of the IPVS family.
const (
	cmdNewDaemon = 9  // IPVS_CMD_NEW_DAEMON
	cmdDelDaemon = 10 // IPVS_CMD_DEL_DAEMON
	cmdGetDaemon = 11 // IPVS_CMD_GET_DAEMON

	cmdAttrDaemon = 3 // IPVS_CMD_ATTR_DAEMON, a nest of the below

	daemonAttrState       = 1 // u32: IP_VS_STATE_MASTER or _BACKUP
	daemonAttrMcastIfn    = 2 // NUL-terminated interface name
	daemonAttrSyncID      = 3 // u32
	daemonAttrSyncMaxLen  = 4 // u16
	daemonAttrMcastGroup  = 5 // in_addr
	daemonAttrMcastGroup6 = 6 // in6_addr
	daemonAttrMcastPort   = 7 // u16, host order
	daemonAttrMcastTTL    = 8 // u8

	// nlaTypeMask clears an attribute type's NLA_F_NESTED and
	// NLA_F_NET_BYTEORDER flags.
	nlaTypeMask = 0x3fff

	// ifNameMax is IP_VS_IFNAME_MAXLEN less the NUL.
	ifNameMax = 15
)

// netlinkTimeout bounds each send and receive of a sync daemon command
// (starting one waits for the kernel thread to start).
const netlinkTimeout = 10 * time.Second

// SyncState is a sync daemon's role, as the kernel numbers it.
type SyncState uint32

// Sync daemon roles.
const (
	SyncMaster SyncState = 1 // IP_VS_STATE_MASTER: sends the connections
	SyncBackup SyncState = 2 // IP_VS_STATE_BACKUP: receives them
)

func (s SyncState) String() string {
	switch s {
	case SyncMaster:
		return "master"
	case SyncBackup:
		return "backup"
	}
	return fmt.Sprintf("SyncState(%d)", uint32(s))
}

// SyncDaemon is one of the kernel's sync daemons. Zero MaxLen, Port, TTL
// and an invalid Group mean the kernel's defaults when starting one.
type SyncDaemon struct {
	State     SyncState
	Interface string
	SyncID    uint32
	MaxLen    uint16
	Port      uint16
	TTL       uint8
	Group     netip.Addr
}

// StartSyncDaemon starts a sync daemon. The kernel runs one daemon of
// each state: when one already runs (left by a vigil that crashed, or
// started by an operator) with the settings asked for, it is kept; with
// other settings, the kernel's refusal (EEXIST) is reported, as keepalived
// reports it, rather than the daemon restarted.
func (m *Manager) StartSyncDaemon(d SyncDaemon) error {
	if d.State != SyncMaster && d.State != SyncBackup {
		return fmt.Errorf("ipvs: starting a sync daemon: bad state %d", d.State)
	}
	if d.Interface == "" || len(d.Interface) > ifNameMax {
		return fmt.Errorf("ipvs: starting the %s sync daemon: bad interface name %q", d.State, d.Interface)
	}
	if d.Group.IsValid() && !d.Group.IsMulticast() {
		return fmt.Errorf("ipvs: starting the %s sync daemon: group %s is not multicast", d.State, d.Group)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err := daemonRequest(m.opts.Netns, cmdNewDaemon, 0, daemonAttrs(&d))
	if errors.Is(err, unix.EEXIST) && m.runsSyncDaemon(d) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ipvs: starting the %s sync daemon on %s (sync id %d): %w", d.State, d.Interface, d.SyncID, err)
	}
	return nil
}

// runsSyncDaemon reports whether the kernel runs d: a daemon of its state
// with its settings (each of d's defaults, zero, matches any value).
func (m *Manager) runsSyncDaemon(d SyncDaemon) bool {
	msgs, err := daemonRequest(m.opts.Netns, cmdGetDaemon, unix.NLM_F_DUMP, nil)
	if err != nil {
		return false
	}
	for _, b := range msgs {
		have, ok, err := ParseSyncDaemon(b)
		if err != nil || !ok || have.State != d.State {
			continue
		}
		return have.Interface == d.Interface && have.SyncID == d.SyncID && (d.MaxLen == 0 || have.MaxLen == d.MaxLen) &&
			(d.Port == 0 || have.Port == d.Port) && (d.TTL == 0 || have.TTL == d.TTL) && (!d.Group.IsValid() || have.Group == d.Group)
	}
	return false
}

// StopSyncDaemon stops the sync daemon of the given state (ESRCH when
// none runs).
func (m *Manager) StopSyncDaemon(s SyncState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	nest := nl.NewRtAttr(cmdAttrDaemon, nil)
	nest.AddRtAttr(daemonAttrState, nl.Uint32Attr(uint32(s)))
	if _, err := daemonRequest(m.opts.Netns, cmdDelDaemon, 0, nest); err != nil {
		return fmt.Errorf("ipvs: stopping the %s sync daemon: %w", s, err)
	}
	return nil
}

// SyncDaemons reads the sync daemons the kernel runs (master first).
func (m *Manager) SyncDaemons() ([]SyncDaemon, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	msgs, err := daemonRequest(m.opts.Netns, cmdGetDaemon, unix.NLM_F_DUMP, nil)
	if err != nil {
		return nil, fmt.Errorf("ipvs: reading the sync daemons: %w", err)
	}
	var out []SyncDaemon
	for _, b := range msgs {
		d, ok, err := ParseSyncDaemon(b)
		if err != nil {
			return nil, fmt.Errorf("ipvs: reading the sync daemons: %w", err)
		}
		if ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// daemonAttrs is the IPVS_CMD_ATTR_DAEMON nest starting d.
func daemonAttrs(d *SyncDaemon) *nl.RtAttr {
	nest := nl.NewRtAttr(cmdAttrDaemon, nil)
	nest.AddRtAttr(daemonAttrState, nl.Uint32Attr(uint32(d.State)))
	nest.AddRtAttr(daemonAttrMcastIfn, nl.ZeroTerminated(d.Interface))
	nest.AddRtAttr(daemonAttrSyncID, nl.Uint32Attr(d.SyncID))
	if d.MaxLen != 0 {
		nest.AddRtAttr(daemonAttrSyncMaxLen, nl.Uint16Attr(d.MaxLen))
	}
	if d.Port != 0 {
		nest.AddRtAttr(daemonAttrMcastPort, nl.Uint16Attr(d.Port))
	}
	if d.TTL != 0 {
		nest.AddRtAttr(daemonAttrMcastTTL, nl.Uint8Attr(d.TTL))
	}
	switch {
	case d.Group.Is4():
		a := d.Group.As4()
		nest.AddRtAttr(daemonAttrMcastGroup, a[:])
	case d.Group.Is6():
		a := d.Group.As16()
		nest.AddRtAttr(daemonAttrMcastGroup6, a[:])
	}
	return nest
}

// daemonRequest sends one IPVS command in the namespace at path ("" for
// the current one) and returns the payloads of the replies. The sync
// daemon commands are rare: each opens its own socket.
func daemonRequest(path string, cmd uint8, flags int, attr *nl.RtAttr) ([][]byte, error) {
	h, err := genlHandle(path)
	if err != nil {
		return nil, err
	}
	fam, err := h.GenlFamilyGet("IPVS")
	h.Close()
	if err != nil {
		return nil, fmt.Errorf("looking up the IPVS netlink family: %w", err)
	}
	ns := netns.None()
	if path != "" {
		if ns, err = netns.GetFromPath(path); err != nil {
			return nil, fmt.Errorf("network namespace %s: %w", path, err)
		}
		defer ns.Close()
	}
	sock, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_GENERIC)
	if err != nil {
		return nil, fmt.Errorf("generic netlink socket: %w", err)
	}
	defer sock.Close()
	tv := unix.NsecToTimeval(int64(netlinkTimeout))
	if err := sock.SetSendTimeout(&tv); err != nil {
		return nil, err
	}
	if err := sock.SetReceiveTimeout(&tv); err != nil {
		return nil, err
	}
	req := nl.NewNetlinkRequest(int(fam.ID), unix.NLM_F_ACK|flags)
	req.AddData(&nl.Genlmsg{Command: cmd, Version: 1})
	if attr != nil {
		req.AddData(attr)
	}
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_GENERIC: {Socket: sock}}
	msgs, err := req.Execute(unix.NETLINK_GENERIC, 0)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) && errno == unix.EAGAIN {
			return nil, fmt.Errorf("no answer from the kernel in %s: %w", netlinkTimeout, err)
		}
		return nil, err
	}
	return msgs, nil
}

// ParseSyncDaemon decodes one IPVS_CMD_GET_DAEMON reply (the generic
// netlink header and its attributes); ok is false when the reply holds
// no daemon. It never panics on malformed input (FuzzParseSyncDaemon).
func ParseSyncDaemon(b []byte) (d SyncDaemon, ok bool, err error) {
	if len(b) < nl.SizeofGenlmsg {
		return d, false, errors.New("short generic netlink message")
	}
	attrs, err := parseAttrs(b[nl.SizeofGenlmsg:])
	if err != nil {
		return d, false, err
	}
	for _, a := range attrs {
		if a.typ&nlaTypeMask != cmdAttrDaemon {
			continue
		}
		inner, err := parseAttrs(a.val)
		if err != nil {
			return d, false, fmt.Errorf("daemon attribute: %w", err)
		}
		for _, x := range inner {
			v := x.val
			switch x.typ & nlaTypeMask {
			case daemonAttrState:
				if len(v) >= 4 {
					d.State = SyncState(binary.NativeEndian.Uint32(v))
				}
			case daemonAttrMcastIfn:
				n := 0
				for n < len(v) && v[n] != 0 {
					n++
				}
				d.Interface = string(v[:n])
			case daemonAttrSyncID:
				if len(v) >= 4 {
					d.SyncID = binary.NativeEndian.Uint32(v)
				}
			case daemonAttrSyncMaxLen:
				if len(v) >= 2 {
					d.MaxLen = binary.NativeEndian.Uint16(v)
				}
			case daemonAttrMcastPort:
				if len(v) >= 2 {
					d.Port = binary.NativeEndian.Uint16(v)
				}
			case daemonAttrMcastTTL:
				if len(v) >= 1 {
					d.TTL = v[0]
				}
			case daemonAttrMcastGroup:
				if a, ok := netip.AddrFromSlice(v); ok && len(v) == 4 {
					d.Group = a
				}
			case daemonAttrMcastGroup6:
				if a, ok := netip.AddrFromSlice(v); ok && len(v) == 16 {
					d.Group = a
				}
			}
		}
		return d, true, nil
	}
	return d, false, nil
}

type rawAttr struct {
	typ uint16
	val []byte
}

// parseAttrs splits netlink attributes, checking every length.
func parseAttrs(b []byte) ([]rawAttr, error) {
	var out []rawAttr
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b))
		t := binary.NativeEndian.Uint16(b[2:])
		if l < 4 || l > len(b) {
			return nil, fmt.Errorf("attribute %d: bad length %d (%d bytes left)", t, l, len(b))
		}
		out = append(out, rawAttr{typ: t, val: b[4:l]})
		l = (l + 3) &^ 3
		if l > len(b) {
			l = len(b)
		}
		b = b[l:]
	}
	return out, nil
}

// syncDaemon executes an IPVSSyncDaemon effect.
func (x *Executor) syncDaemon(e *effects.IPVSSyncDaemon) error {
	var s SyncState
	switch e.State {
	case effects.SyncDaemonMaster:
		s = SyncMaster
	case effects.SyncDaemonBackup:
		s = SyncBackup
	default:
		return fmt.Errorf("ipvs: sync daemon: bad state %v", e.State)
	}
	switch e.Op {
	case effects.SyncDaemonStart:
		d := SyncDaemon{State: s, Interface: e.Interface, SyncID: uint32(e.SyncID), Group: e.Group}
		if e.MaxLen < 0 || e.MaxLen > 65535 || e.Port < 0 || e.Port > 65535 || e.TTL < 0 || e.TTL > 255 {
			return fmt.Errorf("ipvs: sync daemon: maxlen %d, port %d or ttl %d out of range", e.MaxLen, e.Port, e.TTL)
		}
		d.MaxLen, d.Port, d.TTL = uint16(e.MaxLen), uint16(e.Port), uint8(e.TTL)
		return x.m.StartSyncDaemon(d)
	case effects.SyncDaemonStop:
		err := x.m.StopSyncDaemon(s)
		if e.IfRunning && errors.Is(err, unix.ESRCH) {
			return nil // none ran: nothing to clear
		}
		return err
	}
	return fmt.Errorf("ipvs: sync daemon: bad operation %v", e.Op)
}
