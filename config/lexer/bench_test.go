package lexer

import (
	"testing"
)

// vi4 is the manual's 65,024-instance example (keepalived.conf(5),
// "Sequence blocks").
const vi4 = `$VI4= \
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

~SEQ(IF,0,7) ~SEQ(NUM,0,31) ~SEQ(ID,1,254) $VI4
`

func BenchmarkExpandSEQ65024(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		lines, diags, err := LoadString("/etc/keepalived/keepalived.conf", vi4, Options{ConfigID: "bench"})
		if err != nil || len(diags) != 0 || len(lines) != 65024*16 {
			b.Fatalf("got %d lines, %v, %v", len(lines), diags, err)
		}
	}
}
