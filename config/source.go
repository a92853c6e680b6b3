package config

import (
	"net/netip"
	"strings"

	"github.com/vigil-ha/vigil/config/diag"
	"github.com/vigil-ha/vigil/config/lexer"
	"github.com/vigil-ha/vigil/events/conf"
)

// Place is where a statement was written: its file, line and the column
// of its first word.
type Place struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col,omitempty"`
}

// Source says where the settings of a loaded configuration's VRRP blocks
// were written, for tools that report on the model after loading (the
// cluster lint of `vigil check`): the model itself keeps only the position
// of each block (conf.Pos), since it is journaled and compared, and a
// statement's line is not part of what the configuration means.
//
// Where a keyword is repeated, the last statement is recorded: it is the
// one whose value the model holds (keepalived's rule).
type Source struct {
	// Globals are the statements of global_defs (every global_defs
	// block), by keyword.
	Globals map[string]Place
	// Instances are the vrrp_instance blocks, by name.
	Instances map[string]*InstanceSource
	// SyncGroups are the vrrp_sync_group blocks, by name.
	SyncGroups map[string]*SyncGroupSource
}

// InstanceSource is where a vrrp_instance's statements were written.
type InstanceSource struct {
	// Block is the vrrp_instance statement.
	Block Place
	// Keywords are the statements of the block, and those of its
	// authentication block (auth_type, auth_pass), by keyword.
	Keywords map[string]Place
	// Addrs are the entries of the address blocks (virtual_ipaddress,
	// virtual_ipaddress_excluded, unicast_peer), by block keyword and
	// address.
	Addrs map[string]map[netip.Addr]Place
	// Tracks are the entries of the track_* blocks, by block keyword
	// and tracked name.
	Tracks map[string]map[string]Place
}

// SyncGroupSource is where a vrrp_sync_group's statements were written.
type SyncGroupSource struct {
	Block Place
	// Members are the entries of its group block, by instance name.
	Members map[string]Place
	// Tracks are the entries of its track_* blocks, by block keyword
	// and tracked name.
	Tracks map[string]map[string]Place
}

// Keyword returns where keyword was written in the instance, and whether
// it was; when it was not, the place is the vrrp_instance statement.
func (s *InstanceSource) Keyword(keyword string) (Place, bool) {
	if s == nil {
		return Place{}, false
	}
	if p, ok := s.Keywords[keyword]; ok {
		return p, true
	}
	return s.Block, false
}

// Addr returns where an address entry of block (virtual_ipaddress,
// virtual_ipaddress_excluded or unicast_peer) was written; when it is not
// found, the place of the block keyword, else the vrrp_instance statement.
func (s *InstanceSource) Addr(block string, a netip.Addr) Place {
	if s == nil {
		return Place{}
	}
	if p, ok := s.Addrs[block][a]; ok {
		return p
	}
	p, _ := s.Keyword(block)
	return p
}

// LoadWithSource is Load that also returns where the VRRP statements
// were written (nil when the file could not be read).
func LoadWithSource(path string, opts Options) (*conf.Config, *Source, diag.List, error) {
	var src Source
	cfg, diags, err := loadSource(opts, func(lo lexer.Options) ([]lexer.Line, diag.List, error) {
		return lexer.Load(path, lo)
	}, &src)
	if src.Instances == nil {
		return cfg, nil, diags, err
	}
	return cfg, &src, diags, err
}

// LoadStringWithSource is LoadString that also returns the Source.
func LoadStringWithSource(name, text string, opts Options) (*conf.Config, *Source, diag.List, error) {
	var src Source
	cfg, diags, err := loadSource(opts, func(lo lexer.Options) ([]lexer.Line, diag.List, error) {
		return lexer.LoadString(name, text, lo)
	}, &src)
	if src.Instances == nil {
		return cfg, nil, diags, err
	}
	return cfg, &src, diags, err
}

func place(n *node) Place { return Place{File: n.file, Line: n.line, Col: n.kw.Col} }

// source fills src from the statement tree and the parser's block states.
func (p *parser) source(root []*node, src *Source) {
	src.Globals = map[string]Place{}
	src.Instances = make(map[string]*InstanceSource, len(p.insts))
	src.SyncGroups = make(map[string]*SyncGroupSource, len(p.syncs))
	for _, n := range root {
		if n.name() == "global_defs" {
			for _, c := range n.block {
				src.Globals[c.name()] = place(c)
			}
		}
	}
	for _, st := range p.insts {
		name := p.cfg.Instances[st.idx].Name
		is := &InstanceSource{Block: place(st.n), Keywords: map[string]Place{}, Addrs: map[string]map[netip.Addr]Place{},
			Tracks: tracks(st.n)}
		for _, c := range st.n.block {
			k := c.name()
			is.Keywords[k] = place(c)
			switch k {
			case "authentication":
				for _, a := range c.block {
					is.Keywords[a.name()] = place(a)
				}
			case "virtual_ipaddress", "virtual_ipaddress_excluded", "unicast_peer":
				m := is.Addrs[k]
				if m == nil {
					m = map[netip.Addr]Place{}
					is.Addrs[k] = m
				}
				for _, e := range c.block {
					if a, ok := entryAddr(e.name()); ok {
						m[a] = place(e)
					}
				}
			}
		}
		src.Instances[name] = is
	}
	for _, st := range p.syncs {
		name := p.cfg.SyncGroups[st.idx].Name
		gs := &SyncGroupSource{Block: place(st.n), Members: map[string]Place{}, Tracks: tracks(st.n)}
		for _, m := range st.members {
			if _, dup := gs.Members[m.name()]; !dup {
				gs.Members[m.name()] = place(m)
			}
		}
		src.SyncGroups[name] = gs
	}
}

// tracks records the entries of the track_* blocks of block b.
func tracks(b *node) map[string]map[string]Place {
	out := map[string]map[string]Place{}
	for _, c := range b.block {
		k := c.name()
		if !strings.HasPrefix(k, "track_") || !c.hasBlock {
			continue
		}
		m := out[k]
		if m == nil {
			m = map[string]Place{}
			out[k] = m
		}
		for _, e := range c.block {
			m[e.name()] = place(e)
		}
	}
	return out
}

// entryAddr reads the address an address-block entry starts with
// (ADDR or ADDR/LEN).
func entryAddr(s string) (netip.Addr, bool) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
