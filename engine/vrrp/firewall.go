package vrrp

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events/conf"
)

// The firewall half of no_accept and strict mode, as keepalived 2.2.7
// built with nftables does it (vrrp_firewall.c, vrrp_nftables.c):
//
//   - An instance that does not accept traffic to its VIPs (no_accept, or
//     strict mode without accept; never an address owner) has its VIPs and
//     eVIPs in the drop sets of one nftables table while it holds them. The
//     table is global_defs' `nftables NAME` (vrrp_iptables means the
//     default), else "keepalived" as soon as an instance needs one.
//   - Becoming MASTER, the addresses enter the sets before they are added;
//     leaving MASTER (or stopping, or deleted by a reload), they leave the
//     sets after they are deleted: the node never holds one unfiltered.
//   - A reload changes the sets of a MASTER by difference: addresses it
//     keeps stay in the sets; new ones enter before they are added,
//     removed ones leave after they are deleted; an instance turning
//     accept on leaves the sets entirely, one turning it off enters them.
//     The table's settings cannot change at a reload (keepalived refuses
//     such a reload; vigil keeps the running table and says so).
//   - Start removes a table of that name left by an earlier run (keepalived
//     does it when it first creates the table); Stop removes it.
//   - use_vmac needs the table too (keepalived: "use_vmac or
//     no_accept/strict specified, but no firewall configured - using
//     nftables"). Each VMAC it creates, an instance's or an address's,
//     enters the table's IGMP/MLD objects just after it is created and
//     leaves them just after it is deleted (vrrp_vmac.c calls
//     firewall_add_vmac / firewall_remove_vmac there): in the family of
//     its instance (an address VMAC: of its addresses), and in the other
//     family too when the instance has eVIPs of the other family. Its
//     IGMP (ip) and MLDv2 (ip6) reports then leave through the parent,
//     and its router solicitations are dropped (ip6). The objects, once
//     created, stay until the table goes. keepalived skips the IPv4 part
//     with disable_local_igmp, which vigil refuses.

// firewall is the nftables table in use, and how IPv6 link-local VIPs are
// keyed (nftables_ifindex).
type firewall struct {
	Table   effects.FirewallTable `json:"table"`
	Ifindex bool                  `json:"ifindex,omitempty"`
}

// defaultFirewallTable is keepalived's DEFAULT_NFTABLES_TABLE.
const defaultFirewallTable = "keepalived"

// compileFirewall decides which instances filter their VIPs and the table
// cfg asks for (fwWant). The table in effect (fw) is fwWant unless the
// machine runs with a table already: a reload does not change it.
func (m *Machine) compileFirewall(cfg *conf.Config) {
	g := &cfg.GlobalDefs
	want := firewall{Ifindex: g.NFTablesIfindex}
	want.Table = effects.FirewallTable{Name: g.NFTables, Priority: -1, Counters: g.NFTablesCounters}
	if g.NFTablesPriority != nil {
		want.Table.Priority = *g.NFTablesPriority
	}
	needed := false
	for _, i := range m.instances {
		i.fw = !i.cfg.Accept && !i.owner()
		needed = needed || i.fw || i.vmac != ""
	}
	if want.Table.Name == "" && needed {
		want.Table.Name = defaultFirewallTable
	}
	if want.Table.Name == "" {
		want = firewall{}
	}
	m.fwWant = want
	if !m.started || m.stopped || m.fw.Table.Name == "" {
		m.fw = want
	}
	m.compileFirewallVIPs()
}

// compileFirewallVIPs lists each filtering instance's set elements, keyed
// as the table in effect says, and each instance's VMACs as the IGMP/MLD
// objects hold them.
func (m *Machine) compileFirewallVIPs() {
	for _, i := range m.instances {
		i.fwVMACs = nil
		if m.fw.Table.Name != "" {
			i.fwVMACs = i.firewallVMACs()
		}
		i.fwVIPs = nil
		if !i.fw || m.fw.Table.Name == "" {
			i.fw = false
			continue
		}
		for _, v := range i.vips {
			a := v.Prefix.Addr()
			e := effects.FirewallVIP{Addr: a}
			if a.Is6() && a.IsLinkLocalUnicast() {
				e.Interface = v.Dev
				// vips_link_local_name: keyed by name when the instance
				// does not track its interface and the address is on it
				// (or untracked), unless nftables_ifindex.
				e.ByName = !m.fw.Ifindex && i.cfg.DontTrackPrimary && (v.Dev == i.vipIface || v.NoTrack)
			}
			i.fwVIPs = append(i.fwVIPs, e)
		}
	}
}

// firewallVMACs lists i's VMACs as the IGMP/MLD objects hold them: its
// own (use_vmac) in its family, and in the other one when it has an eVIP
// of the other family; then each address VMAC in its addresses' family.
func (i *instance) firewallVMACs() []effects.FirewallVMAC {
	var out []effects.FirewallVMAC
	if i.vmac != "" {
		v := effects.FirewallVMAC{VMAC: i.vmac, Parent: i.iface, IPv4: i.family == 4, IPv6: i.family == 6}
		for _, a := range i.vips[i.numVIPs:] {
			if a.Prefix.Addr().Is4() != (i.family == 4) {
				v.IPv4, v.IPv6 = true, true
			}
		}
		out = append(out, v)
	}
	for _, d := range i.addrVMACs {
		v := effects.FirewallVMAC{VMAC: d.name, Parent: d.parent}
		for _, a := range i.vips {
			if a.Dev == d.name {
				v.IPv4 = v.IPv4 || a.Prefix.Addr().Is4()
				v.IPv6 = v.IPv6 || a.Prefix.Addr().Is6()
			}
		}
		out = append(out, v)
	}
	return out
}

// vmacFirewall emits, after the CreateVMAC (add) or DeleteVMAC of the VMAC
// named name, its AddFirewallVMAC or DelFirewallVMAC.
func (m *Machine) vmacFirewall(i *instance, name string, add bool) {
	for _, v := range i.fwVMACs {
		if v.VMAC != name {
			continue
		}
		if add {
			m.out.add(&effects.AddFirewallVMAC{Instance: i.name, Table: m.fw.Table, FirewallVMAC: v})
		} else {
			m.out.add(&effects.DelFirewallVMAC{Instance: i.name, Table: m.fw.Table, FirewallVMAC: v})
		}
	}
}

// firewallReloaded warns, at a reload, that the table's settings cannot
// change while running.
func (m *Machine) firewallReloaded() {
	if m.fwWant.Table.Name != "" && m.fwWant != m.fw {
		m.out.log(effects.LogWarning, "", "Cannot change nftables table name, priority, counters or ifindex at a reload - please restart; keeping table "+m.fw.Table.Name)
	}
}

// removeFirewall deletes the table (at Start: a previous run's leftovers;
// at Stop: ours).
func (m *Machine) removeFirewall() {
	if m.fw.Table.Name != "" {
		m.out.add(&effects.RemoveFirewall{Table: m.fw.Table.Name})
	}
}

// filterVIPs puts vips of i into the drop sets (before they are added).
func (m *Machine) filterVIPs(i *instance, vips []effects.FirewallVIP) {
	if len(vips) > 0 {
		m.out.add(&effects.AddFirewallVIPs{Instance: i.name, Table: m.fw.Table, VIPs: vips})
	}
}

// unfilterVIPs takes vips of i out of the drop sets (after they are
// deleted).
func (m *Machine) unfilterVIPs(i *instance, vips []effects.FirewallVIP) {
	if len(vips) > 0 {
		m.out.add(&effects.DelFirewallVIPs{Instance: i.name, Table: m.fw.Table, VIPs: vips})
	}
}

// firewallDiff lists the elements of a that b lacks.
func firewallDiff(a, b []effects.FirewallVIP) []effects.FirewallVIP {
	var out []effects.FirewallVIP
	for _, x := range a {
		found := false
		for _, y := range b {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			out = append(out, x)
		}
	}
	return out
}
