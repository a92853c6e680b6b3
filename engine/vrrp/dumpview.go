package vrrp

import (
	"net/netip"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// View is a read-only copy of what keepalived's data and JSON dumps show
// of the VRRP machine (SIGUSR1, the JSON signal). Configuration pointers
// are shared with the machine and must not be modified. Taking a View
// changes nothing.
type View struct {
	// Now is the engine's current time (that of the last event).
	Now       events.Time
	Config    *conf.Config
	Instances []InstanceView
	Groups    []GroupView
	Scripts   []ScriptView
	Files     []FileView
	Procs     []ProcView
}

// InstanceView is one vrrp_instance's configuration and dynamic state.
type InstanceView struct {
	Config *conf.Instance
	Name   string
	// SyncGroup is the group the engine runs the instance in ("" if none).
	SyncGroup string
	State     effects.State
	Want      effects.State
	Version   int
	Family    int
	VRID      int
	// Interface is the interface adverts use ("" for interface-less
	// unicast).
	Interface string
	// Base is the configured priority, Effective the one in adverts and
	// Total the base plus every tracking weight before clamping to 1..254.
	Base, Effective, Total int
	// AdvertInt is the configured interval (rounded as the engine runs
	// it), MasterAdvertInt the one learnt from the master (VRRPv3) and
	// MasterDown the master-down interval at the current priority.
	AdvertInt, MasterAdvertInt, MasterDown time.Duration
	// MasterSrc and MasterPrio are the last master seen by a BACKUP.
	MasterSrc  netip.Addr
	MasterPrio int
	// VIPSet reports whether the VIPs are installed.
	VIPSet bool
	// OldChecksum reports an automatic switch to the old unicast
	// checksum (a peer used it).
	OldChecksum bool
	// Timer is the instance's next protocol deadline (advert when MASTER,
	// master-down when BACKUP); 0 when none is armed.
	Timer events.Time
	// Src is the advert source address: configured (SrcConfigured) or the
	// interface's primary address of the instance's family; invalid when
	// the interface has none.
	Src           netip.Addr
	SrcConfigured bool
	Unicast       bool
	// McastGroup is the destination of multicast adverts.
	McastGroup netip.Addr
	// VIPs and EVIPs have their interface resolved.
	VIPs, EVIPs []conf.Address
	// Tracks lists the instance's own and its sync group's tracked
	// objects with the weights that apply to it.
	Tracks []TrackView
	// Faults counts tracked objects (the interface included) that hold the
	// instance in FAULT; ScriptsInit the unweighted scripts and processes
	// that have not reported yet.
	Faults, ScriptsInit int
	// Fault and FaultWhy: whether what it tracks (or a deaf socket) holds
	// it in FAULT, and the first reason; Parts is every object behind its
	// fault status and Effective priority, as the engine decided them.
	Fault    bool
	FaultWhy string
	Parts    []TrackPart
	// The armed deadlines (0: none): adverts, master-down (MasterDownWhy is the
	// rule that fires with it), the second GARP burst, the lower-priority
	// GARP burst, the GARP refresh, and when preempt_delay allows a
	// preemption.
	AdvertAt, MasterDownAt, SecondGARPAt, LowerPrioGARPAt, GARPRefreshAt, PreemptAt events.Time
	MasterDownWhy                                                                   string
}

// TrackView is one tracked object of an instance.
type TrackView struct {
	// Kind is "interface", "script", "file", "process" or "bfd".
	Kind    string
	Name    string
	Weight  int
	Reverse bool
}

// GroupView is a vrrp_sync_group.
type GroupView struct {
	Config  *conf.SyncGroup
	State   effects.State
	Members []string
}

// ScriptView is a vrrp_script and its rise/fall state.
type ScriptView struct {
	Config *conf.VRRPScript
	// Result is keepalived's result counter; OK its status; Init is set
	// until the first result.
	Result int
	OK     bool
	Init   bool
	// Users lists the instances tracking the script with their weights.
	Users []UserView
}

// FileView is a track_file and its current value.
type FileView struct {
	Config *conf.TrackFile
	Value  int64
	Users  []UserView
}

// ProcView is a vrrp_track_process and its current process count.
type ProcView struct {
	Config *conf.TrackProcess
	Count  int
	// Known is false until the process tracker has reported.
	Known  bool
	Quorum bool
	Users  []UserView
}

// UserView is an instance that tracks an object, with its weight.
type UserView struct {
	Instance string
	Weight   int
	Reverse  bool
}

// name is the kind as the dump shows it.
func (k trackKind) name() string {
	switch k {
	case trackKindInterface:
		return "interface"
	case trackKindScript:
		return "script"
	case trackKindFile:
		return "file"
	case trackKindProcess:
		return "process"
	case trackKindBFD:
		return "bfd"
	}
	return ""
}

// View returns the dump view of the machine.
func (m *Machine) View() *View {
	v := &View{Now: m.now, Config: m.cfg}
	for _, i := range m.instances {
		v.Instances = append(v.Instances, m.instanceView(i))
	}
	for _, g := range m.syncGroups {
		gv := GroupView{Config: g.cfg, State: g.dyn.State}
		for _, i := range g.members {
			gv.Members = append(gv.Members, i.name)
		}
		v.Groups = append(v.Groups, gv)
	}
	for k, s := range m.scripts {
		v.Scripts = append(v.Scripts, ScriptView{Config: s.cfg, Result: s.dyn.Result, OK: s.dyn.OK, Init: s.dyn.Init,
			Users: m.users(trackKindScript, k)})
	}
	for k, f := range m.files {
		v.Files = append(v.Files, FileView{Config: f.cfg, Value: f.dyn.Value, Users: m.users(trackKindFile, k)})
	}
	for k, p := range m.processes {
		v.Procs = append(v.Procs, ProcView{Config: p.cfg, Count: p.dyn.Count, Known: p.dyn.Known, Quorum: p.ok(),
			Users: m.users(trackKindProcess, k)})
	}
	return v
}

// users lists the instances whose tracking refers to object idx of kind.
func (m *Machine) users(kind trackKind, idx int) []UserView {
	var out []UserView
	for _, i := range m.instances {
		for _, r := range i.tracks {
			if r.kind == kind && r.idx == idx {
				out = append(out, UserView{Instance: i.name, Weight: r.weight, Reverse: r.reverse})
			}
		}
	}
	return out
}

func (m *Machine) instanceView(i *instance) InstanceView {
	v := InstanceView{Config: i.cfg, Name: i.name, State: i.dyn.State, Want: i.dyn.Want, Version: int(i.version),
		Family: i.family, VRID: int(i.vrid), Interface: i.iface, Base: i.basePrio, Effective: i.dyn.Priority,
		AdvertInt: i.advertInt, MasterAdvertInt: i.dyn.MasterAdvertInt, MasterDown: i.masterDownInterval(),
		MasterSrc: i.dyn.MasterSrc, MasterPrio: i.dyn.MasterPrio, VIPSet: i.dyn.VIPSet, OldChecksum: i.dyn.OldChecksum, Unicast: i.unicast,
		VIPs: i.vips[:i.numVIPs], EVIPs: i.vips[i.numVIPs:],
		AdvertAt: i.dyn.AdvertAt, MasterDownAt: i.dyn.MasterDownAt, SecondGARPAt: i.dyn.SecondGARPAt, LowerPrioGARPAt: i.dyn.LowerPrioGARPAt,
		GARPRefreshAt: i.dyn.GARPRefreshAt, PreemptAt: i.dyn.PreemptAt, MasterDownWhy: i.dyn.MasterDownWhy}
	if g := m.syncGroupOf(i); g != nil {
		v.SyncGroup = g.cfg.Name
	}
	switch i.dyn.State {
	case effects.StateMaster:
		v.Timer = i.dyn.AdvertAt
	case effects.StateBackup:
		v.Timer = i.dyn.MasterDownAt
	}
	if !i.unicast {
		v.McastGroup = i.mcastGroup()
	}
	v.Src, v.SrcConfigured = m.primary(i), i.src.IsValid()
	for _, r := range i.tracks {
		name := r.name
		switch r.kind {
		case trackKindScript:
			name = m.scripts[r.idx].cfg.Name
		case trackKindFile:
			name = m.files[r.idx].cfg.Name
		case trackKindProcess:
			name = m.processes[r.idx].cfg.Name
		case trackKindBFD:
			name = m.bfds[r.idx].cfg.Name
		}
		v.Tracks = append(v.Tracks, TrackView{Kind: r.kind.name(), Name: name, Weight: r.weight, Reverse: r.reverse})
	}
	e := m.evaluate(i, &v.Parts)
	v.Total, v.Faults, v.ScriptsInit = e.Total, e.Faults, e.Inits
	v.Fault, v.FaultWhy = e.Fault, e.Why
	return v
}
