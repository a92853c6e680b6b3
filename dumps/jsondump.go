package dumps

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/engine/vrrp"
	"github.com/vigil-ha/vigil/events/conf"
)

// JSON format versions (global_defs json_version).
const (
	// JSONv1 is keepalived 2.2.7's format: an array of instances.
	JSONv1 = 1
	// JSONv2 is keepalived 2.2.8's: {"vrrp": [...], "track_process": [...]}.
	JSONv2 = 2
)

// JSONVersion reads global_defs json_version from the configuration's
// uninterpreted keywords; it is 1 unless 2 is configured.
func JSONVersion(v *vrrp.View) int {
	if v.Config == nil {
		return JSONv1
	}
	for _, kv := range v.Config.GlobalDefs.Other {
		if kv.Key == "json_version" && strings.TrimSpace(kv.Value) == "2" {
			return JSONv2
		}
	}
	return JSONv1
}

// WriteJSON writes keepalived's JSON dump (/tmp/keepalived.json) in the
// given version. Version 1 is keepalived 2.2.7's byte for byte (but for
// the backslash escape, see jsonw.puts); version 2 adds, as keepalived
// 2.2.8 does, each instance's track_process names and the top-level
// track_process array.
func WriteJSON(w io.Writer, in *Input, version int) error {
	j := &jsonw{b: bufio.NewWriter(w)}
	if version == JSONv2 {
		j.begin('{')
		j.name("vrrp")
	}
	j.begin('[')
	for k := range in.View.Instances {
		i := &in.View.Instances[k]
		j.begin('{')
		jsonInstance(j, in, i, version)
		jsonStats(j, in.Records.Stats[i.Name])
		j.end('}')
	}
	j.end(']')
	if version == JSONv2 {
		if len(in.View.Procs) > 0 {
			j.name("track_process")
			j.begin('[')
			for k := range in.View.Procs {
				jsonProcess(j, &in.View.Procs[k])
			}
			j.end(']')
		}
		j.end('}')
	}
	j.b.WriteByte('\n')
	if err := j.b.Flush(); err != nil {
		return fmt.Errorf("json dump: %w", err)
	}
	return nil
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func jsonInstance(j *jsonw, in *Input, i *vrrp.InstanceView, version int) {
	c := i.Config
	j.name("data")
	j.begin('{')
	j.strField("iname", i.Name)
	j.uintField("dont_track_primary", b2u(c.DontTrackPrimary))
	j.uintField("skip_check_adv_addr", b2u(c.SkipCheckAdvAddr))
	j.uintField("strict_mode", b2u(c.StrictMode))
	j.strField("vmac_ifname", vmacName(i))
	if i.Interface != "" {
		j.strField("ifp_ifname", ifpName(i))
	}
	j.uintField("master_priority", uint64(i.MasterPrio))
	j.name("last_transition")
	j.raw(unixFloat(lastTransition(in, i.Name)))
	j.floatField("garp_delay", c.GARPMasterDelay.Std().Seconds())
	j.uintField("garp_refresh", uint64(c.GARPMasterRefresh.Std()/time.Second))
	j.uintField("garp_rep", uint64(c.GARPMasterRepeat))
	j.uintField("garp_refresh_rep", uint64(c.GARPMasterRefreshRepeat))
	j.uintField("garp_lower_prio_delay", uint64(c.GARPLowerPrioDelay.Std()/time.Second))
	j.uintField("garp_lower_prio_rep", uint64(c.GARPLowerPrioRepeat))
	j.uintField("lower_prio_no_advert", b2u(c.LowerPrioNoAdvert))
	j.uintField("higher_prio_send_advert", b2u(c.HigherPrioSendAdvert))
	j.uintField("vrid", uint64(i.VRID))
	j.uintField("base_priority", uint64(i.Base))
	j.uintField("effective_priority", uint64(i.Effective))
	j.boolField("vipset", i.VIPSet)
	j.boolField("promote_secondaries", c.PromoteSecondaries)
	j.floatField("adver_int", i.AdvertInt.Seconds())
	j.floatField("master_adver_int", i.MasterAdvertInt.Seconds())
	j.uintField("accept", b2u(c.Accept))
	j.boolField("nopreempt", c.NoPreempt)
	j.uintField("preempt_delay", uint64(c.PreemptDelay.Std()/time.Second))
	j.uintField("state", uint64(i.State))
	j.uintField("wantstate", uint64(i.Want))
	j.uintField("version", uint64(i.Version))
	j.boolField("smtp_alert", c.SMTPAlert)
	j.boolField("notify_deleted", c.Notify.SendDeleted)

	n := &c.Notify
	for _, s := range []struct {
		name string
		s    string
	}{
		{"script_backup", in.cmdStr(n.Backup)}, {"script_master", in.cmdStr(n.Master)},
		{"script_fault", in.cmdStr(n.Fault)}, {"script_stop", in.cmdStr(n.Stop)},
		{"script_deleted", in.cmdStr(n.Deleted)}, {"script", in.cmdStr(n.Notify)},
		{"script_master_rx_lower_pri", in.cmdStr(n.MasterRxLowerPri)},
	} {
		if s.s != "" {
			j.strField(s.name, s.s)
		}
	}

	set := i.VIPSet
	j.strArray("vips", addrStrings(i.VIPs, i, set))
	j.strArray("evips", addrStrings(i.EVIPs, i, set))
	var routes, rules []string
	for _, r := range c.VirtualRoutes {
		routes = append(routes, formatRoute(r))
	}
	for _, r := range c.VirtualRules {
		rules = append(rules, formatRule(r))
	}
	j.strArray("vroutes", routes)
	j.strArray("vrules", rules)

	var ifs, scripts, procs []string
	for _, t := range i.Tracks {
		switch t.Kind {
		case "interface":
			ifs = append(ifs, t.Name)
		case "script":
			scripts = append(scripts, in.cmdStr(scriptConf(in.View, t.Name)))
		case "process":
			procs = append(procs, t.Name)
		}
	}
	j.strArray("track_ifp", ifs)
	j.strArray("track_script", scripts)
	if version == JSONv2 {
		j.strArray("track_process", procs)
	}
	auth := authType(i)
	j.uintField("auth_type", uint64(auth))
	if auth != 0 {
		// keepalived prints the 8-byte password buffer (zero padded,
		// so the configured text); AH has no password.
		pass := ""
		if auth == 1 {
			pass = c.AuthPass
		}
		j.strField("auth_data", pass)
	}
	j.end('}')
}

func jsonStats(j *jsonw, s Stats) {
	j.name("stats")
	j.begin('{')
	j.uintField("advert_rcvd", s.AdvertRcvd)
	j.uintField("advert_sent", uint64(uint32(s.AdvertSent)))
	j.uintField("become_master", uint64(uint32(s.BecomeMaster)))
	j.uintField("release_master", uint64(uint32(s.ReleaseMaster)))
	j.uintField("packet_len_err", s.PacketLenErr)
	j.uintField("advert_interval_err", s.AdvertIntervalErr)
	j.uintField("ip_ttl_err", s.IPTTLErr)
	j.uintField("invalid_type_rcvd", s.InvalidTypeRcvd)
	j.uintField("addr_list_err", s.AddrListErr)
	j.uintField("invalid_authtype", uint64(uint32(s.InvalidAuthType)))
	j.uintField("authtype_mismatch", uint64(uint32(s.AuthTypeMismatch)))
	j.uintField("auth_failure", uint64(uint32(s.AuthFailure)))
	j.uintField("pri_zero_rcvd", s.PriZeroRcvd)
	j.uintField("pri_zero_sent", s.PriZeroSent)
	j.end('}')
}

// jsonProcess is one vrrp_track_process in json_version 2.
func jsonProcess(j *jsonw, p *vrrp.ProcView) {
	c := p.Config
	j.begin('{')
	j.strField("process", c.Name)
	if len(c.Params) > 0 {
		j.strField("parameters", strings.Join(c.Params, " "))
	}
	j.strField("param_match", paramMatch(c.ParamMatch, len(c.Params) > 0))
	j.uintField("min_processes", uint64(c.Quorum))
	if c.QuorumMax > 0 {
		j.uintField("max_processes", uint64(c.QuorumMax))
	}
	j.uintField("current_processes", uint64(p.Count))
	j.boolField("have_quorum", p.Known && p.Quorum)
	w := int64(c.Weight)
	if c.WeightReverse {
		w = -w
	}
	j.intField("weight", w)
	j.floatField("terminate_delay", c.TerminateDelay.Std().Seconds())
	j.floatField("fork_delay", c.ForkDelay.Std().Seconds())
	// vigil's process tracker applies the delays itself: the engine sees
	// only settled counts, so no delay timer is ever pending here.
	j.boolField("fork_delay_timer_running", false)
	j.boolField("terminate_delay_timer_running", false)
	j.boolField("full_command", c.FullCommand)
	j.end('}')
}

// paramMatch is keepalived's param_match name: exact when parameters are
// given without a match mode, none without parameters.
func paramMatch(m string, params bool) string {
	switch {
	case m != "":
		return m
	case params:
		return "exact"
	}
	return "none"
}

func addrStrings(as []conf.Address, i *vrrp.InstanceView, set bool) []string {
	var out []string
	for _, a := range as {
		out = append(out, formatAddress(a, vmacBase(i, a), set))
	}
	return out
}
