package config

import (
	"net/netip"
	"testing"
)

func TestLoadWithSource(t *testing.T) {
	const text = `global_defs {
    vrrp_version 2
}
vrrp_sync_group G {
    group {
        VI_1
    }
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    advert_int 1
    advert_int 2
    authentication {
        auth_type PASS
        auth_pass secret
    }
    unicast_peer {
        10.0.0.2
    }
    virtual_ipaddress {
        10.0.0.100/24 dev eth0
    }
    track_interface {
        eth1 weight -10
    }
}
`
	cfg, src, diags, err := LoadStringWithSource("k.conf", text, Options{})
	if err != nil || src == nil {
		t.Fatalf("err %v, src %v, diags %v", err, src, diags)
	}
	if cfg.Instances[0].AdvertInt.Seconds() != 2 {
		t.Fatalf("advert_int = %v", cfg.Instances[0].AdvertInt)
	}
	is := src.Instances["VI_1"]
	for _, tc := range []struct {
		got  Place
		want Place
	}{
		{is.Block, Place{"k.conf", 9, 1}},
		{src.Globals["vrrp_version"], Place{"k.conf", 2, 5}},
		{is.Keywords["advert_int"], Place{"k.conf", 13, 5}}, // the last one: its value is kept
		{is.Keywords["auth_pass"], Place{"k.conf", 16, 9}},
		{is.Addr("unicast_peer", netip.MustParseAddr("10.0.0.2")), Place{"k.conf", 19, 9}},
		{is.Addr("virtual_ipaddress", netip.MustParseAddr("10.0.0.100")), Place{"k.conf", 22, 9}},
		{is.Addr("virtual_ipaddress", netip.MustParseAddr("10.0.0.101")), Place{"k.conf", 21, 5}}, // not there: the block
		{src.SyncGroups["G"].Members["VI_1"], Place{"k.conf", 6, 9}},
		{is.Tracks["track_interface"]["eth1"], Place{"k.conf", 25, 9}},
	} {
		if tc.got != tc.want {
			t.Errorf("got %+v, want %+v", tc.got, tc.want)
		}
	}
	if p, ok := is.Keyword("priority"); ok || p != is.Block {
		t.Errorf("unset keyword: %+v %v", p, ok)
	}
	if _, src, _, _ := LoadWithSource("/nonexistent/k.conf", Options{}); src != nil {
		t.Error("a file that cannot be read has a Source")
	}
}
