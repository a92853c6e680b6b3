package cluster

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/vigil-ha/vigil/config/diag"
)

// Topology says which node interfaces share a layer-2 segment, and which
// addresses the nodes have. Without one, an interface's segment is its
// name: every node's eth0 is one segment.
//
// The file is line-oriented; `#` or `!` starts a comment, words are
// separated by blanks:
//
//	# NAME is a segment; NODE:IFACE are the interfaces on it (NODE may be *)
//	segment lan  a:eth0 b:ens3 c:eth0
//	segment dmz  *:eth1
//	# addresses a node has (to match other nodes' unicast_peer lines)
//	address a 10.0.0.1 fd00::1
//
// An interface not listed is on the segment named after it, so
// `segment eth0 b:ens3` puts b's ens3 with everyone's eth0. A NODE:IFACE
// is split at its last colon (Linux interface names have none). An entry
// naming the node beats a * entry. The zero Topology (or nil) maps no
// interface and knows no address.
type Topology struct {
	File string
	segs []topoSeg
	adds []topoAddr
}

type topoSeg struct {
	node, iface, segment string
	line, col            int
}

type topoAddr struct {
	node               string
	addr               netip.Addr
	line, col, nodeCol int
}

// ParseTopology reads a topology file's text; file names it in
// diagnostics. Malformed lines are errors and are skipped.
func ParseTopology(file string, text []byte) (*Topology, diag.List) {
	t := &Topology{File: file}
	var diags diag.List
	bad := func(line, col int, kw, format string, args ...any) {
		diags = append(diags, diag.Diagnostic{File: file, Line: line, Col: col, Keyword: kw,
			Severity: diag.Error, Message: fmt.Sprintf(format, args...)})
	}
	for i, raw := range strings.Split(string(text), "\n") {
		line := i + 1
		if k := strings.IndexAny(raw, "#!"); k >= 0 {
			raw = raw[:k]
		}
		words, cols := fields(raw)
		if len(words) == 0 {
			continue
		}
		switch kw := words[0]; kw {
		case "segment":
			if len(words) < 3 {
				bad(line, cols[0], kw, "expected: segment NAME NODE:IFACE...")
				continue
			}
			name := words[1]
			for k, w := range words[2:] {
				col := cols[k+2]
				c := strings.LastIndexByte(w, ':')
				if c <= 0 || c == len(w)-1 {
					bad(line, col, kw, "'%s' is not NODE:IFACE", w)
					continue
				}
				node, iface := w[:c], w[c+1:]
				if prev := t.find(node, iface); prev != nil {
					if prev.segment != name {
						bad(line, col, kw, "%s is already on segment %s (%s:%d)", w, prev.segment, file, prev.line)
					}
					continue
				}
				t.segs = append(t.segs, topoSeg{node: node, iface: iface, segment: name, line: line, col: col})
			}
		case "address":
			if len(words) < 3 {
				bad(line, cols[0], kw, "expected: address NODE ADDRESS...")
				continue
			}
			for k, w := range words[2:] {
				a, err := netip.ParseAddr(w)
				if err != nil {
					bad(line, cols[k+2], kw, "'%s' is not an IP address", w)
					continue
				}
				t.adds = append(t.adds, topoAddr{node: words[1], addr: a.Unmap().WithZone(""), line: line, col: cols[k+2], nodeCol: cols[1]})
			}
		default:
			bad(line, cols[0], kw, "unknown directive '%s': expected segment or address", kw)
		}
	}
	return t, diags
}

// fields splits s at blanks, with each word's 1-based column.
func fields(s string) ([]string, []int) {
	var words []string
	var cols []int
	start := -1
	for i := 0; i <= len(s); i++ {
		blank := i == len(s) || s[i] == ' ' || s[i] == '\t' || s[i] == '\r'
		switch {
		case blank && start >= 0:
			words, cols = append(words, s[start:i]), append(cols, start+1)
			start = -1
		case !blank && start < 0:
			start = i
		}
	}
	return words, cols
}

func (t *Topology) find(node, iface string) *topoSeg {
	for i := range t.segs {
		if t.segs[i].node == node && t.segs[i].iface == iface {
			return &t.segs[i]
		}
	}
	return nil
}

// Segment returns the segment node's interface iface is on.
func (t *Topology) Segment(node, iface string) string {
	if t == nil || iface == "" {
		return iface
	}
	if s := t.find(node, iface); s != nil {
		return s.segment
	}
	if s := t.find("*", iface); s != nil {
		return s.segment
	}
	return iface
}

// Addresses returns the addresses the topology's address lines give node,
// in file order.
func (t *Topology) Addresses(node string) []netip.Addr {
	if t == nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range t.adds {
		if a.node == node {
			out = append(out, a.addr)
		}
	}
	return out
}
