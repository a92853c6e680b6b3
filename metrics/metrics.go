// Package metrics is vigil's Prometheus endpoint (vigil run
// --metrics-listen ADDR): every metric of the two common keepalived
// exporters under their names and labels, so that their dashboards and
// alerts keep working when keepalived is replaced, and vigil's own
// metrics for what no exporter can see (priorities with each tracker's
// part, the master's address, transitions and their rules, the event
// loop's latency, late adverts, the journal).
//
// The exporters' metrics:
//
//   - mehdy/keepalived-exporter, current names (1.x): keepalived_up,
//     keepalived_vrrp_state, keepalived_vrrp_excluded_state, the
//     keepalived_*_total counters of keepalived.stats
//     (keepalived_advertisements_received_total, ...),
//     keepalived_gratuitous_arp_delay_total, keepalived_script_status,
//     keepalived_script_state, keepalived_exporter_check_script_status
//     (with --metrics-check-script) and keepalived_exporter_build_info;
//     labels iname, intf, vrid (and ip_address, name).
//   - mehdy/keepalived-exporter before 1.0 ("mehdy-v0"): the counters
//     under keepalived.stats' own names (keepalived_advert_rcvd_total,
//     keepalived_packet_len_err_total ... keepalived_pri_zero_sent_total),
//     keepalived_garp_delay_total and keepalived_check_script_status,
//     labels iname, intf, vrid, state.
//   - gen2brain/keepalived_exporter: keepalived_vrrp_* counters (labels
//     name, intf, vrid, state) and the kernel's IPVS counters,
//     keepalived_lvs_vip_* (addr, proto) and keepalived_lvs_rs_* (vip,
//     addr, proto).
//
// Two names are in both mehdy sets with different labels
// (keepalived_become_master_total, keepalived_release_master_total):
// with both sets on they carry the current labels (no state).
//
// Every value is read from the snapshot the daemon's loop publishes
// (status.Snapshot); a scrape never waits for the loop. Only the IPVS
// counters (a netlink read of the kernel) and the check script are
// fetched at scrape time, on the scraping goroutine.
package metrics

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigil-ha/vigil/status"
)

// The exporters' metric sets (--metrics-compat).
const (
	CompatMehdy     = "mehdy"
	CompatMehdyV0   = "mehdy-v0"
	CompatGen2brain = "gen2brain"
)

// AllCompat are every set, the default.
var AllCompat = []string{CompatMehdy, CompatMehdyV0, CompatGen2brain}

// ParseCompat reads --metrics-compat: a comma-separated list of sets,
// "all" or "none".
func ParseCompat(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		switch f = strings.TrimSpace(f); f {
		case "":
		case "all":
			out = append(out, AllCompat...)
		case "none":
		case CompatMehdy, CompatMehdyV0, CompatGen2brain:
			out = append(out, f)
		default:
			return nil, fmt.Errorf("unknown metrics set %q (want %s, all or none)", f, strings.Join(AllCompat, ", "))
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Counters are the kernel's counters of an IPVS service or destination.
type Counters struct {
	Connections, PacketsIn, PacketsOut, BytesIn, BytesOut uint64
}

// LVSService is a kernel IPVS service with its destinations, as
// gen2brain's exporter labels them.
type LVSService struct {
	// Addr is "ADDRESS:PORT" ("fwmark:N" for a firewall-mark service)
	// and Proto the IP protocol number (0 for a firewall mark).
	Addr  string
	Proto uint16
	Counters
	Dests []LVSDest
}

// LVSDest is a destination of an LVSService.
type LVSDest struct {
	Addr string // "ADDRESS:PORT"
	Counters
}

// Options configure a Collector.
type Options struct {
	// Compat lists the exporters' metric sets to serve (nil: none; see
	// ParseCompat and AllCompat).
	Compat []string
	// CheckScript is mehdy's --cs: a command run for each VIP with the
	// address as its last argument at every scrape (exit status 0: 1);
	// empty: no check-script metric. CheckTimeout bounds each run
	// (default 5 s).
	CheckScript  string
	CheckTimeout time.Duration
	// IPVS reads the kernel's IPVS counters; nil: no keepalived_lvs_*
	// metrics.
	IPVS func() ([]LVSService, error)
}

// Collector is a prometheus.Collector of a daemon's published snapshots.
type Collector struct {
	src  func() *status.Snapshot
	o    Options
	on   map[string]bool
	desc descs
}

// New returns a collector reading snapshots from src (nil before the
// daemon has started: keepalived_up is then 0).
func New(src func() *status.Snapshot, o Options) *Collector {
	c := &Collector{src: src, o: o, on: map[string]bool{}}
	for _, s := range o.Compat {
		c.on[s] = true
	}
	if c.o.CheckTimeout <= 0 {
		c.o.CheckTimeout = 5 * time.Second
	}
	c.desc = newDescs(c.on, o)
	return c
}

// Handler serves the collector, with Go's and the process's metrics, in
// Prometheus' text format.
func Handler(c *Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, MaxRequestsInFlight: 4,
		Timeout: 30 * time.Second})
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.desc.all {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	d := &c.desc
	s := c.src()
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		if desc != nil {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
		}
	}
	counter := func(desc *prometheus.Desc, v float64, labels ...string) {
		if desc != nil {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, v, labels...)
		}
	}
	gauge(d.up, b2f(s != nil))
	gauge(d.buildInfo, 1, versionOf(s), runtime.Version())
	if d.exporterBuildInfo != nil {
		gauge(d.exporterBuildInfo, 1, "", runtime.GOARCH, runtime.GOOS, runtime.Version(), "", "", versionOf(s))
	}
	if s == nil {
		return
	}
	now := time.Now()
	gauge(d.startTime, float64(s.Started.UnixNano())/1e9)
	gauge(d.snapshotTime, float64(s.Taken.UnixNano())/1e9)
	counter(d.events, float64(s.Events))
	histogram(ch, d.loopLatency, &s.Loop.Latency)
	histogram(ch, d.advertLateness, &s.Loop.AdvertLateness)

	for k := range s.Instances {
		in := &s.Instances[k]
		vrid := strconv.Itoa(in.VRID)
		l3 := []string{in.Name, in.Interface, vrid}
		stateName := exporterState(in.StateCode)
		l4 := []string{in.Name, in.Interface, vrid, stateName}
		for _, st := range statDefs {
			v := float64(st.get(&in.Stats))
			counter(d.mehdy[st.json], v, l3...)
			counter(d.mehdyV0[st.json], v, l4...)
			counter(d.gen2brain[st.json], v, l4...)
		}
		for _, st := range gen2brainOnly {
			counter(d.gen2brain[st.json], float64(st.get(&in.Stats)), l4...)
		}
		// Both mehdy sets name these two alike: one series, current labels.
		for _, st := range []struct {
			name string
			v    uint64
		}{{"become_master", in.Stats.BecomeMaster}, {"release_master", in.Stats.ReleaseMaster}} {
			switch {
			case d.shared[st.name] != nil && c.on[CompatMehdy]:
				counter(d.shared[st.name], float64(st.v), l3...)
			case d.shared[st.name] != nil:
				counter(d.shared[st.name], float64(st.v), l4...)
			}
		}
		counter(d.garpDelay, float64(in.GARPDelay), l3...)
		counter(d.garpDelayV0, float64(in.GARPDelay), l4...)
		if d.vrrpState != nil {
			for _, v := range in.VIPs {
				gauge(d.vrrpState, float64(in.StateCode), in.Name, v.Dev, vrid, v.Address)
			}
			if len(in.VIPs) == 0 {
				gauge(d.vrrpState, float64(in.StateCode), in.Name, in.Interface, vrid, "")
			}
		}
		for _, v := range in.ExcludedVIPs {
			gauge(d.vrrpExcludedState, float64(in.StateCode), in.Name, v.Dev, vrid, v.Address)
		}
		if c.o.CheckScript != "" {
			for _, v := range in.VIPs {
				ok := b2f(c.checkScript(v.Address))
				gauge(d.checkScript, ok, in.Name, v.Dev, vrid, v.Address)
				gauge(d.checkScriptV0, ok, in.Name, v.Dev, vrid, v.Address)
			}
		}

		// vigil's own.
		gauge(d.state, float64(in.StateCode), l3...)
		gauge(d.priority, float64(in.Priority), l3...)
		gauge(d.basePriority, float64(in.BasePriority), l3...)
		gauge(d.vipsInstalled, b2f(in.VIPSet), l3...)
		for _, t := range in.Trackers {
			gauge(d.trackerDelta, float64(t.Delta), in.Name, in.Interface, vrid, t.What)
			gauge(d.trackerWeight, float64(t.Weight), in.Name, in.Interface, vrid, t.What)
			gauge(d.trackerFault, b2f(t.Fault), in.Name, in.Interface, vrid, t.What)
		}
		if in.Master != "" {
			gauge(d.master, 1, in.Name, in.Interface, vrid, in.Master)
			gauge(d.masterPriority, float64(in.MasterPriority), l3...)
		}
		if t := in.LastTransition; t != nil {
			lt := []string{in.Name, in.Interface, vrid, t.From, t.To, t.Reason}
			gauge(d.lastTransition, float64(t.At.UnixNano())/1e9, lt...)
			gauge(d.sinceTransition, now.Sub(t.At).Seconds(), lt...)
		}
		takeovers := map[string]uint64{}
		for _, t := range in.Transitions {
			counter(d.transitions, float64(t.Count), in.Name, in.Interface, vrid, t.From, t.To, t.Reason)
			if t.To == "MASTER" {
				takeovers[t.Reason] += t.Count
			}
		}
		for _, r := range sortedKeys(takeovers) {
			counter(d.takeovers, float64(takeovers[r]), in.Name, in.Interface, vrid, r)
		}
		counter(d.advertsLate, float64(in.AdvertsLate), l3...)
	}
	for _, sc := range s.Scripts {
		gauge(d.scriptStatus, b2f(sc.OK), sc.Name)
		// vigil keeps no script run state: "idle", as its data dump says.
		gauge(d.scriptState, 0, sc.Name)
	}
	for _, vs := range s.VirtualServers {
		gauge(d.vsQuorum, b2f(vs.QuorumUp), vs.ID)
		gauge(d.vsSorry, b2f(vs.SorryOn), vs.ID)
		gauge(d.vsLiveWeight, float64(vs.LiveWeight), vs.ID)
		for _, rs := range vs.RealServers {
			gauge(d.rsUp, b2f(rs.Alive), vs.ID, rs.ID)
			gauge(d.rsWeight, float64(rs.Weight), vs.ID, rs.ID)
			for k, ck := range rs.Checkers {
				v := b2f(ck.Up)
				if !ck.HasRun {
					v = -1
				}
				gauge(d.checkerUp, v, vs.ID, rs.ID, strconv.Itoa(k), ck.Type)
			}
		}
	}
	if j := s.Journal; j != nil {
		counter(d.journalAppended, float64(j.Appended))
		counter(d.journalWritten, float64(j.Committed))
		counter(d.journalGapped, float64(j.Lost))
		counter(d.journalBytes, float64(j.Bytes))
		counter(d.journalSnapshots, float64(j.Snapshots))
		counter(d.journalCommits, float64(j.Commits))
		gauge(d.journalFailing, b2f(j.Failing))
		counter(d.journalEpisodes, float64(j.Episodes))
	}
	if c.o.IPVS != nil && len(s.VirtualServers) > 0 {
		svcs, err := c.o.IPVS()
		gauge(d.ipvsError, b2f(err != nil))
		if err == nil && d.lvsVIP != nil {
			for _, sv := range svcs {
				proto := strconv.Itoa(int(sv.Proto))
				lvsCounters(ch, d.lvsVIP, &sv.Counters, sv.Addr, proto)
				for _, ds := range sv.Dests {
					lvsCounters(ch, d.lvsRS, &ds.Counters, sv.Addr, ds.Addr, proto)
				}
			}
		}
	}
}

func lvsCounters(ch chan<- prometheus.Metric, ds *[5]*prometheus.Desc, c *Counters, labels ...string) {
	for k, v := range []uint64{c.PacketsIn, c.PacketsOut, c.BytesIn, c.BytesOut, c.Connections} {
		ch <- prometheus.MustNewConstMetric(ds[k], prometheus.CounterValue, float64(v), labels...)
	}
}

func histogram(ch chan<- prometheus.Metric, d *prometheus.Desc, h *status.Histogram) {
	buckets := make(map[float64]uint64, len(h.Bounds))
	for k, b := range h.Bounds {
		buckets[b] = h.Counts[k]
	}
	ch <- prometheus.MustNewConstHistogram(d, h.Count, h.Sum, buckets)
}

// checkScript runs the check script for a VIP, as mehdy's exporter does
// (through sh -c, the address appended).
func (c *Collector) checkScript(vip string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), c.o.CheckTimeout)
	defer cancel()
	return exec.CommandContext(ctx, "/bin/sh", "-c", c.o.CheckScript+" "+vip).Run() == nil
}

// exporterState is the state name keepalived's dumps give (the
// exporters' state label): INIT, BACKUP, MASTER, FAULT, "" for others.
func exporterState(code int) string {
	switch code {
	case 0:
		return "INIT"
	case 1:
		return "BACKUP"
	case 2:
		return "MASTER"
	case 3:
		return "FAULT"
	}
	return ""
}

func versionOf(s *status.Snapshot) string {
	if s == nil {
		return ""
	}
	return s.Version
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func sortedKeys(m map[string]uint64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
