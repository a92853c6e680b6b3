package lvs

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

// health is how the simulated checker adapter answers a RunCheck.
type health struct {
	none    bool // never answer (the engine's watchdog fails the check)
	ok      bool
	msg     string
	weight  int
	dynamic bool
}

// harness drives one Machine through a scenario file. It plays the clock
// (timers armed by SetTimer fire on `advance`) and the checker adapter:
// every RunCheck is answered at once with the health set for the real
// server (`health`, default up), unless that health is `none`.
type harness struct {
	t      testing.TB
	m      *Machine
	now    events.Time
	timers map[string]events.Time
	health map[string]health
	// log is every event fed to the machine, for the determinism test.
	log []events.Event
	// kernel is the IPVS table the ReconcileIPVS and SetIPVS effects
	// built, checked against Table after every step.
	kernel *kernel
}

func newHarness(t testing.TB) *harness {
	return &harness{t: t, m: New(), timers: map[string]events.Time{}, health: map[string]health{}, kernel: newKernel()}
}

func loadConf(t testing.TB, text string) *conf.Config {
	cfg, diags, err := config.LoadString("keepalived.conf", text, config.Options{})
	if err != nil {
		t.Fatalf("config: %v\n%v", err, diags)
	}
	return cfg
}

// step feeds one event, then the answers to the RunChecks it produced,
// and returns every effect, one line each.
func (h *harness) step(ev events.Event) []string {
	h.log = append(h.log, ev)
	var lines []string
	var runs []effects.RunCheck
	for _, e := range h.m.Step(ev) {
		switch v := e.(type) {
		case *effects.SetTimer:
			h.timers[v.Key] = v.At
		case *effects.CancelTimer:
			delete(h.timers, v.Key)
		case *effects.SetIPVS:
			if err := h.kernel.apply(v); err != nil {
				h.t.Fatalf("after %T at %s: %v", ev, h.now, err)
			}
		case *effects.ReconcileIPVS:
			if err := h.kernel.reconcile(v); err != nil {
				h.t.Fatalf("after %T at %s: %v", ev, h.now, err)
			}
		case *effects.RunCheck:
			runs = append(runs, *v)
		}
		lines = append(lines, formatEffect(e))
	}
	if err := h.kernel.matches(h.m.Table()); err != nil {
		h.t.Fatalf("after %T at %s: kernel model and Table differ: %v", ev, h.now, err)
	}
	for _, r := range runs {
		hl := h.healthOf(r.VirtualServer, r.RealServer, r.Checker)
		if hl.none {
			continue
		}
		lines = append(lines, h.step(&events.CheckResult{Header: events.Header{At: h.now}, VirtualServer: r.VirtualServer,
			RealServer: r.RealServer, Checker: r.Checker, OK: hl.ok, Message: hl.msg, Weight: hl.weight, Dynamic: hl.dynamic})...)
	}
	return lines
}

func (h *harness) healthOf(vs, rs string, idx int) health {
	for _, k := range []string{vs + " " + rs + " " + strconv.Itoa(idx), vs + " " + rs, rs} {
		if hl, ok := h.health[k]; ok {
			return hl
		}
	}
	return health{ok: true}
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
		emit(h.step(&events.ConfigLoaded{Header: hdr, Config: loadConf(h.t, d.Input)}))
	case "start":
		seed, _ := strconv.ParseUint(argOr(d, "seed", "1"), 10, 64)
		emit(h.step(&events.Start{Header: hdr, Seed: seed}))
	case "stop":
		emit(h.step(&events.Stop{Header: hdr, KeepIPVS: d.HasArg("keep-ipvs")}))
	case "health":
		key := argOr(d, "rs", "")
		if vs := argOr(d, "vs", ""); vs != "" {
			key = vs + " " + key
			if idx := argOr(d, "idx", ""); idx != "" {
				key += " " + idx
			}
		}
		hl := health{ok: d.HasArg("up"), none: d.HasArg("none"), msg: argOr(d, "msg", "")}
		if w := argOr(d, "weight", ""); w != "" {
			hl.weight, _ = strconv.Atoi(w)
			hl.dynamic = true
		}
		if !hl.ok && hl.msg == "" && !hl.none {
			hl.msg = "connection refused"
		}
		h.health[key] = hl
		return "ok\n"
	case "check":
		idx, _ := strconv.Atoi(argOr(d, "idx", "0"))
		r := &events.CheckResult{Header: hdr, VirtualServer: arg(d, "vs"), RealServer: arg(d, "rs"), Checker: idx,
			OK: d.HasArg("ok"), Message: argOr(d, "msg", "")}
		if w := argOr(d, "weight", ""); w != "" {
			r.Weight, _ = strconv.Atoi(w)
			r.Dynamic = true
		}
		emit(h.step(r))
	case "addr":
		p := netip.MustParsePrefix(arg(d, "prefix"))
		emit(h.step(&events.AddressChanged{Header: hdr, Interface: arg(d, "if"), Prefix: p, Added: !d.HasArg("del")}))
	case "bfd":
		emit(h.step(&events.BFDState{Header: hdr, Name: arg(d, "name"), Up: !d.HasArg("down")}))
	case "track-file":
		// track-file name=NAME value=N [failed]: the watcher's report.
		v, err := strconv.ParseInt(arg(d, "value"), 10, 64)
		if err != nil {
			h.t.Fatalf("%s: track-file: %v", d.Pos, err)
		}
		emit(h.step(&events.TrackFileValue{Header: hdr, File: arg(d, "name"), Value: v, Failed: d.HasArg("failed")}))
	case "fire":
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
	case "table":
		out = append(out, formatTable(h.m.Table(), "")...)
	case "status":
		for _, v := range h.m.Status() {
			out = append(out, fmt.Sprintf("%s %s quorum=%v sorry=%v live=%d", v.ID, v.Name, v.QuorumUp, v.SorryOn, v.LiveWeight))
			for _, r := range v.RealServers {
				s := fmt.Sprintf("  %s alive=%v w=%d", r.ID, r.Alive, r.Weight)
				for _, c := range r.Checkers {
					s += fmt.Sprintf(" [%s up=%v run=%v retry=%d next=%s]", c.Type, c.Up, c.HasRun, c.RetryIt, c.Next)
				}
				out = append(out, s)
			}
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
	for _, a := range d.CmdArgs {
		if a.Key != "only" {
			continue
		}
		// only=Kind1,Kind2 keeps the lines of those effect kinds.
		var keep []string
		for _, l := range out {
			for _, k := range a.Vals {
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

func arg(d *datadriven.TestData, key string) string {
	for _, a := range d.CmdArgs {
		if a.Key == key && len(a.Vals) > 0 {
			return a.Vals[0]
		}
	}
	panic(fmt.Sprintf("%s: %s needs %s=", d.Pos, d.Cmd, key))
}

func argOr(d *datadriven.TestData, key, def string) string {
	for _, a := range d.CmdArgs {
		if a.Key == key && len(a.Vals) > 0 {
			return strings.Join(a.Vals, ",")
		}
	}
	return def
}

// formatEffect prints one effect compactly for scenario files.
func formatEffect(e effects.Effect) string {
	switch v := e.(type) {
	case *effects.SetTimer:
		return fmt.Sprintf("SetTimer %s @%s", v.Key, v.At)
	case *effects.CancelTimer:
		return "CancelTimer " + v.Key
	case *effects.RunCheck:
		return fmt.Sprintf("RunCheck %s %s #%d %s %s timeout=%s", v.VirtualServer, v.RealServer, v.Checker, v.Type,
			netip.AddrPortFrom(v.Addr, uint16(v.Port)), v.Timeout)
	case *effects.CheckStateChanged:
		s := "down"
		if v.Up {
			s = "up"
		}
		return fmt.Sprintf("CheckStateChanged %s %s #%d %s %s (%s)", v.VirtualServer, v.RealServer, v.Checker, v.Type, s, v.Reason)
	case *effects.SetIPVS:
		s := "SetIPVS " + v.Op.String()
		if v.Op == effects.IPVSFlush {
			return s
		}
		s += " " + formatService(&v.Service, v.Op == effects.IPVSAddService || v.Op == effects.IPVSEditService)
		if v.Op == effects.IPVSAddDest || v.Op == effects.IPVSEditDest || v.Op == effects.IPVSDelDest {
			s += " -> " + netip.AddrPortFrom(v.Dest.Addr, uint16(v.Dest.Port)).String() + " " + v.Dest.Method
			if v.Op != effects.IPVSDelDest {
				s += " w=" + strconv.Itoa(v.Weight)
			}
		}
		return s
	case *effects.ReconcileIPVS:
		s := "ReconcileIPVS flush=" + strconv.FormatBool(v.Flush)
		for _, l := range formatTable(v.Services, "  ") {
			s += "\n" + l
		}
		return s
	case *effects.Notify:
		s := "Notify " + v.FIFOLine
		for _, sc := range v.Scripts {
			s += fmt.Sprintf(" %q", sc)
		}
		if v.User != "" {
			s += " user=" + v.User
			if v.Group != "" {
				s += ":" + v.Group
			}
		}
		if v.SMTPAlert {
			s += " smtp"
		}
		return s
	case *effects.Log:
		return fmt.Sprintf("Log %s: %s", v.Level, v.Message)
	case *effects.Count:
		return fmt.Sprintf("Count %s %s", v.Instance, v.Counter)
	}
	return fmt.Sprintf("%T %+v", e, e)
}

// formatTable prints a desired table, one line a service and one a
// destination, each line prefixed by indent.
func formatTable(tbl []effects.IPVSTableService, indent string) []string {
	var out []string
	for _, s := range tbl {
		out = append(out, indent+formatService(&s.Service, true)+" ("+s.VirtualServer+")")
		for _, d := range s.Dests {
			out = append(out, indent+"  -> "+netip.AddrPortFrom(d.Dest.Addr, uint16(d.Dest.Port)).String()+" "+d.Dest.Method+" w="+strconv.Itoa(d.Weight))
		}
	}
	return out
}

func formatService(s *effects.IPVSService, attrs bool) string {
	var b string
	if s.FwMark != 0 {
		b = "fwmark " + strconv.FormatUint(uint64(s.FwMark), 10)
		if s.Family == 6 {
			b += " inet6"
		}
	} else {
		b = s.Protocol + " " + netip.AddrPortFrom(s.Addr, uint16(s.Port)).String()
	}
	if !attrs {
		return b
	}
	b += " " + s.Scheduler
	if len(s.SchedFlags) > 0 {
		b += " flags=" + strings.Join(s.SchedFlags, ",")
	}
	if s.OnePacket {
		b += " ops"
	}
	if s.PersistenceTimeout > 0 {
		b += " persistent=" + s.PersistenceTimeout.String()
		if s.PersistenceNetmask.IsValid() {
			b += " mask=" + s.PersistenceNetmask.String()
		}
	}
	if s.PersistenceEngine != "" {
		b += " pe=" + s.PersistenceEngine
	}
	return b
}

// kernel is a model of the kernel's IPVS table that applies SetIPVS
// strictly: adding what exists or editing, deleting what does not is an
// error, so the engine's operations are shown to be minimal as well as
// correct.
type kernel struct {
	svcs map[svcKey]*kservice
}

type kservice struct {
	s     effects.IPVSService
	dests map[netip.AddrPort]effects.IPVSTableDest
}

func newKernel() *kernel { return &kernel{svcs: map[svcKey]*kservice{}} }

func (k *kernel) apply(v *effects.SetIPVS) error {
	key := keyOf(&v.Service)
	s := k.svcs[key]
	dk := netip.AddrPortFrom(v.Dest.Addr, uint16(v.Dest.Port))
	switch v.Op {
	case effects.IPVSFlush:
		clear(k.svcs)
		return nil
	case effects.IPVSAddService:
		if s != nil {
			return fmt.Errorf("add-service %s: exists", svcString(&v.Service))
		}
		k.svcs[key] = &kservice{s: v.Service, dests: map[netip.AddrPort]effects.IPVSTableDest{}}
		return nil
	case effects.IPVSEditService:
		if s == nil || sameAttrs(&s.s, &v.Service) {
			return fmt.Errorf("edit-service %s: missing or unchanged", svcString(&v.Service))
		}
		s.s = v.Service
		return nil
	case effects.IPVSDelService:
		if s == nil {
			return fmt.Errorf("del-service %s: missing", svcString(&v.Service))
		}
		delete(k.svcs, key)
		return nil
	}
	if s == nil {
		return fmt.Errorf("%v on missing service %s", v.Op, svcString(&v.Service))
	}
	old, ok := s.dests[dk]
	nd := effects.IPVSTableDest{Dest: v.Dest, RealServer: v.RealServer, Weight: v.Weight}
	switch v.Op {
	case effects.IPVSAddDest:
		if ok {
			return fmt.Errorf("add-dest %s in %s: exists", dk, svcString(&v.Service))
		}
		s.dests[dk] = nd
	case effects.IPVSEditDest:
		if !ok || (old.Dest == nd.Dest && old.Weight == nd.Weight) {
			return fmt.Errorf("edit-dest %s in %s: missing or unchanged", dk, svcString(&v.Service))
		}
		s.dests[dk] = nd
	case effects.IPVSDelDest:
		if !ok {
			return fmt.Errorf("del-dest %s in %s: missing", dk, svcString(&v.Service))
		}
		delete(s.dests, dk)
	default:
		return fmt.Errorf("unknown op %v", v.Op)
	}
	return nil
}

// reconcile makes the model hold exactly the effect's table (the model
// is vigil's part of the kernel: Flush changes nothing more). A service
// or destination listed twice is an error.
func (k *kernel) reconcile(v *effects.ReconcileIPVS) error {
	clear(k.svcs)
	for _, s := range v.Services {
		key := keyOf(&s.Service)
		if k.svcs[key] != nil {
			return fmt.Errorf("reconcile: service %s listed twice", svcString(&s.Service))
		}
		ks := &kservice{s: s.Service, dests: map[netip.AddrPort]effects.IPVSTableDest{}}
		for _, d := range s.Dests {
			dk := netip.AddrPortFrom(d.Dest.Addr, uint16(d.Dest.Port))
			if _, ok := ks.dests[dk]; ok {
				return fmt.Errorf("reconcile: dest %s listed twice in %s", dk, svcString(&s.Service))
			}
			ks.dests[dk] = d
		}
		k.svcs[key] = ks
	}
	return nil
}

// matches compares the model with the engine's Table.
func (k *kernel) matches(tbl []effects.IPVSTableService) error {
	if len(tbl) != len(k.svcs) {
		return fmt.Errorf("%d services in Table, %d in the kernel model", len(tbl), len(k.svcs))
	}
	for _, s := range tbl {
		ks := k.svcs[keyOf(&s.Service)]
		if ks == nil || !sameAttrs(&ks.s, &s.Service) {
			return fmt.Errorf("service %s differs", svcString(&s.Service))
		}
		if len(ks.dests) != len(s.Dests) {
			return fmt.Errorf("service %s: %d dests in Table, %d in the kernel model", svcString(&s.Service), len(s.Dests), len(ks.dests))
		}
		for _, d := range s.Dests {
			kd, ok := ks.dests[netip.AddrPortFrom(d.Dest.Addr, uint16(d.Dest.Port))]
			if !ok || kd.Dest != d.Dest || kd.Weight != d.Weight {
				return fmt.Errorf("service %s: dest %s differs: %+v vs %+v", svcString(&s.Service), d.Dest.Addr, kd, d)
			}
		}
	}
	return nil
}
