package daemon

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-ha/vigil/adapters/ipvs"
	"github.com/vigil-ha/vigil/journal"
	"github.com/vigil-ha/vigil/metrics"
	"github.com/vigil-ha/vigil/status"
)

// monitoring are the daemon's two windows on its state: the control
// socket (`vigil status`) and the Prometheus endpoint. Both serve the
// Observer's published snapshots on their own goroutines.
type monitoring struct {
	ctl  *net.UnixListener
	http *http.Server
	hl   net.Listener
}

// openMonitoring opens the listeners before anything starts: a
// --metrics-listen address that cannot be used stops the start; a
// control socket that cannot be created is logged and vigil runs
// without it (keepalived has none, and a drop-in must not fail for it).
func openMonitoring(o Options, log *zerolog.Logger) (*monitoring, error) {
	m := &monitoring{}
	if o.MetricsListen != "" {
		ln, err := net.Listen("tcp", o.MetricsListen)
		if err != nil {
			return nil, fmt.Errorf("--metrics-listen: %w", err)
		}
		m.hl = ln
	}
	if o.ControlSocket != "" {
		ln, err := status.Listen(o.ControlSocket)
		if err != nil {
			log.Error().Err(err).Msg("vigil status will not answer")
		} else {
			m.ctl = ln
		}
	}
	return m, nil
}

// serve starts answering from obs.
func (m *monitoring) serve(obs *Observer, o Options, lvs *lvsAdapters, log *zerolog.Logger) {
	lim := newSyncLimit()
	if m.ctl != nil {
		go status.Serve(m.ctl, obs, func(err error) {
			if ok, n := lim.allow("control socket"); ok {
				log.Warn().Err(err).Int("suppressed", n).Msg("control socket")
			}
		})
		log.Info().Str("socket", o.ControlSocket).Msg("control socket ready (vigil status)")
	}
	if m.hl != nil {
		c := metrics.New(obs.Snapshot, metrics.Options{Compat: o.MetricsCompat, CheckScript: o.MetricsCheckScript,
			IPVS: lvs.ipvsStats})
		mux := http.NewServeMux()
		mux.Handle("/metrics", metrics.Handler(c))
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/" {
				http.NotFound(w, r)
				return
			}
			fmt.Fprintln(w, "vigil: metrics at /metrics")
		})
		m.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 60 * time.Second}
		go func() {
			if err := m.http.Serve(m.hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error().Err(err).Msg("metrics endpoint stopped")
			}
		}()
		log.Info().Str("address", m.hl.Addr().String()).Msg("metrics endpoint ready (/metrics)")
	}
}

// close stops both (the socket file is removed by the listener).
func (m *monitoring) close() {
	if m.http != nil {
		m.http.Close()
	} else if m.hl != nil {
		m.hl.Close()
	}
	if m.ctl != nil {
		m.ctl.Close()
	}
}

// journalStats is the Observer's view of the journal writer.
func journalStats(w *journal.Writer) func() *status.Journal {
	return func() *status.Journal {
		st := w.Stats()
		return &status.Journal{Dir: w.Dir(), Appended: st.Appended, Committed: st.Committed, Lost: st.Lost,
			Bytes: st.Bytes, Snapshots: st.Snapshots, Commits: st.Commits,
			Failing: st.Failing, Episodes: st.Episodes, SetAside: st.SetAside}
	}
}

// ipvsStats reads the kernel's IPVS counters for /metrics, once the IPVS
// manager is open (never before: opening IPVS is the loop's decision).
func (l *lvsAdapters) ipvsStats() ([]metrics.LVSService, error) {
	m := l.mgrPub.Load()
	if m == nil {
		return nil, errors.New("IPVS is not open")
	}
	svcs, err := m.Stats()
	if err != nil {
		return nil, err
	}
	out := make([]metrics.LVSService, 0, len(svcs))
	for _, s := range svcs {
		out = append(out, lvsService(s))
	}
	return out, nil
}

// lvsService labels a kernel service as gen2brain's exporter does: the
// address and port joined by a colon (IPv6 without brackets), the
// protocol as its number.
func lvsService(s ipvs.ServiceStats) metrics.LVSService {
	out := metrics.LVSService{Counters: metrics.Counters(s.Counters)}
	if s.Service.FwMark != 0 {
		out.Addr = "fwmark:" + strconv.FormatUint(uint64(s.Service.FwMark), 10)
	} else {
		out.Addr = s.Service.Addr.String() + ":" + strconv.Itoa(int(s.Service.Port))
		switch s.Service.Protocol {
		case "TCP":
			out.Proto = 6
		case "UDP":
			out.Proto = 17
		case "SCTP":
			out.Proto = 132
		}
	}
	for _, d := range s.Dests {
		out.Dests = append(out.Dests, metrics.LVSDest{Addr: d.Dest.Addr.String() + ":" + strconv.Itoa(int(d.Dest.Port)),
			Counters: metrics.Counters(d.Counters)})
	}
	return out
}

func newSyncLimit() *syncLimit { return &syncLimit{l: newLogEvery(time.Second)} }

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// journalHealth logs the journal's episodes of trouble: once when writing
// starts failing, once when it resumes (with the events lost meanwhile,
// recorded as gaps), never per record.
func journalHealth(log *zerolog.Logger) func(err error, lost uint64) {
	return func(err error, lost uint64) {
		if err != nil {
			log.Error().Err(err).Msg("journal: writing failed; VRRP goes on, events are recorded as gaps until it works again")
			return
		}
		log.Warn().Uint64("lost", lost).Msg("journal: writing resumed")
	}
}
