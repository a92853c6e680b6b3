package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden JSON files in testdata/config")

// TestGoldenDump loads each testdata/config/*.conf and compares the model's
// JSON (what `vigil dump` prints) with the .json file beside it, and its
// diagnostics with the .diags file.
func TestGoldenDump(t *testing.T) {
	confs, err := filepath.Glob("../testdata/config/*.conf")
	if err != nil || len(confs) == 0 {
		t.Fatalf("no golden configurations: %v", err)
	}
	for _, path := range confs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cfg, diags, err := Load(path, Options{ConfigID: "golden"})
			if err != nil {
				t.Fatalf("load: %v\n%s", err, list(diags))
			}
			// The diagnostics are golden too: the keywords vigil does not
			// implement are reported (see keywords.go).
			gotDiags := strings.ReplaceAll(list(diags), "../testdata/config/", "")
			diagsFile := strings.TrimSuffix(path, ".conf") + ".diags"
			if *update {
				if err := os.WriteFile(diagsFile, []byte(gotDiags), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if want, err := os.ReadFile(diagsFile); err != nil {
				t.Errorf("%v (run go test ./config -run TestGoldenDump -update)", err)
			} else if string(want) != gotDiags {
				t.Errorf("diagnostics differ from %s (run with -update to accept):\n%s", diagsFile, firstDiff(string(want), gotDiags))
			}
			got, err := json.MarshalIndent(cfg, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(path, ".conf") + ".json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./config -run TestGoldenDump -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("dump differs from %s (run with -update to accept):\n%s", golden, firstDiff(string(want), string(got)))
			}
		})
	}
}

// firstDiff shows the first differing line with a little context.
func firstDiff(want, got string) string {
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
			return "line " + itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return ""
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestDumpTopLevelKeys pins the documented top-level shape: the required
// keys are present and collections are arrays, never null.
func TestDumpTopLevelKeys(t *testing.T) {
	cfg, _, err := LoadString("empty.conf", "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(cfg)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"vrrp_scripts", "track_files", "vrrp_track_processes", "bfd_instances",
		"vrrp_sync_groups", "garp_groups", "vrrp_instances", "static_ipaddress", "static_routes",
		"static_rules", "virtual_server_groups", "virtual_servers"} {
		if string(m[k]) != "[]" {
			t.Errorf("%s = %s, want []", k, m[k])
		}
	}
	if !bytes.HasPrefix(m["global_defs"], []byte("{")) {
		t.Errorf("global_defs = %s", m["global_defs"])
	}
}
