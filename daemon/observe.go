package daemon

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vigil-ha/vigil/driver"
	"github.com/vigil-ha/vigil/dumps"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/engine/lvs"
	"github.com/vigil-ha/vigil/engine/vrrp"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/explain"
	"github.com/vigil-ha/vigil/status"
)

// LateAdvert is how long after its deadline an advert timer may be
// stepped before the advert counts as late (status.Instance.AdvertsLate,
// vigil_vrrp_adverts_late_total).
const LateAdvert = 10 * time.Millisecond

// Observer watches the loop for `vigil status` and /metrics: it keeps
// what the engine's state does not (the last transitions of each instance
// and why, the causal chain of each, the loop's latency, how late advert
// timers were stepped) and publishes status.Snapshots built from the
// engine's read-only views. Everything but Snapshot and Explain runs on
// the loop's goroutine; Snapshot is an atomic load, and Explain asks the
// loop through a channel with a timeout, so no reader ever makes the loop
// wait.
//
// A snapshot is rebuilt when something changed, at most every Interval,
// and at once (at most every 20 ms) after a transition; Loop.Run's ticker
// publishes what a quiet loop has left unpublished.
type Observer struct {
	Engine *engine.Engine
	// Now is the loop's clock (the one events are stamped with).
	Now func() events.Time
	// Recorder is the dumps' recorder of keepalived's counters, fed by
	// StateDumps; nil: the Observer feeds one of its own.
	Recorder *dumps.Recorder
	// Journal reports the journal writer's counters (nil: no journal).
	Journal func() *status.Journal
	// Version, Host, ConfigFile and Started go into every snapshot.
	Version, Host, ConfigFile string
	Started                   time.Time
	// Interval bounds how often changed counters are published (default
	// 2 s: rebuilding the snapshot of 1,020 instances was most of the
	// daemon's allocations at 500 ms; transitions still publish within
	// 20 ms).
	Interval time.Duration

	ownRec    bool
	insts     map[string]*instanceRecord
	byVRID    map[uint8][]advertKey
	advTimers map[string]advertTimer
	latency   histogram
	lateness  histogram
	seq       uint64
	digest    string
	dirty     bool
	changed   bool // a transition since the last publication
	lastPub   time.Time

	pub  atomic.Pointer[status.Snapshot]
	reqs chan explainRequest
}

// instanceRecord is what the Observer keeps of one instance.
type instanceRecord struct {
	// ring holds the last transitions, oldest first.
	ring   []transition
	counts map[transitionKey]uint64
	// led is the chain that led to the last transition, since the
	// chain since it.
	led, since explain.Chain
	last       advertSeen
	late       uint64
	// stepFP fingerprints the step behind since's last line (0: none),
	// so that a repeat is counted without being put in words again.
	stepFP uint64
}

type transition struct {
	status.Transition
	mono events.Time
}

type transitionKey struct{ from, to, reason string }

type advertSeen struct {
	ok   bool
	src  netip.Addr
	prio int
	at   events.Time
	wall time.Time
}

// advertKey says which instance an advert on an interface is for.
type advertKey struct {
	iface    string
	family   int
	instance string
}

type advertTimer struct {
	at       events.Time
	instance string
}

// explainRequest is Explain's question to the loop.
type explainRequest struct {
	instance string
	reply    chan explainReply
}

// explainReply is the loop's answer: copies, for Explain to format on
// its own goroutine.
type explainReply struct {
	err        error
	instance   status.Instance
	view       *vrrp.InstanceView
	mono       events.Time
	wall       time.Time
	ring       []transition
	led, since explain.Chain
	last       advertSeen
}

const transitionRing = 8

var latencyBounds = []float64{5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1}

var latenessBounds = []float64{100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5}

// histogram is a loop-owned histogram: counts per bucket, the last one
// beyond the bounds.
type histogram struct {
	bounds []float64
	counts []uint64
	sum    float64
}

func newHistogram(bounds []float64) histogram {
	return histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	k := sort.SearchFloat64s(h.bounds, v)
	h.counts[k]++
	h.sum += v
}

func (h *histogram) export() status.Histogram {
	out := status.Histogram{Bounds: h.bounds, Counts: make([]uint64, len(h.bounds)), Sum: h.sum}
	var c uint64
	for k := range h.bounds {
		c += h.counts[k]
		out.Counts[k] = c
	}
	out.Count = c + h.counts[len(h.bounds)]
	return out
}

func (o *Observer) init() {
	if o.insts != nil {
		return
	}
	o.insts = map[string]*instanceRecord{}
	o.byVRID = map[uint8][]advertKey{}
	o.advTimers = map[string]advertTimer{}
	o.latency = newHistogram(latencyBounds)
	o.lateness = newHistogram(latenessBounds)
	o.reqs = make(chan explainRequest, 4)
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.Recorder == nil {
		o.Recorder, o.ownRec = dumps.NewRecorder(), true
	}
}

func (o *Observer) record(name string) *instanceRecord {
	r := o.insts[name]
	if r == nil {
		r = &instanceRecord{counts: map[transitionKey]uint64{}, since: explain.Chain{Max: liveChain}}
		o.insts[name] = r
	}
	return r
}

// Observe takes one stepped event: its sequence number, the time its
// source stamped it (0: unknown), and its effects, already dispatched.
func (o *Observer) Observe(seq uint64, ev events.Event, arrival events.Time, effs []effects.Effect) {
	o.init()
	o.seq = seq
	now := o.Now()
	if arrival > 0 && now >= arrival {
		o.latency.observe(now.Sub(arrival).Seconds())
	}
	if o.ownRec {
		o.Recorder.Observe(ev.EventTime(), effs)
	}
	at := ev.EventTime()
	switch v := ev.(type) {
	case *events.TimerFired:
		if t, ok := o.advTimers[v.Key]; ok {
			delete(o.advTimers, v.Key)
			late := at.Sub(t.at)
			if late < 0 {
				late = 0
			}
			o.lateness.observe(late.Seconds())
			if late > LateAdvert {
				o.record(t.instance).late++
			}
		}
	case *events.ConfigLoaded:
		o.configured(v)
	}
	o.effects(seq, ev, at, effs)
	if a, ok := ev.(*events.AdvertReceived); ok {
		o.advert(a)
	}
	o.dirty = true
	o.maybePublish(false)
}

// configured indexes the instances by VRID (to attribute adverts) and
// forgets those a reload removed.
func (o *Observer) configured(c *events.ConfigLoaded) {
	o.digest = c.Digest
	clear(o.byVRID)
	names := map[string]bool{}
	for _, in := range o.Engine.Instances() {
		names[in.Name] = true
		vrid := uint8(in.VRID)
		o.byVRID[vrid] = append(o.byVRID[vrid], advertKey{iface: in.Interface, family: in.Family, instance: in.Name})
	}
	for n := range o.insts {
		if !names[n] {
			delete(o.insts, n)
		}
	}
	if o.ownRec {
		o.Recorder.Keep(slices.Collect(func(yield func(string) bool) {
			for n := range names {
				if !yield(n) {
					return
				}
			}
		}))
	}
}

func (o *Observer) advert(a *events.AdvertReceived) {
	fam := 4
	if a.Src.Is6() && !a.Src.Is4In6() {
		fam = 6
	}
	for _, k := range o.byVRID[a.Advert.VRID] {
		if (k.iface == "" || k.iface == a.Interface) && (k.family == 0 || k.family == fam) {
			o.record(k.instance).last = advertSeen{ok: true, src: a.Src, prio: int(a.Advert.Priority), at: a.EventTime(), wall: time.Now()}
		}
	}
}

// effects follows the step's timers and transitions, and adds the step
// to the causal chain of each instance it touched.
func (o *Observer) effects(seq uint64, ev events.Event, at events.Time, effs []effects.Effect) {
	var touched []string
	for _, e := range effs {
		switch v := e.(type) {
		case *effects.SetTimer:
			if lvs.IsTimerKey(v.Key) {
				continue // a checker's timer: no instance to record
			}
			if info, ok := o.Engine.Timer(v.Key); ok && info.Kind == effects.TimerAdvert {
				o.advTimers[v.Key] = advertTimer{at: v.At, instance: info.Instance}
			}
		case *effects.CancelTimer:
			delete(o.advTimers, v.Key)
		case *effects.Count:
			continue // counters restate the other effects
		}
		if n := explain.EffectInstance(e, o.Engine.Timer); n != "" && !slices.Contains(touched, n) {
			touched = append(touched, n)
		}
	}
	var evText string
	for _, name := range touched {
		r := o.record(name)
		// The steady state — a master's advert timer, a backup hearing
		// its master — repeats the last line: count it without words.
		fp := stepFingerprint(name, ev, at, effs, o.Engine.Timer)
		if n := len(r.since.Lines); fp != 0 && fp == r.stepFP && n > 0 {
			l := &r.since.Lines[n-1]
			l.LastSeq, l.LastAt = seq, at
			l.Count++
			continue
		}
		r.stepFP = fp
		sum := explain.Summarize(name, at, effs, o.Engine.Timer)
		if sum == "" {
			continue
		}
		if evText == "" {
			evText = driver.DescribeEvent(ev)
		}
		r.since.Add(explain.ChainLine{Seq: seq, LastSeq: seq, At: at, LastAt: at, Count: 1, Event: evText, Effects: sum})
		for _, e := range effs {
			if sc, ok := e.(*effects.StateChanged); ok && sc.Instance == name {
				o.transition(r, seq, ev, evText, sc)
			}
		}
	}
}

var fpSeed = maphash.MakeSeed()

// stepFingerprint fingerprints what a step's description and summary for
// instance are made of, for the common steps only: an advert received or
// a timer fired, whose effects on the instance are timers, adverts,
// counters and log lines. 0 for any other step (it is always put in
// words). Equal fingerprints mean equal words: each covers at least what
// driver.DescribeEvent and explain.Summarize print.
func stepFingerprint(instance string, ev events.Event, at events.Time, effs []effects.Effect, timers explain.TimerLookup) uint64 {
	var h maphash.Hash
	h.SetSeed(fpSeed)
	num := func(v uint64) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	switch v := ev.(type) {
	case *events.AdvertReceived:
		// What driver.DescribeEvent prints of it.
		num(1)
		h.WriteString(v.Interface)
		b, _ := v.Src.MarshalBinary()
		h.Write(b)
		a := &v.Advert
		num(uint64(v.Verdict)<<24 | uint64(a.Version)<<16 | uint64(a.VRID)<<8 | uint64(a.Priority))
	case *events.TimerFired:
		num(2)
		h.WriteString(v.Key)
	default:
		return 0
	}
	for _, e := range effs {
		if explain.EffectInstance(e, timers) != instance {
			continue
		}
		switch v := e.(type) {
		case *effects.Count:
		case *effects.SetTimer:
			num(3)
			h.WriteString(v.Key)
			num(uint64(v.At.Sub(at)))
		case *effects.CancelTimer:
			num(4)
			h.WriteString(v.Key)
		case *effects.SendAdvert:
			num(5)
			num(uint64(v.Priority))
		case *effects.Log:
			num(6)
			h.WriteString(v.Message)
		default:
			return 0
		}
	}
	if fp := h.Sum64(); fp != 0 {
		return fp
	}
	return 1
}

func (o *Observer) transition(r *instanceRecord, seq uint64, ev events.Event, evText string, sc *effects.StateChanged) {
	var last *events.AdvertReceived
	var lastAt events.Time
	// Only an advert heard since the previous transition explains this
	// one, as replay's window does.
	if r.last.ok && (len(r.ring) == 0 || r.last.at >= r.ring[len(r.ring)-1].mono) {
		last = &events.AdvertReceived{Src: r.last.src, Advert: events.Advert{Priority: uint8(r.last.prio)}}
		lastAt = r.last.at
	}
	t := transition{mono: ev.EventTime(), Transition: status.Transition{At: time.Now(), Seq: seq,
		From: sc.From.String(), To: sc.To.String(), Priority: sc.Priority, Reason: sc.Reason, Trigger: evText,
		Why: explain.Interpret(*sc, ev, sc.Priority, true, last, lastAt)}}
	if len(r.ring) == transitionRing {
		r.ring = append(r.ring[:0], r.ring[1:]...)
	}
	r.ring = append(r.ring, t)
	r.counts[transitionKey{t.From, t.To, t.Reason}]++
	r.led, r.since = r.since, explain.Chain{Max: liveChain}
	o.changed = true
}

// Tick publishes what changed since the last publication (Loop.Run calls
// it from a ticker).
func (o *Observer) Tick() {
	o.init()
	o.maybePublish(false)
}

// Publish builds and publishes a snapshot now.
func (o *Observer) Publish() {
	o.init()
	o.maybePublish(true)
}

func (o *Observer) maybePublish(force bool) {
	since := time.Since(o.lastPub)
	if !force && !(o.dirty && since >= o.Interval) && !(o.changed && since >= 20*time.Millisecond) {
		return
	}
	o.pub.Store(o.build())
	o.lastPub = time.Now()
	o.dirty, o.changed = false, false
}

// liveChain bounds each instance's live causal chains (the one that led
// to its last transition, and the one since): 16 lines say why in
// practice, and at 1,020 instances the 40 lines replay explain keeps
// would hold ~10 MB of text in the daemon.
const liveChain = 16

// Snapshot returns the last published snapshot (nil before the first);
// safe from any goroutine.
func (o *Observer) Snapshot() *status.Snapshot { return o.pub.Load() }

// publishTick is how often Loop.Run gives the Observer a chance to
// publish what a quiet loop left unpublished.
const publishTick = 100 * time.Millisecond

// requests is the channel Loop.Run serves explanations from (nil, never
// ready, without an Observer).
func (o *Observer) requests() <-chan explainRequest {
	if o == nil {
		return nil
	}
	o.init()
	return o.reqs
}

// build makes a snapshot from the engine's views; on the loop.
func (o *Observer) build() *status.Snapshot {
	mono, wall := o.Now(), time.Now()
	v := o.Engine.DumpView()
	s := &status.Snapshot{Version: o.Version, Host: o.Host, PID: pid(), Started: o.Started, Taken: wall,
		ConfigFile: o.ConfigFile, ConfigDigest: o.digest, Events: o.seq,
		Instances: make([]status.Instance, 0, len(v.Instances)), SyncGroups: []status.SyncGroup{},
		Scripts: []status.Script{}, VirtualServers: []status.VirtualServer{},
		Loop: status.Loop{Latency: o.latency.export(), AdvertLateness: o.lateness.export()}}
	for k := range v.Instances {
		s.Instances = append(s.Instances, o.instance(&v.Instances[k], mono, wall))
	}
	for _, g := range v.Groups {
		s.SyncGroups = append(s.SyncGroups, status.SyncGroup{Name: g.Config.Name, State: g.State.String(), Members: g.Members})
	}
	for _, sc := range v.Scripts {
		s.Scripts = append(s.Scripts, status.Script{Name: sc.Config.Name, OK: sc.OK, Init: sc.Init, Result: sc.Result})
	}
	for _, vs := range o.Engine.VirtualServers() {
		out := status.VirtualServer{ID: vs.ID, Name: vs.Name, QuorumUp: vs.QuorumUp, SorryOn: vs.SorryOn,
			LiveWeight: vs.LiveWeight, RealServers: make([]status.RealServer, 0, len(vs.RealServers))}
		for _, rs := range vs.RealServers {
			r := status.RealServer{ID: rs.ID, Alive: rs.Alive, Weight: rs.Weight, Checkers: make([]status.Checker, 0, len(rs.Checkers))}
			for _, c := range rs.Checkers {
				r.Checkers = append(r.Checkers, status.Checker{Type: c.Type, Up: c.Up, HasRun: c.HasRun})
			}
			out.RealServers = append(out.RealServers, r)
		}
		s.VirtualServers = append(s.VirtualServers, out)
	}
	if o.Journal != nil {
		s.Journal = o.Journal()
	}
	return s
}

// instance converts one instance's view; mono and wall are the same
// instant on the loop's clock and the wall clock.
func (o *Observer) instance(iv *vrrp.InstanceView, mono events.Time, wall time.Time) status.Instance {
	toWall := func(t events.Time) time.Time { return wall.Add(t.Sub(mono)) }
	in := status.Instance{Name: iv.Name, Interface: dumps.IfpName(iv), VRID: iv.VRID, Version: iv.Version, Family: iv.Family,
		SyncGroup: iv.SyncGroup, State: iv.State.String(), StateCode: int(iv.State), Want: iv.Want.String(),
		Priority: iv.Effective, BasePriority: iv.Base, TotalPriority: iv.Total, AdvertInterval: iv.AdvertInt.Seconds(),
		VIPSet: iv.VIPSet, Fault: iv.Fault, FaultReason: iv.FaultWhy, GARPDelay: dumps.GARPDelay(iv),
		Stats:    status.Stats(o.Recorder.Stats(iv.Name)),
		Trackers: make([]status.Tracker, 0, len(iv.Parts)), Timers: []status.Timer{}, Transitions: []status.TransitionCount{}}
	if iv.Src.IsValid() {
		in.Source = iv.Src.String()
	}
	switch iv.State {
	case effects.StateMaster:
		in.Master, in.MasterPriority, in.MasterIsSelf = in.Source, iv.Effective, true
		if in.Master == "" {
			in.Master = "this node"
		}
	case effects.StateBackup:
		if iv.MasterSrc.IsValid() {
			in.Master, in.MasterPriority = iv.MasterSrc.String(), iv.MasterPrio
		}
	}
	for _, l := range dumps.VIPLines(iv, false) {
		in.VIPs = append(in.VIPs, status.VIP(l))
	}
	for _, l := range dumps.VIPLines(iv, true) {
		in.ExcludedVIPs = append(in.ExcludedVIPs, status.VIP(l))
	}
	if in.VIPs == nil {
		in.VIPs = []status.VIP{}
	}
	if in.ExcludedVIPs == nil {
		in.ExcludedVIPs = []status.VIP{}
	}
	for _, p := range iv.Parts {
		in.Trackers = append(in.Trackers, status.Tracker{What: p.What, Status: p.Status, Weight: p.Weight, Reverse: p.Reverse,
			Delta: p.Delta, Fault: p.Fault, Pending: p.Pending})
	}
	for _, t := range []struct {
		kind string
		at   events.Time
		why  string
	}{{effects.TimerAdvert.String(), iv.AdvertAt, ""}, {effects.TimerMasterDown.String(), iv.MasterDownAt, iv.MasterDownWhy},
		{effects.TimerSecondGARP.String(), iv.SecondGARPAt, ""}, {effects.TimerLowerPrioGARP.String(), iv.LowerPrioGARPAt, ""},
		{effects.TimerGARPRefresh.String(), iv.GARPRefreshAt, ""}, {"preempt", iv.PreemptAt, ""}} {
		if t.at != 0 {
			in.Timers = append(in.Timers, status.Timer{Kind: t.kind, At: toWall(t.at), Why: t.why})
		}
	}
	if r := o.insts[iv.Name]; r != nil {
		if n := len(r.ring); n > 0 {
			t := r.ring[n-1].Transition
			in.LastTransition = &t
		}
		for k, c := range r.counts {
			in.Transitions = append(in.Transitions, status.TransitionCount{From: k.from, To: k.to, Reason: k.reason, Count: c})
		}
		slices.SortFunc(in.Transitions, func(a, b status.TransitionCount) int {
			return strings.Compare(a.From+"\x00"+a.To+"\x00"+a.Reason, b.From+"\x00"+b.To+"\x00"+b.Reason)
		})
		in.AdvertsLate = r.late
	}
	return in
}

// answer serves an explanation request, on the loop: it copies what the
// explanation needs; Explain formats it on the caller's goroutine.
func (o *Observer) answer(req explainRequest) {
	v := o.Engine.DumpView()
	var names []string
	for k := range v.Instances {
		iv := &v.Instances[k]
		names = append(names, iv.Name)
		if iv.Name != req.instance {
			continue
		}
		mono, wall := o.Now(), time.Now()
		rep := explainReply{instance: o.instance(iv, mono, wall), view: iv, mono: mono, wall: wall}
		if r := o.insts[req.instance]; r != nil {
			rep.ring = slices.Clone(r.ring)
			rep.led, rep.since, rep.last = r.led.Clone(), r.since.Clone(), r.last
		}
		req.reply <- rep
		return
	}
	req.reply <- explainReply{err: fmt.Errorf("no instance %q (instances: %s)", req.instance, strings.Join(names, ", "))}
}

// Explain asks the loop for instance's explanation and formats it. When
// the loop does not answer within timeout (it is busy), the answer comes
// from the last published snapshot, without the chain. Safe from any
// goroutine.
func (o *Observer) Explain(instance string, timeout time.Duration) (*status.Explanation, error) {
	snap := o.Snapshot()
	if snap == nil {
		return nil, status.ErrNotRunning
	}
	req := explainRequest{instance: instance, reply: make(chan explainReply, 1)}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	select {
	case o.reqs <- req:
		select {
		case rep := <-req.reply:
			if rep.err != nil {
				return nil, rep.err
			}
			return formatExplanation(snap.Host, &rep), nil
		case <-deadline.C:
		}
	case <-deadline.C:
	}
	in := snap.Instance(instance)
	if in == nil {
		return nil, fmt.Errorf("no instance %q", instance)
	}
	ex := &status.Explanation{Taken: snap.Taken, Instance: *in, Transitions: []status.Transition{}}
	if in.LastTransition != nil {
		ex.Transitions = append(ex.Transitions, *in.LastTransition)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "(the daemon's loop did not answer within %s: this is its last published state, taken %s, without the causal chain)\n\n",
		timeout, snap.Taken.Format(time.RFC3339Nano))
	status.WriteInstance(&b, in, time.Now())
	ex.Text = b.String()
	return ex, nil
}

// formatExplanation writes the explanation in the words of `vigil replay
// explain`: the last transition, the rule and why, what led to it, what
// happened since, and the instance now. Times are the loop's (seconds
// since the daemon started), as in its journal.
func formatExplanation(host string, rep *explainReply) *status.Explanation {
	ex := &status.Explanation{Fresh: true, Taken: rep.wall, Instance: rep.instance, Transitions: []status.Transition{},
		Led: exportChain(&rep.led), Since: exportChain(&rep.since)}
	for _, t := range rep.ring {
		ex.Transitions = append(ex.Transitions, t.Transition)
	}
	if rep.last.ok {
		ex.LastAdvert = &status.Advert{From: rep.last.src.String(), Priority: rep.last.prio, At: rep.last.wall}
	}
	ft := explain.FmtTime
	var b bytes.Buffer
	w := &b
	n := len(rep.ring)
	if n == 0 {
		fmt.Fprintf(w, "%s on %s: %s, no transition since the daemon started (now %s)\n", rep.instance.Name, host, rep.instance.State, ft(rep.mono))
	} else {
		t := rep.ring[n-1]
		fmt.Fprintf(w, "%s on %s: %s -> %s at %s (seq %d, %s ago)\n", rep.instance.Name, host, t.From, t.To, ft(t.mono), t.Seq,
			rep.mono.Sub(t.mono).Round(time.Millisecond))
		fmt.Fprintf(w, "  rule:    %s\n", t.Reason)
		fmt.Fprintf(w, "  trigger: %s\n", t.Trigger)
		if t.Why != "" {
			fmt.Fprintf(w, "  why:     %s\n", t.Why)
		}
		if n > 1 {
			p := rep.ring[n-2]
			fmt.Fprintf(w, "\nwhat led to it, since %s -> %s at %s (seq %d):\n", p.From, p.To, ft(p.mono), p.Seq)
		} else {
			fmt.Fprintf(w, "\nwhat led to it, since the daemon started:\n")
		}
		rep.led.Print(w, ft)
		fmt.Fprintf(w, "\nsince then:\n")
	}
	if len(rep.since.Lines) == 0 {
		fmt.Fprintln(w, "  nothing")
	}
	rep.since.Print(w, ft)
	if rep.last.ok {
		fmt.Fprintf(w, "\nlast advert received: from %s prio %d at %s (%s ago)\n", rep.last.src, rep.last.prio, ft(rep.last.at),
			rep.mono.Sub(rep.last.at).Round(time.Millisecond))
	} else {
		fmt.Fprintf(w, "\nno advert received for it since the daemon started\n")
	}
	fmt.Fprintf(w, "\nstate now (%s):\n", ft(rep.mono))
	explain.PrintInstance(w, rep.view, rep.mono, ft)
	if n > 1 {
		fmt.Fprintf(w, "\nlast transitions:\n")
		for _, t := range rep.ring {
			fmt.Fprintf(w, "  %12s #%-6d %s -> %s prio %d (%s)  <- %s\n", ft(t.mono), t.Seq, t.From, t.To, t.Priority, t.Reason, t.Trigger)
		}
	}
	ex.Text = b.String()
	return ex
}

func exportChain(c *explain.Chain) status.Chain {
	out := status.Chain{Lines: make([]status.ChainLine, 0, len(c.Lines)), Omitted: c.Omitted}
	for _, l := range c.Lines {
		out.Lines = append(out.Lines, status.ChainLine{Seq: l.Seq, LastSeq: l.LastSeq, At: time.Duration(l.At).Seconds(),
			LastAt: time.Duration(l.LastAt).Seconds(), Count: l.Count, Event: l.Event, Effects: l.Effects})
	}
	return out
}

func pid() int { return os.Getpid() }
