package config

import (
	"fmt"
	"testing"
	"time"
)

// seqConfig is the man page's ~SEQ example: IFS×NUMS×IDS instances, each
// with a track_file.
func seqConfig(ifs, nums, ids int) string {
	return `$VI4= \
track_file offset_instance_4.${IF}.${NUM}.${ID} { \
    file "${_PWD}/679/track_files/4.${IF}.${NUM}.${ID}" \
    weight -100 \
} \
vrrp_instance vrrp4.${IF}.${NUM}.${ID} { \
    interface bond${IF}.${NUM} \
    use_vmac vrrp4.${IF}.${NUM}.${ID} \
    virtual_router_id ${ID} \
    priority 130 \
    virtual_ipaddress { \
        10.${IF}.${NUM}.${ID}/24 \
    } \
    track_file { \
        offset_instance_4.${IF}.${NUM}.${ID} \
    } \
}

` + fmt.Sprintf("~SEQ(IF,0,%d) ~SEQ(NUM,0,%d) ~SEQ(ID,1,%d) $VI4\n", ifs-1, nums-1, ids)
}

// TestManPageSEQExample loads the man page's 65,024-instance example.
func TestManPageSEQExample(t *testing.T) {
	if testing.Short() {
		t.Skip("65,024 instances: skipped with -short")
	}
	start := time.Now()
	cfg, diags, err := LoadString("/etc/keepalived/keepalived.conf", seqConfig(8, 32, 254), Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, list(diags[:min(len(diags), 10)]))
	}
	if len(cfg.Instances) != 65024 || len(cfg.TrackFiles) != 65024 {
		t.Fatalf("instances %d, track files %d", len(cfg.Instances), len(cfg.TrackFiles))
	}
	last := cfg.Instances[len(cfg.Instances)-1]
	if last.Name != "vrrp4.7.31.254" || last.VRID != 254 || last.Interface != "bond7.31" ||
		last.VMACName != "vrrp4.7.31.254" || last.Family != 4 {
		t.Errorf("last instance = %+v", last)
	}
	t.Logf("65,024 instances loaded in %v", time.Since(start))
}

// TestDuplicateVRIDIsLinear guards against a quadratic duplicate check:
// the same VRID on 4,000 different interfaces.
func TestDuplicateVRIDsManyInterfaces(t *testing.T) {
	text := "$V= \\\nvrrp_instance V${I} { \\\n interface e${I} \\\n virtual_router_id 7 \\\n virtual_ipaddress { 10.0.0.1 } \\\n}\n" +
		"~SEQ(I,1,4000) $V\n" +
		"vrrp_instance DUP {\n interface e4000\n virtual_router_id 7\n virtual_ipaddress { 10.0.0.2 }\n}\n"
	_, diags, err := LoadString("d.conf", text, Options{})
	if err == nil || len(diags) != 1 {
		t.Fatalf("err=%v\n%s", err, list(diags))
	}
	if want := "(DUP) VRID 7 with IPv4 on interface e4000 is already used by vrrp_instance V4000 at d.conf:7"; diags[0].Message != want {
		t.Errorf("got %q", diags[0].Message)
	}
}
