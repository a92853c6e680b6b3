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
	f.Add("static_routes {\n 10.0.0.0/8 table 6909 nexthop via 10.1.1.1 dev eth0 onlink weight 1 realms 3 nexthop via 10.1.1.2\n" +
		" 10.2.0.0/16 dev eth0 rtt 1.5s rttvar lock 102 rto_min 300ms ssthresh lock 7 congctl lock cubic features ecn add vrf blue\n" +
		" fd00::/64 dev eth0 pref high expires 10 from fd00:1::/64 append\n}\n" +
		"static_rules {\n from 10.0.0.0/8 not table main pref 5\n to fd00::/64 l3mdev ip_proto UDP sport 1-2 dport 3 pref 6\n" +
		" from all type goto 9 pref 7\n fwmark 0x1/0xff uidrange 1-2 tunnel-id 5 sup_pl 0 table 5 order 8\n}\n")
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
