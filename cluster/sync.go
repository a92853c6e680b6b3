package cluster

import (
	"fmt"
	"strconv"

	"github.com/vigil-ha/vigil/config/diag"
)

// inRouter is a node's first instance in router r, or nil.
func (n *nodeInfo) inRouter(r *router) *member {
	for _, m := range r.members {
		if m.node == n {
			return m
		}
	}
	return nil
}

// together reports whether two instances of one node are in one sync
// group.
func together(a, b *member) bool {
	return a.in.SyncGroup != "" && a.in.SyncGroup == b.in.SyncGroup
}

// syncSite is where a member's sync group membership is written: its
// entry in the group block, or its vrrp_instance when it is in none.
func (m *member) syncSite() Site {
	if m.in.SyncGroup == "" {
		s := m.site("vrrp_instance", "no sync group")
		s.Default = false
		return s
	}
	s := Site{Node: m.node.name, Instance: m.in.Name, Keyword: "group", Value: "sync group " + m.in.SyncGroup}
	if m.node.src != nil {
		if g := m.node.src.SyncGroups[m.in.SyncGroup]; g != nil {
			p, ok := g.Members[m.in.Name]
			if !ok {
				p = g.Block
			}
			s.File, s.Line, s.Col = p.File, p.Line, p.Col
			return s
		}
	}
	for _, g := range m.node.cfg.SyncGroups {
		if g.Name == m.in.SyncGroup {
			s.File, s.Line = g.Pos.File, g.Pos.Line
		}
	}
	return s
}

func groupName(m *member) string {
	if m.in.SyncGroup == "" {
		return "no sync group"
	}
	return "sync group " + m.in.SyncGroup
}

// checkSyncGroups compares, for every two nodes and every two virtual
// routers both nodes are in, how the nodes group their instances and
// order their priorities.
func (l *linter) checkSyncGroups() {
	type dupKey struct {
		check, gx, gy string
		x, y          int
	}
	done := map[dupKey]bool{}
	for xi, x := range l.nodes {
		for _, y := range l.nodes[xi+1:] {
			var shared []*router
			for _, r := range l.routers {
				if x.inRouter(r) != nil && y.inRouter(r) != nil {
					shared = append(shared, r)
				}
			}
			for i, r1 := range shared {
				for _, r2 := range shared[i+1:] {
					x1, x2, y1, y2 := x.inRouter(r1), x.inRouter(r2), y.inRouter(r1), y.inRouter(r2)
					if x1 == x2 || y1 == y2 {
						continue
					}
					gx, gy := together(x1, x2), together(y1, y2)
					if gx && gy {
						d1, d2 := x1.in.Priority-y1.in.Priority, x2.in.Priority-y2.in.Priority
						k := dupKey{CheckSyncInversion, x1.in.SyncGroup, y1.in.SyncGroup, x.idx, y.idx}
						if (d1 > 0 && d2 < 0 || d1 < 0 && d2 > 0) && !done[k] {
							done[k] = true
							l.inversion(x1, x2, y1, y2)
						}
					}
					if gx != gy {
						k := dupKey{CheckSyncMembership, "", "", x.idx, y.idx}
						if gx {
							k.gx = x1.in.SyncGroup
						} else {
							k.gy = y1.in.SyncGroup
						}
						if !done[k] {
							done[k] = true
							l.membership(x1, x2, y1, y2)
						}
					}
				}
			}
		}
	}
}

func (l *linter) inversion(x1, x2, y1, y2 *member) {
	// Name the members so that x prefers r1 and y prefers r2.
	if x1.in.Priority < y1.in.Priority {
		x1, x2, y1, y2 = x2, x1, y2, y1
	}
	sites := []Site{
		x1.site("priority", strconv.Itoa(x1.in.Priority)), x2.site("priority", strconv.Itoa(x2.in.Priority)),
		y1.site("priority", strconv.Itoa(y1.in.Priority)), y2.site("priority", strconv.Itoa(y2.in.Priority)),
	}
	at := func(s Site) string { return fmt.Sprintf("%s:%d", s.File, s.Line) }
	l.add(CheckSyncInversion, diag.Error, "priority", nil, sites, 0,
		"sync group %s on %s and sync group %s on %s order their members' priorities the other way round: %s prefers %s (%d at %s, against %d for %s at %s) but %s prefers %s (%d at %s, against %d for %s at %s); each node wins one member, its sync group forces the other member to follow, and the other node's higher priority pushes it back, so the groups duel forever (keepalived) - order the priorities the same way on every node",
		x1.in.SyncGroup, x1.node.name, y1.in.SyncGroup, y1.node.name,
		x1.node.name, x1.in.Name, x1.in.Priority, at(sites[0]), y1.in.Priority, y1.who(), at(sites[2]),
		y1.node.name, y2.in.Name, y2.in.Priority, at(sites[3]), x2.in.Priority, x2.who(), at(sites[1]))
}

func (l *linter) membership(x1, x2, y1, y2 *member) {
	if !together(x1, x2) {
		x1, x2, y1, y2 = y1, y2, x1, x2 // x groups them, y does not
	}
	sites := []Site{x1.syncSite(), x2.syncSite(), y1.syncSite(), y2.syncSite()}
	l.add(CheckSyncMembership, diag.Warning, "vrrp_sync_group", nil, sites, 2,
		"on %s, %s and %s are in sync group %s (%s:%d, %s:%d) and change state together; on %s, %s is in %s (%s:%d) and %s in %s (%s:%d): when one of them fails over on %s alone, %s's sync group drags its other member along against %s's master for it, so the virtual routers split between the nodes or flap - group them the same way on every node",
		x1.node.name, x1.in.Name, x2.in.Name, x1.in.SyncGroup, sites[0].File, sites[0].Line, sites[1].File, sites[1].Line,
		y1.node.name, y1.in.Name, groupName(y1), sites[2].File, sites[2].Line, y2.in.Name, groupName(y2), sites[3].File, sites[3].Line,
		y1.node.name, x1.node.name, y1.node.name)
}

// checkTopology reports topology lines that name no checked node, or an
// interface none of the node's instances uses.
func (l *linter) checkTopology() {
	t := l.topo
	if t == nil {
		return
	}
	node := func(name string) *nodeInfo {
		for _, n := range l.nodes {
			if n.name == name {
				return n
			}
		}
		return nil
	}
	uses := func(n *nodeInfo, iface string) bool {
		if n == nil || n.cfg == nil {
			return false
		}
		for _, in := range n.cfg.Instances {
			if in.Interface == iface {
				return true
			}
		}
		return false
	}
	warn := func(check, kw string, line, col int, format string, args ...any) {
		l.add(check, diag.Warning, kw, nil, []Site{{File: t.File, Line: line, Col: col, Keyword: kw}}, 0, format, args...)
	}
	for _, s := range t.segs {
		if s.node == "*" {
			used := false
			for _, n := range l.nodes {
				used = used || uses(n, s.iface)
			}
			if !used {
				warn(CheckTopologyUnusedIf, "segment", s.line, s.col, "no instance of any node uses interface %s", s.iface)
			}
			continue
		}
		n := node(s.node)
		switch {
		case n == nil:
			warn(CheckTopologyUnknown, "segment", s.line, s.col, "%s is not one of the nodes checked", s.node)
		case !uses(n, s.iface):
			warn(CheckTopologyUnusedIf, "segment", s.line, s.col, "no instance of node %s uses interface %s", s.node, s.iface)
		}
	}
	seen := map[string]bool{}
	for _, a := range t.adds {
		if node(a.node) == nil && !seen[a.node] {
			seen[a.node] = true
			warn(CheckTopologyUnknown, "address", a.line, a.nodeCol, "%s is not one of the nodes checked", a.node)
		}
	}
}
