package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vigil-ha/vigil/events/conf"
)

// Link is an interface present on the host when the configuration is
// loaded, as Options.Links reports it: VMAC names avoid the names in use
// and reuse a macvlan that already is the VMAC they need, as keepalived
// does at start and at reload.
type Link struct {
	Name string
	// Macvlan is true for a macvlan in private mode (what a VMAC is);
	// Parent and MAC are then its lower interface and its address
	// (lower-case, two digits an octet).
	Macvlan     bool
	Parent, MAC string
}

// vmacDevs are the VMACs named so far and the host's interfaces, indexed
// for the lookups naming makes: with tens of thousands of instances a
// scan per instance made loading quadratic.
type vmacDevs struct {
	// byLink is the first private macvlan of each (parent, MAC), in the
	// order the devices were added (host interfaces first): a device's
	// key never changes, so the first one stays the first.
	byLink map[[2]string]*vmacDev
	// host is the host's interfaces by name.
	host map[string]*vmacDev
	// next is where vmacIfName's search for a free name resumes, per
	// prefix, VRID and family.
	next map[vmacNameKey]int
}

type vmacNameKey struct {
	prefix    string
	vrid, fam int
}

func (ds *vmacDevs) add(d *vmacDev) {
	if !d.macvlan {
		return
	}
	k := [2]string{d.parent, d.mac}
	if _, ok := ds.byLink[k]; !ok {
		ds.byLink[k] = d
	}
}

// vmacDev is a VMAC, or a host interface that may serve as one.
type vmacDev struct {
	name, parent, mac string
	macvlan           bool
	// instance is the instance whose VMAC (or whose address's VMAC) it
	// is; "" for a host interface nothing claimed yet.
	instance, addr string
}

// nameVMACs names every VMAC as keepalived 2.2.7 does when it completes
// its instances, in configuration order:
//
//   - an instance with use_vmac NAME keeps NAME unless an earlier instance
//     took it, or a host interface of that name is not a private macvlan;
//   - an instance with use_vmac reuses a private macvlan already on its
//     interface with its virtual MAC (one left by an earlier run, or its
//     VMAC before a reload), whatever its name;
//   - else it is named PREFIX.VRID (vmac_prefix, default "vrrp"), or, when
//     that name is taken (another instance's VMAC, a host interface, an
//     interface the configuration names when the host is not known),
//     PREFIXn.VRID for n = 1, 2, ... (an IPv6 instance tries n = 6
//     first), the prefix shortened to fit 15 characters;
//   - a virtual address that needs a VMAC of its own (use_vmac on the
//     address, for an address not on the instance's VMAC; use_vmac_addr
//     on the instance, for addresses on another interface or of the other
//     family) reuses a VMAC of that interface and MAC, else gets a new one
//     named from vmac_addr_prefix (default vmac_prefix) the same way.
//
// A 5-octet use_vmac MAC gets the VRID as its last octet.
func (p *parser) nameVMACs() {
	g := &p.cfg.GlobalDefs
	first := p.firstVMAC()
	if first == nil {
		return
	}
	taken := map[string]bool{}
	devs := &vmacDevs{byLink: map[[2]string]*vmacDev{}, host: map[string]*vmacDev{}, next: map[vmacNameKey]int{}}
	if p.opts.Links != nil {
		links, err := p.opts.Links()
		if err != nil {
			p.errorf(first, "reading the host's interfaces to name the VMACs: %v", err)
		}
		for _, l := range links {
			taken[l.Name] = true
			d := &vmacDev{name: l.Name, parent: l.Parent, mac: l.MAC, macvlan: l.Macvlan}
			if _, ok := devs.host[l.Name]; !ok {
				devs.host[l.Name] = d
			}
			devs.add(d)
		}
	} else {
		p.configIfaces(taken)
	}
	// Explicit names first: keepalived records them as it parses.
	named := map[string]string{}
	for _, st := range p.insts {
		in := &p.cfg.Instances[st.idx]
		if st.dropped || !in.UseVMAC || in.VMACName == "" {
			continue
		}
		if o, ok := named[in.VMACName]; ok {
			p.warnf(st.vmacN, "(%s) VRRP instance %s is already using %s - ignoring name", in.Name, o, in.VMACName)
			in.VMACName = ""
			continue
		}
		if d := devs.host[in.VMACName]; d != nil && !d.macvlan {
			p.warnf(st.vmacN, "(%s) interface %s already exists and is not a private macvlan; ignoring vmac if_name", in.Name, in.VMACName)
			in.VMACName = ""
			continue
		}
		named[in.VMACName] = in.Name
		taken[in.VMACName] = true
	}
	addrPrefix := g.VMACAddrPrefix
	if addrPrefix == "" {
		addrPrefix = g.VMACPrefix
	}
	for _, st := range p.insts {
		in := &p.cfg.Instances[st.idx]
		if st.dropped {
			continue
		}
		if strings.Count(in.VMACAddr, ":") == 4 {
			in.VMACAddr += ":" + hexOctet(in.VRID)
		}
		if in.UseVMAC {
			mac := vmacMAC(in, in.Family)
			found := devs.byLink[[2]string{in.Interface, mac}]
			switch {
			case found != nil:
				if found.instance != "" {
					p.errorf(at(st.vmacN, st.n), "(%s) its VMAC (on %s, %s) is %s's %s - keepalived disables %s",
						in.Name, in.Interface, mac, found.instance, found.what(), in.Name)
				}
				in.VMACName = found.name
				found.instance, found.addr = in.Name, ""
			case in.VMACName != "":
				devs.add(&vmacDev{name: in.VMACName, parent: in.Interface, mac: mac, macvlan: true, instance: in.Name})
			default:
				in.VMACName = devs.freeName(g.VMACPrefix, in.VRID, in.Family, taken)
				devs.add(&vmacDev{name: in.VMACName, parent: in.Interface, mac: mac, macvlan: true, instance: in.Name})
			}
			taken[in.VMACName] = true
		}
		for k := range in.VirtualIPAddresses {
			p.addressVMAC(in, &in.VirtualIPAddresses[k], at(nodeAt(st.vipN, k), st.n), addrPrefix, taken, devs)
		}
		for k := range in.VirtualIPAddressesExcluded {
			p.addressVMAC(in, &in.VirtualIPAddressesExcluded[k], at(nodeAt(st.evipN, k), st.n), addrPrefix, taken, devs)
		}
	}
}

func (d *vmacDev) what() string {
	if d.addr != "" {
		return "VMAC for " + d.addr
	}
	return "VMAC " + d.name
}

// addressVMAC decides whether a virtual address of in needs a VMAC of its
// own and names it (Address.VMAC).
func (p *parser) addressVMAC(in *conf.Instance, a *conf.Address, n *node, prefix string, taken map[string]bool, devs *vmacDevs) {
	fam := family(a.Prefix.Addr())
	onIface := a.Dev == "" || a.Dev == in.Interface
	useVMAC := a.UseVMAC
	if useVMAC {
		switch {
		case onIface && in.UseVMAC && fam == in.Family:
			p.warnf(n, "(%s) use_vmac specified for VIP/eVIP %s and vrrp instance", in.Name, a.Prefix)
			useVMAC = false
		case (!onIface || fam != in.Family) && in.UseVMACAddr:
			p.warnf(n, "(%s) use_vmac_addr specified and use_vmac specified for VIP/eVIP %s", in.Name, a.Prefix)
			useVMAC = false
		}
	}
	a.UseVMAC = useVMAC
	var need bool
	if onIface {
		need = !(in.UseVMAC && fam == in.Family) && (useVMAC || (in.UseVMACAddr && fam != in.Family))
	} else {
		need = useVMAC || in.UseVMACAddr
	}
	if !need {
		return
	}
	parent := a.Dev
	if parent == "" {
		parent = in.Interface
	}
	if parent == "" {
		return
	}
	mac := vmacMAC(in, fam)
	if d := devs.byLink[[2]string{parent, mac}]; d != nil {
		if d.instance != "" && d.instance != in.Name {
			p.errorf(n, "(%s) VIP/eVIP %s uses the same VMAC (%s on %s) as VRRP instance %s - keepalived disables %s",
				in.Name, a.Prefix, mac, parent, d.instance, d.instance)
		} else if d.instance == in.Name && d.addr == "" {
			p.errorf(n, "(%s) VIP/eVIP %s needs a VMAC on %s with %s: the instance's own VMAC", in.Name, a.Prefix, parent, mac)
		}
		if d.instance == "" {
			d.instance, d.addr = in.Name, a.Prefix.String()
		}
		a.VMAC = d.name
		return
	}
	name := devs.freeName(prefix, in.VRID, fam, taken)
	taken[name] = true
	devs.add(&vmacDev{name: name, parent: parent, mac: mac, macvlan: true, instance: in.Name, addr: a.Prefix.String()})
	a.VMAC = name
}

// vmacMAC is the MAC of in's VMAC for an address family: use_vmac's
// address, else 00:00:5e:00:01:VRID (IPv4) or 00:00:5e:00:02:VRID (IPv6).
func vmacMAC(in *conf.Instance, fam int) string {
	if in.VMACAddr != "" {
		return in.VMACAddr
	}
	if fam == 6 {
		return "00:00:5e:00:02:" + hexOctet(in.VRID)
	}
	return "00:00:5e:00:01:" + hexOctet(in.VRID)
}

func hexOctet(v int) string { return fmt.Sprintf("%02x", v&0xff) }

// vmacIfName is keepalived's create_vmac_name: PREFIX.VRID, else
// PREFIXn.VRID with n = 1, 2, ... (6 first for IPv6, then 1 to 5, 7, ...),
// the prefix cut so the name fits IFNAMSIZ (15 characters).
func vmacIfName(prefix string, vrid, fam int, taken map[string]bool) string {
	name, _ := vmacIfNameFrom(prefix, vrid, fam, 0, taken)
	return name
}

// freeName is vmacIfName resuming where the last search for the same
// prefix, VRID and family stopped: names are only ever taken, never
// freed, while naming, and every name it returns is taken by its caller,
// so the names before that point are still taken.
func (ds *vmacDevs) freeName(prefix string, vrid, fam int, taken map[string]bool) string {
	k := vmacNameKey{prefix, vrid, fam}
	name, num := vmacIfNameFrom(prefix, vrid, fam, ds.next[k], taken)
	ds.next[k] = num
	return name
}

// vmacIfNameFrom is vmacIfName's search from the step num (0: PREFIX.VRID
// itself); it returns the name and its step.
func vmacIfNameFrom(prefix string, vrid, fam, num int, taken map[string]bool) (string, int) {
	const maxLen = 15
	build := func(num string) string {
		tail := num + "." + strconv.Itoa(vrid)
		pre := prefix
		if len(pre)+len(tail) > maxLen {
			pre = pre[:max(0, maxLen-len(tail))]
		}
		return pre + tail
	}
	name := build("")
	if num != 0 {
		name = build(strconv.Itoa(num))
	}
	for taken[name] && num < 1<<16 {
		switch {
		case fam == 6 && num == 0:
			num = 6
		case fam == 6 && num == 6:
			num = 1
		default:
			num++
			if fam == 6 && num == 6 {
				num++
			}
		}
		name = build(strconv.Itoa(num))
	}
	return name, num
}

// configIfaces marks the interfaces the configuration names as taken: the
// host is not known (vigil check, dump), and they are the interfaces it
// must have.
func (p *parser) configIfaces(taken map[string]bool) {
	mark := func(as []conf.Address) {
		for _, a := range as {
			if a.Dev != "" {
				taken[a.Dev] = true
			}
		}
	}
	c := p.cfg
	mark(c.StaticAddresses)
	for k := range c.Instances {
		in := &c.Instances[k]
		if in.Interface != "" {
			taken[in.Interface] = true
		}
		mark(in.VirtualIPAddresses)
		mark(in.VirtualIPAddressesExcluded)
		for _, t := range in.TrackInterfaces {
			taken[t.Name] = true
		}
	}
	for k := range c.SyncGroups {
		for _, t := range c.SyncGroups[k].TrackInterfaces {
			taken[t.Name] = true
		}
	}
}

// firstVMAC returns the first statement asking for a VMAC (nil if none).
func (p *parser) firstVMAC() *node {
	for _, st := range p.insts {
		in := &p.cfg.Instances[st.idx]
		if st.dropped {
			continue
		}
		if in.UseVMAC || in.UseVMACAddr {
			return at(st.vmacN, st.n)
		}
		for k, a := range in.VirtualIPAddresses {
			if a.UseVMAC {
				return at(nodeAt(st.vipN, k), st.n)
			}
		}
		for k, a := range in.VirtualIPAddressesExcluded {
			if a.UseVMAC {
				return at(nodeAt(st.evipN, k), st.n)
			}
		}
	}
	return nil
}

func nodeAt(ns []*node, k int) *node {
	if k < len(ns) {
		return ns[k]
	}
	return nil
}

func at(n, def *node) *node {
	if n != nil {
		return n
	}
	return def
}
