package dumps

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

// otherValue returns an uninterpreted global_defs keyword's value.
func otherValue(g *conf.GlobalDefs, key string) (string, bool) {
	for _, kv := range g.Other {
		if kv.Key == key {
			return strings.TrimSpace(kv.Value), true
		}
	}
	return "", false
}

func onOff(b *bool) string {
	switch {
	case b == nil:
		return "unset"
	case *b:
		return "on"
	}
	return "off"
}

// writeGlobal is keepalived's "Global definitions" section as the VRRP
// process writes it. Deliberately left out, because they describe
// machinery vigil does not have: process names, priorities, CPU affinity
// and realtime limits, nftables/iptables, SNMP, DBus, netlink and receive
// buffer sizes, umask and the current realtime priority.
func writeGlobal(w io.Writer, in *Input) {
	g := &in.View.Config.GlobalDefs
	p := func(f string, a ...any) { fmt.Fprintf(w, f+"\n", a...) }
	p("------< Global definitions >------")
	p(" Network namespace = %s", or(g.NetNamespace, "(default)"))
	switch {
	case g.NetNamespaceIPVS == nil:
		p(" Network namespace ipvs = (main namespace)")
	default:
		p(" Network namespace ipvs = %s", or(*g.NetNamespaceIPVS, "(default)"))
	}
	if g.Instance != "" {
		p(" Instance name = %s", g.Instance)
	}
	if r := or(g.RouterID, in.Hostname); r != "" {
		p(" Router ID = %s", r)
	}
	if g.SMTPServer != "" {
		p(" Smtp server = %s", g.SMTPServer)
		p(" Smtp server port = %d", g.SMTPPort)
	}
	if g.SMTPHeloName != "" {
		p(" Smtp HELO name = %s", g.SMTPHeloName)
	}
	if d := g.SMTPConnectTimeout.Std(); d > 0 && g.SMTPServer != "" {
		p(" Smtp server connection timeout = %d", d/time.Second)
	}
	if g.NotificationEmailFrom != "" {
		p(" Email notification from = %s", g.NotificationEmailFrom)
		p(" Email notification to:")
		for _, e := range g.NotificationEmail {
			p("   %s", e)
		}
	}
	p(" Default smtp_alert = %s", onOff(g.SMTPAlert))
	p(" Default smtp_alert_vrrp = %s", onOff(g.SMTPAlertVRRP))
	p(" Default smtp_alert_checker = %s", onOff(g.SMTPAlertChecker))
	p(" Checkers log all failures = %t", g.CheckerLogAllFailures)
	if v, ok := otherValue(g, "reload_check_config"); ok {
		p(" Test config before reload, log to %s", v)
	} else {
		p(" No test config before reload")
	}
	p(" Dynamic interfaces = %t", g.DynamicInterfaces)
	if g.DynamicInterfaces {
		p(" Allow interface changes = %t", g.AllowIfChanges)
	}
	if g.NoEmailFaults {
		p(" Send emails for fault transitions = off")
	}
	p(" Default interface = %s", or(g.DefaultInterface, conf.DefaultInterface))
	_, igmp := otherValue(g, "disable_local_igmp")
	p(" Disable local IGMP = %s", yesNo(igmp, "yes", "no"))
	p(" LVS flush = %t", g.LVSFlush)
	p(" LVS flush on stop = %s", map[string]string{"": "disabled", "RS": "full", "VS": "VS"}[g.LVSFlushOnStop])
	fifo := func(what string, f *conf.NotifyFIFO) {
		if f == nil {
			return
		}
		uid, gid := in.ids(f.User, f.Group)
		p(" %s = %s, uid:gid %d:%d", what, f.Path, uid, gid)
		if f.Script != nil {
			uid, gid := in.ids(f.Script.User, f.Script.Group)
			p(" %s script = %s, uid:gid %d:%d", what, in.cmdStr(f.Script), uid, gid)
		}
	}
	fifo("Global notify fifo", g.NotifyFIFO)
	fifo("VRRP notify fifo", g.VRRPNotifyFIFO)
	fifo("LVS notify fifo", g.LVSNotifyFIFO)
	p(" FIFO write vrrp states on reload = %t", g.FIFOWriteVRRPStatesOnReload)
	p(" VRRP notify priority changes = %t", g.VRRPNotifyPriorityChanges)
	p(" VRRP IPv4 mcast group = %s", addrOr(g.VRRPMcastGroup4.String(), g.VRRPMcastGroup4.IsValid(), "224.0.0.18"))
	p(" VRRP IPv6 mcast group = %s", addrOr(g.VRRPMcastGroup6.String(), g.VRRPMcastGroup6.IsValid(), "ff02::12"))
	p(" Gratuitous ARP delay = %d", g.VRRPGARPMasterDelay.Std()/time.Second)
	p(" Gratuitous ARP repeat = %d", g.VRRPGARPMasterRepeat)
	p(" Gratuitous ARP refresh timer = %d", g.VRRPGARPMasterRefresh.Std()/time.Second)
	p(" Gratuitous ARP refresh repeat = %d", g.VRRPGARPMasterRefreshRepeat)
	p(" Gratuitous ARP lower priority delay = %d", g.VRRPGARPLowerPrioDelay.Std()/time.Second)
	p(" Gratuitous ARP lower priority repeat = %d", g.VRRPGARPLowerPrioRepeat)
	p(" Num adverts before down = %d", g.VRRPDownTimerAdverts)
	p(" Gratuitous ARP for each secondary %s = %ds", yesNo(g.VRRPGARPExtraIfAll, "i/f", "VMAC"), g.VRRPGARPExtraIf.Std()/time.Second)
	p(" Send advert after receive lower priority advert = %t", !g.VRRPLowerPrioNoAdvert)
	p(" Send advert after receive higher priority advert = %t", g.VRRPHigherPrioSendAdvert)
	p(" Gratuitous ARP interval = %f", g.VRRPGARPInterval.Std().Seconds())
	p(" Gratuitous NA interval = %f", g.VRRPGNAInterval.Std().Seconds())
	p(" VRRP default protocol version = %d", g.VRRPVersion)
	p(" VRRP check unicast_src = %t", g.VRRPCheckUnicastSrc)
	p(" VRRP skip check advert addresses = %t", g.VRRPSkipCheckAdvAddr)
	p(" VRRP strict mode = %t", g.VRRPStrict)
	p(" Script security %s", yesNo(g.EnableScriptSecurity, "enabled", "disabled"))
	if in.HaveScriptUser {
		p(" Default script uid:gid %d:%d", in.ScriptUID, in.ScriptGID)
	}
	p(" rs_init_notifies = %d", b2u(g.RSInitNotifies))
	p(" no_checker_emails = %d", b2u(g.NoCheckerEmails))
	if d := g.VRRPStartupDelay.Std(); d > 0 {
		p(" vrrp_startup_delay = %s", cFormatG(d.Seconds()))
	}
	if g.LogUnknownVRIDs {
		p(" log_unknown_vrids")
	}
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

func addrOr(s string, ok bool, def string) string {
	if ok {
		return s
	}
	return def
}
