package config_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/config/diag"
	"github.com/vigil-ha/vigil/config/kwexample"
	"github.com/vigil-ha/vigil/config/manpage"
	"github.com/vigil-ha/vigil/events/conf"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite README's list of keywords vigil does not implement from the table")

// TestKeywordsCoverManPage extracts the keywords of the installed
// keepalived.conf(5) and requires the table to have each one, in the
// block the man page shows it in.
func TestKeywordsCoverManPage(t *testing.T) {
	src, err := manpage.ReadInstalled()
	if err != nil {
		t.Skipf("keepalived.conf(5) is not installed (%v): install Debian's keepalived package", err)
	}
	found := manpage.Extract(src)
	if len(found) < 300 {
		t.Fatalf("only %d keywords extracted from %s: the extractor no longer understands the man page", len(found), manpage.Installed)
	}
	names := map[string]bool{}
	for _, k := range config.Keywords() {
		names[k.Name] = true
	}
	for _, m := range found {
		if m.Prose {
			if !names[m.Name] {
				t.Errorf("%s:%d: keyword %s (in the prose) is not in the keyword table", manpage.Installed, m.Line, m.Name)
			}
			continue
		}
		if _, ok := config.LookupKeyword(m.Block, m.Name); !ok {
			where := "at the top level"
			if m.Block != "" {
				where = "in " + m.Block
			}
			t.Errorf("%s:%d: keyword %s %s is not in the keyword table", manpage.Installed, m.Line, m.Name, where)
		}
	}
}

var goTestRef = regexp.MustCompile(`^([\w./-]+_test\.go):(Test\w+)$`)

// TestKeywordTable checks the table's entries: one per keyword and
// block, a message where something is not implemented, and tests that
// exist where something is.
func TestKeywordTable(t *testing.T) {
	seen := map[[2]string]bool{}
	for _, k := range config.Keywords() {
		id := k.Block + "/" + k.Name
		if seen[[2]string{k.Block, k.Name}] {
			t.Errorf("%s: listed twice", id)
		}
		seen[[2]string{k.Block, k.Name}] = true
		switch k.Class {
		case config.Acted:
			if k.Message != "" || k.Reported != config.Always {
				t.Errorf("%s: acted, with a message", id)
			}
		case config.Partial, config.Refused:
			if k.Message == "" {
				t.Errorf("%s: %s without a message", id, k.Class)
			}
		default:
			t.Errorf("%s: no class", id)
		}
		if (k.Class == config.Refused) != (len(k.Tests) == 0) {
			t.Errorf("%s: %s with tests %q (acted and partial keywords name their tests, refused ones none)", id, k.Class, k.Tests)
		}
		for _, ref := range k.Tests {
			if err := testExists(ref); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
	}
}

func testExists(ref string) error {
	file, name := ref, ""
	if m := goTestRef.FindStringSubmatch(ref); m != nil {
		file, name = m[1], m[2]
	} else if strings.HasSuffix(ref, ".go") || strings.Contains(ref, ":") {
		return fmt.Errorf("test %q: want FILE_test.go:TestName or a scenario file", ref)
	}
	b, err := os.ReadFile(filepath.Join("..", file))
	if err != nil {
		return fmt.Errorf("test %q: %v", ref, err)
	}
	if name != "" && !strings.Contains(string(b), "func "+name+"(") {
		return fmt.Errorf("test %q: %s has no %s", ref, file, name)
	}
	return nil
}

// TestUnimplementedKeywordsReported loads, for every keyword the table
// says vigil does not (fully) implement, a configuration using it: the
// load reports a warning at its line naming the keyword with the table's
// message, and with Strict the warning is an error that fails the load.
func TestUnimplementedKeywordsReported(t *testing.T) {
	for _, k := range kwexample.Reported() {
		t.Run(k.Block+"/"+k.Name, func(t *testing.T) {
			text, line := kwexample.Example(k)
			_, diags, err := config.LoadString("k.conf", text, config.Options{})
			if err != nil {
				t.Fatalf("load: %v\n%s\n%s", err, diagList(diags), text)
			}
			d, ok := find(diags, line, k)
			if !ok {
				t.Fatalf("no report of %s at line %d:\n%s\n%s", k.Name, line, diagList(diags), text)
			}
			if d.Severity != diag.Warning || d.Col == 0 {
				t.Errorf("report %v: want a warning with a column", d)
			}
			_, diags, err = config.LoadString("k.conf", text, config.Options{Strict: true})
			if err == nil {
				t.Errorf("strict load succeeded")
			}
			if d, ok := find(diags, line, k); !ok || d.Severity != diag.Error {
				t.Errorf("strict: report %v (found %v), want an error", d, ok)
			}
		})
	}
}

func find(diags diag.List, line int, k config.Keyword) (diag.Diagnostic, bool) {
	for _, d := range diags {
		if d.Line == line && d.Keyword == k.Name && d.Message == k.Diagnostic() {
			return d, true
		}
	}
	return diag.Diagnostic{}, false
}

// TestImplementedUsesNotReported: the uses of a partly implemented or
// refused keyword that ask for nothing vigil lacks are not reported.
func TestImplementedUsesNotReported(t *testing.T) {
	cases := []struct{ block, name, arg string }{
		{"global_defs", "smtp_alert", "no"},
		{"global_defs", "checker_log_all_failures", "off"},
		{"global_defs", "vrrp_higher_prio_send_advert", ""},
		{"global_defs", "vrrp_higher_prio_send_advert", "on"},
		{"global_defs", "reload_check_config", ""},
		{"vrrp_instance", "smtp_alert", "false"},
		{"vrrp_instance", "strict_mode", "off"},
		{"vrrp_instance", "higher_prio_send_advert", "yes"},
		{"HTTP_GET", "fast_recovery", ""},
		{"CHECKER_TYPE", "log_all_failures", "no"},
		{"real_server", "smtp_alert", "no"},
	}
	for _, c := range cases {
		k, ok := config.LookupKeyword(c.block, c.name)
		if !ok {
			t.Fatalf("%s/%s not in the table", c.block, c.name)
		}
		text, line := kwexample.Example(config.Keyword{Block: c.block, Name: c.name})
		lines := strings.Split(text, "\n")
		lines[line-1] = strings.TrimRight(strings.Fields(lines[line-1])[0]+" "+c.arg, " ")
		text = strings.Join(lines, "\n")
		_, diags, err := config.LoadString("k.conf", text, config.Options{})
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", c.name, c.arg, err, diagList(diags))
		}
		if d, found := find(diags, line, k); found {
			t.Errorf("%s %q reported: %v", c.name, c.arg, d)
		}
	}
}

const (
	readmeBegin = "<!-- keyword table: not implemented (generated: go test ./config -run TestREADMENotImplemented -update-readme) -->\n"
	readmeEnd   = "<!-- end of keyword table -->\n"
)

// TestREADMENotImplemented requires README's list of keywords vigil does
// not implement to be the table's.
func TestREADMENotImplemented(t *testing.T) {
	path := filepath.Join("..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, readmeBegin), strings.Index(s, readmeEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no keyword table section (%q ... %q)", readmeBegin, readmeEnd)
	}
	want := config.NotImplementedMarkdown()
	got := s[i+len(readmeBegin) : j]
	if got == want {
		return
	}
	if *updateREADME {
		s = s[:i+len(readmeBegin)] + want + s[j:]
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's list of keywords vigil does not implement differs from the keyword table (run go test ./config -run TestREADMENotImplemented -update-readme):\n%s",
		firstDiffLine(want, got))
}

func firstDiffLine(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  table:  %s\n  README: %s", i+1, wl, gl)
		}
	}
	return ""
}

func diagList(l diag.List) string {
	var b strings.Builder
	for _, d := range l {
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

// TestKeywordEffects pins what the keywords acted on in the model alone
// do to it (aliases, and keywords whose effect is another setting); the
// behaviour of that setting is tested where it is acted on.
func TestKeywordEffects(t *testing.T) {
	load := func(t *testing.T, text string) *conf.Config {
		t.Helper()
		cfg, diags, err := config.LoadString("k.conf", text, config.Options{})
		if err != nil {
			t.Fatalf("%v\n%s", err, diagList(diags))
		}
		return cfg
	}
	const vi = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n %s\n virtual_ipaddress {\n  %s\n }\n}\n"
	t.Run("vrrp_track_file", func(t *testing.T) {
		cfg := load(t, "vrrp_track_file tf {\n file /run/tf\n weight -3 reverse\n init_file 7 overwrite\n}\n")
		if len(cfg.TrackFiles) != 1 {
			t.Fatalf("track files %+v", cfg.TrackFiles)
		}
		f := cfg.TrackFiles[0]
		if f.Name != "tf" || f.File != "/run/tf" || f.Weight != -3 || !f.WeightReverse || !f.InitFile || f.InitValue != 7 || !f.InitOverwrite {
			t.Errorf("vrrp_track_file = %+v", f)
		}
	})
	t.Run("lvs_flush_onstop", func(t *testing.T) {
		if g := load(t, "global_defs {\n lvs_flush_onstop VS\n}\n").GlobalDefs; g.LVSFlushOnStop != "VS" {
			t.Errorf("lvs_flush_onstop VS: %q", g.LVSFlushOnStop)
		}
	})
	t.Run("random_seed", func(t *testing.T) {
		// The configuration's seed makes ${_RANDOM} repeatable.
		text := "global_defs {\n random_seed 42\n router_id r${_RANDOM 0 1000000}\n}\n"
		a, b := load(t, text).GlobalDefs.RouterID, load(t, text).GlobalDefs.RouterID
		other := load(t, strings.Replace(text, "42", "43", 1)).GlobalDefs.RouterID
		if a != b || a == other {
			t.Errorf("router ids %q, %q (seed 42) and %q (seed 43): want the first two equal, the third different", a, b, other)
		}
	})
	t.Run("vrrp_script user", func(t *testing.T) {
		cfg := load(t, "vrrp_script chk {\n script /bin/chk\n user nobody nogroup\n}\n"+
			sprintf(vi, "track_script {\n  chk\n }", "10.0.0.1/24"))
		if s := cfg.VRRPScripts[0].Script; s.User != "nobody" || s.Group != "nogroup" {
			t.Errorf("script runs as %q:%q", s.User, s.Group)
		}
	})
	t.Run("native_ipv6", func(t *testing.T) {
		in := load(t, sprintf(vi, "native_ipv6", "fd00::1/64")).Instances[0]
		if in.Family != 6 || in.Version != 3 || in.McastDstIP.String() != "ff02::12" {
			t.Errorf("native_ipv6: family %d version %d group %s", in.Family, in.Version, in.McastDstIP)
		}
	})
	t.Run("preempt", func(t *testing.T) {
		if in := load(t, sprintf(vi, "nopreempt\n preempt", "10.0.0.1/24")).Instances[0]; in.NoPreempt {
			t.Errorf("preempt after nopreempt: still nopreempt")
		}
	})
	t.Run("lvs aliases and virtual server weight", func(t *testing.T) {
		cfg := load(t, `virtual_server 10.0.0.1 80 {
 protocol TCP
 lb_algo mh
 hashed
 lb_kind DR
 weight 4
 nb_get_retry 2
 real_server 10.0.1.1 80 {
  TCP_CHECK {
  }
 }
 real_server 10.0.1.2 80 {
  lb_kind NAT
  nb_get_retry 3
  TCP_CHECK {
  }
  TCP_CHECK {
   nb_get_retry 4
  }
 }
}
`)
		vs := cfg.VirtualServers[0]
		if vs.Scheduler != "mh" || len(vs.SchedFlags) != 1 || vs.SchedFlags[0] != "mh-port" || vs.Method.Method != "DR" {
			t.Errorf("lb_algo/hashed/lb_kind: %s %v %s", vs.Scheduler, vs.SchedFlags, vs.Method.Method)
		}
		r1, r2 := vs.RealServers[0], vs.RealServers[1]
		if r1.Weight != 4 || r1.Method.Method != "DR" || r2.Method.Method != "NAT" {
			t.Errorf("real servers: weight %d method %s, method %s", r1.Weight, r1.Method.Method, r2.Method.Method)
		}
		if r1.Checkers[0].Retry != 2 || r2.Checkers[0].Retry != 3 || r2.Checkers[1].Retry != 4 {
			t.Errorf("nb_get_retry: %d %d %d, want 2 3 4", r1.Checkers[0].Retry, r2.Checkers[0].Retry, r2.Checkers[1].Retry)
		}
	})
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
