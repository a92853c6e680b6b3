package sim

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// expect evaluates one expectation and prints its result.
func (r *Runner) expect(c Cmd) error {
	ok, detail, err := r.check(c)
	if err != nil {
		return err
	}
	what := strings.TrimSpace(strings.TrimPrefix(c.Text, "expect"))
	line := fmt.Sprintf("expect %s: ok", what)
	if detail != "" {
		line = fmt.Sprintf("expect %s: ok (%s)", what, detail)
	}
	if ok {
		r.res.Passed++
	} else {
		line = fmt.Sprintf("expect %s: FAIL (%s)", what, detail)
		r.res.Failed++
		r.res.Failures = append(r.res.Failures, fmt.Sprintf("%s:%d: %s", r.sc.Name, c.Line, line))
	}
	if r.out != nil {
		fmt.Fprintf(r.out, "%s  %s\n", stamp(r.W.now), line)
	}
	return nil
}

func (r *Runner) check(c Cmd) (bool, string, error) {
	a := c.Args
	need := func(n int) error {
		if len(a) != n {
			return fmt.Errorf("expect %s: want %d arguments", a[0], n-1)
		}
		return nil
	}
	switch a[0] {
	case "master":
		if err := need(3); err != nil {
			return false, "", err
		}
		if _, err := r.nodeArg(a[2]); err != nil && a[2] != "none" {
			return false, "", err
		}
		ms := r.mastersOf(a[1])
		want := a[2]
		if want == "none" {
			return len(ms) == 0, masterList(ms), nil
		}
		return len(ms) == 1 && ms[0] == want, masterList(ms), nil
	case "state":
		if err := need(4); err != nil {
			return false, "", err
		}
		n, err := r.nodeArg(a[1])
		if err != nil {
			return false, "", err
		}
		st, prio, found := instanceState(n, a[2])
		if !found {
			return false, fmt.Sprintf("%s has no running instance %s", n.Name, a[2]), nil
		}
		return strings.EqualFold(st.String(), a[3]), fmt.Sprintf("%s, priority %d", st, prio), nil
	case "priority":
		if err := need(4); err != nil {
			return false, "", err
		}
		n, err := r.nodeArg(a[1])
		if err != nil {
			return false, "", err
		}
		want, err := strconv.Atoi(a[3])
		if err != nil {
			return false, "", fmt.Errorf("bad priority: %w", err)
		}
		_, prio, found := instanceState(n, a[2])
		return found && prio == want, fmt.Sprintf("priority %d", prio), nil
	case "vip", "novip":
		if err := need(3); err != nil {
			return false, "", err
		}
		n, err := r.nodeArg(a[1])
		if err != nil {
			return false, "", err
		}
		addr, err := netip.ParseAddr(a[2])
		if err != nil {
			return false, "", fmt.Errorf("bad address: %w", err)
		}
		return n.HasAddr(addr) == (a[0] == "vip"), "", nil
	case "filtered", "unfiltered":
		if err := need(3); err != nil {
			return false, "", err
		}
		n, err := r.nodeArg(a[1])
		if err != nil {
			return false, "", err
		}
		addr, err := netip.ParseAddr(a[2])
		if err != nil {
			return false, "", fmt.Errorf("bad address: %w", err)
		}
		return n.Filtered(addr) == (a[0] == "filtered"), "", nil
	case "arp":
		if err := need(4); err != nil {
			return false, "", err
		}
		s := r.W.segBy[a[1]]
		if s == nil {
			return false, "", fmt.Errorf("unknown segment %q", a[1])
		}
		addr, err := netip.ParseAddr(a[2])
		if err != nil {
			return false, "", fmt.Errorf("bad address: %w", err)
		}
		got := nodeName(s.neigh[addr])
		return got == a[3], "at " + got, nil
	case "takeover":
		return r.checkTakeover(c)
	case "bfd":
		if err := need(4); err != nil {
			return false, "", err
		}
		n, err := r.nodeArg(a[1])
		if err != nil {
			return false, "", err
		}
		want, err := bfdStateByName(a[3])
		if err != nil {
			return false, "", err
		}
		st, ok := n.BFDState(a[2])
		if !ok || !n.running {
			return false, fmt.Sprintf("%s runs no bfd_instance %s", n.Name, a[2]), nil
		}
		return st == want, events.BFDStateName(st), nil
	case "bfd-down":
		return r.checkBFDDown(c)
	case "no-split-brain":
		return r.checkViolations("split-brain")
	case "no-transitions":
		ch := r.W.mon.changes
		if len(ch) == 0 {
			return true, "", nil
		}
		return false, strings.Join(ch, "; "), nil
	case "no-violations":
		return r.checkViolations("")
	}
	return false, "", fmt.Errorf("unknown expectation %q", a[0])
}

// checkTakeover: `expect takeover INST <= DURATION` — the time from the last
// fault command to the current master's first GARP burst for INST.
func (r *Runner) checkTakeover(c Cmd) (bool, string, error) {
	a := c.Args
	if len(a) != 4 || a[2] != "<=" {
		return false, "", fmt.Errorf("want `expect takeover INSTANCE <= DURATION`")
	}
	limit, err := time.ParseDuration(a[3])
	if err != nil {
		return false, "", fmt.Errorf("bad duration: %w", err)
	}
	ms := r.mastersOf(a[1])
	if len(ms) != 1 {
		return false, "masters: " + masterList(ms), nil
	}
	at, ok := r.W.mon.firstGARP(r.W.byName[ms[0]], a[1])
	if !ok {
		return false, ms[0] + " sent no GARP since the last fault", nil
	}
	took := at.Sub(r.W.mon.lastFault)
	return took <= limit, fmt.Sprintf("%s after %s", ms[0], took), nil
}

// checkBFDDown: `expect bfd-down NODE SESSION <= DURATION` — the session
// fell from Up after the last fault command, within DURATION of it, and
// is not Up again.
func (r *Runner) checkBFDDown(c Cmd) (bool, string, error) {
	a := c.Args
	if len(a) != 5 || a[3] != "<=" {
		return false, "", fmt.Errorf("want `expect bfd-down NODE SESSION <= DURATION`")
	}
	n, err := r.nodeArg(a[1])
	if err != nil {
		return false, "", err
	}
	limit, err := time.ParseDuration(a[4])
	if err != nil {
		return false, "", fmt.Errorf("bad duration: %w", err)
	}
	v := n.bfd[a[2]]
	if v == nil || !n.running {
		return false, fmt.Sprintf("%s runs no bfd_instance %s", n.Name, a[2]), nil
	}
	if v.state == events.BFDUp {
		return false, "Up", nil
	}
	last := r.W.mon.lastFault
	if v.leftUp == 0 || v.leftUp < last {
		return false, fmt.Sprintf("%s, and not Up since the last fault", events.BFDStateName(v.state)), nil
	}
	took := v.leftUp.Sub(last)
	return took <= limit, fmt.Sprintf("%s after %s", events.BFDStateName(v.state), took), nil
}

func (r *Runner) checkViolations(rule string) (bool, string, error) {
	var bad []string
	for _, v := range r.W.mon.violations {
		if rule == "" || v.Rule == rule {
			bad = append(bad, v.String())
		}
	}
	if len(bad) == 0 {
		return true, "", nil
	}
	if len(bad) > 3 {
		bad = append(bad[:3], fmt.Sprintf("and %d more", len(bad)-3))
	}
	return false, strings.Join(bad, "; "), nil
}

// mastersOf lists the running nodes where inst is MASTER, per the engine.
func (r *Runner) mastersOf(inst string) []string {
	var ms []string
	for _, n := range r.W.nodes {
		if st, _, ok := instanceState(n, inst); ok && st == effects.StateMaster {
			ms = append(ms, n.Name)
		}
	}
	return ms
}

func masterList(ms []string) string {
	if len(ms) == 0 {
		return "no MASTER"
	}
	return "MASTER on " + strings.Join(ms, ", ")
}

func instanceState(n *Node, inst string) (effects.State, int, bool) {
	for _, s := range n.Instances() {
		if s.Name == inst {
			return s.State, s.Priority, true
		}
	}
	return 0, 0, false
}
