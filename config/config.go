// Package config reads a keepalived.conf into the typed model of package
// events/conf: it lexes the files (includes, conditionals, parameters and
// sequences are the lexer's job), parses every block and keyword that
// keepalived.conf(5) documents, applies keepalived's defaults and
// inheritance rules, and validates the result with keepalived's
// semantics. Every problem is reported as a diagnostic with its file,
// line, column and keyword.
//
// Severity follows what keepalived does with the problem: where it would
// drop a block or refuse to start, the diagnostic is an error; where it
// corrects the value (clamps, rounds, ignores a keyword), the diagnostic
// is a warning that says what was done. Options.Strict turns every
// warning into an error, which is what `keepalived -t` does with its exit
// status.
package config

import (
	"fmt"
	"strconv"

	"github.com/vigil-ha/vigil/config/diag"
	"github.com/vigil-ha/vigil/config/lexer"
	"github.com/vigil-ha/vigil/events/conf"
)

// Options control loading. The first fields are passed to the lexer.
type Options struct {
	// ConfigID is the id that @ID conditional lines are compared with
	// (keepalived -i); empty means the host name's first label, as the
	// lexer decides.
	ConfigID string
	// RandomSeed seeds ${_RANDOM}. When nil, a global_defs random_seed in
	// the configuration is used (found in a first pass, as keepalived
	// does), else the lexer's default.
	RandomSeed *int64
	// ReadFile and Glob replace the file system (tests, fuzzing).
	ReadFile func(string) ([]byte, error)
	Glob     func(string) ([]string, error)
	// Strict makes every warning an error.
	Strict bool
	// IPRoute2Dir and IPRoute2UsrDir are where the iproute2 files that
	// name routing tables, realms, DS fields, route protocols, scopes
	// and interface groups are read (through ReadFile and Glob), to
	// resolve the names routes and rules use, as keepalived does at
	// load: FILE in IPRoute2Dir, else in IPRoute2UsrDir, then the
	// FILE.d/*.conf of both (see package internal/rtnames). Empty means
	// /etc/iproute2 and /usr/share/iproute2.
	IPRoute2Dir, IPRoute2UsrDir string
	// ProtocolsFile is protocols(5), for rule ipproto names; empty
	// means /etc/protocols.
	ProtocolsFile string
	// VRFTable resolves a route's `vrf NAME` to the VRF's routing table
	// at load, as keepalived does (an error wrapping ErrNotVRF for an
	// interface that is not a VRF, another error for none). Nil (vigil
	// check, dump, sim: they do not look at the host) leaves the name
	// for the executor to resolve when it adds the route.
	VRFTable func(name string) (int, error)
	// Links lists the host's interfaces when VMACs are to be named
	// (vigil run): a VMAC name avoids the names in use and an existing
	// VMAC of the right interface and MAC is reused, as keepalived does
	// (see nameVMACs). Nil (vigil check, dump, sim) names them from the
	// configuration alone, avoiding the interfaces it names.
	Links func() ([]Link, error)
	// Host returns the host's name and the name of the user vigil runs
	// as, for the defaults keepalived takes from the host at load: an
	// unset router_id is the host name and, when smtp_server is set, an
	// unset notification_email_from is user@host and an unset
	// smtp_helo_name the host name (so the journaled configuration
	// carries them and the engine's email alerts name the host). Nil
	// (vigil check, dump, sim: they do not look at the host) leaves
	// them unset; an empty name too (keepalived's "[unknown]" host).
	Host func() (name, user string)
}

func (o Options) lexer() lexer.Options {
	return lexer.Options{ConfigID: o.ConfigID, RandomSeed: o.RandomSeed, ReadFile: o.ReadFile, Glob: o.Glob}
}

// Load reads the configuration file at path. The returned diagnostics are
// in source order. The error is non-nil when the configuration cannot be
// used: the file cannot be read, or a diagnostic is an error; the Config
// is still returned when parsing got that far, for inspection.
func Load(path string, opts Options) (*conf.Config, diag.List, error) {
	return load(opts, func(lo lexer.Options) ([]lexer.Line, diag.List, error) {
		return lexer.Load(path, lo)
	})
}

// LoadString is Load for a configuration held in memory; name is used in
// diagnostics and as the base for relative includes.
func LoadString(name, text string, opts Options) (*conf.Config, diag.List, error) {
	return load(opts, func(lo lexer.Options) ([]lexer.Line, diag.List, error) {
		return lexer.LoadString(name, text, lo)
	})
}

func load(opts Options, lex func(lexer.Options) ([]lexer.Line, diag.List, error)) (*conf.Config, diag.List, error) {
	return loadSource(opts, lex, nil)
}

// loadSource is load that also fills src, when it is not nil, with the
// places of the VRRP statements.
func loadSource(opts Options, lex func(lexer.Options) ([]lexer.Line, diag.List, error), src *Source) (*conf.Config, diag.List, error) {
	lines, lexDiags, err := lex(opts.lexer())
	if err != nil {
		return nil, promote(lexDiags, opts.Strict), fmt.Errorf("config: %w", err)
	}
	// keepalived reads random_seed before expanding ${_RANDOM}: when the
	// configuration sets one and the caller did not, lex again with it.
	if opts.RandomSeed == nil {
		if seed, ok := findRandomSeed(lines); ok {
			lo := opts.lexer()
			lo.RandomSeed = &seed
			lines, lexDiags, err = lex(lo)
			if err != nil {
				return nil, promote(lexDiags, opts.Strict), fmt.Errorf("config: %w", err)
			}
		}
	}
	p := newParser(opts)
	for _, d := range lexDiags {
		p.diags = append(p.diags, seqDiag{seq: -1, d: d})
	}
	root := p.buildTree(lines)
	lines = nil // the tree holds what is needed; let the lines go
	p.parseRoot(root)
	p.reportUnimplemented(root, "")
	p.finish()
	hostDefaults(&p.cfg.GlobalDefs, opts.Host)
	if src != nil {
		p.source(root, src)
	}
	diags := p.sortedDiags()
	if diags.HasErrors() {
		n := 0
		for _, d := range diags {
			if d.Severity == diag.Error {
				n++
			}
		}
		return p.cfg, diags, fmt.Errorf("config: %d error(s) in configuration", n)
	}
	return p.cfg, diags, nil
}

// hostDefaults fills the global_defs keepalived defaults from the host
// (init_global_data): router_id, and with an smtp_server the sender and
// the HELO name of email alerts. It runs after finish, so SMTP_CHECK's
// default HELO name stays the configured smtp_helo_name.
func hostDefaults(g *conf.GlobalDefs, host func() (string, string)) {
	if host == nil {
		return
	}
	name, user := host()
	if name == "" {
		return
	}
	if g.RouterID == "" {
		g.RouterID = name
	}
	if g.SMTPServer == "" {
		return
	}
	if g.NotificationEmailFrom == "" && user != "" {
		g.NotificationEmailFrom = user + "@" + name
	}
	if g.SMTPHeloName == "" {
		g.SMTPHeloName = name
	}
}

// findRandomSeed looks for a `random_seed N` statement (a keyword at the
// start of a line or after a brace); the last one wins, as in keepalived.
func findRandomSeed(lines []lexer.Line) (int64, bool) {
	var seed int64
	found := false
	for _, l := range lines {
		t := l.Tokens
		for i := 0; i+1 < len(t); i++ {
			if t[i].Text != "random_seed" || t[i].Quoted || (i > 0 && t[i-1].Text != "{" && t[i-1].Text != "}") {
				continue
			}
			if v, err := strconv.ParseUint(t[i+1].Text, 10, 32); err == nil {
				seed, found = int64(v), true
			}
		}
	}
	return seed, found
}

func promote(l diag.List, strict bool) diag.List {
	if !strict {
		return l
	}
	out := make(diag.List, len(l))
	for i, d := range l {
		d.Severity = diag.Error
		out[i] = d
	}
	return out
}
