package dumps

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine/vrrp"
	"github.com/vigil-ha/vigil/events/conf"
)

// WriteData writes keepalived's data dump (SIGUSR1, /tmp/keepalived.data)
// as its VRRP process writes it: global definitions, static addresses,
// routes and rules, the VRRP topology, sync groups, track scripts, track
// files and track processes, in keepalived 2.2.7's words and order.
//
// Deliberately left out (they describe keepalived's process and sockets,
// not the VRRP state): the per-instance "fd_in N, fd_out N" line, the
// "VRRP Sockpool" and "Interfaces" sections, and the process, SNMP, DBus,
// nftables and buffer lines of the global section (see writeGlobal).
func WriteData(w io.Writer, in *Input) error {
	b := bufio.NewWriter(w)
	p := func(f string, a ...any) { fmt.Fprintf(b, f+"\n", a...) }
	v := in.View
	if v.Config != nil {
		writeGlobal(b, in)
		c := v.Config
		if len(c.StaticAddresses) > 0 {
			p("------< Static Addresses >------")
			for _, a := range c.StaticAddresses {
				// vigil installs static addresses at start.
				p("     %s", formatAddress(a, "", true))
			}
		}
		if len(c.StaticRoutes) > 0 {
			p("------< Static Routes >------")
			for _, r := range c.StaticRoutes {
				p("     %s", formatRoute(r))
			}
		}
		if len(c.StaticRules) > 0 {
			p("------< Static Rules >------")
			for _, r := range c.StaticRules {
				p("     %s", formatRule(r))
			}
		}
	}
	if len(v.Instances) > 0 {
		p("------< VRRP Topology >------")
		for k := range v.Instances {
			writeInstance(p, in, &v.Instances[k])
		}
	}
	if len(v.Groups) > 0 {
		p("------< VRRP Sync groups >------")
		for k := range v.Groups {
			writeGroup(p, in, &v.Groups[k])
		}
	}
	if len(v.Scripts) > 0 {
		p("------< VRRP Scripts >------")
		for k := range v.Scripts {
			writeScript(p, in, &v.Scripts[k])
		}
	}
	if len(v.Files) > 0 {
		p("------< VRRP Track files >------")
		for k := range v.Files {
			f := &v.Files[k]
			p(" Track file = %s", f.Config.Name)
			p("   File = %s", f.Config.File)
			p("   Status = %d", f.Value)
			p("   Weight = %d%s", f.Config.Weight, yesNo(f.Config.WeightReverse, " reverse", ""))
			writeUsers(p, "   Tracking instances :", f.Users)
		}
	}
	if len(v.Procs) > 0 {
		p("------< VRRP Track processes >------")
		for k := range v.Procs {
			writeProcess(p, &v.Procs[k])
		}
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("data dump: %w", err)
	}
	return nil
}

type printer func(f string, a ...any)

func stateStr(s effects.State) string {
	switch s {
	case effects.StateInit, effects.StateBackup, effects.StateMaster, effects.StateFault:
		return s.String()
	}
	return "unknown"
}

func writeInstance(p printer, in *Input, i *vrrp.InstanceView) {
	c := i.Config
	p(" VRRP Instance = %s", i.Name)
	p("   VRRP Version = %d", i.Version)
	if i.SyncGroup != "" {
		p("   Sync group = %s", i.SyncGroup)
	}
	if i.Family == 6 {
		p("   Using Native IPv6")
	}
	p("   State = %s", stateStr(i.State))
	if i.State == effects.StateBackup {
		src := "(none)"
		if i.MasterSrc.IsValid() {
			src = i.MasterSrc.String()
		}
		p("   Master router = %s", src)
		p("   Master priority = %d", i.MasterPrio)
		if i.Version == 3 {
			p("   Master advert int = %.2f sec", i.MasterAdvertInt.Seconds())
		}
	}
	switch {
	case i.Unicast || c.UnicastFaultNoPeer:
		p("   Flags:")
		if i.Unicast {
			p("     Using unicast")
		}
		if c.UnicastFaultNoPeer {
			p("     If unicast go to fault state if no peers")
		}
	default:
		p("   Flags: none")
	}
	p("   Wantstate = %s", stateStr(i.Want))
	p("   Number of config faults = 0")
	p("   Number of interface and track script faults = %d", i.Faults)
	p("   Number of track scripts init = %d", i.ScriptsInit)
	p("   Last transition = %s", timeUS(lastTransition(in, i.Name)))
	if i.Timer == 0 {
		p("   Read timeout = DISABLED")
	} else {
		p("   Read timeout = %s", timeUS(in.wall(i.Timer)))
	}
	p("   Master down timer = %d usecs", i.MasterDown/time.Microsecond)
	if vm := vmacName(i); vm != "" {
		p("   Use VMAC, i/f name %s, is_up = %t, xmit_base = %t", vm, i.State != effects.StateFault, c.VMACXmitBase)
		p("   Interface = %s, vmac on %s%s", vm, i.Interface, yesNo(c.VMACXmitBase, ", xmit base i/f", ""))
	} else {
		p("   Interface = %s", or(i.Interface, "not configured"))
	}
	if c.VRF != "" {
		p("   VRF = %s", c.VRF)
	}
	if c.DontTrackPrimary {
		p("   VRRP interface tracking disabled")
	}
	if c.SkipCheckAdvAddr {
		p("   Skip checking advert IP addresses")
	}
	if c.StrictMode {
		p("   Enforcing strict VRRP compliance")
	}
	src := "(none)"
	if i.Src.IsValid() {
		src = i.Src.String()
	}
	p("   Using src_ip = %s%s", src, yesNo(i.SrcConfigured, " (from configuration)", ""))
	if !i.Unicast {
		if i.Family == 4 {
			p("   Multicast address %s", i.McastGroup)
		} else {
			// keepalived adds the interface index, a kernel detail the
			// engine does not hold: vigil prints the interface name.
			p("   Multicast address %s, ifindex %s", i.McastGroup, i.Interface)
		}
	}
	p("   Gratuitous ARP delay = %d", c.GARPMasterDelay.Std()/time.Second)
	p("   Gratuitous ARP repeat = %d", c.GARPMasterRepeat)
	p("   Gratuitous ARP refresh = %d", c.GARPMasterRefresh.Std()/time.Second)
	p("   Gratuitous ARP refresh repeat = %d", c.GARPMasterRefreshRepeat)
	p("   Gratuitous ARP lower priority delay = %d", c.GARPLowerPrioDelay.Std()/time.Second)
	p("   Gratuitous ARP lower priority repeat = %d", c.GARPLowerPrioRepeat)
	p("   Down timer adverts = %d", max(c.DownTimerAdverts, 1))
	if d := c.GARPExtraIf.Std(); d >= time.Second {
		p("   Gratuitous ARP for each secondary %s = %d", yesNo(c.GARPExtraIfAll, "i/f", "VMAC"), d/time.Second)
	}
	p("   Send advert after receive lower priority advert = %t", !c.LowerPrioNoAdvert)
	p("   Send advert after receive higher priority advert = %t", c.HigherPrioSendAdvert)
	p("   Virtual Router ID = %d", i.VRID)
	p("   Priority = %d", i.Base)
	p("   Effective priority = %d", i.Effective)
	p("   Total priority = %d", i.Total)
	if i.Version == 2 {
		p("   Advert interval = %d sec", i.AdvertInt/time.Second)
	} else {
		p("   Advert interval = %d milli-sec", i.AdvertInt/time.Millisecond)
	}
	if i.State == effects.StateBackup && i.Version == 3 {
		p("   Master advert interval = %d milli-sec", i.MasterAdvertInt/time.Millisecond)
	}
	p("   Accept = %s", yesNo(c.Accept, "enabled", "disabled"))
	p("   Preempt = %s", yesNo(c.NoPreempt, "disabled", "enabled"))
	if d := c.PreemptDelay.Std(); d > 0 {
		p("   Preempt delay = %s secs", cFormatG(d.Seconds()))
	}
	p("   Promote_secondaries = %s", yesNo(c.PromoteSecondaries, "enabled", "disabled"))
	switch authType(i) {
	case 1:
		p("   Authentication type = SIMPLE_PASSWORD")
		p("   Password = %s", c.AuthPass)
	case 2:
		p("   Authentication type = IPSEC_AH")
	default:
		if i.Version == 2 {
			p("   Authentication type = none")
		}
	}
	if c.KernelRxBufSize > 0 {
		p("   Kernel rx buffer size = %d", c.KernelRxBufSize)
	}
	if c.Debug > 0 {
		p("   Debug level = %d", c.Debug)
	}
	if len(i.VIPs) > 0 {
		p("   Virtual IP (%d):", len(i.VIPs))
		for _, a := range i.VIPs {
			p("     %s", formatAddress(a, vmacBase(i, a), i.VIPSet))
		}
	}
	if len(i.EVIPs) > 0 {
		p("   Virtual IP Excluded :")
		for _, a := range i.EVIPs {
			p("     %s", formatAddress(a, vmacBase(i, a), i.VIPSet))
		}
	}
	if i.Unicast {
		if c.UnicastTTL > 0 && c.UnicastTTL != conf.DefaultUnicastTTL {
			p("   Unicast TTL = %d", c.UnicastTTL)
		}
		p("   Check unicast src : %s", yesNo(c.CheckUnicastSrc || in.View.Config.GlobalDefs.VRRPCheckUnicastSrc, "yes", "no"))
		p("   Unicast Peer :")
		for _, peer := range c.UnicastPeers {
			maxTTL := peer.MaxTTL
			if maxTTL == 0 {
				maxTTL = 255
			}
			p("     %s min_ttl %d max_ttl %d", peer.Addr, peer.MinTTL, maxTTL)
		}
		p("   Unicast checksum compatibility = %s", checksumCompat(c, i.OldChecksum))
	}
	if len(c.VirtualRoutes) > 0 {
		p("   Virtual Routes :")
		for _, r := range c.VirtualRoutes {
			p("     %s", formatRoute(r))
		}
	}
	if len(c.VirtualRules) > 0 {
		p("   Virtual Rules :")
		for _, r := range c.VirtualRules {
			p("     %s", formatRule(r))
		}
	}
	writeTracks(p, i.Tracks, map[string]string{"interface": "   Tracked interfaces :", "script": "   Tracked scripts :",
		"file": "   Tracked files :", "process": "   Tracked processes :", "bfd": "   Tracked BFDs :"})
	p("   Using smtp notification = %s", yesNo(c.SMTPAlert, "yes", "no"))
	p("   Notify deleted = %s", yesNo(c.Notify.SendDeleted, "Deleted", "Fault"))
	n := &c.Notify
	notifyLine(p, in, n.Backup, "Backup")
	notifyLine(p, in, n.Master, "Master")
	notifyLine(p, in, n.Fault, "Fault")
	notifyLine(p, in, n.Stop, "Stop")
	notifyLine(p, in, n.Deleted, "Deleted")
	notifyLine(p, in, n.Notify, "Generic")
	notifyLine(p, in, n.MasterRxLowerPri, "Master rx lower pri")
	p("   Notify priority changes = %t", c.NotifyPriorityChanges)
}

func checksumCompat(c *conf.Instance, auto bool) string {
	switch {
	case c.OldUnicastChecksumNever:
		return "never"
	case c.OldUnicastChecksum:
		return "config"
	case auto:
		return "auto"
	}
	return "no"
}

// writeTracks prints an instance's tracked objects by kind, in
// keepalived's order and formats.
func writeTracks(p printer, ts []vrrp.TrackView, heads map[string]string) {
	for _, kind := range []string{"interface", "script", "file", "process", "bfd"} {
		first := true
		for _, t := range ts {
			if t.Kind != kind {
				continue
			}
			if first {
				p("%s", heads[kind])
				first = false
			}
			rev := yesNo(t.Reverse, " reverse", "")
			switch kind {
			case "interface", "script":
				p("     %s weight %d%s", t.Name, t.Weight, rev)
			case "bfd":
				p("     %s: weight %d%s", t.Name, t.Weight, rev)
			default:
				p("     %s, weight %d%s", t.Name, t.Weight, rev)
			}
		}
	}
}

func notifyLine(p printer, in *Input, s *conf.Script, what string) {
	if s == nil {
		return
	}
	uid, gid := in.scriptIDs(s)
	p("   %s state transition script = %s, uid:gid %d:%d", what, in.cmdStr(s), uid, gid)
}

// scriptIDs are the ids a script runs as: its own user, else the default
// script user.
func (in *Input) scriptIDs(s *conf.Script) (int, int) {
	if s.User != "" {
		return in.ids(s.User, s.Group)
	}
	return in.ScriptUID, in.ScriptGID
}

func writeGroup(p printer, in *Input, g *vrrp.GroupView) {
	c := g.Config
	faults, inits := 0, 0
	for _, name := range g.Members {
		for k := range in.View.Instances {
			i := &in.View.Instances[k]
			if i.Name != name {
				continue
			}
			switch i.State {
			case effects.StateFault:
				faults++
			case effects.StateInit:
				inits++
			}
		}
	}
	p(" VRRP Sync Group = %s, %s", c.Name, stateStr(g.State))
	p("   Num member fault %d, num member init %d", faults, inits)
	if len(g.Members) > 0 {
		p("   VRRP member instances :")
		for _, m := range g.Members {
			p("     %s", m)
		}
	}
	if c.SyncGroupTrackingWeight {
		p("   sync group tracking weight set")
	}
	p("   Using smtp notification = %s", yesNo(c.SMTPAlert, "yes", "no"))
	if c.NotifyPriorityChanges != nil {
		p("   Notify priority changes = %s", yesNo(*c.NotifyPriorityChanges, "yes", "no"))
	}
	var ts []vrrp.TrackView
	add := func(kind string, refs []conf.TrackRef) {
		for _, r := range refs {
			w := 0
			if r.Weight != nil {
				w = *r.Weight
			}
			ts = append(ts, vrrp.TrackView{Kind: kind, Name: r.Name, Weight: w, Reverse: r.Reverse})
		}
	}
	add("interface", c.TrackInterfaces)
	add("script", c.TrackScripts)
	add("file", c.TrackFiles)
	add("process", c.TrackProcesses)
	add("bfd", c.TrackBFDs)
	writeTracks(p, ts, map[string]string{"interface": "   Tracked interfaces :", "script": "   Tracked scripts :",
		"file": "   Tracked files :", "process": "   Tracked process :", "bfd": "   Tracked BFDs :"})
	n := &c.Notify
	groupNotify := func(s *conf.Script, what string) {
		if s == nil {
			return
		}
		uid, gid := in.scriptIDs(s)
		p("   %s state transition script = %s, uid:gid %d:%d", what, in.cmdStr(s), uid, gid)
	}
	groupNotify(n.Backup, "Backup")
	groupNotify(n.Master, "Master")
	groupNotify(n.Fault, "Fault")
	groupNotify(n.Stop, "Stop")
	groupNotify(n.Notify, "Generic")
}

// writeUsers is keepalived's dump_tracking_obj_list: nothing at all when
// no instance tracks the object.
func writeUsers(p printer, head string, us []vrrp.UserView) {
	if len(us) == 0 {
		return
	}
	p("%s", head)
	for _, u := range us {
		p("     %s, weight %d%s", u.Instance, u.Weight, yesNo(u.Reverse, " reverse", ""))
	}
}

func writeScript(p printer, in *Input, s *vrrp.ScriptView) {
	c := s.Config
	p(" VRRP Script = %s", c.Name)
	p("   Command = %s", in.cmdStr(&c.Script))
	interval := c.Interval.Std()
	if interval <= 0 {
		interval = time.Second
	}
	// keepalived prints 0 when no timeout is configured (the script
	// then runs with its interval as the timeout); the configuration
	// model holds the effective value, which vigil prints (deliberate
	// difference).
	p("   Interval = %d sec", interval/time.Second)
	p("   Timeout = %d sec", c.Timeout.Std()/time.Second)
	p("   Weight = %d%s", c.Weight, yesNo(c.WeightReverse, " reverse", ""))
	p("   Rise = %d", max(c.Rise, 1))
	p("   Fall = %d", max(c.Fall, 1))
	p("   Result = %d", s.Result)
	p("   Insecure = no")
	// keepalived: INIT until the first result, INIT/FAILED for init_fail
	// before it, then a state its dump has no name for.
	init := "INIT"
	if !s.Init {
		init = "unknown"
		if c.InitFail && s.Result == 0 && !s.OK {
			init = "INIT/FAILED"
		}
	}
	p("   Init state = %s", init)
	p("   Status = %s", yesNo(s.OK, "GOOD", "BAD"))
	uid, gid := in.scriptIDs(&c.Script)
	p("   Script uid:gid = %d:%d", uid, gid)
	p("   VRRP instances :")
	writeUsers(p, "   Tracking instances :", s.Users)
	// The script adapter, not the engine, knows whether a run is in
	// progress: vigil reports the engine's view, idle between results.
	p("   State = idle")
}

func writeProcess(p printer, pv *vrrp.ProcView) {
	c := pv.Config
	p(" VRRP Track process = %s", c.Name)
	p("   Process = %s", c.Process)
	if len(c.Params) > 0 {
		p("   Parameters = %s", joinSpace(c.Params))
	}
	switch paramMatch(c.ParamMatch, len(c.Params) > 0) {
	case "exact":
		p("   Param match")
	case "partial":
		p("   Param match = partial")
	case "initial":
		p("   Param match = initial")
	}
	p("   Min processes = %d", c.Quorum)
	if c.QuorumMax > 0 {
		p("   Max processes = %d", c.QuorumMax)
	}
	p("   Current processes = %d", pv.Count)
	p("   Have quorum = %t", pv.Known && pv.Quorum)
	p("   Weight = %d%s", c.Weight, yesNo(c.WeightReverse, " reverse", ""))
	p("   Terminate delay = %fs", c.TerminateDelay.Std().Seconds())
	p("   Fork delay = %fs", c.ForkDelay.Std().Seconds())
	p("   Fork delay timer not running")
	p("   Terminate delay timer not running")
	p("   Full command = %t", c.FullCommand)
	writeUsers(p, "   Tracking VRRP instances :", pv.Users)
}
