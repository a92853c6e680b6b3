package config

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

// TestBFDInstance: every bfd_instance keyword loads as keepalived 2.2.7
// reads it: its defaults (min_rx and min_tx 10 ms, idle_tx 1 s,
// multiplier 5, ttl 255 for an IPv4 neighbour and 64 for an IPv6 one,
// max_hops 0), milliseconds with microsecond resolution, ttl and hoplimit
// as one setting under two names, max_hops lowered to the ttl, neighbour_ip
// as neighbor_ip, multihop (keepalived 2.2.8) as a boolean; nothing of it
// reported as not implemented.
func TestBFDInstance(t *testing.T) {
	a := netip.MustParseAddr
	ms := func(f float64) conf.Duration { return conf.Duration(time.Duration(f * float64(time.Millisecond))) }
	for _, tc := range []struct {
		name, text string
		want       conf.BFDInstance
		diag       string
	}{
		{name: "defaults", text: "bfd_instance b {\n neighbor_ip 10.0.0.2\n}\n",
			want: conf.BFDInstance{Name: "b", Neighbor: a("10.0.0.2"), MinRx: ms(10), MinTx: ms(10), IdleTx: ms(1000), Multiplier: 5, TTL: 255, Hoplimit: 64}},
		{name: "all", text: "bfd_instance b {\n neighbour_ip fd00::2\n source_ip fd00::1\n min_rx 3.312\n min_tx 50\n idle_tx 2000\n" +
			" multiplier 3\n passive\n hoplimit 255\n max_hops 1\n weight -20 reverse\n vrrp\n multihop\n}\n",
			want: conf.BFDInstance{Name: "b", Neighbor: a("fd00::2"), Source: a("fd00::1"), MinRx: ms(3.312), MinTx: ms(50), IdleTx: ms(2000),
				Multiplier: 3, Passive: true, TTL: 255, Hoplimit: 255, MaxHops: 1, Weight: -20, WeightReverse: true, VRRPOnly: true, Multihop: true}},
		{name: "ttl sets the IPv6 hop limit too", text: "bfd_instance b {\n neighbor_ip fd00::2\n ttl 10\n checker\n multihop off\n}\n",
			want: conf.BFDInstance{Name: "b", Neighbor: a("fd00::2"), MinRx: ms(10), MinTx: ms(10), IdleTx: ms(1000), Multiplier: 5, TTL: 10, Hoplimit: 10, CheckerOnly: true}},
		{name: "max_hops above the ttl", text: "bfd_instance b {\n neighbor_ip fd00::2\n max_hops 100\n}\n",
			want: conf.BFDInstance{Name: "b", Neighbor: a("fd00::2"), MinRx: ms(10), MinTx: ms(10), IdleTx: ms(1000), Multiplier: 5, TTL: 255, Hoplimit: 64, MaxHops: 64},
			diag: "max_hops exceeds ttl/hoplimit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags, err := LoadString("k.conf", tc.text, Options{})
			if tc.diag == "" && (err != nil || len(diags) != 0) {
				t.Fatalf("%v %v", err, diags)
			}
			if tc.diag != "" && (len(diags) != 1 || !strings.Contains(diags[0].Message, tc.diag)) {
				t.Fatalf("diagnostics %v, want %q", diags, tc.diag)
			}
			if len(cfg.BFDInstances) != 1 {
				t.Fatalf("%d instances", len(cfg.BFDInstances))
			}
			got := cfg.BFDInstances[0]
			got.Pos = conf.Pos{}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
