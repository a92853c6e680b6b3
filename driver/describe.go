package driver

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// DescribeEvent prints an event on one line, without its time. Only
// values go in, never pointers, so the same run prints the same bytes.
func DescribeEvent(ev events.Event) string {
	switch e := ev.(type) {
	case *events.ConfigLoaded:
		n := 0
		if e.Config != nil {
			n = len(e.Config.Instances)
		}
		return fmt.Sprintf("ConfigLoaded %s (%d instances)", e.Digest, n)
	case *events.Start:
		return fmt.Sprintf("Start seed=%d", e.Seed)
	case *events.Stop:
		if e.KeepAddresses {
			return "Stop (keep addresses)"
		}
		return "Stop"
	case *events.AdvertReceived:
		a := e.Advert
		s := fmt.Sprintf("AdvertReceived %s from %s v%d vrid %d prio %d", e.Interface, e.Src, a.Version, a.VRID, a.Priority)
		if e.Verdict != events.VerdictOK {
			s += " (" + e.Verdict.String() + ")"
		}
		return s
	case *events.TimerFired:
		return "TimerFired " + e.Key
	case *events.LinkChanged:
		switch {
		case !e.Present:
			return fmt.Sprintf("LinkChanged %s deleted", e.Interface)
		case e.Up && e.Running:
			return fmt.Sprintf("LinkChanged %s up", e.Interface)
		case e.Up:
			return fmt.Sprintf("LinkChanged %s up, no carrier", e.Interface)
		}
		return fmt.Sprintf("LinkChanged %s down", e.Interface)
	case *events.AddressChanged:
		return fmt.Sprintf("AddressChanged %s %s %s", e.Interface, e.Prefix, addedWord(e.Added))
	case *events.RouteChanged:
		return fmt.Sprintf("RouteChanged %s table %d %s", e.Dst, e.Table, addedWord(e.Added))
	case *events.RuleChanged:
		return fmt.Sprintf("RuleChanged prio %d from %s to %s table %d %s", e.Priority, e.From, e.To, e.Table, addedWord(e.Added))
	case *events.ScriptResult:
		switch {
		case e.Failed:
			return fmt.Sprintf("ScriptResult %s could not run: %s", e.Script, e.Error)
		case e.TimedOut:
			return fmt.Sprintf("ScriptResult %s timed out", e.Script)
		}
		return fmt.Sprintf("ScriptResult %s exit %d", e.Script, e.Status)
	case *events.TrackFileValue:
		if e.Failed {
			return fmt.Sprintf("TrackFileValue %s unreadable", e.File)
		}
		return fmt.Sprintf("TrackFileValue %s = %d", e.File, e.Value)
	case *events.ProcessCount:
		return fmt.Sprintf("ProcessCount %s = %d", e.Process, e.Count)
	case *events.BFDState:
		return fmt.Sprintf("BFDState %s %s", e.Name, upWord(e.Up))
	case *events.BFDReceived:
		s := fmt.Sprintf("BFDReceived from %s ttl=%d %s", e.Src, e.TTL, DescribeBFDPacket(&e.Packet))
		if e.Verdict != events.BFDVerdictOK {
			s += " (" + e.Verdict.String() + ")"
		}
		return s
	case *events.GroupJoined:
		if e.Err != "" {
			return fmt.Sprintf("GroupJoined %s %s failed: %s", e.Interface, e.Group, e.Err)
		}
		return fmt.Sprintf("GroupJoined %s %s", e.Interface, e.Group)
	case *events.CheckResult:
		s := fmt.Sprintf("CheckResult %s %s #%d ok=%t", e.VirtualServer, e.RealServer, e.Checker, e.OK)
		if e.Dynamic {
			s += " weight=" + strconv.Itoa(e.Weight)
		}
		return s
	}
	if ev == nil {
		return "<nil>"
	}
	return ev.EventKind().String()
}

// DescribeEffect prints an effect on one line with every field that
// matters to what it does.
func DescribeEffect(e effects.Effect) string {
	switch v := e.(type) {
	case *effects.SendAdvert:
		s := fmt.Sprintf("SendAdvert %s %s v%d vrid=%d prio=%d int=%d addrs=%v dst=%v ttl=%d", v.Instance, v.Interface, v.Version, v.VRID, v.Priority, v.Interval, v.Addrs, v.Dst, v.TTL)
		if v.Src.IsValid() {
			s += " src=" + v.Src.String()
		}
		if v.VMAC != "" {
			s += " vmac=" + v.VMAC
		}
		if v.AuthType != 0 {
			s += fmt.Sprintf(" auth=%d:%q", v.AuthType, strings.TrimRight(string(v.AuthData[:]), "\x00"))
		}
		if v.Checksum != events.ChecksumStandard {
			s += " checksum=" + v.Checksum.String()
			if v.ChecksumGroup.IsValid() {
				s += "@" + v.ChecksumGroup.String()
			}
		}
		return s
	case *effects.AddAddress:
		return fmt.Sprintf("AddAddress %s %s dev %s", orDash(v.Instance), v.Address.Prefix, v.Address.Dev)
	case *effects.DelAddress:
		return fmt.Sprintf("DelAddress %s %s dev %s", orDash(v.Instance), v.Address.Prefix, v.Address.Dev)
	case *effects.AddRoute:
		return fmt.Sprintf("AddRoute %s %s table=%d", orDash(v.Instance), v.Route.Dst, v.Route.Table)
	case *effects.DelRoute:
		return fmt.Sprintf("DelRoute %s %s table=%d", orDash(v.Instance), v.Route.Dst, v.Route.Table)
	case *effects.AddRule:
		return fmt.Sprintf("AddRule %s%s table=%d", orDash(v.Instance), ruleSel(v.Rule.From, v.Rule.To), v.Rule.Table)
	case *effects.DelRule:
		return fmt.Sprintf("DelRule %s%s table=%d", orDash(v.Instance), ruleSel(v.Rule.From, v.Rule.To), v.Rule.Table)
	case *effects.CreateVMAC:
		return fmt.Sprintf("CreateVMAC %s %s parent=%s mac=%s", v.Instance, v.Name, v.Parent, v.MAC)
	case *effects.DeleteVMAC:
		return fmt.Sprintf("DeleteVMAC %s %s", v.Instance, v.Name)
	case *effects.SendGARP:
		return fmt.Sprintf("SendGARP %s %s %s x%d every %s", v.Instance, v.Interface, v.Addr, v.Count, v.Interval)
	case *effects.SendNA:
		return fmt.Sprintf("SendNA %s %s %s x%d every %s", v.Instance, v.Interface, v.Addr, v.Count, v.Interval)
	case *effects.SetTimer:
		return fmt.Sprintf("SetTimer %s @%s", v.Key, v.At)
	case *effects.CancelTimer:
		return "CancelTimer " + v.Key
	case *effects.RunScript:
		s := fmt.Sprintf("RunScript %s %q timeout=%s", v.Script, v.Command, v.Timeout)
		if v.User != "" && v.Phase != "" {
			s += " as=" + v.User
			if v.Group != "" {
				s += ":" + v.Group
			}
		}
		if v.Phase != "" {
			s += " phase=" + v.Phase
		}
		return s
	case *effects.Notify:
		s := "Notify " + v.FIFOLine
		for k, sc := range v.Scripts {
			s += fmt.Sprintf(" %q", sc)
			// Credentials other than the default (none) are shown.
			if c := v.Cred(k); c.User != "" || c.Group != "" {
				s += " as=" + c.User
				if c.Group != "" {
					s += ":" + c.Group
				}
			}
		}
		if v.SMTPAlert {
			s += " smtp"
		}
		return s
	case *effects.Count:
		if v.Delta != 1 {
			return fmt.Sprintf("Count %s %s +%d", v.Instance, v.Counter, v.Delta)
		}
		return fmt.Sprintf("Count %s %s", v.Instance, v.Counter)
	case *effects.StateChanged:
		return fmt.Sprintf("StateChanged %s %s->%s prio=%d (%s)", v.Instance, v.From, v.To, v.Priority, v.Reason)
	case *effects.Log:
		return fmt.Sprintf("Log %s: %s", v.Level, v.Message)
	case *effects.JoinGroup:
		s := fmt.Sprintf("JoinGroup %s %s", v.Interface, v.Group)
		for k, a := range v.AH {
			if k == 0 {
				s += " ah-vrids="
			} else {
				s += ","
			}
			s += strconv.Itoa(int(a.VRID))
		}
		if v.RcvBuf > 0 {
			s += " rcvbuf=" + strconv.Itoa(v.RcvBuf)
		}
		return s
	case *effects.SetPromoteSecondaries:
		return fmt.Sprintf("SetPromoteSecondaries %s on=%t", v.Interface, v.On)
	case *effects.LeaveGroup:
		return fmt.Sprintf("LeaveGroup %s %s", v.Interface, v.Group)
	case *effects.CloseSockets:
		return "CloseSockets " + v.Interface
	case *effects.AddFirewallVIPs:
		return "AddFirewallVIPs " + describeFirewall(v.Instance, &v.Table, v.VIPs)
	case *effects.DelFirewallVIPs:
		return "DelFirewallVIPs " + describeFirewall(v.Instance, &v.Table, v.VIPs)
	case *effects.RemoveFirewall:
		return "RemoveFirewall " + v.Table
	case *effects.AddFirewallVMAC:
		return "AddFirewallVMAC " + describeFirewallVMAC(v.Instance, &v.Table, &v.FirewallVMAC)
	case *effects.DelFirewallVMAC:
		return "DelFirewallVMAC " + describeFirewallVMAC(v.Instance, &v.Table, &v.FirewallVMAC)
	case *effects.RunCheck:
		return fmt.Sprintf("RunCheck %s %s #%d %s %s timeout=%s", v.VirtualServer, v.RealServer, v.Checker, v.Type,
			netip.AddrPortFrom(v.Addr, uint16(v.Port)), v.Timeout)
	case *effects.CheckStateChanged:
		return fmt.Sprintf("CheckStateChanged %s %s #%d %s %s (%s)", v.VirtualServer, v.RealServer, v.Checker, v.Type, upWord(v.Up), v.Reason)
	case *effects.ReconcileIPVS:
		return describeReconcile(v)
	case *effects.SendMail:
		return describeMail(v)
	case *effects.SendBFD:
		s := fmt.Sprintf("SendBFD %s to %s ttl=%d", v.Session, v.Dst, v.TTL)
		if v.Src.IsValid() {
			s += " src=" + v.Src.String()
		}
		if v.Multihop {
			s += " multihop"
		}
		return s + " " + DescribeBFDPacket(&v.Packet)
	case *effects.BFDStateChanged:
		return fmt.Sprintf("BFDStateChanged %s %s->%s diag=%d remote-diag=%d (%s)", v.Session, events.BFDStateName(v.From),
			events.BFDStateName(v.To), v.LocalDiag, v.RemoteDiag, v.Reason)
	case *effects.SetIPVSTimeouts:
		return describeTimeouts(v)
	case *effects.IPVSSyncDaemon:
		return describeSyncDaemon(v)
	case *effects.SetIPVS:
		s := "SetIPVS " + v.Op.String()
		if v.Op == effects.IPVSFlush {
			return s
		}
		s += " " + DescribeService(&v.Service, v.Op == effects.IPVSAddService || v.Op == effects.IPVSEditService)
		if v.Op == effects.IPVSAddDest || v.Op == effects.IPVSEditDest || v.Op == effects.IPVSDelDest {
			s += " -> " + netip.AddrPortFrom(v.Dest.Addr, uint16(v.Dest.Port)).String() + " " + v.Dest.Method
			if v.Op != effects.IPVSDelDest {
				s += " w=" + strconv.Itoa(v.Weight)
			}
		}
		return s
	}
	if e == nil {
		return "<nil>"
	}
	return e.EffectKind().String()
}

// describeFirewall prints a drop-set change: instance, table (name,
// priority, counters) and the addresses, a link-local one with its
// interface ("%eth0" by index, "@eth0" by name).
func describeFirewall(inst string, t *effects.FirewallTable, vips []effects.FirewallVIP) string {
	s := fmt.Sprintf("%s table=%s prio=%d", inst, t.Name, t.Priority)
	if t.Counters {
		s += " counters"
	}
	for k, v := range vips {
		if k == 0 {
			s += " "
		} else {
			s += ","
		}
		s += v.Addr.String()
		if v.Interface != "" {
			if v.ByName {
				s += "@" + v.Interface
			} else {
				s += "%" + v.Interface
			}
		}
	}
	return s
}

// describeFirewallVMAC prints a VMAC of the IGMP/MLD objects: the table,
// VMAC>parent and the families (ip, ip6).
func describeFirewallVMAC(inst string, t *effects.FirewallTable, v *effects.FirewallVMAC) string {
	s := describeFirewall(inst, t, nil) + " " + v.VMAC + ">" + v.Parent
	if v.IPv4 {
		s += " ip"
	}
	if v.IPv6 {
		s += " ip6"
	}
	return s
}

// DescribeService prints an IPVS service: its key, and with attrs its
// scheduler and options.
func DescribeService(s *effects.IPVSService, attrs bool) string {
	var b string
	if s.FwMark != 0 {
		b = "fwmark " + strconv.FormatUint(uint64(s.FwMark), 10)
		if s.Family == 6 {
			b += " inet6"
		}
	} else {
		b = s.Protocol + " " + netip.AddrPortFrom(s.Addr, uint16(s.Port)).String()
	}
	if !attrs {
		return b
	}
	b += " " + s.Scheduler
	if len(s.SchedFlags) > 0 {
		b += " flags=" + strings.Join(s.SchedFlags, ",")
	}
	if s.OnePacket {
		b += " ops"
	}
	if s.PersistenceTimeout > 0 {
		b += " persistent=" + s.PersistenceTimeout.String()
		if s.PersistenceNetmask.IsValid() {
			b += " mask=" + s.PersistenceNetmask.String()
		}
	}
	if s.PersistenceEngine != "" {
		b += " pe=" + s.PersistenceEngine
	}
	return b
}

func ruleSel(from, to netip.Prefix) string {
	s := ""
	if from.IsValid() {
		s += " from=" + from.String()
	}
	if to.IsValid() {
		s += " to=" + to.String()
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func addedWord(added bool) string {
	if added {
		return "added"
	}
	return "removed"
}

func upWord(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

// describeReconcile lists the desired table on one line: whether the
// kernel table is flushed first, then each service (with its attributes
// and virtual server) and its destinations with their weights.
func describeReconcile(e *effects.ReconcileIPVS) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ReconcileIPVS flush=%t services=%d", e.Flush, len(e.Services))
	for _, s := range e.Services {
		fmt.Fprintf(&b, "; %s (%s)", DescribeService(&s.Service, true), s.VirtualServer)
		for _, d := range s.Dests {
			fmt.Fprintf(&b, " -> %s %s w=%d", netip.AddrPortFrom(d.Dest.Addr, uint16(d.Dest.Port)), d.Dest.Method, d.Weight)
		}
	}
	return b.String()
}

// describeTimeouts names each timeout the effect sets, "original" for
// those it restores.
func describeTimeouts(e *effects.SetIPVSTimeouts) string {
	if *e == (effects.SetIPVSTimeouts{}) {
		return "SetIPVSTimeouts restore"
	}
	one := func(d time.Duration) string {
		if d == 0 {
			return "original"
		}
		return d.String()
	}
	return fmt.Sprintf("SetIPVSTimeouts tcp=%s tcpfin=%s udp=%s", one(e.TCP), one(e.TCPFin), one(e.UDP))
}

// describeMail shows an email alert: the envelope, then the subject and
// body quoted.
func describeMail(e *effects.SendMail) string {
	return fmt.Sprintf("SendMail %s helo=%s from=%s to=%s timeout=%s subject=%q body=%q",
		net.JoinHostPort(e.Server, strconv.Itoa(e.Port)), e.Helo, orDash(e.From),
		strings.Join(e.To, ","), e.Timeout, e.Subject, e.Body)
}

// describeSyncDaemon names the operation, the daemon and, for a start, the
// settings that are not the kernel's defaults.
func describeSyncDaemon(e *effects.IPVSSyncDaemon) string {
	if e.IfRunning {
		// Whatever daemon of that state runs, if any.
		return fmt.Sprintf("IPVSSyncDaemon %s %s if-running", e.Op, e.State)
	}
	s := fmt.Sprintf("IPVSSyncDaemon %s %s %s id=%d", e.Op, e.State, e.Interface, e.SyncID)
	if e.Op != effects.SyncDaemonStart {
		return s
	}
	if e.MaxLen != 0 {
		s += " maxlen=" + strconv.Itoa(e.MaxLen)
	}
	if e.Port != 0 {
		s += " port=" + strconv.Itoa(e.Port)
	}
	if e.TTL != 0 {
		s += " ttl=" + strconv.Itoa(e.TTL)
	}
	if e.Group.IsValid() {
		s += " group=" + e.Group.String()
	}
	return s
}

// DescribeBFDPacket prints a BFD control packet's fields: state,
// diagnostic, flags, detect multiplier, discriminators and intervals
// (microseconds).
func DescribeBFDPacket(p *events.BFDPacket) string {
	var b strings.Builder
	b.WriteString(events.BFDStateName(p.State))
	if p.Version != 1 {
		fmt.Fprintf(&b, " v%d", p.Version)
	}
	if p.Diag != 0 {
		fmt.Fprintf(&b, " diag=%d", p.Diag)
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{p.Poll, "P"}, {p.Final, "F"}, {p.CPI, "C"}, {p.Auth, "A"}, {p.Demand, "D"}, {p.Multipoint, "M"}} {
		if f.on {
			b.WriteString(" " + f.name)
		}
	}
	fmt.Fprintf(&b, " mult=%d my=%#x your=%#x tx=%d rx=%d", p.DetectMult, p.MyDisc, p.YourDisc, p.DesiredMinTx, p.RequiredMinRx)
	if p.RequiredMinEchoRx != 0 {
		fmt.Fprintf(&b, " echo=%d", p.RequiredMinEchoRx)
	}
	if p.Length != 24 {
		fmt.Fprintf(&b, " len=%d", p.Length)
	}
	return b.String()
}
