package journal

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

var update = flag.Bool("update", false, "rewrite the newest golden journal (testdata/golden-vN.journal)")

// goldenFixture is one committed golden journal: the file an older vigil
// wrote, and the records it must keep decoding to. Fixtures are never
// rewritten once committed, except the newest one while it is being made.
type goldenFixture struct {
	path    string
	records func() []goldenRecord
	format  int // the file format it was written in (Meta.Format)
}

// goldenFixtures lists every committed journal, oldest first. A new event or
// effect kind (or field) goes into a new fixture appended here.
var goldenFixtures = []goldenFixture{
	{"testdata/golden-v1.journal", golden, 1},
	{"testdata/golden-v2.journal", goldenV2, 1},
	// golden-v3 is goldenV2's records in format 2 (chunked records).
	{"testdata/golden-v3.journal", goldenV2, 2},
	// golden-v4 adds the receiving sockets as engine state.
	{"testdata/golden-v4.journal", goldenV4, 2},
	// golden-v5 adds ReconcileIPVS, the start's whole IPVS table.
	{"testdata/golden-v5.journal", goldenV5, 2},
	// golden-v6 is goldenV6's records in format 3 (shapes and deltas).
	{"testdata/golden-v6.journal", goldenV6, 3},
}

// goldenRecord is one event of the golden journal with its effects.
type goldenRecord struct {
	ev   events.Event
	effs []effects.Effect
}

// golden is the content of the golden journal: every event kind and every
// effect kind, with literal values. Never edit existing entries — the
// fixture written by an older vigil must keep decoding to exactly these.
// New kinds go into a new fixture (golden-v2) alongside this one.
func golden() []goldenRecord {
	a := netip.MustParseAddr
	p := netip.MustParsePrefix
	at := func(s int64) events.Header { return events.Header{At: events.Time(s * 1e9)} }
	weight := -20
	cfg := &conf.Config{
		GlobalDefs: conf.GlobalDefs{RouterID: "lb1", VRRPVersion: 3, VRRPMcastGroup4: a("224.0.0.18"),
			VRRPGARPMasterDelay: conf.Duration(5 * time.Second), Other: []conf.KeyValue{{Key: "max_auto_priority", Value: "10"}}},
		VRRPScripts: []conf.VRRPScript{{Pos: conf.Pos{File: "/etc/keepalived/keepalived.conf", Line: 12},
			Name: "chk_nginx", Script: conf.Script{Raw: "pidof nginx", Argv: []string{"pidof", "nginx"}},
			Interval: conf.Duration(2 * time.Second), Weight: -10, Rise: 2, Fall: 2}},
		Instances: []conf.Instance{{Name: "VI_1", State: "MASTER", Interface: "eth0", Family: 4, Version: 3,
			VRID: 51, Priority: 150, AdvertInt: conf.Duration(time.Second), DownTimerAdverts: 3, UnicastTTL: 255,
			TrackScripts:       []conf.TrackRef{{Name: "chk_nginx", Weight: &weight}},
			UnicastPeers:       []conf.UnicastPeer{{Addr: a("192.168.1.3")}},
			VirtualIPAddresses: []conf.Address{{Prefix: p("192.168.1.100/24"), Dev: "eth0", Label: "eth0:vip"}},
			Notify:             conf.Notifies{Master: &conf.Script{Raw: "/bin/true", Argv: []string{"/bin/true"}}}}},
	}
	vip := conf.Address{Prefix: p("192.168.1.100/24"), Dev: "eth0"}
	route := conf.Route{Dst: p("10.9.0.0/16"), Via: a("192.168.1.1"), Table: 100}
	rule := conf.Rule{From: p("192.168.1.100/32"), Table: 100, Priority: 10}
	return []goldenRecord{
		{&events.ConfigLoaded{Header: at(0), Config: cfg, Digest: "sha256:5f1c"}, []effects.Effect{
			&effects.JoinGroup{Interface: "eth0", Group: a("224.0.0.18")},
			&effects.Log{Level: "info", Message: "configuration loaded"}}},
		{&events.Start{Header: at(0), Seed: 0x5eed}, []effects.Effect{
			&effects.SetTimer{Key: "vrrp/VI_1/master-down", At: 3_609_375_000},
			&effects.RunScript{Script: "chk_nginx", Command: []string{"pidof", "nginx"}, Timeout: 2 * time.Second, User: "keepalived_script"},
			&effects.CreateVMAC{Instance: "VI_1", Name: "vrrp.51", Parent: "eth0", MAC: "00:00:5e:00:01:33"}}},
		{&events.LinkChanged{Header: at(1), Interface: "eth0", Index: 2, Present: true, Up: true, Running: true, MTU: 1500, HWAddr: "52:54:00:12:34:56"}, nil},
		{&events.ScriptResult{Header: at(2), Script: "chk_nginx", Status: 0}, []effects.Effect{
			&effects.Count{Instance: "VI_1", Counter: "script_ok", Delta: 1}}},
		{&events.TimerFired{Header: at(4), Key: "vrrp/VI_1/master-down"}, []effects.Effect{
			&effects.StateChanged{Instance: "VI_1", From: effects.StateBackup, To: effects.StateMaster, Priority: 150, Reason: "master-down-timer"},
			&effects.SendAdvert{Instance: "VI_1", Interface: "eth0", Version: 3, VRID: 51, Priority: 150, Interval: 100,
				Addrs: []netip.Addr{a("192.168.1.100")}, Src: a("192.168.1.2"), Dst: []netip.Addr{a("192.168.1.3")}, TTL: 255},
			&effects.AddAddress{Instance: "VI_1", Address: vip},
			&effects.AddRoute{Instance: "VI_1", Route: route},
			&effects.AddRule{Instance: "VI_1", Rule: rule},
			&effects.SendGARP{Instance: "VI_1", Interface: "eth0", Addr: a("192.168.1.100"), Count: 5, Interval: 10 * time.Millisecond},
			&effects.SendNA{Instance: "VI_1", Interface: "eth0", Addr: a("fe80::1"), Count: 5, Interval: 10 * time.Millisecond},
			&effects.Notify{Type: "INSTANCE", Name: "VI_1", State: "MASTER", Priority: 150,
				Scripts: [][]string{{"/bin/true"}}, FIFOLine: `INSTANCE "VI_1" MASTER 150`},
			&effects.SetIPVS{Op: effects.IPVSAddService, VirtualServer: "10.0.0.1 80"}}},
		{&events.AdvertReceived{Header: at(5), Interface: "eth0", Src: a("192.168.1.3"), Dst: a("192.168.1.2"), TTL: 255, Length: 20,
			Advert: events.Advert{Version: 3, Type: 1, VRID: 51, Priority: 100, CountAddrs: 1, Interval: 100,
				Addrs: []netip.Addr{a("192.168.1.100")}}}, []effects.Effect{
			&effects.Count{Instance: "VI_1", Counter: "advert_rcvd", Delta: 1}}},
		{&events.AdvertReceived{Header: at(5), Interface: "eth0", Src: a("192.168.1.9"), Verdict: events.VerdictBadChecksum,
			Advert: events.Advert{Version: 2, AuthType: 1, AuthData: [8]byte{'s', 'e', 'c', 'r', 'e', 't'}, AH: true, AHSeq: 7}}, nil},
		{&events.AddressChanged{Header: at(6), Interface: "eth0", Prefix: p("192.168.1.100/24"), Added: true}, nil},
		{&events.RouteChanged{Header: at(6), Dst: p("10.9.0.0/16"), Table: 100, Interface: "eth0", Gateway: a("192.168.1.1"), Added: true}, nil},
		{&events.RuleChanged{Header: at(6), Family: 2, Priority: 10, From: p("192.168.1.100/32"), Table: 100, Added: true}, nil},
		{&events.TrackFileValue{Header: at(7), File: "/run/weight", Value: -5}, nil},
		{&events.ProcessCount{Header: at(7), Process: "nginx", Count: 4}, nil},
		{&events.BFDState{Header: at(8), Name: "bfd_gw", Up: true}, nil},
		{&events.CheckResult{Header: at(9), VirtualServer: "10.0.0.1 80", RealServer: "10.0.1.1 80", Checker: 0, OK: false, Message: "connection refused"},
			[]effects.Effect{&effects.SetIPVS{Op: effects.IPVSDelDest, VirtualServer: "10.0.0.1 80", RealServer: "10.0.1.1 80"}}},
		{&events.Stop{Header: at(10), KeepAddresses: false}, []effects.Effect{
			&effects.CancelTimer{Key: "vrrp/VI_1/adver"},
			&effects.DelAddress{Instance: "VI_1", Address: vip},
			&effects.DelRoute{Instance: "VI_1", Route: route},
			&effects.DelRule{Instance: "VI_1", Rule: rule},
			&effects.DeleteVMAC{Instance: "VI_1", Name: "vrrp.51"},
			&effects.LeaveGroup{Interface: "eth0", Group: a("224.0.0.18")}}},
	}
}

// goldenV2 adds the LVS vocabulary (RunCheck, CheckStateChanged, SetIPVS
// with service and destination, CheckResult's dynamic weight, Stop.KeepIPVS)
// and per-script notify credentials.
func goldenV2() []goldenRecord {
	a := netip.MustParseAddr
	at := func(s int64) events.Header { return events.Header{At: events.Time(s * 1e9)} }
	svc := effects.IPVSService{Family: 2, Protocol: "tcp", Addr: a("10.0.0.1"), Port: 80, Scheduler: "wlc",
		PersistenceTimeout: 300 * time.Second, PersistenceNetmask: a("255.255.255.0")}
	dst := effects.IPVSDest{Addr: a("10.0.1.1"), Port: 80, Method: "NAT", UThreshold: 100}
	recs := golden()
	return append(recs,
		goldenRecord{&events.TimerFired{Header: at(11), Key: "lvs/tcp/10.0.0.1:80/10.0.1.1:80/0"}, []effects.Effect{
			&effects.RunCheck{VirtualServer: "tcp/10.0.0.1:80", RealServer: "10.0.1.1:80", Checker: 0, Type: "TCP_CHECK",
				Addr: a("10.0.1.1"), Port: 80, Timeout: 5 * time.Second,
				Spec: &conf.Checker{Type: "TCP_CHECK", Retry: 3, DelayBeforeRetry: conf.Duration(time.Second)}}}},
		goldenRecord{&events.CheckResult{Header: at(12), VirtualServer: "tcp/10.0.0.1:80", RealServer: "10.0.1.1:80",
			Checker: 0, OK: true, Dynamic: true, Weight: 7}, []effects.Effect{
			&effects.CheckStateChanged{VirtualServer: "tcp/10.0.0.1:80", RealServer: "10.0.1.1:80", Checker: 0,
				Type: "TCP_CHECK", Up: true, Reason: "check succeeded"},
			&effects.SetIPVS{Op: effects.IPVSAddService, VirtualServer: "tcp/10.0.0.1:80", Service: svc},
			&effects.SetIPVS{Op: effects.IPVSAddDest, VirtualServer: "tcp/10.0.0.1:80", RealServer: "10.0.1.1:80",
				Service: svc, Dest: dst, Weight: 7},
			&effects.Notify{Type: "RS", Name: "[10.0.1.1]:tcp:80", State: "UP", Scripts: [][]string{{"/bin/up"}, {"/bin/all"}},
				Users: []effects.ScriptCred{{User: "nobody"}, {User: "daemon", Group: "daemon"}}, SMTPAlert: true,
				FIFOLine: "RS [10.0.1.1]:tcp:80 [10.0.0.1]:tcp:80 UP"}}},
		goldenRecord{&events.Stop{Header: at(13), KeepAddresses: true, KeepIPVS: true}, nil},
	)
}

// goldenV4 adds join outcomes (Start.ReportsJoins, GroupJoined, the
// unicast socket's unspecified group) and CloseSockets.
func goldenV4() []goldenRecord {
	a := netip.MustParseAddr
	at := func(s int64) events.Header { return events.Header{At: events.Time(s * 1e9)} }
	return append(goldenV2(),
		goldenRecord{&events.Start{Header: at(14), Seed: 7, ReportsJoins: true}, []effects.Effect{
			&effects.JoinGroup{Interface: "eth0", Group: a("224.0.0.18")},
			&effects.JoinGroup{Interface: "eth1", Group: a("0.0.0.0")}}},
		goldenRecord{&events.GroupJoined{Header: at(14), Interface: "eth0", Group: a("224.0.0.18")}, nil},
		goldenRecord{&events.GroupJoined{Header: at(14), Interface: "eth1", Group: a("0.0.0.0"),
			Err: "vrrpnet: open eth1: no such network interface"}, []effects.Effect{
			&effects.SetTimer{Key: "sock/eth1/0.0.0.0", At: events.Time(14_500_000_000)}}},
		goldenRecord{&events.LinkChanged{Header: at(15), Interface: "eth0"}, []effects.Effect{
			&effects.CloseSockets{Interface: "eth0"}}},
	)
}

// goldenV5 adds ReconcileIPVS: a Start after a Stop reconciles the kernel
// with the whole desired table (a group's two services, a fwmark service
// without destinations, an inhibited and a tunnelled destination), flushed
// first; and an empty one.
func goldenV5() []goldenRecord {
	a := netip.MustParseAddr
	at := func(s int64) events.Header { return events.Header{At: events.Time(s * 1e9)} }
	svc := func(addr string) effects.IPVSService {
		return effects.IPVSService{Family: 4, Protocol: "tcp", Addr: a(addr), Port: 80, Scheduler: "sh",
			SchedFlags: []string{"sh-port", "sh-fallback"}, PersistenceTimeout: 60 * time.Second,
			PersistenceNetmask: a("255.255.255.0"), PersistenceEngine: "sip"}
	}
	dests := []effects.IPVSTableDest{
		{RealServer: "10.0.1.1:8080", Weight: 3, Dest: effects.IPVSDest{Addr: a("10.0.1.1"), Port: 8080, Method: "NAT",
			UThreshold: 100, LThreshold: 10}},
		{RealServer: "10.0.1.2:80", Dest: effects.IPVSDest{Addr: a("10.0.1.2"), Port: 80, Method: "TUN",
			TunType: "gue", TunPort: 6080, TunCsum: "remcsum"}},
	}
	return append(goldenV4(),
		goldenRecord{&events.Stop{Header: at(16), KeepIPVS: true}, nil},
		goldenRecord{&events.Start{Header: at(17), Seed: 11}, []effects.Effect{
			&effects.SetTimer{Key: "lvs/group/WEB/tcp/10.0.1.1:8080/0", At: events.Time(18_000_000_000)},
			&effects.ReconcileIPVS{Flush: true, Services: []effects.IPVSTableService{
				{VirtualServer: "group/WEB/tcp", Service: svc("10.0.0.1"), Dests: dests},
				{VirtualServer: "group/WEB/tcp", Service: svc("10.0.0.2"), Dests: dests},
				{VirtualServer: "fwmark/5/inet6", Service: effects.IPVSService{Family: 6, FwMark: 5, Scheduler: "wlc", OnePacket: true}},
			}},
			&effects.Notify{Type: "VS", Name: "[WEB]:0", State: "UP", FIFOLine: "VS [WEB]:0 UP"}}},
		goldenRecord{&events.Stop{Header: at(18)}, nil},
		goldenRecord{&events.Start{Header: at(19), Seed: 12}, []effects.Effect{&effects.ReconcileIPVS{}}},
	)
}

// goldenV6 is goldenV5's records followed by steady adverts, a master's
// and a backup's, so that format 3's delta records (explicit, repeated,
// followed and kept slots, a changed slot code, an unpredicted shape) are
// in a committed file, SetIPVSTimeouts, SendMail, the firewall and IPVSSyncDaemon.
func goldenV6() []goldenRecord {
	a := netip.MustParseAddr
	recs := goldenV5()
	late := []int64{120_000, 1_350_000, 80_000, 9_000_000, 640_000, 640_000}
	for i, l := range late {
		at := events.Time(int64(20+i)*1e9 + l)
		deadline := events.Time(int64(21+i) * 1e9)
		recs = append(recs,
			goldenRecord{&events.TimerFired{Header: events.Header{At: at}, Key: "vrrp/VI_1/adv"}, []effects.Effect{
				&effects.SendAdvert{Instance: "VI_1", Interface: "eth0", Version: 3, VRID: 51, Priority: 150, Interval: 100,
					Addrs: []netip.Addr{a("192.168.1.100")}, Src: a("192.168.1.2"), Dst: []netip.Addr{a("224.0.0.18")}, TTL: 255},
				&effects.Count{Instance: "VI_1", Counter: "advert_sent", Delta: 1},
				&effects.SetTimer{Key: "vrrp/VI_1/adv", At: deadline}}},
			goldenRecord{&events.AdvertReceived{Header: events.Header{At: at + 70_000}, Interface: "eth1", Src: a("192.168.2.3"),
				Dst: a("224.0.0.18"), TTL: 255, Length: 12, Advert: events.Advert{Version: 3, Type: 1, VRID: 52,
					Priority: uint8(100 + i/4), CountAddrs: 1, Interval: 100, Addrs: []netip.Addr{a("192.168.2.100")}}},
				[]effects.Effect{&effects.Count{Instance: "VI_2", Counter: "advert_rcvd", Delta: 1},
					&effects.SetTimer{Key: "vrrp/VI_2/down", At: at + 70_000 + 3_609_375_000}}})
	}
	// lvs_timeouts: set at a start, restored at a stop.
	recs = append(recs,
		goldenRecord{&events.TimerFired{Header: events.Header{At: 27e9}, Key: "lvs/tcp/10.0.0.1:80/10.0.1.1:80/0"},
			[]effects.Effect{&effects.SetIPVSTimeouts{TCP: 7200 * time.Second, UDP: 45 * time.Second}}},
		goldenRecord{&events.Stop{Header: events.Header{At: 28e9}}, []effects.Effect{&effects.SetIPVSTimeouts{},
			// smtp_alert: the instance's alert as it stops.
			&effects.SendMail{Server: "192.0.2.25", Port: 25, Timeout: 30 * time.Second, Helo: "lb1.example.com",
				From: "lb1@example.com", To: []string{"ops@example.com", "oncall@example.com"},
				Subject: "[lb1] VRRP Instance VI_1 - Stopping", Body: "=> VRRP Instance stopping <="}}})
	recs = append(recs, goldenV6Firewall()...)
	recs = append(recs, goldenV6SyncDaemon()...)
	recs = append(recs, goldenV6BFD()...)
	return append(recs, goldenV6Interfaces()...)
}

// goldenV6Interfaces is promote_secondaries (a link reported with it off,
// SetPromoteSecondaries on at a start and off at a stop) and a socket's
// receive buffer (JoinGroup's RcvBuf).
func goldenV6Interfaces() []goldenRecord {
	at := func(s int64) events.Header { return events.Header{At: events.Time(s * 1e9)} }
	return []goldenRecord{
		{&events.LinkChanged{Header: at(60), Interface: "eth0", Index: 2, Present: true, Up: true, Running: true, MTU: 1500}, nil},
		{&events.LinkChanged{Header: at(60), Interface: "eth1", Index: 3, Present: true, Up: true, Running: true, MTU: 9000,
			PromoteSecondaries: true}, nil},
		{&events.Start{Header: at(61), Seed: 15}, []effects.Effect{
			&effects.JoinGroup{Interface: "eth0", Group: netip.MustParseAddr("224.0.0.18"), RcvBuf: 106000},
			&effects.SetPromoteSecondaries{Interface: "eth0", On: true}}},
		{&events.Stop{Header: at(62)}, []effects.Effect{&effects.SetPromoteSecondaries{Interface: "eth0"}}},
	}
}

// goldenV6SyncDaemon is lvs_sync_daemon: the backup daemon at a start,
// the swap to the master daemon, the master daemon stopped at a stop.
func goldenV6SyncDaemon() []goldenRecord {
	at := func(s int64) events.Header { return events.Header{At: events.Time(s * 1e9)} }
	start := effects.IPVSSyncDaemon{Op: effects.SyncDaemonStart, State: effects.SyncDaemonBackup, Interface: "eth1",
		SyncID: 51, MaxLen: 1400, Port: 8848, TTL: 2, Group: netip.MustParseAddr("239.0.0.81")}
	stopBackup, master := start, start
	stopBackup.Op, master.State = effects.SyncDaemonStop, effects.SyncDaemonMaster
	stopMaster := master
	stopMaster.Op = effects.SyncDaemonStop
	return []goldenRecord{
		{&events.Start{Header: at(36), Seed: 14}, []effects.Effect{&start}},
		{&events.TimerFired{Header: at(40), Key: "vrrp/VI_1/down"}, []effects.Effect{&stopBackup, &master}},
		{&events.Stop{Header: at(41)}, []effects.Effect{&stopMaster}},
	}
}

// goldenV6BFD is a BFD session's handshake: BFDReceived, SendBFD and
// BFDStateChanged.
func goldenV6BFD() []goldenRecord {
	a := netip.MustParseAddr
	at := func(ms int64) events.Header { return events.Header{At: events.Time(50e9 + ms*1e6)} }
	cfg := &conf.Config{BFDInstances: []conf.BFDInstance{{Name: "b1", Neighbor: a("10.0.0.2"), Source: a("10.0.0.1"),
		MinRx: conf.Duration(10 * time.Millisecond), MinTx: conf.Duration(10 * time.Millisecond), IdleTx: conf.Duration(time.Second),
		Multiplier: 5, TTL: 255, Hoplimit: 64}}}
	down := events.BFDPacket{Version: 1, State: events.BFDDown, DetectMult: 5, Length: 24, MyDisc: 0x50b346e7,
		DesiredMinTx: 1000000, RequiredMinRx: 10000}
	init := down
	init.State, init.YourDisc = events.BFDInit, 0x1000
	up := init
	up.State, up.Poll, up.DesiredMinTx = events.BFDUp, true, 10000
	return append([]goldenRecord{},
		goldenRecord{&events.ConfigLoaded{Header: at(0), Config: cfg, Digest: "sha256:5f1c"}, nil},
		goldenRecord{&events.Start{Header: at(0), Seed: 1}, []effects.Effect{
			&effects.BFDStateChanged{Session: "b1", From: events.BFDAdminDown, To: events.BFDDown, Reason: "start"},
			&effects.SendBFD{Session: "b1", Src: a("10.0.0.1"), Dst: a("10.0.0.2"), TTL: 255, Packet: down},
			&effects.SetTimer{Key: "bfd/b1/tx", At: at(978).At}}},
		goldenRecord{&events.BFDReceived{Header: at(5), Src: a("10.0.0.2"), Dst: a("10.0.0.1"), SrcPort: 49153, Ifindex: 2, TTL: 255,
			Packet: events.BFDPacket{Version: 1, State: events.BFDDown, DetectMult: 5, Length: 24, MyDisc: 0x1000,
				DesiredMinTx: 1000000, RequiredMinRx: 10000}}, []effects.Effect{
			&effects.BFDStateChanged{Session: "b1", From: events.BFDDown, To: events.BFDInit, Reason: "remote-down"},
			&effects.SetTimer{Key: "bfd/b1/detect", At: at(5005).At}}},
		goldenRecord{&events.BFDReceived{Header: at(9), Src: a("10.0.0.2"), Dst: a("10.0.0.1"), TTL: 254, Multihop: true,
			Verdict: events.BFDVerdictBadLength}, []effects.Effect{&effects.Count{Instance: "bfd", Counter: effects.CounterBFDDiscarded, Delta: 1}}},
		goldenRecord{&events.BFDReceived{Header: at(10), Src: a("10.0.0.2"), Dst: a("10.0.0.1"), TTL: 255,
			Packet: events.BFDPacket{Version: 1, State: events.BFDUp, Final: true, DetectMult: 5, Length: 24, MyDisc: 0x1000,
				YourDisc: 0x50b346e7, DesiredMinTx: 10000, RequiredMinRx: 10000}}, []effects.Effect{
			&effects.BFDStateChanged{Session: "b1", From: events.BFDInit, To: events.BFDUp, Reason: "remote-up"},
			&effects.Log{Level: effects.LogInfo, Message: "(b1) Entering Up state"},
			&effects.SetTimer{Key: "bfd/b1/detect", At: at(60).At}}},
		goldenRecord{&events.TimerFired{Header: at(18), Key: "bfd/b1/tx"}, []effects.Effect{
			&effects.SendBFD{Session: "b1", Src: a("10.0.0.1"), Dst: a("10.0.0.2"), TTL: 255, Packet: up},
			&effects.SetTimer{Key: "bfd/b1/tx", At: at(26).At}}},
		goldenRecord{&events.TimerFired{Header: at(60), Key: "bfd/b1/detect"}, []effects.Effect{
			&effects.BFDStateChanged{Session: "b1", From: events.BFDUp, To: events.BFDDown, LocalDiag: 1, Reason: "detection-timeout"}}},
	)
}

var goldenGap = Gap{First: 100, Last: 119, Count: 20, At: time.Date(2025, 3, 1, 12, 0, 1, 0, time.UTC), Reason: "queue full"}

func writeGolden(t *testing.T, fx goldenFixture) {
	dir := t.TempDir()
	clock := newFakeClock()
	w, err := Open(dir, Options{Now: clock.Now, Host: "golden-host", Version: "vigil-golden"})
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range fx.records() {
		if err := w.Append(uint64(i+1), g.ev, g.effs); err != nil {
			t.Fatal(err)
		}
	}
	w.Snapshot(2, []byte("engine state after Start"))
	w.mu.Lock()
	w.gap = &goldenGap
	w.mu.Unlock()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := listFiles(dir)
	data, err := os.ReadFile(files[0].path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(fx.path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fx.path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGoldenJournal reads every committed golden journal: each must keep
// decoding to the same values, byte for byte, in every future version, and
// together they must exercise every event and effect kind.
func TestGoldenJournal(t *testing.T) {
	if *update {
		writeGolden(t, goldenFixtures[len(goldenFixtures)-1])
	}
	var all []goldenRecord
	for _, fx := range goldenFixtures {
		all = append(all, fx.records()...)
		t.Run(filepath.Base(fx.path), func(t *testing.T) { checkGoldenFixture(t, fx) })
	}
	checkGoldenCoversAllKinds(t, all)
}

func checkGoldenFixture(t *testing.T, fx goldenFixture) {
	want := fx.records()
	r, err := OpenReader(fx.path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	i := 0
	for rec, err := range r.Records(0) {
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(want) || rec.Seq != uint64(i+1) {
			t.Fatalf("unexpected record %d", rec.Seq)
		}
		g := want[i]
		if !reflect.DeepEqual(rec.Event, g.ev) {
			t.Errorf("seq %d: event\n got %#v\nwant %#v", rec.Seq, rec.Event, g.ev)
		}
		if (len(g.effs) > 0 || len(rec.Effects) > 0) && !reflect.DeepEqual(rec.Effects, g.effs) {
			t.Errorf("seq %d: effects\n got %#v\nwant %#v", rec.Seq, rec.Effects, g.effs)
		}
		// Today's encoder must still produce the recorded bytes.
		if b, _ := events.Encode(g.ev); !bytes.Equal(b, rec.RawEvent) {
			t.Errorf("seq %d: event encoding changed:\n got %x\nwant %x", rec.Seq, b, rec.RawEvent)
		}
		if b, _ := effects.EncodeAll(g.effs); !bytes.Equal(b, rec.RawEffects) {
			t.Errorf("seq %d: effects encoding changed:\n got %x\nwant %x", rec.Seq, b, rec.RawEffects)
		}
		i++
	}
	if i != len(want) {
		t.Fatalf("%d records, want %d", i, len(want))
	}
	files, err := r.Files()
	if err != nil {
		t.Fatal(err)
	}
	m := files[0].Meta
	if m.Format != fx.format || m.Codec != 1 || m.Host != "golden-host" || m.Version != "vigil-golden" || m.ConfigDigest != "sha256:5f1c" {
		t.Errorf("meta %+v", m)
	}
	if gaps, err := r.Gaps(); err != nil || len(gaps) != 1 || gaps[0] != goldenGap {
		t.Errorf("gaps %v, %v", gaps, err)
	}
	if s, err := r.SnapshotAt(100); err != nil || s.Seq != 2 || string(s.State) != "engine state after Start" {
		t.Errorf("snapshot %+v, %v", s, err)
	}
}

// checkGoldenCoversAllKinds fails when a kind exists that the golden
// journal does not exercise: a new kind needs a new fixture.
func checkGoldenCoversAllKinds(t *testing.T, recs []goldenRecord) {
	evKinds, effKinds := map[events.Kind]bool{}, map[effects.Kind]bool{}
	for _, g := range recs {
		evKinds[g.ev.EventKind()] = true
		for _, e := range g.effs {
			effKinds[e.EffectKind()] = true
		}
	}
	for k := 1; k < 256; k++ {
		if s := events.Kind(k).String(); s != "Kind("+strconv.Itoa(k)+")" && !evKinds[events.Kind(k)] {
			t.Errorf("event kind %s missing from the golden journal (add golden-v2)", s)
		}
		if s := effects.Kind(k).String(); s != "Kind("+strconv.Itoa(k)+")" && !effKinds[effects.Kind(k)] {
			t.Errorf("effect kind %s missing from the golden journal (add golden-v2)", s)
		}
	}
}

// goldenV6Firewall is the firewall of no_accept, in goldenV6: a configuration with the
// nftables keywords, Start removing a leftover table, a MASTER's VIPs
// entering the drop sets (IPv4, global IPv6, link-local by index and by
// name) before its address, leaving them after it, a VMAC entering and
// leaving the IGMP/MLD objects, and Stop removing the table.
func goldenV6Firewall() []goldenRecord {
	a := netip.MustParseAddr
	p := netip.MustParsePrefix
	at := func(s int64) events.Header { return events.Header{At: events.Time(s * 1e9)} }
	prio := 5
	cfg := &conf.Config{GlobalDefs: conf.GlobalDefs{RouterID: "lb1", NFTables: "vigil", NFTablesPriority: &prio,
		NFTablesIfindex: true, NFTablesCounters: true}}
	tab := effects.FirewallTable{Name: "vigil", Priority: 5, Counters: true}
	vips := []effects.FirewallVIP{{Addr: a("10.0.0.100")}, {Addr: a("fd00::100")},
		{Addr: a("fe80::100"), Interface: "eth0"}, {Addr: a("fe80::101"), Interface: "eth1", ByName: true}}
	addr := conf.Address{Prefix: p("10.0.0.100/24"), Dev: "eth0"}
	// use_vmac: the VMAC's IGMP/MLD objects, both families (an eVIP of
	// the other family).
	vmac := effects.FirewallVMAC{VMAC: "vrrp.51", Parent: "eth0", IPv4: true, IPv6: true}
	return append([]goldenRecord{},
		goldenRecord{&events.ConfigLoaded{Header: at(30), Config: cfg, Digest: "sha256:5f1c"}, nil},
		goldenRecord{&events.Start{Header: at(30), Seed: 13}, []effects.Effect{&effects.RemoveFirewall{Table: "vigil"},
			&effects.CreateVMAC{Instance: "NA", Name: "vrrp.51", Parent: "eth0", MAC: "00:00:5e:00:01:33"},
			&effects.AddFirewallVMAC{Instance: "NA", Table: tab, FirewallVMAC: vmac}}},
		goldenRecord{&events.TimerFired{Header: at(34), Key: "vrrp/NA/down"}, []effects.Effect{
			&effects.AddFirewallVIPs{Instance: "NA", Table: tab, VIPs: vips},
			&effects.AddAddress{Instance: "NA", Address: addr}}},
		goldenRecord{&events.Stop{Header: at(35)}, []effects.Effect{
			&effects.DelAddress{Instance: "NA", Address: addr},
			&effects.DelFirewallVIPs{Instance: "NA", Table: effects.FirewallTable{Name: "vigil", Priority: -1}, VIPs: vips[:1]},
			&effects.DeleteVMAC{Instance: "NA", Name: "vrrp.51"},
			&effects.DelFirewallVMAC{Instance: "NA", Table: tab, FirewallVMAC: vmac},
			&effects.RemoveFirewall{Table: "vigil"}}},
	)
}
