package status

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WriteText prints a snapshot for people, in the manner of birdc: a
// header, a table of instances, then each instance's detail (master,
// last transition and why, trackers, VIPs) and the virtual servers. now
// is when it is printed (ages are relative to it).
func WriteText(w io.Writer, s *Snapshot, now time.Time) {
	w.Write(AppendText(nil, s, now))
}

// AppendText appends WriteText's text to b. It formats with strconv and
// appends rather than fmt and text/tabwriter: the daemon renders it for
// every `vigil status`, and at 1,020 instances the fmt version took
// several milliseconds and ~37,000 allocations.
func AppendText(b []byte, s *Snapshot, now time.Time) []byte {
	b = fmt.Appendf(b, "%s on %s (pid %d), up %s, %d events", s.Version, s.Host, s.PID, age(now, s.Started), s.Events)
	if s.ConfigFile != "" {
		b = append(b, "; config "...)
		b = append(b, s.ConfigFile...)
	}
	b = append(b, '\n')
	b = fmt.Appendf(b, "loop: event to effects p50 %s, p99 %s, max bucket %s", secs(s.Loop.Latency.Quantile(0.5)), secs(s.Loop.Latency.Quantile(0.99)),
		maxBucket(&s.Loop.Latency))
	late := uint64(0)
	for k := range s.Instances {
		late += s.Instances[k].AdvertsLate
	}
	b = append(b, "; adverts late: "...)
	b = strconv.AppendUint(b, late, 10)
	if j := s.Journal; j != nil {
		b = fmt.Appendf(b, "; journal: %d records, %d gapped, %s", j.Committed, j.Lost, byteSize(j.Bytes))
		if j.Failing {
			b = append(b, ", FAILING"...)
		}
		if j.Episodes > 0 {
			b = fmt.Appendf(b, ", %d failure episodes", j.Episodes)
		}
	}
	b = append(b, '\n')
	if len(s.Instances) > 0 {
		b = append(b, '\n')
		b = appendTable(b, s.Instances, now)
	}
	for k := range s.Instances {
		b = append(b, '\n')
		b = AppendInstance(b, &s.Instances[k], now)
	}
	if len(s.SyncGroups) > 0 {
		b = append(b, '\n')
		for _, g := range s.SyncGroups {
			b = fmt.Appendf(b, "sync group %s: %s (%s)\n", g.Name, g.State, strings.Join(g.Members, ", "))
		}
	}
	for _, vs := range s.VirtualServers {
		b = append(b, '\n')
		q := "quorum up"
		if !vs.QuorumUp {
			q = "quorum DOWN"
		}
		if vs.SorryOn {
			q += ", sorry server on"
		}
		b = fmt.Appendf(b, "virtual server %s: %s, live weight %d\n", vs.Name, q, vs.LiveWeight)
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
			b = fmt.Appendf(b, "  %-24s %-5s weight %-4d %s\n", rs.ID, upDown(rs.Alive), rs.Weight, strings.Join(cks, ", "))
		}
	}
	return b
}

// tableColumns is the instance table's heading; its cells are aligned
// as text/tabwriter aligned them (padding 2, the last column unpadded).
var tableColumns = [...]string{"Instance", "State", "Prio", "VRID", "Interface", "Master", "Last transition"}

// appendTable appends the table of instances: each cell is rendered once
// into one buffer, the column widths taken, then the rows padded.
func appendTable(b []byte, insts []Instance, now time.Time) []byte {
	const ncol = len(tableColumns)
	cells := make([]byte, 0, 96*len(insts))
	ends := make([]int, 0, ncol*len(insts)) // each cell's end in cells
	var width [ncol]int
	cell := func(k int) {
		start := 0
		if n := len(ends); n > 0 {
			start = ends[n-1]
		}
		ends = append(ends, len(cells))
		if w := utf8.RuneCount(cells[start:]); w > width[k] {
			width[k] = w
		}
	}
	for k, c := range tableColumns {
		cells = append(cells, c...)
		cell(k)
	}
	for i := range insts {
		in := &insts[i]
		cells = append(cells, in.Name...)
		cell(0)
		cells = append(cells, in.State...)
		cell(1)
		cells = strconv.AppendInt(cells, int64(in.Priority), 10)
		cells = append(cells, '/')
		cells = strconv.AppendInt(cells, int64(in.BasePriority), 10)
		cell(2)
		cells = strconv.AppendInt(cells, int64(in.VRID), 10)
		cell(3)
		cells = append(cells, or(in.Interface, "-")...)
		cell(4)
		cells = appendMaster(cells, in)
		cell(5)
		cells = appendLastChange(cells, in, now)
		cell(6)
	}
	start := 0
	for k, end := range ends {
		col := k % ncol
		c := cells[start:end]
		b = append(b, c...)
		if col == ncol-1 {
			b = append(b, '\n')
		} else {
			b = appendSpaces(b, width[col]+2-utf8.RuneCount(c))
		}
		start = end
	}
	return b
}

// WriteInstance prints one instance's detail.
func WriteInstance(w io.Writer, in *Instance, now time.Time) {
	w.Write(AppendInstance(nil, in, now))
}

// AppendInstance appends WriteInstance's text to b.
func AppendInstance(b []byte, in *Instance, now time.Time) []byte {
	b = append(b, in.Name...)
	b = append(b, ": "...)
	b = append(b, in.State...)
	if in.Want != in.State {
		b = append(b, " (wants "...)
		b = append(b, in.Want...)
		b = append(b, ')')
	}
	b = append(b, ", priority "...)
	b = strconv.AppendInt(b, int64(in.Priority), 10)
	b = append(b, " (base "...)
	b = strconv.AppendInt(b, int64(in.BasePriority), 10)
	if in.TotalPriority != in.Priority {
		b = append(b, ", tracking sums to "...)
		b = strconv.AppendInt(b, int64(in.TotalPriority), 10)
	}
	b = append(b, "), VRID "...)
	b = strconv.AppendInt(b, int64(in.VRID), 10)
	b = append(b, " on "...)
	b = append(b, or(in.Interface, "no interface")...)
	b = append(b, ", VRRPv"...)
	b = strconv.AppendInt(b, int64(in.Version), 10)
	if in.SyncGroup != "" {
		b = append(b, ", sync group "...)
		b = append(b, in.SyncGroup...)
	}
	b = append(b, '\n')
	if in.Fault {
		b = append(b, "  fault:       "...)
		b = append(b, in.FaultReason...)
		b = append(b, '\n')
	}
	b = append(b, "  master:      "...)
	b = appendMaster(b, in)
	b = append(b, '\n')
	if t := in.LastTransition; t != nil {
		b = append(b, "  last change: "...)
		b = append(b, age(now, t.At)...)
		b = append(b, " ago ("...)
		b = t.At.AppendFormat(b, time.RFC3339)
		b = append(b, "): "...)
		b = append(b, t.From...)
		b = append(b, " -> "...)
		b = append(b, t.To...)
		b = append(b, " prio "...)
		b = strconv.AppendInt(b, int64(t.Priority), 10)
		b = append(b, ", rule "...)
		b = append(b, t.Reason...)
		b = append(b, "\n               trigger: "...)
		b = append(b, t.Trigger...)
		b = append(b, '\n')
		if t.Why != "" {
			b = append(b, "               why: "...)
			b = append(b, t.Why...)
			b = append(b, '\n')
		}
	} else {
		b = append(b, "  last change: none\n"...)
	}
	if len(in.Trackers) > 0 {
		b = append(b, "  trackers:\n"...)
		for _, c := range in.Trackers {
			b = append(b, "    "...)
			b = appendPadded(b, c.What, 32)
			b = append(b, ' ')
			b = appendPadded(b, c.Status, 18)
			b = append(b, ' ')
			b = append(b, TrackerEffect(c)...)
			b = append(b, '\n')
		}
	}
	if len(in.Timers) > 0 {
		b = append(b, "  timers:      "...)
		for k, t := range in.Timers {
			if k > 0 {
				b = append(b, "; "...)
			}
			b = append(b, t.Kind...)
			b = append(b, " in "...)
			b = append(b, t.At.Sub(now).Round(time.Millisecond).String()...)
			if t.Why != "" {
				b = append(b, " ["...)
				b = append(b, t.Why...)
				b = append(b, ']')
			}
		}
		b = append(b, '\n')
	}
	for _, v := range in.VIPs {
		b = append(b, "  vip:         "...)
		b = append(b, v.Text...)
		b = append(b, '\n')
	}
	for _, v := range in.ExcludedVIPs {
		b = append(b, "  excluded:    "...)
		b = append(b, v.Text...)
		b = append(b, '\n')
	}
	st := &in.Stats
	b = append(b, "  adverts:     "...)
	b = strconv.AppendUint(b, st.AdvertRcvd, 10)
	b = append(b, " received, "...)
	b = strconv.AppendUint(b, st.AdvertSent, 10)
	b = append(b, " sent, "...)
	b = strconv.AppendUint(b, in.AdvertsLate, 10)
	b = append(b, " late; became master "...)
	b = strconv.AppendUint(b, st.BecomeMaster, 10)
	b = append(b, ", released "...)
	b = strconv.AppendUint(b, st.ReleaseMaster, 10)
	b = append(b, '\n')
	return b
}

// appendPadded appends s left-aligned in width runes (fmt's %-*s).
func appendPadded(b []byte, s string, width int) []byte {
	b = append(b, s...)
	return appendSpaces(b, width-utf8.RuneCountInString(s))
}

func appendSpaces(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
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

func appendMaster(b []byte, in *Instance) []byte {
	switch {
	case in.Master == "":
		return append(b, '-')
	case in.MasterIsSelf:
		return append(append(b, in.Master...), " (this node)"...)
	}
	b = append(b, in.Master...)
	b = append(b, " prio "...)
	return strconv.AppendInt(b, int64(in.MasterPriority), 10)
}

func appendLastChange(b []byte, in *Instance, now time.Time) []byte {
	t := in.LastTransition
	if t == nil {
		return append(b, '-')
	}
	b = append(b, age(now, t.At)...)
	b = append(b, " ago "...)
	b = append(b, t.From...)
	b = append(b, "->"...)
	b = append(b, t.To...)
	b = append(b, " ("...)
	b = append(b, t.Reason...)
	return append(b, ')')
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
