package vrrp

import (
	"net/netip"
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

// inst is one VRRP instance: what its configuration fixes (compiled once
// per ConfigLoaded) and its dynamic state d (the only part snapshotted).
type inst struct {
	c     *conf.Instance
	idx   int
	name  string
	iface string // interface the instance runs on ("" for interface-less unicast)
	fam   int
	ver   uint8
	vrid  uint8
	base  int
	adv   time.Duration // configured advert interval
	down  int           // down_timer_adverts
	auth  uint8         // 0 none, 1 PASS, 2 AH
	pass  [8]byte
	uni   bool
	src   netip.Addr // mcast_src_ip / unicast_src_ip
	vmac  string     // VMAC interface name when use_vmac
	vipIf string     // interface VIPs without dev go on
	group int        // sync group index or -1

	vips   []conf.Address // VIPs then eVIPs, Dev resolved
	nVIP   int            // how many of vips are in the advert
	routes []conf.Route
	rules  []conf.Rule
	tracks []trackRef // instance's own and its sync group's tracking
	sock   *sock      // the socket it receives on

	// advert is the template every SendAdvert copies (Addrs and Dst are
	// shared, read-only slices).
	advert effects.SendAdvert

	kAdv, kDown, kGarp2, kGarpLP, kRefresh string

	d instDyn
}

// instDyn is an instance's dynamic state.
type instDyn struct {
	Name  string        `json:"name"`
	State effects.State `json:"state"`
	Want  effects.State `json:"want"`
	Prio  int           `json:"prio"`
	// MasterAdv is Master_Adver_Interval (v3 learns it from the master).
	MasterAdv  time.Duration `json:"master_adv"`
	AdvAt      events.Time   `json:"adv_at,omitempty"`
	DownAt     events.Time   `json:"down_at,omitempty"`
	DownWhy    string        `json:"down_why,omitempty"`
	Garp2At    events.Time   `json:"garp2_at,omitempty"`
	GarpLPAt   events.Time   `json:"garplp_at,omitempty"`
	RefreshAt  events.Time   `json:"refresh_at,omitempty"`
	PreemptAt  events.Time   `json:"preempt_at,omitempty"`
	VIPSet     bool          `json:"vip_set,omitempty"`
	MasterSrc  netip.Addr    `json:"master_src,omitempty"`
	MasterPrio int           `json:"master_prio,omitempty"`
}

// compileInstance derives an instance's fixed data from its configuration.
func compileInstance(c *conf.Instance, idx int) *inst {
	i := &inst{c: c, idx: idx, name: c.Name, iface: c.Interface, fam: c.Family, group: -1}
	if i.fam != 6 {
		i.fam = 4
	}
	i.ver = uint8(c.Version)
	if i.ver != 2 && i.ver != 3 {
		i.ver = 2
	}
	if i.fam == 6 {
		i.ver = 3
	}
	i.vrid = uint8(c.VRID)
	i.base = c.Priority
	if i.base <= 0 {
		i.base = 100
	}
	if i.base > prioOwner {
		i.base = prioOwner
	}
	i.adv = c.AdvertInt.Std()
	if i.ver == 2 {
		i.adv = i.adv.Round(time.Second)
	} else {
		i.adv = i.adv.Round(10 * time.Millisecond)
	}
	if i.adv <= 0 {
		i.adv = time.Second
	}
	i.down = c.DownTimerAdverts
	if i.down < 1 {
		i.down = 3
	}
	if i.ver == 2 {
		switch c.AuthType {
		case "PASS":
			i.auth = 1
			copy(i.pass[:], c.AuthPass)
		case "AH":
			i.auth = 2
		}
	}
	i.uni = len(c.UnicastPeers) > 0
	if i.uni {
		i.src = c.UnicastSrcIP
	} else {
		i.src = c.McastSrcIP
	}
	i.vipIf = i.iface
	if c.UseVMAC {
		i.vmac = c.VMACName
		if i.vmac == "" {
			i.vmac = "vrrp." + strconv.Itoa(int(i.vrid))
		}
		i.vipIf = i.vmac
	}
	for _, a := range c.VirtualIPAddresses {
		i.vips = append(i.vips, i.resolveAddr(a))
	}
	i.nVIP = len(i.vips)
	for _, a := range c.VirtualIPAddressesExcluded {
		i.vips = append(i.vips, i.resolveAddr(a))
	}
	i.routes = c.VirtualRoutes
	i.rules = c.VirtualRules

	i.kAdv = "vrrp/" + c.Name + "/adv"
	i.kDown = "vrrp/" + c.Name + "/down"
	i.kGarp2 = "vrrp/" + c.Name + "/garp2"
	i.kGarpLP = "vrrp/" + c.Name + "/garplp"
	i.kRefresh = "vrrp/" + c.Name + "/refresh"

	a := &i.advert
	a.Instance, a.Interface, a.Version, a.VRID = i.name, i.iface, i.ver, i.vrid
	if c.UseVMAC && !c.VMACXmitBase {
		a.VMAC = i.vmac
	}
	a.Interval = uint16(i.adv / (10 * time.Millisecond))
	for _, v := range i.vips[:i.nVIP] {
		if v.Prefix.Addr().Is4() == (i.fam == 4) {
			a.Addrs = append(a.Addrs, v.Prefix.Addr())
		}
	}
	a.AuthType, a.AuthData = i.auth, i.pass
	if i.auth == 2 {
		a.AuthData = [8]byte{}
	}
	a.Src = i.src
	a.TTL = 255
	if i.uni {
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
	i.d = instDyn{Name: c.Name, State: effects.StateInit, Want: effects.StateBackup, Prio: i.base, MasterAdv: i.adv}
	return i
}

func (i *inst) resolveAddr(a conf.Address) conf.Address {
	if a.Dev == "" {
		a.Dev = i.iface
		if i.c.UseVMAC && a.Prefix.Addr().Is4() == (i.fam == 4) {
			a.Dev = i.vmac
		}
	}
	return a
}

func (i *inst) mcastGroup() netip.Addr {
	if i.c.McastDstIP.IsValid() {
		return i.c.McastDstIP
	}
	// The well-known VRRP groups (RFC 5798 §5.1.1.2, §5.1.2.2).
	if i.fam == 6 {
		return netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 0x12}) // ff02::12
	}
	return netip.AddrFrom4([4]byte{224, 0, 0, 18})
}

func (i *inst) owner() bool { return i.base == prioOwner }

// skew is Skew_Time for the effective priority, computed in microseconds
// with keepalived's integer arithmetic so timings match to the µs.
func (i *inst) skew() time.Duration {
	p := 256 - i.d.Prio
	if i.owner() {
		p = 1
	}
	return skewFor(i.ver, p, i.d.MasterAdv)
}

func skewFor(ver uint8, p int, masterAdv time.Duration) time.Duration {
	if ver == 3 {
		cs := int64(masterAdv / (10 * time.Millisecond))
		return time.Duration(int64(p)*cs*625/16) * time.Microsecond
	}
	return time.Duration(int64(p)*1000000/256) * time.Microsecond
}

// msDown is Master_Down_Interval.
func (i *inst) msDown() time.Duration {
	return time.Duration(i.down)*i.d.MasterAdv + i.skew()
}

// garpInterval is the spacing of GARP (IPv4) or NA (IPv6) packets.
func (i *inst) garpInterval(v6 bool) time.Duration {
	if v6 {
		return i.c.GNAInterval.Std()
	}
	return i.c.GARPInterval.Std()
}
