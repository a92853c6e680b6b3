package replay

import (
	"fmt"
	"strings"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// DescribeEvent prints an event on one line, without its time.
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
	case *events.GroupJoined:
		if e.Err != "" {
			return fmt.Sprintf("GroupJoined %s %s failed: %s", e.Interface, e.Group, e.Err)
		}
		return fmt.Sprintf("GroupJoined %s %s", e.Interface, e.Group)
	case *events.CheckResult:
		return fmt.Sprintf("CheckResult %s %s #%d ok=%t", e.VirtualServer, e.RealServer, e.Checker, e.OK)
	}
	if ev == nil {
		return "<nil>"
	}
	return ev.EventKind().String()
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

// DescribeEffect prints an effect on one line.
func DescribeEffect(ef effects.Effect) string {
	switch e := ef.(type) {
	case *effects.SendAdvert:
		return fmt.Sprintf("SendAdvert %s %s vrid %d prio %d", e.Instance, e.Interface, e.VRID, e.Priority)
	case *effects.AddAddress:
		return fmt.Sprintf("AddAddress %s %s dev %s", e.Instance, e.Address.Prefix, or(e.Address.Dev, e.Interface))
	case *effects.DelAddress:
		return fmt.Sprintf("DelAddress %s %s dev %s", e.Instance, e.Address.Prefix, or(e.Address.Dev, e.Interface))
	case *effects.AddRoute:
		return fmt.Sprintf("AddRoute %s %s", e.Instance, e.Route.Dst)
	case *effects.DelRoute:
		return fmt.Sprintf("DelRoute %s %s", e.Instance, e.Route.Dst)
	case *effects.AddRule:
		return fmt.Sprintf("AddRule %s from %s to %s table %d", e.Instance, e.Rule.From, e.Rule.To, e.Rule.Table)
	case *effects.DelRule:
		return fmt.Sprintf("DelRule %s from %s to %s table %d", e.Instance, e.Rule.From, e.Rule.To, e.Rule.Table)
	case *effects.CreateVMAC:
		return fmt.Sprintf("CreateVMAC %s %s on %s (%s)", e.Instance, e.Name, e.Parent, e.MAC)
	case *effects.DeleteVMAC:
		return fmt.Sprintf("DeleteVMAC %s %s", e.Instance, e.Name)
	case *effects.SendGARP:
		return fmt.Sprintf("SendGARP %s %s %s x%d", e.Instance, e.Interface, e.Addr, e.Count)
	case *effects.SendNA:
		return fmt.Sprintf("SendNA %s %s %s x%d", e.Instance, e.Interface, e.Addr, e.Count)
	case *effects.SetTimer:
		return fmt.Sprintf("SetTimer %s at %s", e.Key, fmtTime(e.At))
	case *effects.CancelTimer:
		return "CancelTimer " + e.Key
	case *effects.RunScript:
		return fmt.Sprintf("RunScript %s %s", e.Script, strings.Join(e.Command, " "))
	case *effects.Notify:
		s := "Notify " + e.FIFOLine
		for _, sc := range e.Scripts {
			s += " | " + strings.Join(sc, " ")
		}
		return s
	case *effects.Count:
		return fmt.Sprintf("Count %s %s %+d", e.Instance, e.Counter, e.Delta)
	case *effects.StateChanged:
		return fmt.Sprintf("StateChanged %s %s -> %s prio %d (%s)", e.Instance, e.From, e.To, e.Priority, e.Reason)
	case *effects.Log:
		return fmt.Sprintf("Log %s %s", e.Level, e.Message)
	case *effects.SetIPVS:
		return fmt.Sprintf("SetIPVS op %d %s %s weight %d", e.Op, e.VirtualServer, e.RealServer, e.Weight)
	case *effects.ReconcileIPVS:
		return describeReconcile(e)
	case *effects.JoinGroup:
		return fmt.Sprintf("JoinGroup %s %s", e.Interface, e.Group)
	case *effects.LeaveGroup:
		return fmt.Sprintf("LeaveGroup %s %s", e.Interface, e.Group)
	case *effects.CloseSockets:
		return "CloseSockets " + e.Interface
	}
	if ef == nil {
		return "<nil>"
	}
	return ef.EffectKind().String()
}

// describeReconcile lists the desired table: each service by its virtual
// server (a group's services one after another) with its destinations'
// real servers and weights.
func describeReconcile(e *effects.ReconcileIPVS) string {
	var b strings.Builder
	b.WriteString("ReconcileIPVS")
	if e.Flush {
		b.WriteString(" flush")
	}
	fmt.Fprintf(&b, " %d services", len(e.Services))
	for _, s := range e.Services {
		b.WriteString("; ")
		b.WriteString(s.VirtualServer)
		for k, d := range s.Dests {
			sep := ", "
			if k == 0 {
				sep = ": "
			}
			fmt.Fprintf(&b, "%s%s weight %d", sep, d.RealServer, d.Weight)
		}
	}
	return b.String()
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// effectInstance returns the instance an effect concerns ("" if none).
func effectInstance(ef effects.Effect) string {
	switch e := ef.(type) {
	case *effects.SendAdvert:
		return e.Instance
	case *effects.AddAddress:
		return e.Instance
	case *effects.DelAddress:
		return e.Instance
	case *effects.AddRoute:
		return e.Instance
	case *effects.DelRoute:
		return e.Instance
	case *effects.AddRule:
		return e.Instance
	case *effects.DelRule:
		return e.Instance
	case *effects.CreateVMAC:
		return e.Instance
	case *effects.DeleteVMAC:
		return e.Instance
	case *effects.SendGARP:
		return e.Instance
	case *effects.SendNA:
		return e.Instance
	case *effects.SetTimer:
		return timerInstance(e.Key)
	case *effects.CancelTimer:
		return timerInstance(e.Key)
	case *effects.Notify:
		if e.Type == "INSTANCE" {
			return e.Name
		}
	case *effects.Count:
		return e.Instance
	case *effects.StateChanged:
		return e.Instance
	case *effects.Log:
		return e.Instance
	}
	return ""
}

// timerInstance returns the instance of an instance timer key
// ("vrrp/VI_1/down"), else "".
func timerInstance(key string) string {
	rest, ok := strings.CutPrefix(key, "vrrp/")
	if !ok {
		return ""
	}
	k := strings.LastIndexByte(rest, '/')
	if k < 0 {
		return ""
	}
	return rest[:k]
}
