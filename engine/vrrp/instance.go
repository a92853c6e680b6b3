package vrrp

import (
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

const (
	prioOwner = 255
	prioStop  = 0
)

// instance is one VRRP instance: what its configuration fixes (compiled once
// per ConfigLoaded) and its dynamic state dyn (the only part snapshotted).
type instance struct {
	cfg          *conf.Instance
	idx          int
	name         string
	iface        string // interface the instance runs on ("" for interface-less unicast)
	family       int
	version      uint8
	vrid         uint8
	basePrio     int           // configured priority (255: address owner)
	advertInt    time.Duration // configured advert interval
	downAdverts  int           // down_timer_adverts
	authType     uint8         // 0 none, 1 PASS, 2 AH
	authPass     [8]byte
	unicast      bool
	src          netip.Addr // mcast_src_ip / unicast_src_ip
	vmac         string     // VMAC interface name when use_vmac
	vmacMAC      string     // its MAC
	addrVMACs    []vmacDev  // the VMACs of addresses that need their own, in order
	vipIface     string     // interface VIPs without dev go on
	syncGroupIdx int        // sync group index or -1

	vips    []conf.Address // VIPs then eVIPs, Dev resolved
	numVIPs int            // how many of vips are in the advert
	routes  []conf.Route
	rules   []conf.Rule
	tracks  []trackRef // instance's own and its sync group's tracking
	// fw: the instance filters its VIPs (no_accept or strict mode, not
	// an address owner); fwVIPs are its drop-set elements (firewall.go).
	fw     bool
	fwVIPs []effects.FirewallVIP
	// fwVMACs are its VMACs as the IGMP/MLD objects of the table hold
	// them (any instance with a VMAC while a table is in effect).
	fwVMACs []effects.FirewallVMAC
	sock    *sock // the socket it receives on

	// advert is the template every SendAdvert copies (Addrs and Dst are
	// shared, read-only slices).
	advert effects.SendAdvert

	// The keys of the instance's timers (Machine.timers knows them):
	// adverts as MASTER, master-down as BACKUP, the second GARP burst
	// after becoming MASTER, the burst after a lower-priority advert, and
	// garp_master_refresh.
	advertKey, masterDownKey, secondGARPKey, lowerPrioGARPKey, garpRefreshKey string
	// garpExtraKey is garp_extra_if's timer; extraIfs are the interfaces
	// it announces on (none: it is off).
	garpExtraKey string
	extraIfs     []string

	dyn instanceDyn
}

// instanceDyn is an instance's dynamic state.
type instanceDyn struct {
	Name     string        `json:"name"`
	State    effects.State `json:"state"`
	Want     effects.State `json:"want"`
	Priority int           `json:"prio"`
	// MasterAdvertInt is Master_Adver_Interval (v3 learns it from the master).
	MasterAdvertInt time.Duration `json:"master_adv"`
	AdvertAt        events.Time   `json:"adv_at,omitempty"`
	MasterDownAt    events.Time   `json:"down_at,omitempty"`
	MasterDownWhy   string        `json:"down_why,omitempty"`
	SecondGARPAt    events.Time   `json:"garp2_at,omitempty"`
	LowerPrioGARPAt events.Time   `json:"garplp_at,omitempty"`
	GARPRefreshAt   events.Time   `json:"refresh_at,omitempty"`
	// GARPExtraAt is when garp_extra_if's next GARP/NA round is due.
	GARPExtraAt events.Time `json:"extra_at,omitempty"`
	PreemptAt   events.Time `json:"preempt_at,omitempty"`
	VIPSet      bool        `json:"vip_set,omitempty"`
	MasterSrc   netip.Addr  `json:"master_src,omitempty"`
	MasterPrio  int         `json:"master_prio,omitempty"`
	// LowerSeenAt is when the instance last heard a router with a lower
	// priority than its own (as MASTER or BACKUP): in a sync group, the
	// sign that the two routers' priorities are inverted across members,
	// the one case where groups can duel (sync.go).
	LowerSeenAt events.Time `json:"lower_seen_at,omitempty"`
	// LowerAnsweredAt is when the instance last reacted to a rival's
	// lower-priority or priority-0 advert (as MASTER: an advert and a GARP
	// burst; as BACKUP: a log line); LowerIgnored counts those it let
	// pass since, at most one reaction per rival and advert interval
	// (rival.go); LowerAnswered are the rivals answered since
	// LowerAnsweredAt.
	LowerAnsweredAt events.Time  `json:"lower_answered_at,omitempty"`
	LowerIgnored    int          `json:"lower_ignored,omitempty"`
	LowerAnswered   []netip.Addr `json:"lower_answered,omitempty"`
	// OldChecksum is set when a VRRPv3 IPv4 unicast instance switched to
	// the pre-1.3.6 checksum on hearing a peer use it (keepalived's
	// automatic compatibility, unless old_unicast_checksum never).
	OldChecksum bool `json:"old_csum,omitempty"`
	// LastMail is the state the last email alert announced (keepalived's
	// last_email_state; INIT before any): no second alert for the same
	// state.
	LastMail effects.State `json:"last_mail,omitempty"`
}

// compileInstance derives an instance's fixed data from its configuration.
func compileInstance(c *conf.Instance, idx int) *instance {
	i := &instance{cfg: c, idx: idx, name: c.Name, iface: c.Interface, family: c.Family, syncGroupIdx: -1}
	if i.family != 6 {
		i.family = 4
	}
	i.version = uint8(c.Version)
	if i.version != 2 && i.version != 3 {
		i.version = 2
	}
	if i.family == 6 {
		i.version = 3
	}
	i.vrid = uint8(c.VRID)
	i.basePrio = c.Priority
	if i.basePrio <= 0 {
		i.basePrio = 100
	}
	if i.basePrio > prioOwner {
		i.basePrio = prioOwner
	}
	i.advertInt = c.AdvertInt.Std()
	if i.version == 2 {
		i.advertInt = i.advertInt.Round(time.Second)
	} else {
		i.advertInt = i.advertInt.Round(10 * time.Millisecond)
	}
	if i.advertInt <= 0 {
		i.advertInt = time.Second
	}
	i.downAdverts = c.DownTimerAdverts
	if i.downAdverts < 1 {
		i.downAdverts = 3
	}
	if i.version == 2 {
		switch c.AuthType {
		case "PASS":
			i.authType = 1
			copy(i.authPass[:], c.AuthPass)
		case "AH":
			i.authType = 2
		}
	}
	i.unicast = len(c.UnicastPeers) > 0
	if i.unicast {
		i.src = c.UnicastSrcIP
	} else {
		i.src = c.McastSrcIP
	}
	i.vipIface = i.iface
	if c.UseVMAC {
		// The parser names every VMAC (config.nameVMACs); a
		// configuration built by hand may leave it to the default.
		i.vmac = c.VMACName
		if i.vmac == "" {
			i.vmac = "vrrp." + strconv.Itoa(int(i.vrid))
		}
		i.vmacMAC = i.macFor(i.family)
		i.vipIface = i.vmac
	}
	for _, a := range c.VirtualIPAddresses {
		i.vips = append(i.vips, i.resolveAddr(a))
	}
	i.numVIPs = len(i.vips)
	for _, a := range c.VirtualIPAddressesExcluded {
		i.vips = append(i.vips, i.resolveAddr(a))
	}
	i.routes = c.VirtualRoutes
	i.rules = c.VirtualRules

	i.advertKey = "vrrp/" + c.Name + "/adv"
	i.masterDownKey = "vrrp/" + c.Name + "/down"
	i.secondGARPKey = "vrrp/" + c.Name + "/garp2"
	i.lowerPrioGARPKey = "vrrp/" + c.Name + "/garplp"
	i.garpRefreshKey = "vrrp/" + c.Name + "/refresh"
	i.garpExtraKey = "vrrp/" + c.Name + "/extra"
	i.extraIfs = i.garpExtraIfs()

	a := &i.advert
	a.Instance, a.Interface, a.Version, a.VRID = i.name, i.iface, i.version, i.vrid
	if c.UseVMAC && !c.VMACXmitBase {
		a.VMAC = i.vmac
	}
	a.Interval = uint16(i.advertInt / (10 * time.Millisecond))
	for _, v := range i.vips[:i.numVIPs] {
		if v.Prefix.Addr().Is4() == (i.family == 4) {
			a.Addrs = append(a.Addrs, v.Prefix.Addr())
		}
	}
	a.AuthType, a.AuthData = i.authType, i.authPass
	if i.authType == 2 {
		a.AuthData = [8]byte{}
	}
	a.Src = i.src
	a.TTL = 255
	if i.unicast {
		for _, p := range c.UnicastPeers {
			a.Dst = append(a.Dst, p.Addr)
		}
		a.TTL = uint8(c.UnicastTTL)
		if c.UnicastTTL <= 0 || c.UnicastTTL > 255 {
			a.TTL = 255
		}
	} else {
		a.Dst = []netip.Addr{i.mcastGroup()}
	}
	i.dyn = instanceDyn{Name: c.Name, State: effects.StateInit, Want: effects.StateBackup, Priority: i.basePrio, MasterAdvertInt: i.advertInt}
	return i
}

// vmacDev is a VMAC an address needs of its own.
type vmacDev struct {
	name, parent, mac string
}

// resolveAddr sets the interface an address goes on: its own VMAC when
// it has one, else the instance's VMAC for an address of the instance's
// family on its interface (dev omitted or the same), else its dev or the
// instance's interface.
func (i *instance) resolveAddr(a conf.Address) conf.Address {
	v4 := a.Prefix.Addr().Is4()
	switch {
	case a.VMAC != "":
		d := vmacDev{name: a.VMAC, parent: a.Dev, mac: i.macFor(4)}
		if d.parent == "" {
			d.parent = i.iface
		}
		if !v4 {
			d.mac = i.macFor(6)
		}
		if !slices.Contains(i.addrVMACs, d) {
			i.addrVMACs = append(i.addrVMACs, d)
		}
		a.Dev = a.VMAC
	case a.Dev == "" || a.Dev == i.iface:
		a.Dev = i.iface
		if i.cfg.UseVMAC && v4 == (i.family == 4) {
			a.Dev = i.vmac
		}
	}
	return a
}

// macFor is the MAC of the instance's VMACs for a family: use_vmac's
// address, else 00:00:5e:00:01:VRID (IPv4) or 00:00:5e:00:02:VRID.
func (i *instance) macFor(family int) string {
	if i.cfg.VMACAddr != "" {
		return i.cfg.VMACAddr
	}
	if family == 6 {
		return "00:00:5e:00:02:" + hex2(i.vrid)
	}
	return "00:00:5e:00:01:" + hex2(i.vrid)
}

func (i *instance) mcastGroup() netip.Addr {
	if i.cfg.McastDstIP.IsValid() {
		return i.cfg.McastDstIP
	}
	// The well-known VRRP groups (RFC 5798 §5.1.1.2, §5.1.2.2).
	if i.family == 6 {
		return netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 0x12}) // ff02::12
	}
	return netip.AddrFrom4([4]byte{224, 0, 0, 18})
}

func (i *instance) owner() bool { return i.basePrio == prioOwner }

// skew is Skew_Time for the effective priority, computed in microseconds
// with keepalived's integer arithmetic so timings match to the µs.
func (i *instance) skew() time.Duration {
	p := 256 - i.dyn.Priority
	if i.owner() {
		p = 1
	}
	return skewFor(i.version, p, i.dyn.MasterAdvertInt)
}

func skewFor(ver uint8, p int, masterAdv time.Duration) time.Duration {
	if ver == 3 {
		cs := int64(masterAdv / (10 * time.Millisecond))
		return time.Duration(int64(p)*cs*625/16) * time.Microsecond
	}
	return time.Duration(int64(p)*1000000/256) * time.Microsecond
}

// masterDownInterval is Master_Down_Interval.
func (i *instance) masterDownInterval() time.Duration {
	return time.Duration(i.downAdverts)*i.dyn.MasterAdvertInt + i.skew()
}

// garpExtraIfs lists the interfaces garp_extra_if announces on, as
// keepalived picks them: the interfaces of the VIPs and eVIPs other than
// the instance's own (its VMAC with use_vmac, unless vmac_xmit_base),
// VMACs only unless `all` is given, each once, in address order. None
// (the feature off) without garp_extra_if.
func (i *instance) garpExtraIfs() []string {
	c := i.cfg
	if c.GARPExtraIf.Std() <= 0 {
		return nil
	}
	ours := func(dev string) bool {
		if dev == i.vmac && i.vmac != "" {
			return true
		}
		for _, d := range i.addrVMACs {
			if d.name == dev {
				return true
			}
		}
		return false
	}
	var l []string
	for _, v := range i.vips {
		switch {
		case v.Dev == "" || slices.Contains(l, v.Dev):
		case !ours(v.Dev) && !c.GARPExtraIfAll:
		case v.Dev == i.vipIface && !c.VMACXmitBase:
		default:
			l = append(l, v.Dev)
		}
	}
	return l
}
