package conf

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDurationJSONRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		d    Duration
		json string
	}{
		{Duration(time.Second), "1"},
		{Duration(1500 * time.Millisecond), "1.5"},
		{Duration(time.Microsecond), "0.000001"},
		{Duration(40950 * time.Millisecond), "40.95"},
		{0, "0"},
	} {
		b, err := json.Marshal(tc.d)
		if err != nil || string(b) != tc.json {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tc.d.Std(), b, err, tc.json)
		}
		var back Duration
		if err := json.Unmarshal(b, &back); err != nil || back != tc.d {
			t.Errorf("Unmarshal(%s) = %v, %v", b, back.Std(), err)
		}
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	in := Config{VirtualServers: []VirtualServer{{Key: "fwmark 1", RealServers: []RealServer{{Checkers: []Checker{{
		Type: CheckUDP, UDP: &UDPCheck{Payload: HexBytes{0xab, 0x01}},
	}}}}}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Config
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	got := out.VirtualServers[0].RealServers[0].Checkers[0].UDP.Payload
	if string(got) != "\xab\x01" {
		t.Errorf("payload = %x", got)
	}
}
