// Package nftfw executes the firewall effects of no_accept, strict mode and
// use_vmac (effects.AddFirewallVIPs, DelFirewallVIPs, AddFirewallVMAC,
// DelFirewallVMAC, RemoveFirewall) over nftables netlink, building the
// table keepalived 2.2.7 builds (vrrp_nftables.c):
//
//	table ip NAME {
//		map vmac_map { type iface_index : iface_index }            (VMACs)
//		set vips { type ipv4_addr }                                (VIPs)
//		chain out { type filter hook output priority P; policy accept
//			ip protocol igmp meta oifkind "macvlan"
//				dup to ip daddr device oif map @vmac_map [counter] drop   (VMACs)
//			ip saddr @vips [counter] drop }                    (VIPs)
//		chain in { type filter hook input priority P; policy accept
//			ip daddr @vips [counter] drop }
//	}
//	table ip6 NAME {
//		map vmac_map { type iface_index : iface_index }            (VMACs)
//		set vmac_set { type iface_index }                          (VMACs)
//		set vips { type ipv6_addr }
//		set neighbor-discovery { type icmpv6_type; flags constant
//			elements = { nd-neighbor-solicit, nd-neighbor-advert } }
//		set vips_link_local { type ipv6_addr . iface_index }      (when used)
//		set vips_link_local_name { type ipv6_addr . ifname }      (when used)
//		chain out { type filter hook output priority P; policy accept
//			icmpv6 type mld2-listener-report meta oifkind "macvlan"
//				dup to ip6 daddr device oif map @vmac_map [counter] drop  (VMACs)
//			icmpv6 type nd-router-solicit meta oifkind "macvlan"
//				oif @vmac_set [counter] drop                        (VMACs)
//			icmpv6 type @neighbor-discovery [counter] accept
//			ip6 saddr fe80::/10 [counter] goto out_link_local
//			ip6 saddr @vips [counter] drop }
//		chain in { ... the same with daddr and in_link_local }
//		chain in_link_local { ip6 daddr . iif[name] @vips_link_local[_name] [counter] drop }
//		chain out_link_local { ip6 saddr . oif[name] @vips_link_local[_name] [counter] drop }
//	}
//
// As keepalived does, each family's table (with its out chain) is created
// when it is first needed; the VIP objects (chain in, the sets and rules
// of VIPs) when the family's first address enters a set, the link-local
// sets and rules when their first address does, and the VMAC objects (the
// map, the set and their rules) when the family's first VMAC enters them.
// Rules are appended, so their order in chain out is the order in which
// these parts were first needed, as in keepalived. A VMAC's multicast
// reports then leave through its parent (dup to the parent, drop the
// original) and its IPv6 router solicitations are dropped. The executor
// decides nothing: which addresses and VMACs enter and leave, and when, is
// the engine's (engine/vrrp/firewall.go).
package nftfw

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/effects"
)

// Options configure an Executor.
type Options struct {
	// NetNS, when positive, is a file descriptor of the network namespace
	// to work in (tests); otherwise the process's own.
	NetNS int
	// IfIndex resolves an interface name to its index (net.InterfaceByName
	// when nil; tests in another namespace supply their own).
	IfIndex func(name string) (int, error)
}

// Executor applies the firewall effects. Apply is safe for concurrent use
// but effects must be given in the engine's order.
type Executor struct {
	mu   sync.Mutex
	opts Options
	// tables is what this executor created, by table name.
	tables map[string]*tableState
}

// tableState records which parts of a table exist, in each family.
type tableState struct {
	t4, t6          bool // the table and its out chain
	v4, v6          bool // the VIP objects
	igmp4, igmp6    bool // the VMAC objects
	llIndex, llName bool
	// index remembers the interface index each link-local element was
	// added with, so that it can be deleted after the interface is gone.
	index map[effects.FirewallVIP]uint32
	// vmacs remembers, by VMAC name, the indexes its elements were added
	// with: DelFirewallVMAC comes after the VMAC is deleted.
	vmacs map[string]vmacIndex
}

// vmacIndex is a VMAC's interface index and its parent's.
type vmacIndex struct{ vmac, parent uint32 }

// New returns an executor. It opens no socket until an effect needs one.
func New(o Options) *Executor {
	return &Executor{opts: o, tables: map[string]*tableState{}}
}

// Apply executes one effect; other kinds are an error.
func (x *Executor) Apply(e effects.Effect) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	switch v := e.(type) {
	case *effects.AddFirewallVIPs:
		return x.add(v)
	case *effects.DelFirewallVIPs:
		return x.del(v)
	case *effects.RemoveFirewall:
		return x.remove(v.Table)
	case *effects.AddFirewallVMAC:
		return x.addVMAC(v)
	case *effects.DelFirewallVMAC:
		return x.delVMAC(v)
	}
	return fmt.Errorf("nftfw: cannot apply %v", e.EffectKind())
}

func (x *Executor) conn() (*nftables.Conn, error) {
	var opts []nftables.ConnOption
	if x.opts.NetNS > 0 {
		opts = append(opts, nftables.WithNetNSFd(x.opts.NetNS))
	}
	c, err := nftables.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("nftfw: netlink: %w", err)
	}
	return c, nil
}

func (x *Executor) ifIndex(name string) (uint32, error) {
	if x.opts.IfIndex != nil {
		i, err := x.opts.IfIndex(name)
		return uint32(i), err
	}
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0, err
	}
	return uint32(ifi.Index), nil
}

// remove deletes the tables named name of both families, if they exist.
func (x *Executor) remove(name string) error {
	delete(x.tables, name)
	c, err := x.conn()
	if err != nil {
		return err
	}
	var errs []error
	for _, fam := range []nftables.TableFamily{nftables.TableFamilyIPv4, nftables.TableFamilyIPv6} {
		if _, err := c.ListTableOfFamily(name, fam); err != nil {
			continue // absent (ENOENT)
		}
		c.DelTable(&nftables.Table{Name: name, Family: fam})
		if err := c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("nftfw: delete table %s %s: %w", famName(fam), name, err))
		}
	}
	return errors.Join(errs...)
}

func famName(f nftables.TableFamily) string {
	if f == nftables.TableFamilyIPv6 {
		return "ip6"
	}
	return "ip"
}

// elements sorts an effect's addresses into the sets they belong to.
type elements struct {
	v4, v6, llIndex, llName []nftables.SetElement
}

func (x *Executor) sort(st *tableState, vips []effects.FirewallVIP, adding bool) (elements, error) {
	var el elements
	var errs []error
	for _, v := range vips {
		a := v.Addr.Unmap()
		switch {
		case a.Is4():
			el.v4 = append(el.v4, nftables.SetElement{Key: a.AsSlice()})
		case !a.IsLinkLocalUnicast():
			el.v6 = append(el.v6, nftables.SetElement{Key: a.AsSlice()})
		case v.ByName:
			el.llName = append(el.llName, nftables.SetElement{Key: append(a.AsSlice(), ifname(v.Interface)...)})
		default:
			idx, ok := st.index[v]
			if adding || !ok {
				i, err := x.ifIndex(v.Interface)
				if err != nil {
					errs = append(errs, fmt.Errorf("nftfw: %s%%%s: %w", a, v.Interface, err))
					continue
				}
				idx = i
			}
			if adding {
				st.index[v] = idx
			} else {
				delete(st.index, v)
			}
			el.llIndex = append(el.llIndex, nftables.SetElement{Key: append(a.AsSlice(), binaryutil.NativeEndian.PutUint32(idx)...)})
		}
	}
	return el, errors.Join(errs...)
}

// ifname is an interface name as nftables keys it: IFNAMSIZ bytes, zero
// padded.
func ifname(s string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, s)
	return b
}

func (x *Executor) state(name string) *tableState {
	st := x.tables[name]
	if st == nil {
		st = &tableState{index: map[effects.FirewallVIP]uint32{}, vmacs: map[string]vmacIndex{}}
		x.tables[name] = st
	}
	return st
}

// add puts the addresses into their sets, creating what is missing first.
// If the table vanished behind vigil's back (`nft flush ruleset`), it is
// created again, once.
func (x *Executor) add(v *effects.AddFirewallVIPs) error {
	if v.Table.Name == "" || len(v.VIPs) == 0 {
		return nil
	}
	st := x.state(v.Table.Name)
	el, sortErr := x.sort(st, v.VIPs, true)
	err := x.addElements(v, st, &el)
	if errors.Is(err, unix.ENOENT) && (st.t4 || st.t6) {
		*st = tableState{index: st.index, vmacs: st.vmacs}
		err = x.addElements(v, st, &el)
	}
	return errors.Join(err, sortErr)
}

func (x *Executor) addElements(v *effects.AddFirewallVIPs, st *tableState, el *elements) error {
	c, err := x.conn()
	if err != nil {
		return err
	}
	t := &v.Table
	t4 := &nftables.Table{Name: t.Name, Family: nftables.TableFamilyIPv4}
	t6 := &nftables.Table{Name: t.Name, Family: nftables.TableFamilyIPv6}
	if len(el.v4) > 0 && !st.v4 {
		if !st.t4 {
			setupTable(c, t4, t)
		}
		if err := setupIPv4(c, t4, t); err != nil {
			return err
		}
	}
	if (len(el.v6)+len(el.llIndex)+len(el.llName)) > 0 && !st.v6 {
		if !st.t6 {
			setupTable(c, t6, t)
		}
		if err := setupIPv6(c, t6, t); err != nil {
			return err
		}
	}
	if len(el.llIndex) > 0 && !st.llIndex {
		if err := setupLinkLocal(c, t6, t, false); err != nil {
			return err
		}
	}
	if len(el.llName) > 0 && !st.llName {
		if err := setupLinkLocal(c, t6, t, true); err != nil {
			return err
		}
	}
	for _, s := range []struct {
		tab  *nftables.Table
		name string
		els  []nftables.SetElement
	}{{t4, "vips", el.v4}, {t6, "vips", el.v6}, {t6, "vips_link_local", el.llIndex}, {t6, "vips_link_local_name", el.llName}} {
		if len(s.els) > 0 {
			if err := c.SetAddElements(&nftables.Set{Table: s.tab, Name: s.name}, s.els); err != nil {
				return fmt.Errorf("nftfw: add to %s: %w", s.name, err)
			}
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftfw: add %s's addresses to table %s: %w", v.Instance, t.Name, err)
	}
	st.v4 = st.v4 || len(el.v4) > 0
	st.v6 = st.v6 || len(el.v6)+len(el.llIndex)+len(el.llName) > 0
	st.t4, st.t6 = st.t4 || st.v4, st.t6 || st.v6
	st.llIndex = st.llIndex || len(el.llIndex) > 0
	st.llName = st.llName || len(el.llName) > 0
	return nil
}

// del takes the addresses out of their sets, one at a time so that an
// address already gone does not stop the others.
func (x *Executor) del(v *effects.DelFirewallVIPs) error {
	st := x.tables[v.Table.Name]
	if st == nil || len(v.VIPs) == 0 {
		return nil // nothing was created: nothing to take out
	}
	el, sortErr := x.sort(st, v.VIPs, false)
	c, err := x.conn()
	if err != nil {
		return err
	}
	t4 := &nftables.Table{Name: v.Table.Name, Family: nftables.TableFamilyIPv4}
	t6 := &nftables.Table{Name: v.Table.Name, Family: nftables.TableFamilyIPv6}
	errs := []error{sortErr}
	for _, s := range []struct {
		ok   bool
		tab  *nftables.Table
		name string
		els  []nftables.SetElement
	}{{st.v4, t4, "vips", el.v4}, {st.v6, t6, "vips", el.v6}, {st.llIndex, t6, "vips_link_local", el.llIndex}, {st.llName, t6, "vips_link_local_name", el.llName}} {
		if !s.ok {
			continue
		}
		set := &nftables.Set{Table: s.tab, Name: s.name}
		for _, e := range s.els {
			if err := c.SetDeleteElements(set, []nftables.SetElement{e}); err != nil {
				errs = append(errs, err)
				continue
			}
			if err := c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("nftfw: delete %x from %s %s: %w", e.Key, famName(s.tab.Family), s.name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Register numbers as nftables names them (NFT_REG_1, NFT_REG_2).
const (
	reg1 = 1
	reg2 = 2
)

func baseChain(c *nftables.Conn, tab *nftables.Table, name string, hook *nftables.ChainHook, t *effects.FirewallTable) *nftables.Chain {
	accept := nftables.ChainPolicyAccept
	return c.AddChain(&nftables.Chain{Name: name, Table: tab, Type: nftables.ChainTypeFilter, Hooknum: hook,
		Priority: nftables.ChainPriorityRef(nftables.ChainPriority(t.Priority)), Policy: &accept})
}

// rule appends a rule of exprs, with a counter before its verdict when
// the table counts.
func rule(c *nftables.Conn, ch *nftables.Chain, t *effects.FirewallTable, verdict *expr.Verdict, exprs ...expr.Any) {
	if t.Counters {
		exprs = append(exprs, &expr.Counter{})
	}
	exprs = append(exprs, verdict)
	c.AddRule(&nftables.Rule{Table: ch.Table, Chain: ch, Exprs: exprs})
}

var drop = &expr.Verdict{Kind: expr.VerdictDrop}

func addrLoad(offset, length uint32) *expr.Payload {
	return &expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: length}
}

// setupTable creates table NAME of tab's family and its chain out, what
// every part of the table needs.
func setupTable(c *nftables.Conn, tab *nftables.Table, t *effects.FirewallTable) {
	c.AddTable(tab)
	baseChain(c, tab, "out", nftables.ChainHookOutput, t)
}

// setupIPv4 creates the VIP objects of table ip NAME: chain in, set vips,
// and the drop rules (IPv4 header: saddr at 12, daddr at 16).
func setupIPv4(c *nftables.Conn, tab *nftables.Table, t *effects.FirewallTable) error {
	out := &nftables.Chain{Name: "out", Table: tab}
	in := baseChain(c, tab, "in", nftables.ChainHookInput, t)
	vips := &nftables.Set{Table: tab, Name: "vips", KeyType: nftables.TypeIPAddr}
	if err := c.AddSet(vips, nil); err != nil {
		return fmt.Errorf("nftfw: set ip vips: %w", err)
	}
	rule(c, in, t, drop, addrLoad(16, 4), &expr.Lookup{SourceRegister: reg1, SetName: "vips", SetID: vips.ID})
	rule(c, out, t, drop, addrLoad(12, 4), &expr.Lookup{SourceRegister: reg1, SetName: "vips", SetID: vips.ID})
	return nil
}

// setupIPv6 creates the VIP objects of table ip6 NAME: chains in,
// in_link_local and out_link_local, sets vips and neighbor-discovery, and
// the rules (IPv6 header: next header at 6, saddr at 8, daddr at 24).
func setupIPv6(c *nftables.Conn, tab *nftables.Table, t *effects.FirewallTable) error {
	out := &nftables.Chain{Name: "out", Table: tab}
	in := baseChain(c, tab, "in", nftables.ChainHookInput, t)
	c.AddChain(&nftables.Chain{Name: "in_link_local", Table: tab})
	c.AddChain(&nftables.Chain{Name: "out_link_local", Table: tab})
	vips := &nftables.Set{Table: tab, Name: "vips", KeyType: nftables.TypeIP6Addr}
	if err := c.AddSet(vips, nil); err != nil {
		return fmt.Errorf("nftfw: set ip6 vips: %w", err)
	}
	nd := &nftables.Set{Table: tab, Name: "neighbor-discovery", KeyType: nftables.TypeICMP6Type, Constant: true}
	if err := c.AddSet(nd, []nftables.SetElement{{Key: []byte{135}}, {Key: []byte{136}}}); err != nil {
		return fmt.Errorf("nftfw: set ip6 neighbor-discovery: %w", err)
	}
	// ip6 {d,s}addr fe80::/10 goto {in,out}_link_local
	linkLocal := func(ch *nftables.Chain, offset uint32, chain string) {
		mask := make([]byte, 16)
		mask[0], mask[1] = 0xff, 0xc0
		fe80 := make([]byte, 16)
		fe80[0], fe80[1] = 0xfe, 0x80
		rule(c, ch, t, &expr.Verdict{Kind: expr.VerdictGoto, Chain: chain},
			addrLoad(offset, 16),
			&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 16, Mask: mask, Xor: make([]byte, 16)},
			&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: fe80})
	}
	for _, dir := range []struct {
		ch     *nftables.Chain
		offset uint32
		ll     string
	}{{in, 24, "in_link_local"}, {out, 8, "out_link_local"}} {
		rule(c, dir.ch, t, &expr.Verdict{Kind: expr.VerdictAccept},
			addrLoad(6, 1),
			&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{unix.IPPROTO_ICMPV6}},
			&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
			&expr.Lookup{SourceRegister: reg1, SetName: nd.Name, SetID: nd.ID})
		linkLocal(dir.ch, dir.offset, dir.ll)
	}
	for _, dir := range []struct {
		ch     *nftables.Chain
		offset uint32
	}{{in, 24}, {out, 8}} {
		rule(c, dir.ch, t, drop, addrLoad(dir.offset, 16), &expr.Lookup{SourceRegister: reg1, SetName: "vips", SetID: vips.ID})
	}
	return nil
}

// setupLinkLocal creates set vips_link_local (address . interface index)
// or, byName, vips_link_local_name (address . interface name), and its
// drop rules in in_link_local and out_link_local.
func setupLinkLocal(c *nftables.Conn, tab *nftables.Table, t *effects.FirewallTable, byName bool) error {
	name, ifType := "vips_link_local", nftables.TypeIFIndex
	inKey, outKey := expr.MetaKeyIIF, expr.MetaKeyOIF
	if byName {
		name, ifType = "vips_link_local_name", nftables.TypeIFName
		inKey, outKey = expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME
	}
	kt, err := nftables.ConcatSetType(nftables.TypeIP6Addr, ifType)
	if err != nil {
		return fmt.Errorf("nftfw: set %s type: %w", name, err)
	}
	s := &nftables.Set{Table: tab, Name: name, KeyType: kt, Concatenation: true}
	if err := c.AddSet(s, nil); err != nil {
		return fmt.Errorf("nftfw: set ip6 %s: %w", name, err)
	}
	for _, dir := range []struct {
		chain  string
		offset uint32
		key    expr.MetaKey
	}{{"in_link_local", 24, inKey}, {"out_link_local", 8, outKey}} {
		ch := &nftables.Chain{Name: dir.chain, Table: tab}
		rule(c, ch, t, drop, addrLoad(dir.offset, 16), &expr.Meta{Key: dir.key, Register: reg2},
			&expr.Lookup{SourceRegister: reg1, SetName: name, SetID: s.ID})
	}
	return nil
}

// metaKeyOIFKIND is NFT_META_OIFKIND (the output interface's kind name),
// which golang.org/x/sys does not name.
const metaKeyOIFKIND expr.MetaKey = 27

// The ICMPv6 types the VMAC rules match.
const (
	icmp6RouterSolicit = 133
	icmp6MLD2Report    = 143
)

// addVMAC puts a VMAC into the VMAC objects of its families, creating
// what is missing first. Like add, it creates a flushed table again, once.
func (x *Executor) addVMAC(v *effects.AddFirewallVMAC) error {
	if v.Table.Name == "" || (!v.IPv4 && !v.IPv6) {
		return nil
	}
	st := x.state(v.Table.Name)
	vi, err := x.ifIndex(v.VMAC)
	if err != nil {
		return fmt.Errorf("nftfw: VMAC %s: %w", v.VMAC, err)
	}
	pi, err := x.ifIndex(v.Parent)
	if err != nil {
		return fmt.Errorf("nftfw: VMAC %s's parent %s: %w", v.VMAC, v.Parent, err)
	}
	idx := vmacIndex{vmac: vi, parent: pi}
	err = x.addVMACElements(v, st, idx)
	if errors.Is(err, unix.ENOENT) && (st.t4 || st.t6) {
		*st = tableState{index: st.index, vmacs: st.vmacs}
		err = x.addVMACElements(v, st, idx)
	}
	if err == nil {
		st.vmacs[v.VMAC] = idx
	}
	return err
}

func (x *Executor) addVMACElements(v *effects.AddFirewallVMAC, st *tableState, idx vmacIndex) error {
	c, err := x.conn()
	if err != nil {
		return err
	}
	t := &v.Table
	key := binaryutil.NativeEndian.PutUint32(idx.vmac)
	mapEl := []nftables.SetElement{{Key: key, Val: binaryutil.NativeEndian.PutUint32(idx.parent)}}
	for _, f := range []struct {
		want       bool
		fam        nftables.TableFamily
		table, obj *bool
	}{{v.IPv4, nftables.TableFamilyIPv4, &st.t4, &st.igmp4}, {v.IPv6, nftables.TableFamilyIPv6, &st.t6, &st.igmp6}} {
		if !f.want {
			continue
		}
		tab := &nftables.Table{Name: t.Name, Family: f.fam}
		if !*f.obj {
			if !*f.table {
				setupTable(c, tab, t)
				if err := c.Flush(); err != nil {
					return fmt.Errorf("nftfw: table %s %s: %w", famName(f.fam), t.Name, err)
				}
				*f.table = true
			}
			if err := x.addIfindexMap(tab, "vmac_map"); err != nil {
				return err
			}
			if err := setupVMAC(c, tab, t); err != nil {
				return err
			}
		}
		if err := c.SetAddElements(&nftables.Set{Table: tab, Name: "vmac_map", IsMap: true}, mapEl); err != nil {
			return fmt.Errorf("nftfw: add to %s vmac_map: %w", famName(f.fam), err)
		}
		if f.fam == nftables.TableFamilyIPv6 {
			if err := c.SetAddElements(&nftables.Set{Table: tab, Name: "vmac_set"}, []nftables.SetElement{{Key: key}}); err != nil {
				return fmt.Errorf("nftfw: add to ip6 vmac_set: %w", err)
			}
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftfw: add %s's VMAC %s to table %s: %w", v.Instance, v.VMAC, t.Name, err)
	}
	if v.IPv4 {
		st.t4, st.igmp4 = true, true
	}
	if v.IPv6 {
		st.t6, st.igmp6 = true, true
	}
	return nil
}

// delVMAC takes a VMAC out of the VMAC objects, with the indexes it was
// added with (the VMAC is gone by now). A VMAC this executor did not add,
// or already gone from a set, is no error.
func (x *Executor) delVMAC(v *effects.DelFirewallVMAC) error {
	st := x.tables[v.Table.Name]
	if st == nil {
		return nil
	}
	idx, ok := st.vmacs[v.VMAC]
	if !ok {
		return nil
	}
	c, err := x.conn()
	if err != nil {
		return err
	}
	key := binaryutil.NativeEndian.PutUint32(idx.vmac)
	var errs []error
	for _, s := range []struct {
		ok   bool
		fam  nftables.TableFamily
		name string
		el   nftables.SetElement
	}{
		{v.IPv4 && st.igmp4, nftables.TableFamilyIPv4, "vmac_map", nftables.SetElement{Key: key, Val: binaryutil.NativeEndian.PutUint32(idx.parent)}},
		{v.IPv6 && st.igmp6, nftables.TableFamilyIPv6, "vmac_map", nftables.SetElement{Key: key, Val: binaryutil.NativeEndian.PutUint32(idx.parent)}},
		{v.IPv6 && st.igmp6, nftables.TableFamilyIPv6, "vmac_set", nftables.SetElement{Key: key}},
	} {
		if !s.ok {
			continue
		}
		set := &nftables.Set{Table: &nftables.Table{Name: v.Table.Name, Family: s.fam}, Name: s.name, IsMap: s.name == "vmac_map"}
		if err := c.SetDeleteElements(set, []nftables.SetElement{s.el}); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("nftfw: delete VMAC %s from %s %s: %w", v.VMAC, famName(s.fam), s.name, err))
		}
	}
	// Whatever failed, the VMAC's index is not to be reused for another.
	delete(st.vmacs, v.VMAC)
	return errors.Join(errs...)
}

// setupVMAC creates the VMAC objects of tab: map vmac_map (VMAC index :
// parent index) and its rule moving the VMAC's multicast reports to the
// parent (IGMP in ip, MLDv2 in ip6); in ip6 also set vmac_set and its rule
// dropping the VMAC's router solicitations. The map must exist already
// (addIfindexMap).
func setupVMAC(c *nftables.Conn, tab *nftables.Table, t *effects.FirewallTable) error {
	m := &nftables.Set{Table: tab, Name: "vmac_map", IsMap: true}
	var vs *nftables.Set
	if tab.Family == nftables.TableFamilyIPv6 {
		// Interface indexes are in host byte order (the set's user data
		// says so, for nft to print them as names).
		vs = &nftables.Set{Table: tab, Name: "vmac_set", KeyType: nftables.TypeIFIndex, KeyByteOrder: binaryutil.NativeEndian}
		if err := c.AddSet(vs, nil); err != nil {
			return fmt.Errorf("nftfw: set ip6 vmac_set: %w", err)
		}
	}
	out := &nftables.Chain{Name: "out", Table: tab}
	// The output interface is a macvlan in the set or map (a VMAC).
	macvlan := func() []expr.Any {
		kind := make([]byte, unix.IFNAMSIZ)
		copy(kind, "macvlan")
		return []expr.Any{
			&expr.Meta{Key: metaKeyOIFKIND, Register: reg2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: reg2, Data: kind},
			&expr.Meta{Key: expr.MetaKeyOIF, Register: reg2},
		}
	}
	icmp6Type := func(typ byte) []expr.Any {
		return []expr.Any{
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: reg1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{unix.IPPROTO_ICMPV6}},
			&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{typ}},
		}
	}
	// dup to {ip,ip6} daddr device (oif map @vmac_map) drop
	var move []expr.Any
	if tab.Family == nftables.TableFamilyIPv4 {
		move = append(move, addrLoad(9, 1), &expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{unix.IPPROTO_IGMP}},
			addrLoad(16, 4))
	} else {
		move = append(icmp6Type(icmp6MLD2Report), addrLoad(24, 16))
	}
	move = append(move, macvlan()...)
	move = append(move, &expr.Lookup{SourceRegister: reg2, DestRegister: reg2, IsDestRegSet: true, SetName: m.Name, SetID: m.ID},
		&expr.Dup{RegAddr: reg1, RegDev: reg2, IsRegDevSet: true})
	rule(c, out, t, drop, move...)
	if vs != nil {
		rs := append(icmp6Type(icmp6RouterSolicit), macvlan()...)
		rs = append(rs, &expr.Lookup{SourceRegister: reg2, SetName: vs.Name, SetID: vs.ID})
		rule(c, out, t, drop, rs...)
	}
	return nil
}

// addIfindexMap creates map name { type iface_index : iface_index } in tab
// (which exists), in a transaction of its own. It is built here rather
// than with google/nftables, which cannot say that the map's data is in
// host byte order: without that user data (keepalived gives it) nft
// prints the parents as numbers, not names.
func (x *Executor) addIfindexMap(tab *nftables.Table, name string) error {
	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: max(x.opts.NetNS, 0)})
	if err != nil {
		return fmt.Errorf("nftfw: netlink: %w", err)
	}
	defer conn.Close()
	const hostOrder = 1 // nftables' BYTEORDER_HOST_ENDIAN
	ud := userdata.AppendUint32(nil, userdata.NFTNL_UDATA_SET_KEYBYTEORDER, hostOrder)
	ud = userdata.AppendUint32(ud, userdata.NFTNL_UDATA_SET_DATABYTEORDER, hostOrder)
	be := binaryutil.BigEndian.PutUint32
	ifindex := nftables.TypeIFIndex.GetNFTMagic()
	attrs, err := netlink.MarshalAttributes([]netlink.Attribute{
		{Type: unix.NFTA_SET_TABLE, Data: append([]byte(tab.Name), 0)},
		{Type: unix.NFTA_SET_NAME, Data: append([]byte(name), 0)},
		{Type: unix.NFTA_SET_FLAGS, Data: be(unix.NFT_SET_MAP)},
		{Type: unix.NFTA_SET_KEY_TYPE, Data: be(ifindex)},
		{Type: unix.NFTA_SET_KEY_LEN, Data: be(4)},
		{Type: unix.NFTA_SET_DATA_TYPE, Data: be(ifindex)},
		{Type: unix.NFTA_SET_DATA_LEN, Data: be(4)},
		{Type: unix.NFTA_SET_ID, Data: be(1)},
		{Type: unix.NFTA_SET_USERDATA, Data: ud},
	})
	if err != nil {
		return fmt.Errorf("nftfw: map %s: %w", name, err)
	}
	// nfgenmsg: family, version, resource id (the subsystem, for a batch).
	gen := func(family byte, res uint16) []byte {
		return append([]byte{family, unix.NFNETLINK_V0}, binaryutil.BigEndian.PutUint16(res)...)
	}
	msgs := []netlink.Message{
		{Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_MSG_BATCH_BEGIN), Flags: netlink.Request},
			Data: gen(unix.AF_UNSPEC, unix.NFNL_SUBSYS_NFTABLES)},
		{Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWSET),
			Flags: netlink.Request | netlink.Acknowledge | netlink.Create},
			Data: append(gen(byte(tab.Family), 0), attrs...)},
		{Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_MSG_BATCH_END), Flags: netlink.Request},
			Data: gen(unix.AF_UNSPEC, unix.NFNL_SUBSYS_NFTABLES)},
	}
	if _, err := conn.SendMessages(msgs); err != nil {
		return fmt.Errorf("nftfw: map %s %s: %w", famName(tab.Family), name, err)
	}
	if _, err := conn.Receive(); err != nil {
		return fmt.Errorf("nftfw: map %s %s: %w", famName(tab.Family), name, err)
	}
	return nil
}
