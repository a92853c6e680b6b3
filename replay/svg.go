package replay

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/effects"
)

// SVGOptions tunes the picture.
type SVGOptions struct {
	// Title is printed at the top.
	Title string
	// Width is the picture's width in pixels (default 1200).
	Width int
}

// Layout of the picture, in pixels.
const (
	svgLeft      = 170 // lane labels
	svgRight     = 30
	svgTop       = 64
	svgLaneH     = 58 // a lane: two rows of marker labels, then the bar
	svgBarH      = 22
	svgLabelRows = 2
	svgCharW     = 5.6 // estimated width of a 10px label character
)

// stateColors are the bar colours: MASTER green, BACKUP blue, FAULT red,
// the rest greys.
var stateColors = map[effects.State]string{
	effects.StateMaster:  "#2e9e44",
	effects.StateBackup:  "#4a7bd0",
	effects.StateFault:   "#d9342b",
	effects.StateInit:    "#b9b9b9",
	effects.StateStop:    "#8c8c8c",
	effects.StateDeleted: "#6b6b6b",
}

// lane is one instance of one node.
type lane struct {
	node, inst string
	segs       []segment
	marks      []mark
	cur        *segment // open segment
}

type segment struct {
	from, to time.Time
	state    effects.State
	down     bool // the node was not running
}

type mark struct {
	at    time.Time
	text  string
	fault bool
}

// SVG draws a set of node journals: one lane per instance and node, the
// state over time as coloured bars, faults marked with labelled ticks,
// and a time axis.
func SVG(set []*Journal, opts SVGOptions, w io.Writer) error {
	if opts.Width <= 0 {
		opts.Width = 1200
	}
	var lanes []*lane
	var t0, t1 time.Time
	for _, j := range set {
		ls, first, last, err := nodeLanes(j)
		if err != nil {
			return err
		}
		lanes = append(lanes, ls...)
		if t0.IsZero() || first.Before(t0) {
			t0 = first
		}
		if last.After(t1) {
			t1 = last
		}
	}
	if len(lanes) == 0 {
		return fmt.Errorf("no instance changed state in the journal: nothing to draw")
	}
	span := t1.Sub(t0)
	if span <= 0 {
		span = time.Second
	}
	p := &painter{w: &bytes.Buffer{}, t0: t0, span: span, width: opts.Width}
	p.header(opts.Title, len(lanes), set)
	for k, l := range lanes {
		p.lane(l, svgTop+k*svgLaneH)
	}
	p.axis(svgTop + len(lanes)*svgLaneH)
	p.legend(svgTop + len(lanes)*svgLaneH + 44)
	p.w.WriteString("</svg>\n")
	_, err := w.Write(p.w.Bytes())
	return err
}

// nodeLanes builds the lanes of one node's journal and its time range.
func nodeLanes(j *Journal) ([]*lane, time.Time, time.Time, error) {
	var lanes []*lane
	by := map[string]*lane{}
	var first, last time.Time
	var down *time.Time // the node is down since
	get := func(inst string) *lane {
		if l := by[inst]; l != nil {
			return l
		}
		l := &lane{node: j.Name, inst: inst}
		by[inst] = l
		lanes = append(lanes, l)
		return l
	}
	closeAll := func(at time.Time) {
		for _, l := range lanes {
			if l.cur != nil {
				l.cur.to = at
				l.segs = append(l.segs, *l.cur)
				l.cur = nil
			}
		}
	}
	err := Story(j, func(it Item) {
		if first.IsZero() {
			first = it.Wall
		}
		last = it.Wall
		switch it.Kind {
		case ItemRun:
			if it.End {
				closeAll(it.Wall)
				at := it.Wall
				down = &at
				if it.Crash {
					for _, l := range lanes {
						l.marks = append(l.marks, mark{at: it.Wall, text: "crash", fault: true})
					}
				}
				return
			}
			if down != nil {
				for _, l := range lanes {
					l.segs = append(l.segs, segment{from: *down, to: it.Wall, down: true})
				}
				down = nil
			}
			for _, l := range lanes {
				l.marks = append(l.marks, mark{at: it.Wall, text: "start"})
			}
		case ItemState:
			l := get(it.Instance)
			if l.cur != nil {
				l.cur.to = it.Wall
				l.segs = append(l.segs, *l.cur)
			}
			l.cur = &segment{from: it.Wall, state: it.To}
		case ItemFault, ItemRecover:
			m := mark{at: it.Wall, text: it.Text, fault: it.Kind == ItemFault}
			if it.Instance != "" {
				get(it.Instance).marks = append(get(it.Instance).marks, m)
				return
			}
			for _, l := range lanes {
				l.marks = append(l.marks, m)
			}
		}
	})
	closeAll(last)
	return lanes, first, last, err
}

// painter writes the SVG elements.
type painter struct {
	w     *bytes.Buffer
	t0    time.Time
	span  time.Duration
	width int
}

func (p *painter) x(t time.Time) float64 {
	return svgLeft + float64(t.Sub(p.t0))/float64(p.span)*float64(p.width-svgLeft-svgRight)
}

func (p *painter) text(x, y float64, size int, attrs, s string) {
	fmt.Fprintf(p.w, `<text x="%.1f" y="%.1f" font-size="%d" %s>`, x, y, size, attrs)
	xml.EscapeText(p.w, []byte(s))
	p.w.WriteString("</text>\n")
}

func (p *painter) header(title string, nLanes int, set []*Journal) {
	height := svgTop + nLanes*svgLaneH + 44 + 40
	fmt.Fprintf(p.w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`+"\n",
		p.width, height, p.width, height)
	p.w.WriteString(`<defs><pattern id="down" patternUnits="userSpaceOnUse" width="8" height="8" patternTransform="rotate(45)">` +
		`<rect width="8" height="8" fill="#f4f4f4"/><line x1="0" y1="0" x2="0" y2="8" stroke="#c8c8c8" stroke-width="3"/></pattern></defs>` + "\n")
	fmt.Fprintf(p.w, `<rect width="%d" height="%d" fill="white"/>`+"\n", p.width, height)
	if title == "" {
		title = "vigil incident"
	}
	p.text(svgLeft, 24, 16, `font-weight="bold"`, title)
	nodes := make([]string, len(set))
	for k, j := range set {
		nodes[k] = j.Name
	}
	sub := fmt.Sprintf("%s from %s, %s (nodes: %s)", plural(nLanes, "lane"), p.t0.UTC().Format("2006-01-02 15:04:05.000 UTC"),
		p.span.Round(time.Millisecond), strings.Join(nodes, ", "))
	p.text(svgLeft, 42, 11, `fill="#555"`, sub)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// lane draws one lane whose top is y.
func (p *painter) lane(l *lane, y int) {
	fmt.Fprintf(p.w, `<g class="lane" data-node="%s" data-instance="%s">`+"\n", attr(l.node), attr(l.inst))
	barY := float64(y + svgLabelRows*13 + 4)
	p.text(10, barY+15, 12, `font-weight="bold"`, l.node)
	p.text(10+svgCharW*1.3*float64(len(l.node))+8, barY+15, 12, "", l.inst)
	fmt.Fprintf(p.w, `<rect x="%d" y="%.1f" width="%d" height="%d" fill="#fafafa" stroke="#e2e2e2"/>`+"\n",
		svgLeft, barY, p.width-svgLeft-svgRight, svgBarH)
	for _, s := range l.segs {
		x0, x1 := p.x(s.from), p.x(s.to)
		wd := math.Max(x1-x0, 0.8)
		fill := stateColors[s.state]
		label := s.state.String()
		if s.down {
			fill, label = "url(#down)", "down"
		}
		if fill == "" {
			fill = "#999"
		}
		fmt.Fprintf(p.w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
			x0, barY, wd, svgBarH, fill, attr(label))
		if wd > svgCharW*float64(len(label))+10 {
			color := "white"
			if s.down || s.state == effects.StateInit {
				color = "#444"
			}
			p.text(x0+wd/2, barY+15, 11, fmt.Sprintf(`fill="%s" text-anchor="middle"`, color), label)
		}
	}
	// Marks: a tick through the bar, its label in the first free row.
	rowEnd := make([]float64, svgLabelRows)
	for k := range rowEnd {
		rowEnd[k] = -1e9
	}
	for _, m := range l.marks {
		x := p.x(m.at)
		color := "#2e7d32"
		if m.fault {
			color = "#c62828"
		}
		fmt.Fprintf(p.w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.6"/>`+"\n",
			x, barY-4, x, barY+svgBarH+3, color)
		fmt.Fprintf(p.w, `<path d="M%.1f %.1f l-3.5 -5 h7 z" fill="%s"/>`+"\n", x, barY-3, color)
		tw := svgCharW * float64(len(m.text))
		for r := range svgLabelRows {
			if x >= rowEnd[r]+6 && x+tw <= float64(p.width)-2 {
				ty := barY - 8 - float64(svgLabelRows-1-r)*13
				p.text(x-2, ty, 10, fmt.Sprintf(`fill="%s"`, color), m.text)
				rowEnd[r] = x + tw
				break
			}
		}
	}
	p.w.WriteString("</g>\n")
}

// axis draws the time axis with about ten ticks at round intervals.
func (p *painter) axis(y int) {
	x0, x1 := float64(svgLeft), float64(p.width-svgRight)
	fmt.Fprintf(p.w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`+"\n", x0, y+4, x1, y+4)
	step := niceStep(p.span / 10)
	for t := time.Duration(0); t <= p.span; t += step {
		x := p.x(p.t0.Add(t))
		fmt.Fprintf(p.w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd" stroke-dasharray="2,3"/>`+"\n", x, svgTop, x, y+4)
		fmt.Fprintf(p.w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`+"\n", x, y+4, x, y+9)
		p.text(x, float64(y+22), 10, `text-anchor="middle" fill="#333"`, fmtAxis(t, step))
	}
	p.text(x1, float64(y+36), 10, `text-anchor="end" fill="#555"`, "time since "+p.t0.UTC().Format("15:04:05.000"))
}

// niceStep rounds d up to 1, 2 or 5 times a power of ten.
func niceStep(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Millisecond
	}
	pow := time.Duration(1)
	for pow*10 <= d {
		pow *= 10
	}
	for _, m := range []time.Duration{1, 2, 5, 10} {
		if m*pow >= d {
			return m * pow
		}
	}
	return 10 * pow
}

func fmtAxis(t, step time.Duration) string {
	switch {
	case step >= time.Second:
		return fmt.Sprintf("%gs", t.Seconds())
	case step >= time.Millisecond:
		return fmt.Sprintf("%gms", float64(t)/float64(time.Millisecond))
	}
	return t.String()
}

// legend explains the colours and marks.
func (p *painter) legend(y int) {
	x := float64(svgLeft)
	for _, e := range []struct{ fill, text string }{
		{stateColors[effects.StateMaster], "MASTER"}, {stateColors[effects.StateBackup], "BACKUP"},
		{stateColors[effects.StateFault], "FAULT"}, {stateColors[effects.StateInit], "INIT"},
		{stateColors[effects.StateStop], "STOP"}, {"url(#down)", "not running"},
	} {
		fmt.Fprintf(p.w, `<rect x="%.1f" y="%d" width="14" height="12" fill="%s" stroke="#999" stroke-width="0.5"/>`+"\n", x, y, e.fill)
		p.text(x+19, float64(y+10), 11, "", e.text)
		x += 19 + svgCharW*1.1*float64(len(e.text)) + 18
	}
	fmt.Fprintf(p.w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#c62828" stroke-width="1.6"/>`+"\n", x+6, y-1, x+6, y+13)
	p.text(x+13, float64(y+10), 11, "", "fault")
	x += 60
	fmt.Fprintf(p.w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#2e7d32" stroke-width="1.6"/>`+"\n", x+6, y-1, x+6, y+13)
	p.text(x+13, float64(y+10), 11, "", "recovery / start")
}

// attr escapes s for an attribute value.
func attr(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
