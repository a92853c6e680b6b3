package ipvs

import (
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
)

var (
	effWeb = effects.IPVSService{Family: 4, Protocol: "tcp", Addr: netip.MustParseAddr("192.0.2.1"), Port: 80,
		Scheduler: "rr", PersistenceTimeout: 300 * time.Second, PersistenceNetmask: netip.MustParseAddr("255.255.255.0")}
	effMark = effects.IPVSService{Family: 4, FwMark: 7, Scheduler: "sh", SchedFlags: []string{"sh-port", "sh-fallback"}, OnePacket: true}
	effDNS6 = effects.IPVSService{Family: 6, Protocol: "udp", Addr: netip.MustParseAddr("2001:db8::1"), Port: 53, Scheduler: "wlc"}
)

func TestServiceFromEffect(t *testing.T) {
	a := netip.MustParseAddr
	cases := []struct {
		in   effects.IPVSService
		want Service
	}{
		{effWeb, Service{Family: 4, Protocol: "TCP", Addr: a("192.0.2.1"), Port: 80, Scheduler: "rr",
			PersistenceTimeout: 300 * time.Second, GranularityBits: 24}},
		{effMark, Service{Family: 4, FwMark: 7, Scheduler: "sh", Flags: FlagOnePacket | FlagSched1 | FlagSched2}},
		{effDNS6, Service{Family: 6, Protocol: "UDP", Addr: a("2001:db8::1"), Port: 53, Scheduler: "wlc"}},
		{effects.IPVSService{Family: 4, FwMark: 1, Scheduler: "rr", PersistenceTimeout: 1500 * time.Millisecond, SchedFlags: []string{"flag-3"}},
			Service{Family: 4, FwMark: 1, Scheduler: "rr", PersistenceTimeout: 2 * time.Second, Flags: FlagSched3}},
	}
	for _, c := range cases {
		got, err := ServiceFromEffect(&c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ServiceFromEffect(%+v) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for name, in := range map[string]effects.IPVSService{
		"unknown flag":    {Family: 4, FwMark: 1, Scheduler: "rr", SchedFlags: []string{"flag-9"}},
		"non-contiguous":  {Family: 4, FwMark: 1, Scheduler: "rr", PersistenceNetmask: netip.MustParseAddr("255.0.255.0")},
		"bad port":        {Family: 4, Protocol: "tcp", Addr: netip.MustParseAddr("192.0.2.1"), Port: 70000, Scheduler: "rr"},
		"no scheduler":    {Family: 4, FwMark: 1},
		"bad protocol":    {Family: 4, Protocol: "icmp", Addr: netip.MustParseAddr("192.0.2.1"), Port: 1, Scheduler: "rr"},
		"family mismatch": {Family: 6, Protocol: "tcp", Addr: netip.MustParseAddr("192.0.2.1"), Port: 1, Scheduler: "rr"},
	} {
		if _, err := ServiceFromEffect(&in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDestFromEffect(t *testing.T) {
	a := netip.MustParseAddr
	d, err := DestFromEffect(&effects.IPVSDest{Addr: a("198.51.100.1"), Port: 8080, Method: "DR", UThreshold: 100, LThreshold: 10}, 3)
	want := Dest{Addr: a("198.51.100.1"), Port: 8080, Method: DR, Weight: 3, UpperThreshold: 100, LowerThreshold: 10}
	if err != nil || d != want {
		t.Errorf("DestFromEffect = %+v, %v; want %+v", d, err, want)
	}
	if d, err := DestFromEffect(&effects.IPVSDest{Addr: a("198.51.100.1"), Method: "TUN", TunType: "ipip"}, 0); err != nil || d.Method != TUN {
		t.Errorf("ipip tunnel: %+v, %v", d, err)
	}
	for name, in := range map[string]effects.IPVSDest{
		"gue":       {Addr: a("198.51.100.1"), Method: "TUN", TunType: "gue", TunPort: 6080},
		"gre":       {Addr: a("198.51.100.1"), Method: "TUN", TunType: "gre"},
		"method":    {Addr: a("198.51.100.1"), Method: "FULLNAT"},
		"port":      {Addr: a("198.51.100.1"), Port: -1},
		"threshold": {Addr: a("198.51.100.1"), UThreshold: -1},
	} {
		if _, err := DestFromEffect(&in, 1); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestTableFromEffect converts ReconcileIPVS's table: what does not
// convert is left out and reported, the rest kept in order.
func TestTableFromEffect(t *testing.T) {
	a := netip.MustParseAddr
	bad := effWeb
	bad.SchedFlags = []string{"no-such-flag"}
	in := []effects.IPVSTableService{
		{VirtualServer: "tcp/192.0.2.1:80", Service: effWeb, Dests: []effects.IPVSTableDest{
			{RealServer: "198.51.100.1:8080", Weight: 2, Dest: effects.IPVSDest{Addr: a("198.51.100.1"), Port: 8080, Method: "NAT"}},
			{RealServer: "198.51.100.2:8080", Weight: 1, Dest: effects.IPVSDest{Addr: a("198.51.100.2"), Port: 8080, Method: "bogus"}},
			{RealServer: "198.51.100.3:8080", Dest: effects.IPVSDest{Addr: a("198.51.100.3"), Port: 80, Method: "DR"}},
		}},
		{VirtualServer: "group/G/tcp", Service: bad},
		{VirtualServer: "fwmark/7", Service: effMark},
	}
	out, err := TableFromEffect(in)
	if err == nil || !strings.Contains(err.Error(), "real server 198.51.100.2:8080") || !strings.Contains(err.Error(), "virtual server group/G/tcp") {
		t.Fatalf("error %v: want the bad method and the bad service reported", err)
	}
	web, _ := ServiceFromEffect(&effWeb)
	web.Dests = []Dest{{Addr: a("198.51.100.1"), Port: 8080, Method: NAT, Weight: 2}, {Addr: a("198.51.100.3"), Port: 80, Method: DR}}
	mark, _ := ServiceFromEffect(&effMark)
	if !reflect.DeepEqual(out, Table{web, mark}) {
		t.Fatalf("table = %+v", out)
	}
	if out, err := TableFromEffect(nil); out != nil || err != nil {
		t.Fatalf("empty table: %v, %v", out, err)
	}
}

func TestValidate(t *testing.T) {
	a := netip.MustParseAddr
	good := Service{Family: 4, Protocol: "TCP", Addr: a("192.0.2.1"), Port: 80, Scheduler: "rr"}
	cases := map[string]func(s *Service){
		"bad family":       func(s *Service) { s.Family = 5 },
		"bad protocol":     func(s *Service) { s.Protocol = "ICMP" },
		"family mismatch":  func(s *Service) { s.Addr = a("2001:db8::1") },
		"no scheduler":     func(s *Service) { s.Scheduler = "" },
		"fwmark with addr": func(s *Service) { s.FwMark = 3 },
		"granularity":      func(s *Service) { s.GranularityBits = 33 },
		"fractional":       func(s *Service) { s.PersistenceTimeout = 1500 * time.Millisecond },
		"dest family":      func(s *Service) { s.Dests = []Dest{{Addr: a("2001:db8::2")}} },
		"dest twice": func(s *Service) {
			s.Dests = []Dest{{Addr: a("192.0.2.2"), Port: 1}, {Addr: a("192.0.2.2"), Port: 1}}
		},
		"negative weight": func(s *Service) { s.Dests = []Dest{{Addr: a("192.0.2.2"), Weight: -1}} },
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good service: %v", err)
	}
	for name, mutate := range cases {
		s := good
		mutate(&s)
		if err := s.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), "ipvs:") {
			t.Errorf("%s: error %q does not name the package", name, err)
		}
	}
}

func TestServiceKeyRoundTrip(t *testing.T) {
	for _, k := range []ServiceKey{
		{Family: 4, Protocol: "TCP", Addr: netip.MustParseAddr("192.0.2.1"), Port: 80},
		{Family: 6, Protocol: "SCTP", Addr: netip.MustParseAddr("2001:db8::1"), Port: 9},
		{Family: 4, FwMark: 7},
		{Family: 6, FwMark: 1 << 31},
	} {
		got, err := ParseServiceKey(k.String())
		if err != nil || got != k {
			t.Errorf("ParseServiceKey(%q) = %+v, %v; want %+v", k.String(), got, err, k)
		}
	}
	for _, bad := range []string{"", "FWM x IPv4", "FWM 0 IPv4", "FWM 1 IPv5", "ICMP 1.2.3.4:5", "TCP nowhere"} {
		if _, err := ParseServiceKey(bad); err == nil {
			t.Errorf("ParseServiceKey(%q) accepted", bad)
		}
	}
}

func TestNetmaskEncoding(t *testing.T) {
	for _, bits := range []int{1, 8, 24, 31, 32} {
		if got := maskBits(4, netmask(4, bits)); got != bits {
			t.Errorf("v4 /%d: round trip gives /%d", bits, got)
		}
	}
	// The kernel reads the attribute as a big-endian mask, and moby/ipvs
	// writes the uint32 in host order: its bytes must be the mask's.
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], netmask(4, 24))
	if b != [4]byte{255, 255, 255, 0} {
		t.Errorf("v4 /24 encodes as % x", b)
	}
	if netmask(6, 64) != 64 || maskBits(6, 64) != 64 {
		t.Error("v6 granularity is the prefix length")
	}
	for m, want := range map[string]int{"255.255.255.0": 24, "255.255.255.255": 32, "0.0.0.0": 0, "ffff:ffff::": 32} {
		if got, ok := maskToBits(netip.MustParseAddr(m)); !ok || got != want {
			t.Errorf("maskToBits(%s) = %d, %v", m, got, ok)
		}
	}
}

func TestStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ipvs.json")
	keys, err := loadState(path)
	if err != nil || len(keys) != 0 {
		t.Fatalf("missing state file: %v %v", keys, err)
	}
	want := []ServiceKey{
		{Family: 4, FwMark: 7},
		{Family: 4, Protocol: "TCP", Addr: netip.MustParseAddr("192.0.2.1"), Port: 80},
	}
	if err := saveState(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(path)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("loadState = %v, %v; want %v", got, err, want)
	}
}
