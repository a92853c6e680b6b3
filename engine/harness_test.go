package engine

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/vigil-ha/vigil/config"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// harness drives one engine through a scenario file: it plays the
// adapters and the clock (timers armed by SetTimer fire on `advance`).
type harness struct {
	t      testing.TB
	eng    *Engine
	now    events.Time
	timers map[string]events.Time
	cfg    *conf.Config
	// log is every event fed to the engine, for the determinism test.
	log []events.Event
}

func newHarness(t testing.TB) *harness {
	return &harness{t: t, eng: New(), timers: map[string]events.Time{}}
}

func loadConf(t testing.TB, text string) *conf.Config {
	cfg, diags, err := config.LoadString("keepalived.conf", text, config.Options{})
	if err != nil {
		t.Fatalf("config: %v\n%v", err, diags)
	}
	return cfg
}

// step feeds one event and returns its effects, one line each.
func (h *harness) step(ev events.Event) []string {
	h.log = append(h.log, ev)
	var lines []string
	for _, e := range h.eng.Step(ev) {
		switch v := e.(type) {
		case *effects.SetTimer:
			h.timers[v.Key] = v.At
		case *effects.CancelTimer:
			delete(h.timers, v.Key)
		}
		lines = append(lines, formatEffect(e))
	}
	return lines
}

func (h *harness) run(d *datadriven.TestData) string {
	var out []string
	emit := func(lines []string) {
		for _, l := range lines {
			out = append(out, h.now.String()+" "+l)
		}
	}
	hdr := events.Header{At: h.now}
	switch d.Cmd {
	case "config", "reload":
		h.cfg = loadConf(h.t, d.Input)
		emit(h.step(&events.ConfigLoaded{Header: hdr, Config: h.cfg}))
	case "start":
		seed, _ := strconv.ParseUint(argOr(d, "seed", "1"), 10, 64)
		// reports-joins: the driver answers JoinGroup with GroupJoined
		// (`joined`), as the daemon and the simulator do.
		emit(h.step(&events.Start{Header: hdr, Seed: seed, ReportsJoins: d.HasArg("reports-joins")}))
	case "joined":
		// joined if=eth0 group=224.0.0.18 [err=TEXT]: a JoinGroup's outcome.
		emit(h.step(&events.GroupJoined{Header: hdr, Interface: arg(d, "if"),
			Group: netip.MustParseAddr(arg(d, "group")), Err: argOr(d, "err", "")}))
	case "stop":
		emit(h.step(&events.Stop{Header: hdr, KeepAddresses: d.HasArg("keep")}))
	case "link":
		up := !d.HasArg("down")
		emit(h.step(&events.LinkChanged{Header: hdr, Interface: arg(d, "if"), Present: !d.HasArg("deleted"), Up: up, Running: up}))
	case "addr":
		p := netip.MustParsePrefix(arg(d, "prefix"))
		emit(h.step(&events.AddressChanged{Header: hdr, Interface: arg(d, "if"), Prefix: p, Added: !d.HasArg("del")}))
	case "route":
		tbl, _ := strconv.Atoi(argOr(d, "table", "0"))
		emit(h.step(&events.RouteChanged{Header: hdr, Dst: netip.MustParsePrefix(arg(d, "dst")), Table: tbl, Added: !d.HasArg("del")}))
	case "advert":
		emit(h.step(h.advert(d)))
	case "script":
		r := &events.ScriptResult{Header: hdr, Script: arg(d, "name")}
		switch st := argOr(d, "status", "0"); st {
		case "timeout":
			r.TimedOut = true
		case "fail":
			r.Failed = true
		default:
			r.Status, _ = strconv.Atoi(st)
		}
		emit(h.step(r))
	case "track-file":
		v, _ := strconv.ParseInt(arg(d, "value"), 10, 64)
		emit(h.step(&events.TrackFileValue{Header: hdr, File: arg(d, "name"), Value: v}))
	case "process":
		n, _ := strconv.Atoi(arg(d, "count"))
		emit(h.step(&events.ProcessCount{Header: hdr, Process: arg(d, "name"), Count: n}))
	case "bfd":
		emit(h.step(&events.BFDState{Header: hdr, Name: arg(d, "name"), Up: !d.HasArg("down")}))
	case "fire":
		// A TimerFired delivered now, whatever the armed deadline (stale
		// or early deliveries must be ignored).
		emit(h.step(&events.TimerFired{Header: hdr, Key: arg(d, "key")}))
	case "advance":
		dur, err := time.ParseDuration(d.CmdArgs[0].Key)
		if err != nil {
			h.t.Fatalf("advance: %v", err)
		}
		end := h.now.Add(dur)
		for {
			key, at := h.next()
			if key == "" || at > end {
				break
			}
			delete(h.timers, key)
			h.now = at
			emit(h.step(&events.TimerFired{Header: events.Header{At: at}, Key: key}))
		}
		h.now = end
	case "status":
		for _, s := range h.eng.Instances() {
			out = append(out, fmt.Sprintf("%s %s prio=%d base=%d vrid=%d if=%s fam=%d group=%s", s.Name, s.State, s.Priority, s.BasePriority, s.VRID, s.Interface, s.Family, s.SyncGroup))
		}
	case "timers":
		keys := make([]string, 0, len(h.timers))
		for k := range h.timers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, k+" @"+h.timers[k].String())
		}
	default:
		h.t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	}
	if d.HasArg("only") {
		// only=Kind1,Kind2 keeps the lines of those effect kinds.
		var keep []string
		var kinds []string
		for _, a := range d.CmdArgs {
			if a.Key == "only" {
				kinds = a.Vals
			}
		}
		for _, l := range out {
			for _, k := range kinds {
				if strings.Contains(l, " "+k+" ") {
					keep = append(keep, l)
					break
				}
			}
		}
		out = keep
	}
	if len(out) == 0 {
		return "ok\n"
	}
	return strings.Join(out, "\n") + "\n"
}

// next returns the earliest armed timer (ties broken by key).
func (h *harness) next() (string, events.Time) {
	best, at := "", events.Time(0)
	for k, t := range h.timers {
		if best == "" || t < at || (t == at && k < best) {
			best, at = k, t
		}
	}
	return best, at
}

// advert builds an AdvertReceived whose fields default to a valid advert
// for the instance named by inst= (or the first instance).
func (h *harness) advert(d *datadriven.TestData) *events.AdvertReceived {
	var c *conf.Instance
	name := argOr(d, "inst", "")
	for k := range h.cfg.Instances {
		if name == "" || h.cfg.Instances[k].Name == name {
			c = &h.cfg.Instances[k]
			break
		}
	}
	if c == nil {
		h.t.Fatalf("advert: no instance %q", name)
	}
	ev := &events.AdvertReceived{Header: events.Header{At: h.now}, Interface: argOr(d, "if", c.Interface), TTL: 255, Length: 20}
	a := &ev.Advert
	a.Version, a.Type, a.VRID = uint8(c.Version), 1, uint8(c.VRID)
	a.Interval = uint16(c.AdvertInt.Std() / (10 * time.Millisecond))
	for _, v := range c.VirtualIPAddresses {
		a.Addrs = append(a.Addrs, v.Prefix.Addr())
	}
	if c.AuthType == "PASS" {
		a.AuthType = 1
		copy(a.AuthData[:], c.AuthPass)
	}
	ev.Dst = netip.MustParseAddr("224.0.0.18")
	if c.Family == 6 {
		ev.Dst = netip.MustParseAddr("ff02::12")
	}
	if len(c.UnicastPeers) > 0 {
		ev.Dst = c.UnicastSrcIP
	}
	for _, ca := range d.CmdArgs {
		v := ""
		if len(ca.Vals) > 0 {
			v = ca.Vals[0]
		}
		n, _ := strconv.Atoi(v)
		switch ca.Key {
		case "from":
			ev.Src = netip.MustParseAddr(v)
		case "dst":
			ev.Dst = netip.MustParseAddr(v)
		case "prio":
			a.Priority = uint8(n)
		case "vrid":
			a.VRID = uint8(n)
		case "ver":
			a.Version = uint8(n)
		case "type":
			a.Type = uint8(n)
		case "ttl":
			ev.TTL = uint8(n)
		case "interval":
			a.Interval = uint16(n)
		case "authtype":
			a.AuthType = uint8(n)
		case "pass":
			a.AuthData = [8]byte{}
			copy(a.AuthData[:], v)
		case "addrs":
			a.Addrs = nil
			for _, s := range ca.Vals {
				if s != "" {
					a.Addrs = append(a.Addrs, netip.MustParseAddr(s))
				}
			}
		case "verdict":
			for k := events.Verdict(0); k < 16; k++ {
				if k.String() == v {
					ev.Verdict = k
				}
			}
		}
	}
	a.CountAddrs = uint8(len(a.Addrs))
	return ev
}

func arg(d *datadriven.TestData, key string) string {
	for _, a := range d.CmdArgs {
		if a.Key == key && len(a.Vals) > 0 {
			return a.Vals[0]
		}
	}
	if d.HasArg(key) {
		return ""
	}
	panic(fmt.Sprintf("%s: %s needs %s=", d.Pos, d.Cmd, key))
}

func argOr(d *datadriven.TestData, key, def string) string {
	for _, a := range d.CmdArgs {
		if a.Key == key && len(a.Vals) > 0 {
			return a.Vals[0]
		}
	}
	return def
}
