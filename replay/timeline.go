package replay

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
)

// TimelineOptions filters a timeline.
type TimelineOptions struct {
	// Instance keeps only that instance's lines (and the node's run and
	// fault lines, which concern every instance).
	Instance string
	// All includes every effect: timers, counters, logs, every advert.
	All bool
}

// Timeline writes the story of a set of node journals, merged in time:
// runs starting and ending, faults, state changes and the effects that
// touch the world, each with the event that caused it. It returns the
// number of state changes printed.
func Timeline(set []*Journal, opts TimelineOptions, w io.Writer) (int, error) {
	var items []Item
	for _, j := range set {
		err := Story(j, func(it Item) {
			if keepInTimeline(it, opts) {
				items = append(items, it)
			}
		})
		if err != nil {
			return 0, err
		}
	}
	// Stable: a node's items keep their journal order at equal times.
	if len(set) > 1 {
		slices.SortStableFunc(items, func(a, b Item) int { return a.Wall.Compare(b.Wall) })
	}
	changes := 0
	causeAt := causeLines(items)
	nodeW := 0
	for _, j := range set {
		nodeW = max(nodeW, len(j.Name))
	}
	for k, it := range items {
		var b strings.Builder
		fmt.Fprintf(&b, "%12s ", fmtTime(it.At))
		if len(set) > 1 {
			fmt.Fprintf(&b, "%-*s ", nodeW, it.Node)
		}
		fmt.Fprintf(&b, "#%-6d ", it.Seq)
		switch it.Kind {
		case ItemRun:
			b.WriteString("== " + it.Text)
			if !it.End {
				if r := runOf(set, it); r.N > 0 {
					fmt.Fprintf(&b, " (file started %s)", r.Created.UTC().Format("2006-01-02T15:04:05Z"))
				}
			}
		case ItemFault:
			b.WriteString("!! " + it.Text)
		case ItemRecover:
			b.WriteString("ok " + it.Text)
		case ItemState:
			changes++
			fmt.Fprintf(&b, "%s %s", it.Instance, it.Text)
		case ItemEffect:
			b.WriteString("   ")
			if it.Instance != "" && !strings.Contains(it.Text, it.Instance) {
				b.WriteString(it.Instance + " ")
			}
			b.WriteString(it.Text)
		}
		if causeAt[k] {
			b.WriteString("  <- " + it.Cause)
		}
		b.WriteByte('\n')
		if _, err := io.WriteString(w, b.String()); err != nil {
			return changes, err
		}
	}
	return changes, nil
}

// causeLines chooses the line of each event's group that shows the
// event: its first state change, else its first line. Fault lines name
// the event themselves.
func causeLines(items []Item) []bool {
	at := make([]bool, len(items))
	for k := 0; k < len(items); {
		end := k
		for end < len(items) && items[end].Node == items[k].Node && items[end].Seq == items[k].Seq {
			end++
		}
		pick := -1
		for i := k; i < end; i++ {
			if items[i].Cause == "" || items[i].Kind == ItemFault || items[i].Kind == ItemRecover {
				continue
			}
			if pick < 0 || (items[i].Kind == ItemState && items[pick].Kind != ItemState) {
				pick = i
			}
		}
		if pick >= 0 {
			at[pick] = true
		}
		k = end
	}
	return at
}

func keepInTimeline(it Item, opts TimelineOptions) bool {
	if opts.Instance != "" && it.Instance != "" && it.Instance != opts.Instance {
		return false
	}
	if opts.Instance != "" && it.Kind == ItemEffect && it.Instance == "" {
		return false
	}
	if it.Kind == ItemEffect {
		return opts.All || it.World
	}
	return true
}

func runOf(set []*Journal, it Item) Run {
	for _, j := range set {
		if j.Name == it.Node {
			i, ok := slices.BinarySearchFunc(j.Runs, it.Run, func(r Run, n int) int { return cmp.Compare(r.N, n) })
			if ok {
				return j.Runs[i]
			}
		}
	}
	return Run{}
}
