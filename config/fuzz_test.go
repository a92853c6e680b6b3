package config

import (
	"encoding/json"
	"io/fs"
	"testing"
)

// FuzzParse feeds arbitrary text through the lexer, parser and validation:
// nothing may panic, and whatever loads must marshal to JSON.
func FuzzParse(f *testing.F) {
	for _, s := range samplesSeeds() {
		f.Add(s)
	}
	for _, tc := range brokenCases {
		f.Add(tc.files[mainConf])
	}
	f.Add("vrrp_instance A { interface eth0 virtual_router_id 1 virtual_ipaddress { 10.0.0.1 } }")
	f.Add("~SEQ(N,1,3) vrrp_instance V$N { interface eth0 virtual_router_id $N }")
	seed := int64(1)
	opts := Options{
		ConfigID:   "fuzz",
		RandomSeed: &seed,
		ReadFile:   func(string) ([]byte, error) { return nil, fs.ErrNotExist },
		Glob:       func(string) ([]string, error) { return nil, nil },
	}
	f.Fuzz(func(t *testing.T, text string) {
		cfg, diags, err := LoadString("/fuzz/keepalived.conf", text, opts)
		if err == nil && diags.HasErrors() {
			t.Fatalf("no error returned despite error diagnostics")
		}
		for _, d := range diags {
			if d.Line < 0 || d.Message == "" {
				t.Fatalf("bad diagnostic %+v", d)
			}
		}
		if cfg != nil {
			if _, err := json.Marshal(cfg); err != nil {
				t.Fatalf("marshal: %v", err)
			}
		}
	})
}
