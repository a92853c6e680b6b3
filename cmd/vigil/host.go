package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"reflect"
	"strings"

	"github.com/vigil-ha/vigil/config/diag"
	"github.com/vigil-ha/vigil/events/conf"
)

// keepalived -t's exit statuses (keepalived 2.2.7, lib/scheduler.h's
// KEEPALIVED_CHK_EXIT_*), which `vigil check` and `vigil run -t` use. As
// in keepalived, the status of several problems is the highest one's:
// one problem keepalived would run with (5) outweighs one that stops it
// (4), and a script-security violation (6) outweighs both.
const (
	exitOK = 0
	// exitConfigFatal: the configuration cannot be run (keepalived's
	// CONFIG_FILE_NOT_FOUND, CONFIG_BAD_IF, CONFIG_FATAL).
	exitConfigFatal = 4
	// exitConfig: problems keepalived reports and runs with anyway
	// (unknown keywords, invalid values, warnings).
	exitConfig = 5
	// exitSecurity: scripts are configured but enable_script_security
	// is not.
	exitSecurity = 6
)

// hostResult is what checking a configuration against the host found.
type hostResult struct {
	diags    diag.List
	security bool // scripts would run, unprotected by enable_script_security
}

// checkHost checks file's configuration for what keepalived -t checks on the host (vigil check
// --host, vigil run -t): that the interfaces the configuration names
// exist (and that VRRP is not asked to run on a loopback), and script
// security: a script that exists on the host with enable_script_security
// off is keepalived's security violation; with it on, script_user (or
// keepalived's default user, keepalived_script) must exist.
func checkHost(file string, cfg *conf.Config) hostResult {
	var r hostResult
	warn := func(p conf.Pos, kw, format string, args ...any) {
		if p.File == "" {
			p.File = file
		}
		r.diags = append(r.diags, diag.Diagnostic{File: p.File, Line: p.Line, Keyword: kw,
			Message: fmt.Sprintf(format, args...), Severity: diag.Warning})
	}
	exists := func(name string) (*net.Interface, bool) {
		ifi, err := net.InterfaceByName(name)
		return ifi, err == nil
	}
	addrs := func(p conf.Pos, what string, as []conf.Address) {
		for _, a := range as {
			if a.Dev != "" {
				if _, ok := exists(a.Dev); !ok {
					warn(p, what, "interface %s for ip address %s doesn't exist", a.Dev, a.Prefix)
				}
			}
		}
	}
	routes := func(p conf.Pos, what string, rs []conf.Route) {
		for _, rt := range rs {
			if rt.Dev != "" {
				if _, ok := exists(rt.Dev); !ok {
					warn(p, what, "interface %s for route %s doesn't exist", rt.Dev, rt.Dst)
				}
			}
		}
	}
	for _, in := range cfg.Instances {
		if in.Interface != "" {
			if ifi, ok := exists(in.Interface); !ok {
				warn(in.Pos, "interface", "interface %s for vrrp_instance %s doesn't exist", in.Interface, in.Name)
			} else if ifi.Flags&net.FlagLoopback != 0 {
				warn(in.Pos, "interface", "(%s) cannot use a loopback interface (%s) for vrrp", in.Name, in.Interface)
			}
		}
		for _, t := range in.TrackInterfaces {
			if _, ok := exists(t.Name); !ok {
				warn(in.Pos, "track_interface", "(%s) tracked interface %s doesn't exist", in.Name, t.Name)
			}
		}
		addrs(in.Pos, "virtual_ipaddress", in.VirtualIPAddresses)
		addrs(in.Pos, "virtual_ipaddress_excluded", in.VirtualIPAddressesExcluded)
		routes(in.Pos, "virtual_routes", in.VirtualRoutes)
	}
	for _, sg := range cfg.SyncGroups {
		for _, t := range sg.TrackInterfaces {
			if _, ok := exists(t.Name); !ok {
				warn(sg.Pos, "track_interface", "(%s) tracked interface %s doesn't exist", sg.Name, t.Name)
			}
		}
	}
	addrs(cfg.GlobalDefs.Pos, "static_ipaddress", cfg.StaticAddresses)
	routes(cfg.GlobalDefs.Pos, "static_routes", cfg.StaticRoutes)

	// keepalived checks each vrrp_script's program and disables the
	// script (a warning: -t exits 5) when it is not there.
	for k := range cfg.VRRPScripts {
		vs := &cfg.VRRPScripts[k]
		if len(vs.Script.Argv) > 0 && !strings.HasPrefix(strings.TrimSpace(vs.Script.Raw), "<") && !scriptExists(&vs.Script) {
			warn(vs.Pos, "vrrp_script", "Disabling track script %s since not found/accessible", vs.Name)
		}
	}
	g := &cfg.GlobalDefs
	scripts := configScripts(cfg)
	if len(scripts) == 0 {
		return r
	}
	if !g.EnableScriptSecurity {
		for _, s := range scripts {
			if scriptExists(s) {
				r.security = true
				r.diags = append(r.diags, diag.Diagnostic{File: file, Message: "SECURITY VIOLATION - scripts are being executed but script_security not enabled.",
					Severity: diag.Error})
				break
			}
		}
		return r
	}
	name := g.ScriptUser
	if name == "" {
		name = "keepalived_script"
	}
	if _, err := user.Lookup(name); err != nil {
		warn(g.Pos, "script_user", "unable to set default user %s for scripts: %v", name, err)
	}
	return r
}

// configScripts returns every script the configuration would run.
func configScripts(cfg *conf.Config) []*conf.Script {
	var out []*conf.Script
	st := reflect.TypeOf(conf.Script{})
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			if v.Type() == st {
				if v.CanAddr() {
					out = append(out, v.Addr().Interface().(*conf.Script))
				}
				return
			}
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(cfg).Elem())
	return out
}

// scriptExists reports whether a script's program is on the host (a
// "</path" file check runs nothing).
func scriptExists(s *conf.Script) bool {
	if len(s.Argv) == 0 || strings.HasPrefix(strings.TrimSpace(s.Raw), "<") {
		return false
	}
	p := s.Argv[0]
	if !strings.Contains(p, "/") {
		_, err := exec.LookPath(p)
		return err == nil
	}
	_, err := os.Stat(p)
	return err == nil
}

// checkStatus is keepalived -t's exit status for one configuration:
// loaded says whether it loads, notFound that the file could not be read,
// strict that vigil's "not implemented" warnings count too.
func checkStatus(diags diag.List, loaded, notFound, strict bool, host *hostResult) int {
	code := exitOK
	if notFound {
		code = exitConfigFatal
	}
	for _, d := range diags {
		if strict || !strings.HasPrefix(d.Message, "not implemented: ") {
			code = max(code, exitConfig)
		}
	}
	if !loaded && !notFound {
		code = max(code, exitConfig)
	}
	if host != nil {
		if len(host.diags) > 0 {
			code = max(code, exitConfig)
		}
		if host.security {
			code = exitSecurity
		}
	}
	return code
}
