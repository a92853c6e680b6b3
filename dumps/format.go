package dumps

import (
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

// cmdStr is cmdStr with the script's path resolved as keepalived shows
// it.
func (in *Input) cmdStr(s *conf.Script) string {
	if s == nil || in.ScriptPath == nil || len(s.Argv) == 0 {
		return cmdStr(s)
	}
	c := *s
	c.Argv = append([]string{in.ScriptPath(s.Argv[0])}, s.Argv[1:]...)
	return cmdStr(&c)
}

// ResolveScriptPath is how keepalived records a script's command when it
// checks it: a name without '/' is looked up in PATH, and the result has
// its symbolic links resolved (so /bin/true shows as /usr/bin/true where
// /bin is a link). A path that cannot be resolved is left as written.
func ResolveScriptPath(p string) string {
	if !strings.Contains(p, "/") {
		lp, err := exec.LookPath(p)
		if err != nil {
			return p
		}
		p = lp
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		if a, err := filepath.Abs(r); err == nil {
			return a
		}
	}
	return p
}

// cmdStr is keepalived's cmd_str: every argument in single quotes, joined
// by spaces (a first word that is a shell redirection stays bare).
func cmdStr(s *conf.Script) string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	for k, a := range s.Argv {
		if k > 0 {
			b.WriteByte(' ')
		}
		if k == 0 && (strings.HasPrefix(a, "<") || strings.HasPrefix(a, ">")) {
			b.WriteString(a)
			continue
		}
		b.WriteString("'" + a + "'")
	}
	return b.String()
}

// prefixStr is keepalived's ipaddresstos: the address, with "/len" unless
// it is a host prefix.
func prefixStr(p netip.Prefix) string {
	if p.Bits() < 0 || p.Bits() == p.Addr().BitLen() {
		return p.Addr().String()
	}
	return p.Addr().String() + "/" + strconv.Itoa(p.Bits())
}

// formatAddress is keepalived's format_ipaddress for a VIP, eVIP or
// static address; base is the interface a VMAC sits on ("" if none) and
// set whether the address is installed.
func formatAddress(a conf.Address, base string, set bool) string {
	var b strings.Builder
	b.WriteString(prefixStr(a.Prefix))
	if a.Prefix.Addr().Is4() && a.Broadcast.IsValid() {
		b.WriteString(" brd " + a.Broadcast.String())
	}
	b.WriteString(" dev " + a.Dev)
	if base != "" && base != a.Dev {
		b.WriteString("@" + base)
	}
	if a.UseVMAC {
		b.WriteString(" use_vmac")
	}
	scope := a.Scope
	if scope == "" {
		scope = "global"
	}
	b.WriteString(" scope " + scope)
	if a.Label != "" {
		b.WriteString(" label " + a.Label)
	}
	if a.Peer.IsValid() {
		fmt.Fprintf(&b, " peer %s/%d", a.Peer.Addr(), a.Prefix.Bits())
	}
	if a.Home {
		b.WriteString(" home")
	}
	if a.NoDAD {
		b.WriteString(" -nodad")
	}
	if a.MngTmpAddr {
		b.WriteString(" mngtmpaddr")
	}
	if a.NoPrefixRoute {
		b.WriteString(" noprefixroute")
	}
	if a.AutoJoin {
		b.WriteString(" autojoin")
	}
	if a.NoTrack {
		b.WriteString(" no_track")
	}
	if a.TrackGroup != "" {
		b.WriteString(" track_group " + a.TrackGroup)
	}
	if a.Prefix.Addr().Is6() {
		switch {
		case a.PreferredLft == nil || *a.PreferredLft < 0:
			b.WriteString(" preferred_lft forever")
		case *a.PreferredLft == 0:
			b.WriteString(" deprecated")
		default:
			fmt.Fprintf(&b, " preferred_lft %d", *a.PreferredLft)
		}
	}
	if set {
		b.WriteString(" set")
	}
	return b.String()
}

// formatRoute is keepalived's format_iproute (after its add / append /
// prepend word), with names where vigil keeps them.
func formatRoute(r conf.Route) string {
	var b strings.Builder
	if r.Type != "" && r.Type != "unicast" {
		b.WriteString(r.Type + " ")
	}
	if r.Dst.IsValid() {
		b.WriteString(prefixStr(r.Dst))
	} else {
		b.WriteString("default")
	}
	if r.From.IsValid() {
		b.WriteString(" from " + prefixStr(r.From))
	}
	if r.Src.IsValid() {
		b.WriteString(" src " + r.Src.String())
	}
	if r.Tos != 0 {
		fmt.Fprintf(&b, " tos %d", r.Tos)
	}
	if r.Via.IsValid() {
		fam := "inet"
		if r.Via.Is6() {
			fam = "inet6"
		}
		fmt.Fprintf(&b, " via %s %s", fam, r.Via)
	}
	if r.Dev != "" {
		b.WriteString(" dev " + r.Dev)
	}
	if r.Table != 0 && r.Table != 254 {
		fmt.Fprintf(&b, " table %d", r.Table)
	}
	if r.VRF != "" {
		b.WriteString(" vrf " + r.VRF)
	}
	if r.Protocol != "" {
		b.WriteString(" proto " + r.Protocol)
	}
	if r.Scope != "" {
		b.WriteString(" scope " + r.Scope)
	}
	if r.Metric != 0 {
		fmt.Fprintf(&b, " metric %d", r.Metric)
	}
	if r.OnLink {
		b.WriteString(" onlink")
	}
	b.WriteString(realmsStr(r.Realms))
	if r.Expires != nil {
		fmt.Fprintf(&b, " expires %dsec", *r.Expires)
	}
	if r.Congctl != "" {
		b.WriteString(" congctl " + r.Congctl)
		if r.CongctlLock {
			b.WriteString(" lock")
		}
	}
	for _, m := range r.Metrics {
		b.WriteString(" " + m.Name)
		if m.Lock {
			b.WriteString(" lock")
		}
		switch m.Name {
		case "features":
			b.WriteString(" ecn")
		case "rtt":
			b.WriteString(" " + rttStr(m.Value, 8))
		case "rttvar":
			b.WriteString(" " + rttStr(m.Value, 4))
		case "rto_min":
			b.WriteString(" " + rttStr(m.Value, 1))
		default:
			fmt.Fprintf(&b, " %d", m.Value)
		}
	}
	if r.Pref != nil {
		b.WriteString(" pref ")
		switch *r.Pref {
		case 3:
			b.WriteString("low")
		case 0:
			b.WriteString("medium")
		case 1:
			b.WriteString("high")
		default:
			b.WriteString("unknown")
		}
	}
	if r.Or.IsValid() {
		b.WriteString(" or " + r.Or.String())
	}
	for _, nh := range r.Nexthops {
		b.WriteString(" nexthop")
		if nh.Via.IsValid() {
			fam := ""
			if nh.Via.Is6() {
				fam = "6"
			}
			fmt.Fprintf(&b, " via inet%s %s", fam, nh.Via)
		}
		if nh.Dev != "" {
			b.WriteString(" dev " + nh.Dev)
		}
		if nh.Weight != 0 {
			fmt.Fprintf(&b, " weight %d", nh.Weight)
		}
		if nh.OnLink {
			b.WriteString(" onlink")
		}
		b.WriteString(realmsStr(nh.Realms))
	}
	if r.NoTrack {
		b.WriteString(" no_track")
	}
	if r.TrackGroup != "" {
		b.WriteString(" track_group " + r.TrackGroup)
	}
	return b.String()
}

// realmsStr is keepalived's " realms FROM/TO" or " realm TO".
func realmsStr(v uint32) string {
	switch {
	case v == 0:
		return ""
	case v>>16 != 0:
		return fmt.Sprintf(" realms %d/%d", v>>16, v&0xFFFF)
	}
	return fmt.Sprintf(" realm %d", v)
}

// rttStr prints a time metric kept in 1/unit ms as keepalived does.
func rttStr(v, unit uint32) string {
	if v >= 1000*unit {
		return strconv.FormatFloat(float64(v)/float64(1000*unit), 'g', -1, 64) + "s"
	}
	return strconv.FormatFloat(float64(v)/float64(unit), 'g', -1, 64) + "ms"
}

// formatRule is keepalived's format_iprule.
func formatRule(r conf.Rule) string {
	var b strings.Builder
	if !r.From.IsValid() && !r.To.IsValid() && r.Family == 6 {
		b.WriteString("inet6 ")
	}
	if r.Not {
		b.WriteString("not ")
	}
	if r.From.IsValid() {
		b.WriteString("from " + prefixStr(r.From))
	} else {
		b.WriteString("from all")
	}
	if r.To.IsValid() {
		b.WriteString(" to " + prefixStr(r.To))
	}
	if r.PrioritySet || r.Priority != 0 {
		fmt.Fprintf(&b, " priority %d", r.Priority)
	}
	fmt.Fprintf(&b, " tos 0x%x", r.Tos)
	if r.FwMark != "" {
		b.WriteString(" fwmark " + r.FwMark)
	}
	if r.IIf != "" {
		b.WriteString(" iif " + r.IIf)
	}
	if r.OIf != "" {
		b.WriteString(" oif " + r.OIf)
	}
	if r.SuppressPrefixLength != nil {
		fmt.Fprintf(&b, " suppress_prefixlen %d", *r.SuppressPrefixLength)
	}
	if r.SuppressIfGroup != nil {
		fmt.Fprintf(&b, " suppress_ifgroup %d", *r.SuppressIfGroup)
	}
	if r.TunnelID != 0 {
		fmt.Fprintf(&b, " tunnel-id %d", r.TunnelID)
	}
	if r.UIDRange != nil {
		fmt.Fprintf(&b, " uidrange %d-%d", r.UIDRange.Start, r.UIDRange.End)
	}
	if r.L3MDev {
		b.WriteString(" l3mdev")
	}
	if r.Protocol != 0 {
		fmt.Fprintf(&b, " protocol %d", r.Protocol)
	}
	if r.IPProto != 0 {
		fmt.Fprintf(&b, " ipproto %d", r.IPProto)
	}
	if r.SPort != nil {
		fmt.Fprintf(&b, " sport %d-%d", r.SPort.Start, r.SPort.End)
	}
	if r.DPort != nil {
		fmt.Fprintf(&b, " dport %d-%d", r.DPort.Start, r.DPort.End)
	}
	if r.Realms != 0 {
		fmt.Fprintf(&b, " realms %d/%d", r.Realms>>16, r.Realms&0xFFFF)
	}
	switch {
	case r.Action == "goto":
		fmt.Fprintf(&b, " goto %d", r.Goto)
	case r.Action == "nop":
		b.WriteString(" nop")
	case r.Action != "":
		b.WriteString(" type " + r.Action)
	case r.L3MDev:
	default:
		fmt.Fprintf(&b, " lookup %d", r.Table)
	}
	if r.NoTrack {
		b.WriteString(" no_track")
	}
	if r.TrackGroup != "" {
		b.WriteString(" track_group " + r.TrackGroup)
	}
	return b.String()
}

// timeUS is keepalived's "%ld.%6.6ld (ctime with microseconds)".
func timeUS(t time.Time) string {
	return fmt.Sprintf("%d.%06d (%s)", t.Unix(), t.Nanosecond()/1000, t.Format("Mon Jan _2 15:04:05.000000 2006"))
}

// unixFloat is a time as seconds since the epoch with microseconds
// (keepalived's timeval as a double printed with %f).
func unixFloat(t time.Time) string {
	return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func fmtInt(n int64) string { return strconv.FormatInt(n, 10) }

func joinSpace(ss []string) string { return strings.Join(ss, " ") }
