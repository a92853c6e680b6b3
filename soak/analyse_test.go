package soak

import (
	"fmt"
	"net/netip"
	"os/exec"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-ha/vigil/lab"
)

// step is the resolution of the timeline analysis.
const step = 10 * time.Millisecond

// figures are a flavour's results.
type figures struct {
	faults, failovers, unsettled int
	split, lost                  time.Duration // outside the windows
	maxOverlap, maxLoss          time.Duration // longest episodes, raw
	probes, unanswered           int
	leaks                        []string
	gapped                       int
	verify                       []string // per vigil node: "n1 OK" or what failed
	verifyFailed                 int
	monErrs                      []string
	// envSecs is the time within envGrace of a host neighbour-table
	// overflow, whose split-brain and lost-VIP time is counted apart
	// (envSplit, envLost) and whose faults are not judged (envFaults).
	envSecs, envSplit, envLost time.Duration
	envFaults                  int
}

// envGrace extends a neighbour-table overflow span: the protocol needs a
// master-down interval and an advert to recover from the packets lost.
const envGrace = 10 * time.Second

func (s *soak) envAt(t time.Time) bool {
	for _, iv := range s.envBad {
		if !t.Before(iv.from) && !t.After(iv.to.Add(envGrace)) {
			return true
		}
	}
	return false
}

// heldFn is a node's holding of one address over time: the times at which
// it changed, and the state after each.
type heldFn struct {
	at   []time.Time
	held []bool
}

func (h *heldFn) at_(t time.Time) bool {
	k := sort.Search(len(h.at), func(i int) bool { return h.at[i].After(t) })
	return k > 0 && h.held[k-1]
}

func buildHeld(evs []lab.AddrEvent, a netip.Addr) *heldFn {
	h := &heldFn{}
	links := map[string]bool{}
	for _, e := range evs {
		if e.Addr.Addr() != a {
			continue
		}
		if e.Added {
			links[e.Link] = true
		} else {
			delete(links, e.Link)
		}
		h.at = append(h.at, e.Time)
		h.held = append(h.held, len(links) > 0)
	}
	return h
}

func in(iv interval, t time.Time) bool {
	return !t.Before(iv.from) && (iv.to.IsZero() || !t.After(iv.to))
}

// analyse walks the recorded timeline from t0 to the end in 10 ms steps
// and charges each fault (the one in progress or last injected) with the
// split-brain and lost-VIP time outside the windows, and the client's
// unanswered probes.
func (s *soak) analyse() *figures {
	splitWin, lostWin, _ := windows()
	fg := &figures{faults: len(s.faults)}
	held := make([][]*heldFn, len(vips))
	for v, a := range vips {
		for _, n := range s.nodes {
			held[v] = append(held[v], buildHeld(n.mon.Events(), a))
		}
	}
	for _, n := range s.nodes {
		if err := n.mon.Err(); err != nil {
			fg.monErrs = append(fg.monErrs, fmt.Sprintf("%s: %v", n.name(), err))
		}
	}
	faultAt := func(t time.Time) *faultRec {
		var f *faultRec
		for _, x := range s.faults {
			if !x.from.After(t) {
				f = x
			}
		}
		return f
	}
	overlapStart := make([]time.Time, len(vips))
	lossStart := make([]time.Time, len(vips))
	lastSole := -1
	for t := s.t0; t.Before(s.tEnd); t = t.Add(step) {
		f := faultAt(t)
		env := s.envAt(t)
		if env {
			fg.envSecs += step
		}
		for v := range vips {
			var hs []int
			for i := range s.nodes {
				if !held[v][i].at_(t) || s.unreachable(i, t) {
					continue
				}
				hs = append(hs, i)
			}
			switch {
			case len(hs) >= 2:
				if overlapStart[v].IsZero() {
					overlapStart[v] = t
				}
				fg.maxOverlap = max(fg.maxOverlap, t.Sub(overlapStart[v])+step)
				from, excused := overlapStart[v], false
				for _, h := range hs {
					for _, iv := range s.excused {
						if iv.node != h {
							continue
						}
						if in(iv, t) {
							excused = true
						} else if !iv.to.IsZero() && !iv.to.After(t) && iv.to.After(from) {
							from = iv.to
						}
					}
				}
				if !excused && f != nil && !from.Before(f.from) {
					f.resolve = max(f.resolve, t.Sub(from)+step)
				}
				if !excused && t.Sub(from) >= splitWin {
					switch {
					case env:
						fg.envSplit += step
					default:
						fg.split += step
						if f != nil {
							f.split += step
						}
					}
				}
			default:
				overlapStart[v] = time.Time{}
			}
			if len(hs) == 0 {
				if lossStart[v].IsZero() {
					lossStart[v] = t
				}
				fg.maxLoss = max(fg.maxLoss, t.Sub(lossStart[v])+step)
				if t.Sub(lossStart[v]) >= lostWin {
					switch {
					case env:
						fg.envLost += step
					default:
						fg.lost += step
						if f != nil {
							f.lost += step
						}
					}
				}
			} else {
				lossStart[v] = time.Time{}
			}
			if v == 0 && len(hs) == 1 && hs[0] != lastSole {
				if lastSole >= 0 {
					fg.failovers++
				}
				lastSole = hs[0]
			}
		}
	}
	for _, p := range s.probes {
		fg.probes++
		if !p.answered {
			fg.unanswered++
			if f := faultAt(p.at); f != nil {
				f.unanswer++
			}
		}
	}
	for _, f := range s.faults {
		end := f.to.Add(f.settle)
		for _, iv := range s.envBad {
			if !iv.from.After(end) && !iv.to.Add(envGrace).Before(f.from) {
				f.env = true
			}
		}
		if f.env {
			fg.envFaults++
			continue // not judged: reported apart
		}
		if !f.settled {
			fg.unsettled++
		}
		for _, v := range f.vmacs {
			fg.leaks = append(fg.leaks, fmt.Sprintf("after %s on %s: VMACs: %s", f.kind, s.nodes[f.node].name(), v))
		}
	}
	return fg
}

func (s *soak) unreachable(i int, t time.Time) bool {
	for _, iv := range s.unreach {
		if iv.node == i && in(iv, t) {
			return true
		}
	}
	return false
}

// finish checks the end state: one holder per VIP (node 0), then, after a
// graceful stop of every daemon, no VIP, VMAC or nftables table left in
// any node; the journal gaps and `vigil replay verify` of every vigil node.
func (s *soak) finish(fg *figures) {
	t := s.t
	if d, ok := s.waitSettled(30 * time.Second); !ok {
		fg.leaks = append(fg.leaks, fmt.Sprintf("final state after %v: %s", d, s.holders()))
	}
	for _, n := range s.nodes {
		n.bank(t)
		if n.impl == "vigil" {
			fg.gapped += n.gapped
		}
	}
	for _, n := range s.nodes {
		if err := n.proc.Stop(15 * time.Second); err != nil && !strings.Contains(err.Error(), "exit status") {
			t.Logf("soak: %s stop: %v", n.name(), err)
		}
	}
	time.Sleep(time.Second)
	for _, n := range s.nodes {
		for _, a := range vips {
			if n.holds(a) {
				fg.leaks = append(fg.leaks, fmt.Sprintf("%s: VIP %s after stop", n.name(), a))
			}
		}
		if out, _ := n.ln.Exec("ip", "-o", "link", "show", "type", "macvlan"); strings.TrimSpace(out) != "" {
			fg.leaks = append(fg.leaks, fmt.Sprintf("%s: VMAC after stop: %s", n.name(), strings.TrimSpace(out)))
		}
		if out, _ := n.ln.Exec("nft", "list", "tables"); strings.TrimSpace(out) != "" {
			fg.leaks = append(fg.leaks, fmt.Sprintf("%s: nftables after stop: %s", n.name(),
				strings.Join(strings.Fields(out), " ")))
		}
		if n.impl != "vigil" {
			continue
		}
		out, err := exec.Command(lab.VigilBinary(t), "replay", "verify", n.jdir).CombinedOutput()
		res := fmt.Sprintf("%s: %s", n.name(), lastLines(string(out), 3))
		if err != nil {
			fg.verifyFailed++
			res += fmt.Sprintf(" (%v)", err)
		}
		fg.verify = append(fg.verify, res)
	}
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, " | ")
}

// summary formats the figures of every flavour, then per fault kind.
func summary(ss []*soak) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "flavour\tnodes\tminutes\tfaults\tfailovers\tsplit-brain s outside window\tlost-VIP s outside window\tlongest overlap\tlongest loss\tclient probes unanswered\tunsettled\tleaks\tjournal gapped\tverify failed\thost neigh-table overflow: s, faults, split s, lost s (apart)")
	for _, s := range ss {
		if s.fg == nil {
			continue
		}
		fg := s.fg
		var impls []string
		for _, n := range s.nodes {
			impls = append(impls, n.impl)
		}
		fmt.Fprintf(w, "%s\t%s\t%.1f\t%d\t%d\t%.2f\t%.2f\t%v\t%v\t%d/%d\t%d\t%d\t%d\t%d\t%.0f, %d, %.2f, %.2f\n", s.flav, strings.Join(impls, ","),
			s.tEnd.Sub(s.t0).Minutes(), fg.faults, fg.failovers, fg.split.Seconds(), fg.lost.Seconds(),
			fg.maxOverlap.Round(step), fg.maxLoss.Round(step), fg.unanswered, fg.probes, fg.unsettled, len(fg.leaks), fg.gapped, fg.verifyFailed,
			fg.envSecs.Seconds(), fg.envFaults, fg.envSplit.Seconds(), fg.envLost.Seconds())
	}
	w.Flush()
	b.WriteString("\nper fault (faulted node's implementation):\n")
	w = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "flavour\tfault\ton\tcount\tunsettled\tmax settle\tlongest overlap after\tsplit s outside\tlost s outside\tprobes unanswered")
	for _, s := range ss {
		type key struct{ kind, impl string }
		type agg struct {
			n, unsettled    int
			settle, resolve time.Duration
			split, lost     time.Duration
			unanswer        int
		}
		m := map[key]*agg{}
		var keys []key
		for _, f := range s.faults {
			if f.env {
				continue // the summary counts them apart
			}
			k := key{f.kind, f.impl}
			a := m[k]
			if a == nil {
				a = &agg{}
				m[k] = a
				keys = append(keys, k)
			}
			a.n++
			if !f.settled {
				a.unsettled++
			}
			a.settle = max(a.settle, f.settle)
			a.resolve = max(a.resolve, f.resolve)
			a.split += f.split
			a.lost += f.lost
			a.unanswer += f.unanswer
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].kind != keys[j].kind {
				return keys[i].kind < keys[j].kind
			}
			return keys[i].impl < keys[j].impl
		})
		for _, k := range keys {
			a := m[k]
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%v\t%v\t%.2f\t%.2f\t%d\n", s.flav, k.kind, k.impl, a.n, a.unsettled,
				a.settle.Round(step), a.resolve.Round(step), a.split.Seconds(), a.lost.Seconds(), a.unanswer)
		}
	}
	w.Flush()
	for _, s := range ss {
		if s.fg == nil {
			continue
		}
		for _, l := range s.fg.leaks {
			fmt.Fprintf(&b, "%s leak: %s\n", s.flav, l)
		}
		for _, v := range s.fg.verify {
			fmt.Fprintf(&b, "%s verify: %s\n", s.flav, v)
		}
		for _, e := range s.fg.monErrs {
			fmt.Fprintf(&b, "%s address monitor error (record incomplete): %s\n", s.flav, e)
		}
	}
	return b.String()
}
