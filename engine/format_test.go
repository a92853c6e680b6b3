package engine

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/vigil-ha/vigil/effects"
)

// formatEffect prints one effect compactly for scenario files.
func formatEffect(e effects.Effect) string {
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
		return fmt.Sprintf("RunScript %s %q timeout=%s", v.Script, v.Command, v.Timeout)
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
		return s
	case *effects.Count:
		return fmt.Sprintf("Count %s %s", v.Instance, v.Counter)
	case *effects.StateChanged:
		return fmt.Sprintf("StateChanged %s %s->%s prio=%d (%s)", v.Instance, v.From, v.To, v.Priority, v.Reason)
	case *effects.Log:
		return fmt.Sprintf("Log %s: %s", v.Level, v.Message)
	case *effects.JoinGroup:
		if !v.Group.IsValid() {
			return "JoinGroup " + v.Interface + " unicast"
		}
		s := fmt.Sprintf("JoinGroup %s %s", v.Interface, v.Group)
		for k, a := range v.AH {
			if k == 0 {
				s += " ah-vrids="
			} else {
				s += ","
			}
			s += fmt.Sprint(a.VRID)
		}
		return s
	case *effects.LeaveGroup:
		if !v.Group.IsValid() {
			return "LeaveGroup " + v.Interface + " unicast"
		}
		return fmt.Sprintf("LeaveGroup %s %s", v.Interface, v.Group)
	case *effects.CloseSockets:
		return "CloseSockets " + v.Interface
	}
	return fmt.Sprintf("%T %+v", e, e)
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
