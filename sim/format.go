package sim

import (
	"fmt"
	"strings"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// formatEvent prints an event for the trace. Only values go in — never
// pointers — so the same run prints the same bytes.
func formatEvent(ev events.Event) string {
	switch e := ev.(type) {
	case *events.ConfigLoaded:
		return fmt.Sprintf("ConfigLoaded %s (%d instances)", e.Digest, len(e.Config.Instances))
	case *events.Start:
		return fmt.Sprintf("Start seed=%d", e.Seed)
	case *events.Stop:
		return "Stop"
	case *events.AdvertReceived:
		a := e.Advert
		return fmt.Sprintf("AdvertReceived %s %s>%s ttl=%d v%d vrid=%d prio=%d int=%d addrs=%v",
			e.Interface, e.Src, e.Dst, e.TTL, a.Version, a.VRID, a.Priority, a.Interval, a.Addrs)
	case *events.TimerFired:
		return "TimerFired " + e.Key
	case *events.LinkChanged:
		return fmt.Sprintf("LinkChanged %s up=%t", e.Interface, e.Up)
	case *events.GroupJoined:
		return fmt.Sprintf("GroupJoined %s %s err=%q", e.Interface, e.Group, e.Err)
	case *events.AddressChanged:
		return fmt.Sprintf("AddressChanged %s %s added=%t", e.Interface, e.Prefix, e.Added)
	case *events.ScriptResult:
		return fmt.Sprintf("ScriptResult %s status=%d", e.Script, e.Status)
	case *events.TrackFileValue:
		return fmt.Sprintf("TrackFileValue %s %d", e.File, e.Value)
	case *events.ProcessCount:
		return fmt.Sprintf("ProcessCount %s %d", e.Process, e.Count)
	}
	return ev.EventKind().String()
}

// formatEffect prints an effect for the trace.
func formatEffect(ef effects.Effect) string {
	switch e := ef.(type) {
	case *effects.SendAdvert:
		return fmt.Sprintf("SendAdvert %s %s v%d vrid=%d prio=%d int=%d dst=%v", e.Instance, e.Interface,
			e.Version, e.VRID, e.Priority, e.Interval, e.Dst)
	case *effects.AddAddress:
		return fmt.Sprintf("AddAddress %s %s dev=%s", e.Instance, e.Address.Prefix, e.Address.Dev)
	case *effects.DelAddress:
		return fmt.Sprintf("DelAddress %s %s dev=%s", e.Instance, e.Address.Prefix, e.Address.Dev)
	case *effects.SendGARP:
		return fmt.Sprintf("SendGARP %s %s %s x%d/%s", e.Instance, e.Interface, e.Addr, e.Count, e.Interval)
	case *effects.SendNA:
		return fmt.Sprintf("SendNA %s %s %s x%d/%s", e.Instance, e.Interface, e.Addr, e.Count, e.Interval)
	case *effects.SetTimer:
		return fmt.Sprintf("SetTimer %s at %s", e.Key, stamp(e.At))
	case *effects.CancelTimer:
		return "CancelTimer " + e.Key
	case *effects.RunScript:
		return fmt.Sprintf("RunScript %s %s", e.Script, strings.Join(e.Command, " "))
	case *effects.Notify:
		return fmt.Sprintf("Notify %s", e.FIFOLine)
	case *effects.Count:
		return fmt.Sprintf("Count %s %s %+d", e.Instance, e.Counter, e.Delta)
	case *effects.StateChanged:
		return fmt.Sprintf("StateChanged %s %s->%s prio=%d (%s)", e.Instance, e.From, e.To, e.Priority, e.Reason)
	case *effects.Log:
		return fmt.Sprintf("Log %s %s %s", e.Level, e.Instance, e.Message)
	case *effects.JoinGroup:
		return fmt.Sprintf("JoinGroup %s %s", e.Interface, e.Group)
	case *effects.LeaveGroup:
		return fmt.Sprintf("LeaveGroup %s %s", e.Interface, e.Group)
	case *effects.CloseSockets:
		return "CloseSockets " + e.Interface
	case *effects.CreateVMAC:
		return fmt.Sprintf("CreateVMAC %s %s on %s", e.Instance, e.Name, e.Parent)
	case *effects.DeleteVMAC:
		return fmt.Sprintf("DeleteVMAC %s %s", e.Instance, e.Name)
	case *effects.AddRoute:
		return fmt.Sprintf("AddRoute %s %s", e.Instance, e.Route.Dst)
	case *effects.DelRoute:
		return fmt.Sprintf("DelRoute %s %s", e.Instance, e.Route.Dst)
	case *effects.SetIPVS:
		return fmt.Sprintf("SetIPVS op=%d %s %s w=%d", e.Op, e.VirtualServer, e.RealServer, e.Weight)
	case *effects.ReconcileIPVS:
		s := fmt.Sprintf("ReconcileIPVS flush=%t", e.Flush)
		for _, v := range e.Services {
			s += " " + v.VirtualServer + "["
			for k, d := range v.Dests {
				if k > 0 {
					s += ","
				}
				s += fmt.Sprintf("%s w=%d", d.RealServer, d.Weight)
			}
			s += "]"
		}
		return s
	}
	return ef.EffectKind().String()
}
