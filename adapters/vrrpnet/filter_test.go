package vrrpnet

import (
	"testing"

	"golang.org/x/net/bpf"

	"github.com/vigil-ha/vigil/effects"
)

// TestFilterProgramVRIDs runs the IPv4 VRRP socket's filter in the bpf
// package's VM: configured VRIDs pass (multicast ones only with TTL 255),
// other VRIDs are dropped, unless an AllVRIDs entry (log_unknown_vrids)
// asks for them, whatever their TTL. (The kernel runs the same program in
// TestFilterKernel.)
func TestFilterProgramVRIDs(t *testing.T) {
	base := []effects.Receiver{
		{Interface: "eth0", Family: 4, VRID: 77, Version: 3},
		{Interface: "eth0", Family: 4, VRID: 90, Version: 3, AnyTTL: true},
	}
	all := append([]effects.Receiver{{Interface: "eth0", Family: 4, AllVRIDs: true}}, base...)
	packet := func(proto, ttl, vrid byte) []byte {
		p := make([]byte, 20+8)
		p[0], p[8], p[9] = 0x45, ttl, proto
		p[20], p[21] = 0x31, vrid
		return p
	}
	for _, c := range []struct {
		name           string
		p              []byte
		plain, withAll bool
	}{
		{"configured, TTL 255", packet(ProtoVRRP, 255, 77), true, true},
		{"configured, TTL 64", packet(ProtoVRRP, 64, 77), false, false},
		{"unicast VRID, TTL 3", packet(ProtoVRRP, 3, 90), true, true},
		{"unknown VRID, TTL 255", packet(ProtoVRRP, 255, 78), false, true},
		{"unknown VRID, TTL 64", packet(ProtoVRRP, 64, 1), false, true},
		{"another protocol", packet(6, 255, 77), false, false},
	} {
		for _, rs := range []struct {
			rs   []effects.Receiver
			want bool
		}{{base, c.plain}, {all, c.withAll}} {
			raw, err := filterProgram(IPv4, ProtoVRRP, rs.rs)
			if err != nil {
				t.Fatal(err)
			}
			prog, ok := bpf.Disassemble(raw)
			if !ok {
				t.Fatalf("%s: the program does not disassemble", c.name)
			}
			vm, err := bpf.NewVM(prog)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			n, err := vm.Run(c.p)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got := n > 0; got != rs.want {
				t.Errorf("%s (all VRIDs %t): accepted %t, want %t", c.name, len(rs.rs) == 3, got, rs.want)
			}
		}
	}
}
