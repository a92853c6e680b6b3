package config

import (
	"os"
	"testing"
)

// BenchmarkLoad65024 loads the manual's 65,024-instance ~SEQ example
// (keepalived.conf(5), "Sequence blocks"), as `vigil check` does:
// bench/parse.sh times the command, this profiles the library
// (-cpuprofile, -memprofile).
func BenchmarkLoad65024(b *testing.B) {
	text, err := os.ReadFile("testdata/bench/seq65024.conf")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		cfg, _, err := LoadString("/etc/keepalived/keepalived.conf", string(text), Options{ConfigID: "bench"})
		if err != nil || len(cfg.Instances) != 65024 {
			b.Fatalf("loaded %d instances: %v", len(cfg.Instances), err)
		}
	}
}
