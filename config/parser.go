package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-ha/vigil/config/diag"
	"github.com/vigil-ha/vigil/events/conf"
	"github.com/vigil-ha/vigil/internal/rtnames"
)

// seqDiag is a diagnostic with the index of the line it is about, so that
// diagnostics found in later passes still come out in source order.
type seqDiag struct {
	seq int
	d   diag.Diagnostic
}

// parser holds the state of one load: the model being built and, beside
// it, what the model cannot say (which settings were explicit, the source
// statements) for the defaulting and validation passes.
type parser struct {
	opts  Options
	cfg   *conf.Config
	diags []seqDiag

	global globalState
	insts  []*instState
	instBy map[string]*instState
	// Named blocks by name, with their statements, for references.
	scripts   map[string]*node
	files     map[string]*node
	processes map[string]*node
	bfds      map[string]*node
	groups    map[string]*node // track_group
	// dropped names blocks keepalived would remove (reported already):
	// references to them are warnings, not errors.
	dropped map[string]bool
	syncs   []*syncState
	vss     []*vsState
	// trackGroupRefs are the static address/route/rule lines naming a
	// track_group.
	trackGroupRefs []nameRef
	// upDownN are the interface_up_down_delays lines, parallel to
	// cfg.InterfaceUpDownDelays.
	upDownN []*node
	// rtn resolves iproute2 names (routes and rules); see names().
	rtn *rtnames.Files
	// rulePrio counts the IPv4 and IPv6 rules given a preference.
	rulePrio [2]int
}

// nameRef is a reference by name from a statement.
type nameRef struct {
	n    *node
	name string
}

func newParser(opts Options) *parser {
	return &parser{
		opts:      opts,
		cfg:       newConfig(),
		instBy:    map[string]*instState{},
		scripts:   map[string]*node{},
		files:     map[string]*node{},
		processes: map[string]*node{},
		bfds:      map[string]*node{},
		groups:    map[string]*node{},
		dropped:   map[string]bool{},
	}
}

// newConfig returns a Config with every collection empty (not nil) and the
// global defaults keepalived documents.
func newConfig() *conf.Config {
	return &conf.Config{
		GlobalDefs:          defaultGlobals(),
		VRRPScripts:         []conf.VRRPScript{},
		TrackFiles:          []conf.TrackFile{},
		TrackProcesses:      []conf.TrackProcess{},
		BFDInstances:        []conf.BFDInstance{},
		SyncGroups:          []conf.SyncGroup{},
		GARPGroups:          []conf.GARPGroup{},
		Instances:           []conf.Instance{},
		StaticAddresses:     []conf.Address{},
		StaticRoutes:        []conf.Route{},
		StaticRules:         []conf.Rule{},
		VirtualServerGroups: []conf.VirtualServerGroup{},
		VirtualServers:      []conf.VirtualServer{},
	}
}

func (p *parser) mk(file string, line, col int, kw, msg string, isErr bool) diag.Diagnostic {
	sev := diag.Warning
	if isErr {
		sev = diag.Error
	}
	return diag.Diagnostic{File: file, Line: line, Col: col, Keyword: kw, Severity: sev, Message: msg}
}

func (p *parser) add(d seqDiag) { p.diags = append(p.diags, d) }

func (p *parser) report(n *node, col int, isErr bool, format string, args ...any) {
	if col == 0 {
		col = n.kw.Col
	}
	kw := n.kw.Text
	if n.entry && n.parent != nil {
		kw = n.parent.kw.Text
	}
	p.add(seqDiag{seq: n.seq, d: p.mk(n.file, n.line, col, kw, fmt.Sprintf(format, args...), isErr)})
}

// errorf reports an error on statement n.
func (p *parser) errorf(n *node, format string, args ...any) { p.report(n, 0, true, format, args...) }

// warnf reports a warning on statement n.
func (p *parser) warnf(n *node, format string, args ...any) { p.report(n, 0, false, format, args...) }

// argErrorf reports an error at argument i of n.
func (p *parser) argErrorf(n *node, i int, format string, args ...any) {
	p.report(n, argCol(n, i), true, format, args...)
}

// argWarnf reports a warning at argument i of n.
func (p *parser) argWarnf(n *node, i int, format string, args ...any) {
	p.report(n, argCol(n, i), false, format, args...)
}

func argCol(n *node, i int) int {
	if i >= 0 && i < len(n.args) {
		return n.args[i].Col
	}
	return n.kw.Col
}

// unknown reports a keyword that is not valid where it appears.
func (p *parser) unknown(n *node, where string) {
	p.warnf(n, "unknown keyword in %s - ignored", where)
}

// sortedDiags returns the diagnostics in source order (lexer diagnostics,
// which carry no line index, first), promoted to errors when strict.
func (p *parser) sortedDiags() diag.List {
	sort.SliceStable(p.diags, func(i, j int) bool { return p.diags[i].seq < p.diags[j].seq })
	out := make(diag.List, len(p.diags))
	for i, d := range p.diags {
		out[i] = d.d
	}
	return promote(out, p.opts.Strict)
}

func pos(n *node) conf.Pos { return conf.Pos{File: n.file, Line: n.line} }

// joinArgs returns the arguments from index i joined by spaces.
func joinArgs(n *node, i int) string {
	if i >= len(n.args) {
		return ""
	}
	parts := make([]string, 0, len(n.args)-i)
	for _, a := range n.args[i:] {
		parts = append(parts, a.Text)
	}
	return strings.Join(parts, " ")
}

// entries marks the statements of a list block (addresses, names...) so
// that their diagnostics name the block's keyword, and returns them.
func entries(b *node) []*node {
	for _, c := range b.block {
		c.entry = true
	}
	return b.block
}

// needBlock reports a block keyword used without a block.
func (p *parser) needBlock(n *node) bool {
	if !n.hasBlock {
		p.errorf(n, "expects a block: %s { ... }", n.name())
		return false
	}
	return true
}

// noBlock reports a block given to a keyword that takes none; the block's
// contents are ignored.
func (p *parser) noBlock(n *node) {
	if n.hasBlock {
		p.warnf(n, "takes no block - block ignored")
	}
}

// maxArgs warns about arguments beyond max.
func (p *parser) maxArgs(n *node, max int) {
	if len(n.args) > max {
		p.argWarnf(n, max, "extra argument(s) '%s' ignored", joinArgs(n, max))
	}
}

// needArgs reports a statement with fewer than min arguments.
func (p *parser) needArgs(n *node, min int, what string) bool {
	if len(n.args) < min {
		p.errorf(n, "missing %s", what)
		return false
	}
	return true
}

// other records a recognised keyword vigil does not act on.
func other(list *[]conf.KeyValue, n *node) {
	*list = append(*list, conf.KeyValue{Key: n.name(), Value: joinArgs(n, 0)})
}
