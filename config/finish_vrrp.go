package config

import (
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

// finish runs the passes that need the whole configuration: global
// defaults that depend on other globals, instance defaults and
// keepalived's corrections, references, duplicates, LVS inheritance.
func (p *parser) finish() {
	g := &p.cfg.GlobalDefs
	if g.VRRPMinGARP {
		// vrrp_min_garp: one GARP/NA, no repeat - unless set explicitly.
		if g.VRRPGARPMasterRepeat == conf.DefaultGARPRepeat {
			g.VRRPGARPMasterRepeat = 1
		}
		if g.VRRPGARPMasterDelay == conf.Duration(5*time.Second) {
			g.VRRPGARPMasterDelay = 0
		}
	}
	if !p.global.lowerPrioDelaySet {
		g.VRRPGARPLowerPrioDelay = g.VRRPGARPMasterDelay
	}
	if !p.global.lowerPrioRepeatSet {
		g.VRRPGARPLowerPrioRepeat = g.VRRPGARPMasterRepeat
	}
	p.finishSyncGroups() // before instances: membership feeds their defaults
	for _, st := range p.insts {
		p.finishInstance(st)
	}
	p.nameVMACs()
	p.checkUpDownDelays()
	p.checkTracking()
	p.checkDuplicateVRIDs()
	p.checkStatic()
	p.checkScriptsUsed()
	if sd := g.LVSSyncDaemon; sd != nil && sd.Instance != "" {
		if _, ok := p.instBy[sd.Instance]; !ok && p.global.syncDaemon != nil {
			p.errorf(p.global.syncDaemon, "vrrp_instance %s not found", sd.Instance)
		}
	}
	p.finishLVS()
	p.fillScriptUsers()
}

func orBool(v *bool, def bool) bool {
	if v != nil {
		return *v
	}
	return def
}

// maxVIPs is how many addresses fit in an advert on a 1500-byte MTU
// (keepalived's default when the interface is unknown), at most 255.
func maxVIPs(in *conf.Instance) int {
	const mtu = 1500
	hdr := 14 + 8 // Ethernet + VRRP header
	size := 16
	if in.Family == 4 {
		hdr += 20
		size = 4
		if in.Version == 2 {
			hdr += 8 // authentication data
			if in.AuthType == "AH" {
				hdr += 24
			}
		}
	} else {
		hdr += 40
	}
	n := (mtu - hdr) / size
	if n > 255 {
		n = 255
	}
	return n
}

// finishInstance applies defaults (instance setting, else global, else
// keepalived's default) and the corrections keepalived makes, reporting
// each as it does.
func (p *parser) finishInstance(st *instState) {
	g := &p.cfg.GlobalDefs
	in := &p.cfg.Instances[st.idx]
	b := st.n
	at := func(n *node) *node {
		if n != nil {
			return n
		}
		return b
	}
	strict := orBool(st.strict, g.VRRPStrict)
	in.StrictMode = strict

	if in.Family == 0 {
		in.Family = 4 // no VIPs: keepalived defaults to IPv4
	}
	if in.Family == 6 {
		if in.Version == 2 {
			p.warnf(at(st.versionN), "VRRP version 2 cannot be used with IPv6 - using version 3")
		}
		in.Version = 3
	} else if in.Version == 0 {
		in.Version = g.VRRPVersion
	}

	if in.VRID == 0 {
		p.errorf(b, "(%s) virtual_router_id must be set", in.Name)
		st.dropped = true
	}
	if len(in.VirtualIPAddresses) == 0 {
		if in.Version == 3 || strict {
			p.errorf(b, "(%s) no virtual_ipaddress specified; at least one is required with VRRP version 3 or strict mode", in.Name)
			st.dropped = true
		} else {
			p.warnf(b, "(%s) no virtual_ipaddress specified; at least one is sensible", in.Name)
		}
	}
	if in.Interface == "" {
		switch {
		case len(in.UnicastPeers) == 0:
			p.errorf(b, "(%s) no interface specified (an interface is required unless using unicast peers)", in.Name)
			st.dropped = true
		case !in.UnicastSrcIP.IsValid() && !in.McastSrcIP.IsValid():
			p.errorf(b, "(%s) unicast instances need unicast_src_ip or interface", in.Name)
			st.dropped = true
		case in.Family == 6 && in.UnicastSrcIP.IsLinkLocalUnicast():
			p.errorf(b, "(%s) a non link-local unicast_src_ip is required when interface is omitted", in.Name)
			st.dropped = true
		}
	}

	// Priority and initial state derive from each other when one is unset.
	if in.Priority == 0 {
		if in.State == "MASTER" {
			in.Priority = conf.OwnerPriority
		} else {
			in.Priority = conf.DefaultPriority
		}
	}
	owner := in.Priority == conf.OwnerPriority
	if in.State == "" {
		in.State = map[bool]string{true: "MASTER", false: "BACKUP"}[owner]
	} else if strict && (in.State == "MASTER") != owner {
		p.warnf(at(st.stateN), "(%s) in strict mode state MASTER requires priority 255 (and priority 255 requires MASTER) - using %s",
			in.Name, map[bool]string{true: "MASTER", false: "BACKUP"}[owner])
		in.State = map[bool]string{true: "MASTER", false: "BACKUP"}[owner]
	}

	if in.AuthType != "" {
		drop := ""
		switch {
		case strict:
			drop = "strict mode does not support authentication"
		case in.Version == 3:
			drop = "VRRP version 3 does not support authentication"
		case in.AuthPass == "":
			drop = "authentication specified but no auth_pass given"
		case in.Family == 6 && in.AuthType == "AH":
			drop = "AH authentication cannot be used with IPv6"
		}
		if drop != "" {
			p.warnf(at(st.authN), "(%s) %s - authentication ignored", in.Name, drop)
			in.AuthType, in.AuthPass = "", ""
		} else if in.AuthType == "AH" && in.State == "MASTER" && !owner {
			p.warnf(at(st.stateN), "(%s) initial state MASTER is incompatible with AH authentication - using BACKUP", in.Name)
			in.State = "BACKUP"
		}
	}

	unicast := len(in.UnicastPeers) > 0
	if unicast && strict {
		p.errorf(at(st.unicastN), "(%s) unicast peers are not supported in strict mode", in.Name)
		st.dropped = true
	}
	if st.unicastKw && !unicast && !in.UnicastFaultNoPeer {
		p.warnf(at(st.unicastN), "(%s) a unicast keyword is given without any unicast peers - using multicast (deprecated: add unicast_fault_no_peer or peers)", in.Name)
	}
	if st.unicastTTLSet && !unicast {
		p.warnf(b, "(%s) unicast_ttl without unicast peers - ignored", in.Name)
		st.unicastTTLSet = false
	}
	if !st.unicastTTLSet {
		in.UnicastTTL = conf.DefaultUnicastTTL
	}
	if (in.UseVMAC || in.UseIPVLAN) && unicast {
		if in.Interface == "" {
			p.warnf(b, "(%s) use_vmac/use_ipvlan need an interface when using unicast - ignored", in.Name)
			in.UseVMAC, in.UseIPVLAN = false, false
		} else if in.UseVMAC && !in.VMACXmitBase {
			p.warnf(b, "(%s) unicast with use_vmac requires vmac_xmit_base - setting it", in.Name)
			in.VMACXmitBase = true
		}
	}
	if in.VMACXmitBase && !in.UseVMAC && !in.UseIPVLAN {
		p.warnf(b, "(%s) vmac_xmit_base is only valid with use_vmac - ignored", in.Name)
		in.VMACXmitBase = false
	}
	if strict && in.VMACXmitBase {
		p.warnf(b, "(%s) strict mode does not allow vmac_xmit_base - cleared", in.Name)
		in.VMACXmitBase = false
	}
	if strict && in.VMACAddr != "" {
		p.warnf(b, "(%s) a VMAC address cannot be specified in strict mode - cleared", in.Name)
		in.VMACAddr = ""
	}
	if in.VRF != "" && !unicast {
		p.warnf(b, "(%s) vrf can only be specified with unicast - cleared", in.Name)
		in.VRF = ""
	}
	if in.Family == 6 && !unicast && strict && len(in.VirtualIPAddresses) > 0 &&
		!in.VirtualIPAddresses[0].Prefix.Addr().IsLinkLocalUnicast() {
		p.warnf(b, "(%s) the first IPv6 virtual address must be link local in strict mode", in.Name)
	}
	if max := maxVIPs(in); len(in.VirtualIPAddresses) > max {
		p.warnf(b, "(%s) %d virtual addresses exceed the %d that fit in an advert - the excess are moved to virtual_ipaddress_excluded",
			in.Name, len(in.VirtualIPAddresses), max)
		in.VirtualIPAddressesExcluded = append(append([]conf.Address{}, in.VirtualIPAddresses[max:]...), in.VirtualIPAddressesExcluded...)
		in.VirtualIPAddresses = in.VirtualIPAddresses[:max]
		st.evipN = append(append([]*node{}, st.vipN[max:]...), st.evipN...)
		st.vipN = st.vipN[:max]
	}

	if owner && in.NoPreempt {
		p.warnf(at(st.nopreemptN), "(%s) nopreempt is incompatible with priority 255 - cleared", in.Name)
		in.NoPreempt = false
	}
	if in.State == "MASTER" {
		if in.NoPreempt {
			p.warnf(at(st.nopreemptN), "(%s) nopreempt does not work with initial state MASTER - cleared", in.Name)
			in.NoPreempt = false
		}
		if in.PreemptDelay != 0 {
			p.warnf(at(st.preemptDelayN), "(%s) preempt_delay does not work with initial state MASTER - cleared", in.Name)
			in.PreemptDelay = 0
		}
	}
	if in.PreemptDelay != 0 && strict {
		p.warnf(at(st.preemptDelayN), "(%s) preempt_delay is incompatible with strict mode - cleared", in.Name)
		in.PreemptDelay = 0
	}
	if in.PreemptDelay != 0 && in.NoPreempt {
		p.warnf(at(st.preemptDelayN), "(%s) preempt_delay is incompatible with nopreempt - cleared", in.Name)
		in.PreemptDelay = 0
	}

	if in.DownTimerAdverts == 0 {
		in.DownTimerAdverts = g.VRRPDownTimerAdverts
	}
	if in.DownTimerAdverts != conf.DefaultDownAdverts && strict {
		p.warnf(at(st.downAdvertsN), "(%s) down_timer_adverts is incompatible with strict mode - using 3", in.Name)
		in.DownTimerAdverts = conf.DefaultDownAdverts
	}

	in.Accept = orBool(st.accept, owner || !strict)
	if in.Accept && !owner && strict && in.Version == 2 {
		p.warnf(at(st.accN), "(%s) accept mode with VRRP version 2 does not comply with RFC 3768 in strict mode - cleared", in.Name)
		in.Accept = false
	}

	if !unicast && !in.McastDstIP.IsValid() {
		if in.Family == 4 {
			in.McastDstIP = g.VRRPMcastGroup4
		} else {
			in.McastDstIP = g.VRRPMcastGroup6
		}
	} else if unicast && in.McastDstIP.IsValid() {
		p.warnf(at(st.mcastDstN), "(%s) mcast_dst_ip given with unicast peers - ignored", in.Name)
		in.McastDstIP = netipZero
	}
	if in.McastDstIP.IsValid() && family(in.McastDstIP) != in.Family {
		p.errorf(at(st.mcastDstN), "(%s) mcast_dst_ip %s is not of the instance's address family (IPv%d)", in.Name, in.McastDstIP, in.Family)
	}

	if !st.garpDelaySet {
		in.GARPMasterDelay = g.VRRPGARPMasterDelay
	}
	if !st.garpRepeatSet {
		in.GARPMasterRepeat = g.VRRPGARPMasterRepeat
	}
	if !st.garpRefreshSet {
		in.GARPMasterRefresh = g.VRRPGARPMasterRefresh
	}
	if !st.garpRefreshRepSet {
		in.GARPMasterRefreshRepeat = g.VRRPGARPMasterRefreshRepeat
	}
	if !st.lowerRepeatSet {
		in.GARPLowerPrioRepeat = map[bool]int{true: 0, false: g.VRRPGARPLowerPrioRepeat}[strict]
	} else if strict && in.GARPLowerPrioRepeat != 0 {
		p.warnf(b, "(%s) strict mode requires no repeat GARPs (garp_lower_prio_repeat) - using 0", in.Name)
		in.GARPLowerPrioRepeat = 0
	}
	if !st.lowerDelaySet {
		if strict {
			in.GARPLowerPrioDelay = 0
		} else {
			in.GARPLowerPrioDelay = g.VRRPGARPLowerPrioDelay
		}
	} else if strict && in.GARPLowerPrioDelay != 0 {
		p.warnf(b, "(%s) strict mode requires no repeat GARP delay (garp_lower_prio_delay) - using 0", in.Name)
		in.GARPLowerPrioDelay = 0
	}
	in.LowerPrioNoAdvert = orBool(st.lowerNoAdv, strict || g.VRRPLowerPrioNoAdvert)
	if strict && !in.LowerPrioNoAdvert {
		p.warnf(b, "(%s) strict mode requires lower_prio_no_advert - set", in.Name)
		in.LowerPrioNoAdvert = true
	}
	in.HigherPrioSendAdvert = orBool(st.higherSend, !strict && g.VRRPHigherPrioSendAdvert)
	if strict && in.HigherPrioSendAdvert {
		p.warnf(b, "(%s) strict mode requires higher_prio_send_advert to be clear - cleared", in.Name)
		in.HigherPrioSendAdvert = false
	}
	in.GARPInterval = g.VRRPGARPInterval
	in.GNAInterval = g.VRRPGNAInterval
	if !st.garpExtraSet {
		in.GARPExtraIf, in.GARPExtraIfAll = g.VRRPGARPExtraIf, g.VRRPGARPExtraIfAll
	}
	in.SkipCheckAdvAddr = orBool(st.skipCheck, g.VRRPSkipCheckAdvAddr)
	if !st.checkSrcSet {
		in.CheckUnicastSrc = g.VRRPCheckUnicastSrc
	}
	in.SMTPAlert = orBool(st.smtpAlert, orBool(g.SMTPAlertVRRP, orBool(g.SMTPAlert, false)))
	notifyPrio := g.VRRPNotifyPriorityChanges
	if in.SyncGroup != "" {
		for _, sg := range p.cfg.SyncGroups {
			if sg.Name == in.SyncGroup && sg.NotifyPriorityChanges != nil {
				notifyPrio = *sg.NotifyPriorityChanges
			}
		}
	}
	in.NotifyPriorityChanges = orBool(st.notifyPrio, notifyPrio)

	p.finishAdvertInt(st, in)
}

// finishAdvertInt applies the advert interval rules: VRRPv2 sends whole
// seconds (a fraction is rounded), VRRPv3 centiseconds up to 40.95 s.
func (p *parser) finishAdvertInt(st *instState, in *conf.Instance) {
	adv := st.advert
	if adv == 0 {
		adv = time.Second
	}
	n := st.advertN
	if n == nil {
		n = st.n
	}
	if in.Version == 2 {
		if adv%time.Second != 0 {
			r := adv.Round(time.Second)
			if r == 0 {
				r = time.Second
			}
			p.warnf(n, "(%s) VRRPv2 advertisement interval %ss must be whole seconds - rounded to %ss", in.Name, secs(adv), secs(r))
			adv = r
		}
	} else {
		const centi = 10 * time.Millisecond
		if adv >= 4096*centi {
			p.warnf(n, "(%s) VRRPv3 advertisement interval %ss is out of range (must be less than 40.96s) - using 40.95s", in.Name, secs(adv))
			adv = 4095 * centi
		} else if adv%centi != 0 {
			r := adv.Round(centi)
			if r == 0 {
				r = centi
			}
			p.warnf(n, "(%s) VRRPv3 advertisement interval %ss must be in units of 10ms - rounded to %ss", in.Name, secs(adv), secs(r))
			adv = r
		}
	}
	in.AdvertInt = conf.Duration(adv)
}

// checkUpDownDelays applies keepalived's limit on interface_up_down_delays:
// a delay must stay below (down_timer_adverts - 1) x advert_int (less
// 1/256 of it) of every instance on the interface, else a backup would
// take over before the instance reaches FAULT; it is reduced to that
// (the up delay too when it equals the down delay). With
// down_timer_adverts 1 no delay is possible and both become 0. The
// engine reduces them further while a VRRPv3 master advertises faster.
func (p *parser) checkUpDownDelays() {
	for k := range p.cfg.InterfaceUpDownDelays {
		d := &p.cfg.InterfaceUpDownDelays[k]
		for _, st := range p.insts {
			in := &p.cfg.Instances[st.idx]
			if st.dropped || in.Interface != d.Interface || (d.Down == 0 && d.Up == 0) {
				continue
			}
			if in.DownTimerAdverts == 1 {
				p.warnf(p.upDownN[k], "(%s) cannot use up/down delays on %s with down_timer_adverts 1 - using 0", in.Name, d.Interface)
				d.Down, d.Up = 0, 0
				continue
			}
			limit := conf.Duration(conf.UpDownDelayLimit(in.DownTimerAdverts, in.AdvertInt.Std()))
			if d.Down > limit {
				p.warnf(p.upDownN[k], "(%s) %s down delay %ss is not less than %d x advert_int - using %ss",
					in.Name, d.Interface, secs(d.Down.Std()), in.DownTimerAdverts-1, secs(limit.Std()))
				if d.Up == d.Down {
					d.Up = limit
				}
				d.Down = limit
			}
		}
	}
}
