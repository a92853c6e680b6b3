package sim

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"

	"github.com/vigil-ha/vigil/driver"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events/conf"
)

// sameConfig reports whether two configurations are identical (positions
// aside: they are not part of the JSON form).
func sameConfig(a, b *conf.Config) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// reloadWatch follows a reload with an unchanged configuration: it must
// change nothing, no state, no address, no priority (keepalived's SIGHUP
// with the same file is invisible on the wire and on the host).
type reloadWatch struct {
	n     *Node
	state map[string]effects.State
	prio  map[string]int
	churn []string
}

func (m *monitor) watchReload(n *Node) {
	if !m.strict || n.stalled() {
		return
	}
	rw := &reloadWatch{n: n, state: map[string]effects.State{}, prio: map[string]int{}}
	for k, v := range n.state {
		rw.state[k] = v
	}
	for _, s := range n.eng.Instances() {
		rw.prio[s.Name] = s.Priority
	}
	m.reload = rw
}

// reloadEffect notes an effect of the node being reloaded.
func (m *monitor) reloadEffect(n *Node, e effects.Effect) {
	if m.reload == nil || m.reload.n != n {
		return
	}
	switch e.(type) {
	case *effects.StateChanged, *effects.AddAddress, *effects.DelAddress:
		m.reload.churn = append(m.reload.churn, driver.DescribeEffect(e))
	}
}

func (m *monitor) endReload(n *Node) {
	rw := m.reload
	m.reload = nil
	if rw == nil || rw.n != n {
		return
	}
	var bad []string
	bad = append(bad, rw.churn...)
	for _, s := range n.eng.Instances() {
		if p, ok := rw.prio[s.Name]; !ok {
			bad = append(bad, "new instance "+s.Name)
		} else if p != s.Priority {
			bad = append(bad, s.Name+" priority changed")
		}
	}
	for k, v := range n.state {
		if rw.state[k] != v {
			bad = append(bad, k+" changed state")
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad[len(rw.churn):])
		m.violate("reload", "%s reloaded an identical configuration, yet: %s", n.Name, strings.Join(bad, "; "))
	}
}

// checkStrayVIPs reports a running node holding a virtual address that
// none of its configured instances has (left behind by an instance a
// reload removed).
func (m *monitor) checkStrayVIPs() {
	vips := map[netip.Addr]string{}
	for _, n := range m.w.nodes {
		for i := range n.conf.Instances {
			for _, a := range n.conf.Instances[i].VirtualIPAddresses {
				vips[a.Prefix.Addr()] = n.conf.Instances[i].Name
			}
		}
	}
	for _, n := range m.w.nodes {
		if !n.running || n.stalled() {
			continue
		}
		mine := map[netip.Addr]bool{}
		for i := range n.conf.Instances {
			for _, a := range n.conf.Instances[i].VirtualIPAddresses {
				mine[a.Prefix.Addr()] = true
			}
		}
		for _, ifc := range n.ifaces {
			for _, p := range ifc.addrs {
				if inst, ok := vips[p.Addr()]; ok && !mine[p.Addr()] {
					m.violateOnce("vip", "%s holds %s of %s, which it no longer configures", n.Name, p.Addr(), inst)
				}
			}
		}
	}
}
