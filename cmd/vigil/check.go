package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/vigil-ha/vigil/cluster"
	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/config/diag"
)

func init() {
	register("check", "load and validate a keepalived.conf (as keepalived -t); with several -f, lint them as one cluster", checkDoc, runCheck)
}

func checkDoc() helpDoc {
	var a checkArgs
	return helpDoc{
		synopsis: []string{"check [-f FILE[@ID]] [-i ID] [--strict] [--json]",
			"check -f FILE[@ID] -f FILE[@ID]... [--topology FILE] [--strict] [--json]"},
		text: "Load and validate a keepalived.conf as keepalived -t does, printing every diagnostic with its " +
			"file and line. With several -f, each file is a node of one cluster and they are also linted together: " +
			"VRIDs, priorities, authentication, advert intervals and VIPs that disagree between the nodes.",
		options: flagDocs(a.flags()),
		notes:   "Exit status: 0 when every file loads and the lint finds no error (warnings allowed), 1 otherwise, 2 on bad usage.",
	}
}

// checkArgs are vigil check's options.
type checkArgs struct {
	files                fileList
	id, topoFile         string
	strict, asJSON, host bool
}

func (a *checkArgs) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("vigil check", flag.ContinueOnError)
	fs.Var(&a.files, "f", "configuration `FILE[@ID]`, ID for its @ID lines (repeat: lint the files as one cluster's nodes; default "+defaultConfFile+")")
	fs.Var(&a.files, "use-file", "configuration `FILE[@ID]` (same as -f)")
	fs.StringVar(&a.id, "i", "", "config `ID` for @ID conditional lines of the files without @ID (default: the host name)")
	fs.StringVar(&a.id, "config-id", "", "config `ID` (same as -i)")
	fs.BoolVar(&a.strict, "strict", false, "treat every warning (unknown keywords and cluster warnings included) as an error")
	fs.StringVar(&a.topoFile, "topology", "", "cluster topology `FILE`: which node interfaces share a segment, the nodes' addresses")
	fs.BoolVar(&a.asJSON, "json", false, "print one JSON document on stdout instead of text")
	fs.BoolVar(&a.host, "host", false, "also check the host as keepalived -t does: the interfaces named exist, script security")
	return fs
}

// loadFlags are the options dump takes.
type loadFlags struct {
	file   string
	id     string
	strict bool
}

func (l *loadFlags) define(fs *flag.FlagSet, strict bool) {
	fs.StringVar(&l.file, "f", "/etc/keepalived/keepalived.conf", "configuration `FILE`")
	fs.StringVar(&l.file, "use-file", "/etc/keepalived/keepalived.conf", "configuration `FILE` (same as -f)")
	fs.StringVar(&l.id, "i", "", "config `ID` for @ID conditional lines (default: the host name)")
	fs.StringVar(&l.id, "config-id", "", "config `ID` (same as -i)")
	if strict {
		fs.BoolVar(&l.strict, "strict", false, "treat every warning (unknown keywords included) as an error")
	}
}

// fileList collects repeated -f options.
type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, " ") }
func (f *fileList) Set(v string) error { *f = append(*f, v); return nil }

const defaultConfFile = "/etc/keepalived/keepalived.conf"

// checkFile is one -f: a node of the cluster.
type checkFile struct {
	Node   string `json:"node"`
	File   string `json:"file"`
	ID     string `json:"config_id,omitempty"`
	Loaded bool   `json:"loaded"`
	// Error is why the file does not load ("" when it does).
	Error          string    `json:"error,omitempty"`
	Instances      int       `json:"vrrp_instances"`
	VirtualServers int       `json:"virtual_servers"`
	Diagnostics    diag.List `json:"diagnostics"`
	// Status is keepalived -t's exit status for this file alone.
	Status int `json:"status"`

	node     cluster.Node
	lintable bool // loads (before --strict): the lint takes it
	routerID string
}

// checkJSON is the document --json prints (see README, `vigil check`).
type checkJSON struct {
	OK       bool            `json:"ok"`
	Errors   int             `json:"errors"`
	Warnings int             `json:"warnings"`
	Files    []*checkFile    `json:"files"`
	Topology *checkTopology  `json:"topology,omitempty"`
	Cluster  *cluster.Report `json:"cluster,omitempty"`
}

type checkTopology struct {
	File        string    `json:"file"`
	Diagnostics diag.List `json:"diagnostics"`
}

// splitFileID splits FILE@ID at its last @ (the id for that file's @ID
// lines), unless the whole word names an existing file.
func splitFileID(v string) (file, id string, hasID bool) {
	k := strings.LastIndexByte(v, '@')
	if k < 0 || strings.ContainsRune(v[k+1:], '/') {
		return v, "", false
	}
	if _, err := os.Stat(v); err == nil {
		return v, "", false
	}
	return v[:k], v[k+1:], v[k+1:] != ""
}

// runCheck loads each configuration and prints its diagnostics to stderr;
// with several files, it then lints them together as the nodes of one
// cluster (package cluster). Exit status: keepalived -t's (see
// checkStatus) for the worst file, 5 when the lint finds an error, 2 on
// bad usage.
func runCheck(args []string, stdout, stderr io.Writer) int {
	var a checkArgs
	fs := a.flags()
	if done, code := parseFlags(fs, "check", args, stdout, stderr); done {
		return code
	}
	files, id, topoFile, strict, asJSON, host := a.files, a.id, a.topoFile, a.strict, a.asJSON, a.host
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigil check: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if len(files) == 0 {
		files = fileList{defaultConfFile}
	}
	if topoFile != "" && len(files) < 2 {
		fmt.Fprintln(stderr, "vigil check: --topology needs several -f files (a cluster)")
		return 2
	}
	var out checkJSON
	failed := false
	status := exitOK
	for _, v := range files {
		out.Files = append(out.Files, loadCheckFile(v, id, strict, host))
	}
	if len(files) > 1 {
		nameNodes(out.Files)
	} else {
		out.Files[0].Node = out.Files[0].File
	}
	for _, cf := range out.Files {
		failed = failed || cf.Status != exitOK
		status = max(status, cf.Status)
		if asJSON {
			continue
		}
		for _, d := range cf.Diagnostics {
			fmt.Fprintln(stderr, d)
		}
		node := ""
		if len(files) > 1 {
			node = " (node " + cf.Node + ")"
		}
		if !cf.Loaded {
			fmt.Fprintf(stderr, "vigil check: %s%s: %s\n", cf.File, node, cf.Error)
		} else {
			fmt.Fprintf(stdout, "%s: configuration OK%s: %d vrrp instance(s), %d virtual server(s), %d warning(s)\n",
				cf.File, node, cf.Instances, cf.VirtualServers, len(cf.Diagnostics))
		}
	}
	var findings []cluster.Finding
	if len(files) > 1 {
		var topo *cluster.Topology
		if topoFile != "" {
			b, err := os.ReadFile(topoFile)
			if err != nil {
				fmt.Fprintf(stderr, "vigil check: %v\n", err)
				return 1
			}
			var tds diag.List
			topo, tds = cluster.ParseTopology(topoFile, b)
			out.Topology = &checkTopology{File: topoFile, Diagnostics: tds}
			if tds == nil {
				out.Topology.Diagnostics = diag.List{}
			}
			if tds.HasErrors() {
				failed, status = true, max(status, exitConfig)
			}
			if !asJSON {
				for _, d := range tds {
					fmt.Fprintln(stderr, d)
				}
			}
		}
		var nodes []cluster.Node
		for _, cf := range out.Files {
			if cf.lintable {
				nodes = append(nodes, cf.node)
			} else if !asJSON {
				fmt.Fprintf(stderr, "vigil check: %s: left out of the cluster lint (it does not load)\n", cf.File)
			}
		}
		rep := cluster.Lint(nodes, topo)
		for k := range rep.Findings {
			if strict {
				rep.Findings[k].Severity = diag.Error
			}
		}
		findings = rep.Findings
		out.Cluster = &rep
	}
	for _, cf := range out.Files {
		count(&out, cf.Diagnostics)
	}
	if out.Topology != nil {
		count(&out, out.Topology.Diagnostics)
	}
	for _, f := range findings {
		if f.Severity == diag.Error {
			out.Errors++
			failed, status = true, max(status, exitConfig)
		} else {
			out.Warnings++
		}
		if !asJSON {
			fmt.Fprintln(stderr, f.Diagnostic())
		}
	}
	out.OK = !failed
	if asJSON {
		b, err := json.MarshalIndent(&out, "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "vigil check: %v\n", err)
			return 1
		}
		stdout.Write(append(b, '\n'))
	} else if out.Cluster != nil {
		e, w := 0, 0
		for _, f := range findings {
			if f.Severity == diag.Error {
				e++
			} else {
				w++
			}
		}
		fmt.Fprintf(stdout, "cluster: %d node(s), %d virtual router(s) on several nodes, %d error(s), %d warning(s)\n",
			len(out.Files), out.Cluster.Shared(), e, w)
	}
	if failed && status == exitOK {
		status = exitConfig
	}
	if failed {
		return status
	}
	return exitOK
}

func count(out *checkJSON, l diag.List) {
	for _, d := range l {
		if d.Severity == diag.Error {
			out.Errors++
		} else {
			out.Warnings++
		}
	}
}

// loadCheckFile loads one -f value (FILE or FILE@ID; defID for a file
// without @ID) and, with host, checks it against the host. --strict
// promotes the warnings afterwards: a file whose problems are all
// warnings fails the check but is still linted with the others.
func loadCheckFile(v, defID string, strict, host bool) *checkFile {
	file, id, hasID := splitFileID(v)
	if !hasID {
		id = defID
	}
	cf := &checkFile{File: file, ID: id}
	if hasID {
		cf.Node = id
	}
	cfg, src, diags, err := config.LoadWithSource(file, config.Options{ConfigID: id})
	cf.lintable = err == nil
	if diags == nil {
		diags = diag.List{}
	}
	if strict {
		for k := range diags {
			diags[k].Severity = diag.Error
		}
		if err == nil && len(diags) > 0 {
			err = fmt.Errorf("config: %d error(s) in configuration", len(diags))
		}
	}
	var hr *hostResult
	if host && cfg != nil {
		r := checkHost(file, cfg)
		hr = &r
		if strict {
			for k := range r.diags {
				r.diags[k].Severity = diag.Error
			}
		}
		diags = append(diags, r.diags...)
	}
	cf.Status = checkStatus(diags, err == nil, errors.Is(err, fs.ErrNotExist), strict, hr)
	cf.Diagnostics = diags
	if cfg != nil {
		cf.Instances, cf.VirtualServers = len(cfg.Instances), len(cfg.VirtualServers)
		cf.routerID = cfg.GlobalDefs.RouterID
	}
	cf.Loaded = err == nil
	if err != nil {
		cf.Error = err.Error()
	}
	cf.node = cluster.Node{Config: cfg, Source: src}
	return cf
}

// nameNodes names each file's node: its @ID, else its router_id, else
// its path; a name two files share falls back to the path.
func nameNodes(files []*checkFile) {
	for _, cf := range files {
		if cf.Node == "" {
			cf.Node = cf.routerID
		}
		if cf.Node == "" {
			cf.Node = cf.File
		}
	}
	uses := map[string]int{}
	for _, cf := range files {
		uses[cf.Node]++
	}
	for _, cf := range files {
		if uses[cf.Node] > 1 {
			cf.Node = cf.File
		}
	}
	seen := map[string]int{}
	for _, cf := range files {
		seen[cf.Node]++
		if n := seen[cf.Node]; n > 1 {
			cf.Node = fmt.Sprintf("%s#%d", cf.Node, n)
		}
		cf.node.Name = cf.Node
	}
}
