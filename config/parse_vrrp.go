package config

import (
	"math"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

// instState is what the defaulting and validation passes need to know
// about an instance beyond its model: which settings were explicit, and
// the statements to point diagnostics at.
type instState struct {
	n       *node
	idx     int
	dropped bool

	stateN, prioN, vridN, advertN, authN, versionN *node
	preemptDelayN, nopreemptN, unicastN, mcastDstN *node
	downAdvertsN, accN                             *node
	vmacN                                          *node   // use_vmac
	vipN, evipN                                    []*node // each kept VIP and eVIP line
	refN                                           [numRefKinds][]*node

	accept, strict, skipCheck, lowerNoAdv, higherSend *bool
	smtpAlert, notifyPrio                             *bool

	garpDelaySet, garpRepeatSet, garpRefreshSet, garpRefreshRepSet bool
	lowerDelaySet, lowerRepeatSet, garpExtraSet, checkSrcSet       bool
	unicastTTLSet, unicastKw                                       bool
	advert                                                         time.Duration
}

// syncState keeps a sync group's statements for validation.
type syncState struct {
	n       *node
	idx     int
	members []*node
	refN    [numRefKinds][]*node
	// smtpAlert is the group's own smtp_alert, nil when unset (the
	// globals then decide, in finishSyncGroups).
	smtpAlert *bool
}

// Kinds of track references, indexing instState.refN and syncState.refN.
const (
	refScript = iota
	refFile
	refProcess
	refBFD
	refInterface
	numRefKinds
)

// trackRefs parses a track_* block: `NAME [weight N [reverse|noreverse]]`,
// recording the statements in nodes (parallel to the result) for later
// diagnostics.
func (p *parser) trackRefs(b *node, min, max int64, nodes *[]*node) []conf.TrackRef {
	*nodes = nil
	if !p.needBlock(b) {
		return nil
	}
	out := make([]conf.TrackRef, 0, len(b.block))
	for _, n := range entries(b) {
		p.noBlock(n)
		r := conf.TrackRef{Name: n.name(), Pos: pos(n)}
		if len(n.args) > 0 {
			if n.arg(0) != "weight" {
				p.argErrorf(n, 0, "unknown option '%s': expected weight", n.arg(0))
				continue
			}
			w, rev, ok := p.weightArgs(n, 1, min, max)
			if !ok {
				continue
			}
			r.Weight, r.Reverse = &w, rev
		}
		out = append(out, r)
		*nodes = append(*nodes, n)
	}
	return out
}

// notifyKeyword parses the notify_* keywords shared by sync groups and
// instances. It reports whether n was one of them.
func (p *parser) notifyKeyword(n *node, ns *conf.Notifies) bool {
	var dst **conf.Script
	switch n.name() {
	case "notify_master":
		dst = &ns.Master
	case "notify_backup":
		dst = &ns.Backup
	case "notify_fault":
		dst = &ns.Fault
	case "notify_stop":
		dst = &ns.Stop
	case "notify":
		dst = &ns.Notify
	case "notify_master_rx_lower_pri":
		dst = &ns.MasterRxLowerPri
	case "notify_deleted":
		ns.SendDeleted = true
		if len(n.args) > 0 {
			ns.Deleted = p.notifyScript(n)
		}
		return true
	default:
		return false
	}
	if *dst != nil {
		p.warnf(n, "%s script already specified - ignored", n.name())
		return true
	}
	*dst = p.notifyScript(n)
	return true
}

// parseSyncGroup parses a vrrp_sync_group block.
func (p *parser) parseSyncGroup(b *node) {
	name, ok := p.nameArg(b, "vrrp_sync_group")
	if !ok {
		return
	}
	for _, s := range p.syncs {
		if p.cfg.SyncGroups[s.idx].Name == name {
			p.errorf(b, "vrrp_sync_group %s already defined at %s:%d", name, s.n.file, s.n.line)
			return
		}
	}
	g := conf.SyncGroup{Pos: pos(b), Name: name, Group: []string{}}
	st := &syncState{n: b, idx: len(p.cfg.SyncGroups)}
	groupSeen := false
	for _, n := range b.block {
		if p.notifyKeyword(n, &g.Notify) {
			p.noBlock(n)
			continue
		}
		switch n.name() {
		case "group":
			if groupSeen {
				p.warnf(n, "group list already specified for sync group %s - ignored", name)
				continue
			}
			groupSeen = true
			if !p.needBlock(n) {
				continue
			}
			for _, c := range entries(n) {
				p.noBlock(c)
				g.Group = append(g.Group, c.name())
				st.members = append(st.members, c)
				for i := range c.args {
					g.Group = append(g.Group, c.arg(i))
					st.members = append(st.members, &node{kw: c.args[i], file: c.file, line: c.line, seq: c.seq, parent: n, entry: true})
				}
			}
			if len(g.Group) == 0 {
				p.warnf(n, "sync group %s has an empty group block", name)
			}
		case "track_interface":
			g.TrackInterfaces = p.trackRefs(n, -253, 253, &st.refN[refInterface])
		case "track_script":
			g.TrackScripts = p.trackRefs(n, -253, 253, &st.refN[refScript])
		case "track_file":
			g.TrackFiles = p.trackRefs(n, -254, 254, &st.refN[refFile])
		case "track_process":
			g.TrackProcesses = p.trackRefs(n, -254, 254, &st.refN[refProcess])
		case "track_bfd":
			g.TrackBFDs = p.trackRefs(n, -253, 253, &st.refN[refBFD])
		case "smtp_alert":
			p.noBlock(n)
			if v, ok := p.boolArg(n, 0); ok {
				st.smtpAlert = &v
			}
		case "global_tracking":
			p.noBlock(n)
			p.warnf(n, "global_tracking is deprecated - use track_interface/script/file on the sync group")
			// keepalived 2.2.7 treats it as sync_group_tracking_weight.
			g.GlobalTracking, g.SyncGroupTrackingWeight = true, true
		case "sync_group_tracking_weight":
			p.noBlock(n)
			g.SyncGroupTrackingWeight = true
		case "notify_priority_changes":
			p.noBlock(n)
			if v, ok := p.boolArg(n, 0); ok {
				g.NotifyPriorityChanges = &v
			}
		default:
			p.unknown(n, "vrrp_sync_group")
		}
	}
	p.syncs = append(p.syncs, st)
	p.cfg.SyncGroups = append(p.cfg.SyncGroups, g)
}

// parseInstance parses a vrrp_instance block. Defaults are applied later,
// once global_defs is known whatever its position.
func (p *parser) parseInstance(b *node) {
	name, ok := p.nameArg(b, "vrrp_instance")
	if !ok {
		return
	}
	if prev, dup := p.instBy[name]; dup {
		p.errorf(b, "vrrp_instance %s already defined at %s:%d", name, prev.n.file, prev.n.line)
		return
	}
	st := &instState{n: b, idx: len(p.cfg.Instances)}
	p.cfg.Instances = append(p.cfg.Instances, conf.Instance{
		Pos: pos(b), Name: name,
		VirtualIPAddresses: []conf.Address{},
	})
	p.insts = append(p.insts, st)
	p.instBy[name] = st
	in := &p.cfg.Instances[st.idx]
	boolp := func(n *node, dst **bool) {
		if v, ok := p.boolArg(n, 0); ok {
			*dst = &v
		}
	}
	secs := func(n *node, dst *conf.Duration, set *bool) {
		if v, ok := p.intArg(n, 0, 0, maxSecs); ok {
			*dst, *set = conf.Duration(time.Duration(v)*time.Second), true
		}
	}
	repeat := func(n *node, dst *int, set *bool, zeroOK bool) {
		if v, ok := p.intArg(n, 0, 0, math.MaxInt32); ok {
			if v == 0 && !zeroOK {
				p.argWarnf(n, 0, "%s must be greater than 0 - using 1", n.name())
				v = 1
			}
			*dst, *set = v, true
		}
	}
	for _, n := range b.block {
		if p.notifyKeyword(n, &in.Notify) {
			p.noBlock(n)
			continue
		}
		switch k := n.name(); k {
		case "track_interface", "track_script", "track_file", "track_process", "track_bfd",
			"virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_routes", "virtual_rules",
			"unicast_peer", "authentication":
		default:
			p.noBlock(n)
		}
		switch k := n.name(); k {
		case "state":
			p.maxArgs(n, 1)
			switch s := strings.ToUpper(n.arg(0)); s {
			case "MASTER", "BACKUP":
				if in.State == "MASTER" && s == "BACKUP" {
					p.warnf(n, "state previously set as MASTER - ignoring BACKUP")
					continue
				}
				in.State, st.stateN = s, n
			default:
				p.argWarnf(n, 0, "unknown state '%s' - using BACKUP", n.arg(0))
				in.State, st.stateN = "BACKUP", n
			}
		case "interface":
			if v, ok := p.ifArg(n, 0); ok {
				p.maxArgs(n, 1)
				if in.VRF != "" {
					p.warnf(n, "cannot specify both vrf and interface - interface ignored")
					continue
				}
				in.Interface = v
			}
		case "vrf":
			if v, ok := p.ifArg(n, 0); ok {
				if in.Interface != "" {
					p.warnf(n, "cannot specify both vrf and interface - vrf ignored")
					continue
				}
				in.VRF = v
			}
		case "use_vmac":
			in.UseVMAC = true
			st.vmacN = n
			for i := range n.args {
				a := n.arg(i)
				if mac, ok := parseVMAC(a); ok {
					switch {
					case in.VMACAddr != "":
						p.argWarnf(n, i, "VMAC address already specified - ignored")
					case strings.ContainsRune("13579bdf", rune(mac[1])):
						p.argWarnf(n, i, "VMAC MAC address is multicast %s - ignored", a)
					case strings.HasPrefix(mac, "00:00:5e:00:01") || strings.HasPrefix(mac, "00:00:5e:00:02"):
						p.argWarnf(n, i, "VMAC MAC address not allowed to be an RFC 5798 address (%s) - ignored", a)
					default:
						in.VMACAddr = mac
					}
				} else if strings.Count(a, ":") >= 4 {
					p.argErrorf(n, i, "invalid VMAC address '%s'", a)
				} else if !validIfName(a) {
					p.argErrorf(n, i, "VMAC interface name '%s' too long or invalid", a)
				} else if in.VMACName != "" {
					p.argWarnf(n, i, "VMAC interface name already specified - ignored")
				} else {
					in.VMACName = a
				}
			}
		case "use_vmac_addr":
			in.UseVMACAddr = true
		case "vmac_xmit_base":
			in.VMACXmitBase = true
		case "use_ipvlan":
			p.parseIPVLAN(n, in)
		case "native_ipv6":
			if in.Family == 4 {
				p.errorf(n, "cannot specify native_ipv6 with IPv4 virtual addresses")
				continue
			}
			in.NativeIPv6, in.Family = true, 6
		case "dont_track_primary":
			in.DontTrackPrimary = true
		case "track_interface":
			in.TrackInterfaces = p.trackRefs(n, -253, 253, &st.refN[refInterface])
		case "track_script":
			in.TrackScripts = p.trackRefs(n, -253, 253, &st.refN[refScript])
		case "track_file":
			in.TrackFiles = p.trackRefs(n, -254, 254, &st.refN[refFile])
		case "track_process":
			in.TrackProcesses = p.trackRefs(n, -254, 254, &st.refN[refProcess])
		case "track_bfd":
			in.TrackBFDs = p.trackRefs(n, -253, 253, &st.refN[refBFD])
		case "mcast_src_ip", "unicast_src_ip":
			if a, ok := p.addrArg(n, 0); ok {
				if k == "mcast_src_ip" {
					in.McastSrcIP = a
				} else {
					in.UnicastSrcIP = a
				}
			}
		case "mcast_dst_ip":
			a, ok := p.addrArg(n, 0)
			if !ok {
				continue
			}
			if !a.IsMulticast() || (a.Is6() && !a.IsLinkLocalMulticast()) {
				p.argErrorf(n, 0, "'%s' is not a %smulticast address", a, map[bool]string{true: "", false: "link-local "}[a.Is4()])
				continue
			}
			in.McastDstIP, st.mcastDstN = a, n
		case "track_src_ip":
			in.TrackSrcIP = true
		case "version":
			if v, ok := p.intArg(n, 0, 2, 3); ok {
				if v == 2 && in.Family == 6 {
					p.argWarnf(n, 0, "VRRP version 2 cannot be used with IPv6 - using version 3")
					v = 3
				}
				in.Version, st.versionN = v, n
			}
		case "check_unicast_src":
			in.CheckUnicastSrc, st.checkSrcSet = true, true
		case "unicast_peer":
			st.unicastKw, st.unicastN = true, n
			if p.needBlock(n) {
				p.parseUnicastPeers(n, in, st)
			}
		case "unicast_fault_no_peer":
			st.unicastKw = true
			in.UnicastFaultNoPeer = true
		case "unicast_ttl":
			if v, ok := p.intArg(n, 0, 0, 255); ok {
				in.UnicastTTL, st.unicastTTLSet = v, true
			}
		case "old_unicast_checksum":
			switch {
			case len(n.args) == 0:
				in.OldUnicastChecksum, in.OldUnicastChecksumNever = true, false
			case n.arg(0) == "never":
				in.OldUnicastChecksum, in.OldUnicastChecksumNever = false, true
			default:
				// keepalived ignores the line (the mode stays automatic).
				p.argWarnf(n, 0, "unknown old_unicast_checksum mode '%s' - ignored", n.arg(0))
			}
		case "virtual_router_id":
			if v, ok := p.intArg(n, 0, 1, 255); ok {
				p.maxArgs(n, 1)
				in.VRID, st.vridN = v, n
			}
		case "priority":
			if v, ok := p.intArg(n, 0, 1, 255); ok {
				p.maxArgs(n, 1)
				in.Priority, st.prioN = v, n
			}
		case "advert_int":
			v, ok := p.timerArg(n, 0, 0, 255*time.Second)
			if !ok {
				continue
			}
			if v < conf.Duration(10*time.Millisecond) {
				p.argErrorf(n, 0, "advert interval '%s' is not valid: must be at least 0.01 seconds", n.arg(0))
				continue
			}
			st.advert, st.advertN = time.Duration(v), n
		case "authentication":
			if p.needBlock(n) {
				p.parseAuth(n, in)
				st.authN = n
			}
		case "virtual_ipaddress", "virtual_ipaddress_excluded":
			if !p.needBlock(n) {
				continue
			}
			for _, c := range entries(n) {
				kind := addrVIP
				if k == "virtual_ipaddress_excluded" {
					kind = addrEVIP
				}
				a, ok := p.parseAddress(c, kind)
				if !ok {
					continue
				}
				if kind == addrVIP {
					f := family(a.Prefix.Addr())
					if in.Family == 0 {
						in.Family = f
					} else if in.Family != f {
						p.errorf(c, "address family of %s does not match the instance's other virtual addresses (IPv%d); use virtual_ipaddress_excluded for mixed families", a.Prefix.Addr(), in.Family)
						continue
					}
					in.VirtualIPAddresses = append(in.VirtualIPAddresses, a)
					st.vipN = append(st.vipN, c)
				} else {
					in.VirtualIPAddressesExcluded = append(in.VirtualIPAddressesExcluded, a)
					st.evipN = append(st.evipN, c)
				}
			}
		case "virtual_routes":
			if p.needBlock(n) {
				for _, c := range entries(n) {
					if r, ok := p.parseRoute(c, false); ok {
						in.VirtualRoutes = append(in.VirtualRoutes, r)
					}
				}
			}
		case "virtual_rules":
			if p.needBlock(n) {
				for _, c := range entries(n) {
					if r, ok := p.parseRule(c, false); ok {
						in.VirtualRules = append(in.VirtualRules, r)
					}
				}
			}
		case "promote_secondaries":
			in.PromoteSecondaries = true
		case "linkbeat_use_polling":
			p.warnf(n, "linkbeat_use_polling in vrrp_instance is deprecated - use the linkbeat_interfaces block")
			in.LinkbeatUsePolling = true
		case "accept":
			t := true
			st.accept, st.accN = &t, n
		case "no_accept":
			f := false
			st.accept, st.accN = &f, n
		case "preempt":
			in.NoPreempt = false
		case "nopreempt":
			in.NoPreempt, st.nopreemptN = true, n
		case "preempt_delay":
			if v, ok := p.timerArg(n, 0, 0, 1000*time.Second); ok {
				in.PreemptDelay, st.preemptDelayN = v, n
			}
		case "skip_check_adv_addr":
			boolp(n, &st.skipCheck)
		case "strict_mode":
			boolp(n, &st.strict)
		case "debug":
			if v, ok := p.intArg(n, 0, 0, 4); ok {
				in.Debug = v
			}
		case "smtp_alert":
			boolp(n, &st.smtpAlert)
		case "notify_priority_changes":
			boolp(n, &st.notifyPrio)
		case "kernel_rx_buf_size":
			if v, ok := p.intArg(n, 0, 1, math.MaxInt32); ok {
				in.KernelRxBufSize = v
			}
		case "lvs_sync_daemon_interface":
			p.warnf(n, "lvs_sync_daemon_interface in vrrp_instance is deprecated - use global_defs lvs_sync_daemon")
			if ifn, ok := p.ifArg(n, 0); ok && p.cfg.GlobalDefs.LVSSyncDaemon == nil {
				p.cfg.GlobalDefs.LVSSyncDaemon = &conf.LVSSyncDaemon{Interface: ifn, Instance: name, Port: conf.DefaultLVSSyncPort}
			}
		case "garp_master_delay":
			secs(n, &in.GARPMasterDelay, &st.garpDelaySet)
		case "garp_master_repeat":
			repeat(n, &in.GARPMasterRepeat, &st.garpRepeatSet, false)
		case "garp_master_refresh":
			secs(n, &in.GARPMasterRefresh, &st.garpRefreshSet)
		case "garp_master_refresh_repeat":
			repeat(n, &in.GARPMasterRefreshRepeat, &st.garpRefreshRepSet, false)
		case "garp_lower_prio_delay":
			secs(n, &in.GARPLowerPrioDelay, &st.lowerDelaySet)
		case "garp_lower_prio_repeat":
			repeat(n, &in.GARPLowerPrioRepeat, &st.lowerRepeatSet, true)
		case "garp_extra_if", "vmac_garp_intvl":
			if k == "vmac_garp_intvl" {
				p.warnf(n, "vmac_garp_intvl is deprecated - use garp_extra_if")
			}
			if d, all, ok := p.garpExtraIf(n); ok {
				in.GARPExtraIf, in.GARPExtraIfAll, st.garpExtraSet = d, all, true
			}
		case "down_timer_adverts":
			if v, ok := p.intArg(n, 0, 1, 100); ok {
				in.DownTimerAdverts, st.downAdvertsN = v, n
			}
		case "lower_prio_no_advert":
			boolp(n, &st.lowerNoAdv)
		case "higher_prio_send_advert":
			boolp(n, &st.higherSend)
		default:
			p.unknown(n, "vrrp_instance")
		}
	}
}

// parseVMAC accepts a MAC address of 6 octets, or 5 (the VRID is then
// the last octet, nameVMACs adds it), as use_vmac allows, and writes each
// octet with two lower-case digits.
func parseVMAC(s string) (string, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 5 && len(parts) != 6 {
		return "", false
	}
	for k, p := range parts {
		if len(p) == 0 || len(p) > 2 {
			return "", false
		}
		for _, c := range p {
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return "", false
			}
		}
		if len(p) == 1 {
			parts[k] = "0" + p
		}
	}
	return strings.ToLower(strings.Join(parts, ":")), true
}

func (p *parser) parseIPVLAN(n *node, in *conf.Instance) {
	in.UseIPVLAN = true
	for i := range n.args {
		a := n.arg(i)
		switch a {
		case "bridge", "private", "vepa":
			in.IPVLANMode = a
			continue
		}
		if pf, err := parsePrefix(a); err == nil {
			in.IPVLANAddr = pf
			continue
		}
		if !validIfName(a) {
			p.argErrorf(n, i, "IPVLAN interface name '%s' too long or invalid", a)
			continue
		}
		in.IPVLANName = a
	}
}

// parseUnicastPeers parses unicast_peer { ADDR [min_ttl N] [max_ttl N] }.
func (p *parser) parseUnicastPeers(b *node, in *conf.Instance, st *instState) {
	for _, n := range entries(b) {
		p.noBlock(n)
		a, err := parseAddr(n.name())
		if err != nil {
			p.errorf(n, "invalid unicast peer address '%s'", n.name())
			continue
		}
		peer := conf.UnicastPeer{Addr: a}
		ok := true
		for i := 0; i < len(n.args) && ok; i += 2 {
			var v int
			switch n.arg(i) {
			case "min_ttl":
				v, ok = p.intArg(n, i+1, 0, 255)
				peer.MinTTL = v
			case "max_ttl":
				v, ok = p.intArg(n, i+1, 0, 255)
				peer.MaxTTL = v
			default:
				p.argErrorf(n, i, "unknown unicast_peer option '%s': expected min_ttl or max_ttl", n.arg(i))
				ok = false
			}
		}
		if !ok {
			continue
		}
		if peer.MinTTL != 0 || peer.MaxTTL != 0 {
			in.CheckUnicastSrc, st.checkSrcSet = true, true // documented: min/max_ttl turn it on
			if peer.MaxTTL == 0 {
				peer.MaxTTL = 255
			}
			if peer.MinTTL > peer.MaxTTL {
				p.errorf(n, "min_ttl %d is greater than max_ttl %d", peer.MinTTL, peer.MaxTTL)
				continue
			}
		}
		for _, q := range in.UnicastPeers {
			if q.Addr == a {
				p.warnf(n, "duplicate unicast peer %s - ignored", a)
				ok = false
			}
		}
		if ok {
			in.UnicastPeers = append(in.UnicastPeers, peer)
		}
	}
}

// parseAuth parses authentication { auth_type PASS|AH; auth_pass P }.
func (p *parser) parseAuth(b *node, in *conf.Instance) {
	for _, n := range b.block {
		p.noBlock(n)
		switch n.name() {
		case "auth_type":
			switch t := n.arg(0); t {
			case "PASS", "AH":
				in.AuthType = t
			default:
				p.argErrorf(n, 0, "unknown authentication type '%s': expected PASS or AH", t)
			}
		case "auth_pass":
			if !p.needArgs(n, 1, "password") {
				continue
			}
			pass := n.arg(0)
			if len(pass) > 8 {
				p.argWarnf(n, 0, "password longer than 8 characters - only the first 8 are used")
				pass = pass[:8]
			}
			in.AuthPass = pass
		default:
			p.unknown(n, "authentication")
		}
	}
}
