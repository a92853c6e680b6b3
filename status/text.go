package status

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText prints a snapshot for people, in the manner of birdc: a
// header, a table of instances, then each instance's detail (master,
// last transition and why, trackers, VIPs) and the virtual servers. now
// is when it is printed (ages are relative to it).
func WriteText(w io.Writer, s *Snapshot, now time.Time) {
	fmt.Fprintf(w, "%s on %s (pid %d), up %s, %d events", s.Version, s.Host, s.PID, age(now, s.Started), s.Events)
	if s.ConfigFile != "" {
		fmt.Fprintf(w, "; config %s", s.ConfigFile)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "loop: event to effects p50 %s, p99 %s, max bucket %s", secs(s.Loop.Latency.Quantile(0.5)), secs(s.Loop.Latency.Quantile(0.99)),
		maxBucket(&s.Loop.Latency))
	late := uint64(0)
	for _, in := range s.Instances {
		late += in.AdvertsLate
	}
	fmt.Fprintf(w, "; adverts late: %d", late)
	if j := s.Journal; j != nil {
		fmt.Fprintf(w, "; journal: %d records, %d gapped, %s", j.Committed, j.Lost, byteSize(j.Bytes))
		if j.Failing {
			fmt.Fprint(w, ", FAILING")
		}
		if j.Episodes > 0 {
			fmt.Fprintf(w, ", %d failure episodes", j.Episodes)
		}
	}
	fmt.Fprintln(w)
	if len(s.Instances) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "Instance\tState\tPrio\tVRID\tInterface\tMaster\tLast transition")
		for k := range s.Instances {
			in := &s.Instances[k]
			fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%d\t%s\t%s\t%s\n", in.Name, in.State, in.Priority, in.BasePriority, in.VRID,
				or(in.Interface, "-"), master(in), lastChange(in, now))
		}
		tw.Flush()
	}
	for k := range s.Instances {
		fmt.Fprintln(w)
		WriteInstance(w, &s.Instances[k], now)
	}
	if len(s.SyncGroups) > 0 {
		fmt.Fprintln(w)
		for _, g := range s.SyncGroups {
			fmt.Fprintf(w, "sync group %s: %s (%s)\n", g.Name, g.State, strings.Join(g.Members, ", "))
		}
	}
	for _, vs := range s.VirtualServers {
		fmt.Fprintln(w)
		q := "quorum up"
		if !vs.QuorumUp {
			q = "quorum DOWN"
		}
		if vs.SorryOn {
			q += ", sorry server on"
		}
		fmt.Fprintf(w, "virtual server %s: %s, live weight %d\n", vs.Name, q, vs.LiveWeight)
		for _, rs := range vs.RealServers {
			var cks []string
			for _, c := range rs.Checkers {
				st := "down"
				switch {
				case !c.HasRun:
					st = "not run yet"
				case c.Up:
					st = "up"
				}
				cks = append(cks, c.Type+" "+st)
			}
			fmt.Fprintf(w, "  %-24s %-5s weight %-4d %s\n", rs.ID, upDown(rs.Alive), rs.Weight, strings.Join(cks, ", "))
		}
	}
}

// WriteInstance prints one instance's detail.
func WriteInstance(w io.Writer, in *Instance, now time.Time) {
	fmt.Fprintf(w, "%s: %s", in.Name, in.State)
	if in.Want != in.State {
		fmt.Fprintf(w, " (wants %s)", in.Want)
	}
	fmt.Fprintf(w, ", priority %d (base %d", in.Priority, in.BasePriority)
	if in.TotalPriority != in.Priority {
		fmt.Fprintf(w, ", tracking sums to %d", in.TotalPriority)
	}
	fmt.Fprintf(w, "), VRID %d on %s, VRRPv%d", in.VRID, or(in.Interface, "no interface"), in.Version)
	if in.SyncGroup != "" {
		fmt.Fprintf(w, ", sync group %s", in.SyncGroup)
	}
	fmt.Fprintln(w)
	if in.Fault {
		fmt.Fprintf(w, "  fault:       %s\n", in.FaultReason)
	}
	fmt.Fprintf(w, "  master:      %s\n", master(in))
	if t := in.LastTransition; t != nil {
		fmt.Fprintf(w, "  last change: %s ago (%s): %s -> %s prio %d, rule %s\n", age(now, t.At), t.At.Format(time.RFC3339), t.From, t.To, t.Priority, t.Reason)
		fmt.Fprintf(w, "               trigger: %s\n", t.Trigger)
		if t.Why != "" {
			fmt.Fprintf(w, "               why: %s\n", t.Why)
		}
	} else {
		fmt.Fprintln(w, "  last change: none")
	}
	if len(in.Trackers) > 0 {
		fmt.Fprintln(w, "  trackers:")
		for _, c := range in.Trackers {
			fmt.Fprintf(w, "    %-32s %-18s %s\n", c.What, c.Status, TrackerEffect(c))
		}
	}
	if len(in.Timers) > 0 {
		var ts []string
		for _, t := range in.Timers {
			s := fmt.Sprintf("%s in %s", t.Kind, t.At.Sub(now).Round(time.Millisecond))
			if t.Why != "" {
				s += " [" + t.Why + "]"
			}
			ts = append(ts, s)
		}
		fmt.Fprintf(w, "  timers:      %s\n", strings.Join(ts, "; "))
	}
	for _, v := range in.VIPs {
		fmt.Fprintf(w, "  vip:         %s\n", v.Text)
	}
	for _, v := range in.ExcludedVIPs {
		fmt.Fprintf(w, "  excluded:    %s\n", v.Text)
	}
	st := in.Stats
	fmt.Fprintf(w, "  adverts:     %d received, %d sent, %d late; became master %d, released %d\n",
		st.AdvertRcvd, st.AdvertSent, in.AdvertsLate, st.BecomeMaster, st.ReleaseMaster)
}

// TrackerEffect says what a tracker does to its instance.
func TrackerEffect(c Tracker) string {
	switch {
	case c.Pending:
		return "pending (no result yet)"
	case c.Weight == 0 && c.Fault:
		return "weight 0: FAULT"
	case c.Weight == 0:
		return "weight 0: fault when it fails"
	}
	rev := ""
	if c.Reverse {
		rev = " reverse"
	}
	return fmt.Sprintf("weight %+d%s: %+d", c.Weight, rev, c.Delta)
}

func master(in *Instance) string {
	switch {
	case in.Master == "":
		return "-"
	case in.MasterIsSelf:
		return in.Master + " (this node)"
	}
	return fmt.Sprintf("%s prio %d", in.Master, in.MasterPriority)
}

func lastChange(in *Instance, now time.Time) string {
	t := in.LastTransition
	if t == nil {
		return "-"
	}
	return fmt.Sprintf("%s ago %s->%s (%s)", age(now, t.At), t.From, t.To, t.Reason)
}

// age prints how long ago t was, to a precision that fits its size.
func age(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		d = 0
	case d < time.Minute:
		d = d.Round(100 * time.Millisecond)
	default:
		d = d.Round(time.Second)
	}
	return d.String()
}

func secs(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Microsecond).String()
}

// maxBucket is the bound of the highest bucket with observations ("+Inf"
// when some fell beyond the last bound).
func maxBucket(h *Histogram) string {
	if h.Count == 0 {
		return "-"
	}
	for k := range h.Bounds {
		if h.Counts[k] == h.Count {
			return secs(h.Bounds[k])
		}
	}
	return "+Inf"
}

func byteSize(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func upDown(b bool) string {
	if b {
		return "UP"
	}
	return "DOWN"
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
