// Package nftfw executes the firewall effects of no_accept and strict mode
// (effects.AddFirewallVIPs, DelFirewallVIPs, RemoveFirewall) over nftables
// netlink, building the table keepalived 2.2.7 builds (vrrp_nftables.c):
//
//	table ip NAME {
//		set vips { type ipv4_addr }
//		chain out { type filter hook output priority P; policy accept
//			ip saddr @vips [counter] drop }
//		chain in { type filter hook input priority P; policy accept
//			ip daddr @vips [counter] drop }
//	}
//	table ip6 NAME {
//		set vips { type ipv6_addr }
//		set neighbor-discovery { type icmpv6_type; flags constant
//			elements = { nd-neighbor-solicit, nd-neighbor-advert } }
//		set vips_link_local { type ipv6_addr . iface_index }      (when used)
//		set vips_link_local_name { type ipv6_addr . ifname }      (when used)
//		chain out { type filter hook output priority P; policy accept
//			icmpv6 type @neighbor-discovery [counter] accept
//			ip6 saddr fe80::/10 [counter] goto out_link_local
//			ip6 saddr @vips [counter] drop }
//		chain in { ... the same with daddr and in_link_local }
//		chain in_link_local { ip6 daddr . iif[name] @vips_link_local[_name] [counter] drop }
//		chain out_link_local { ip6 saddr . oif[name] @vips_link_local[_name] [counter] drop }
//	}
//
// As keepalived does, each family's table is created when its first
// address enters a set, and the link-local sets and rules when their first
// address does. The executor decides nothing: which addresses enter and
// leave the sets, and when, is the engine's (engine/vrrp/firewall.go).
package nftfw

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
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
	v4, v6          bool
	llIndex, llName bool
	// index remembers the interface index each link-local element was
	// added with, so that it can be deleted after the interface is gone.
	index map[effects.FirewallVIP]uint32
}

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
		st = &tableState{index: map[effects.FirewallVIP]uint32{}}
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
	if errors.Is(err, unix.ENOENT) && (st.v4 || st.v6) {
		*st = tableState{index: st.index}
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
		if err := setupIPv4(c, t4, t); err != nil {
			return err
		}
	}
	if (len(el.v6)+len(el.llIndex)+len(el.llName)) > 0 && !st.v6 {
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

// setupIPv4 creates table ip NAME: chains out and in, set vips, and the
// drop rules (IPv4 header: saddr at 12, daddr at 16).
func setupIPv4(c *nftables.Conn, tab *nftables.Table, t *effects.FirewallTable) error {
	c.AddTable(tab)
	out := baseChain(c, tab, "out", nftables.ChainHookOutput, t)
	in := baseChain(c, tab, "in", nftables.ChainHookInput, t)
	vips := &nftables.Set{Table: tab, Name: "vips", KeyType: nftables.TypeIPAddr}
	if err := c.AddSet(vips, nil); err != nil {
		return fmt.Errorf("nftfw: set ip vips: %w", err)
	}
	rule(c, in, t, drop, addrLoad(16, 4), &expr.Lookup{SourceRegister: reg1, SetName: "vips", SetID: vips.ID})
	rule(c, out, t, drop, addrLoad(12, 4), &expr.Lookup{SourceRegister: reg1, SetName: "vips", SetID: vips.ID})
	return nil
}

// setupIPv6 creates table ip6 NAME: chains out, in, in_link_local and
// out_link_local, sets vips and neighbor-discovery, and the rules (IPv6
// header: next header at 6, saddr at 8, daddr at 24).
func setupIPv6(c *nftables.Conn, tab *nftables.Table, t *effects.FirewallTable) error {
	c.AddTable(tab)
	out := baseChain(c, tab, "out", nftables.ChainHookOutput, t)
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
