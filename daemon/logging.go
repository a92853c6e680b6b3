package daemon

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// LogOptions say where and how the daemon logs (keepalived's -l, -D, -S, -G,
// plus vigil's JSON format).
type LogOptions struct {
	// Console logs to Stderr (keepalived -l).
	Console bool
	// JSON writes zerolog's JSON lines instead of text (console and syslog).
	JSON bool
	// Detail enables debug messages (keepalived -D).
	Detail bool
	// NoSyslog disables syslog (keepalived -G).
	NoSyslog bool
	// Facility is the syslog facility (keepalived -S): 0-7 for local0-7,
	// "local0".."local7", "user" or "daemon" (the default).
	Facility string
	// File, when set, also logs to this file (keepalived -g), appending.
	File string
	// Stderr is the console (os.Stderr when nil).
	Stderr io.Writer
	// Buffer is the asynchronous writer's capacity in lines.
	Buffer int
	// Tag is the syslog tag (default "Keepalived_vrrp", keepalived's
	// VRRP process name, so existing log filters keep matching).
	Tag string
}

// Logging is the daemon's logger and what it owns.
type Logging struct {
	Logger zerolog.Logger
	// Async is the non-blocking writer every line goes through.
	Async *AsyncWriter
	// Warnings are problems found while setting up (syslog unreachable),
	// to be logged once the logger runs.
	Warnings []string
	closers  []io.Closer
}

// Slog returns an slog.Logger writing through the same logger, for the
// adapters that take one.
func (l *Logging) Slog() *slog.Logger {
	return slog.New(zerolog.NewSlogHandler(l.Logger))
}

// Close flushes queued lines and closes syslog.
func (l *Logging) Close() error {
	l.Async.Close()
	for _, c := range l.closers {
		c.Close()
	}
	return nil
}

// ParseFacility turns keepalived's -S argument into a syslog facility.
func ParseFacility(s string) (syslog.Priority, error) {
	switch s {
	case "", "daemon":
		return syslog.LOG_DAEMON, nil
	case "user":
		return syslog.LOG_USER, nil
	}
	n := strings.TrimPrefix(s, "local")
	if v, err := strconv.Atoi(n); err == nil && v >= 0 && v <= 7 && len(n) == 1 {
		return syslog.LOG_LOCAL0 + syslog.Priority(v)<<3, nil
	}
	return 0, fmt.Errorf("invalid log facility %q: want 0-7, local0-local7, user or daemon", s)
}

// NewLogging builds the logger. Syslog that cannot be reached (no /dev/log)
// falls back to the console, where keepalived falls back to /dev/console.
func NewLogging(o LogOptions) (*Logging, error) {
	fac, err := ParseFacility(o.Facility)
	if err != nil {
		return nil, err
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Tag == "" {
		o.Tag = "Keepalived_vrrp"
	}
	l := &Logging{}
	var outs []io.Writer
	console := o.Console
	if !o.NoSyslog {
		sw, err := syslog.New(fac|syslog.LOG_INFO, o.Tag)
		if err != nil {
			l.Warnings = append(l.Warnings, fmt.Sprintf("syslog unavailable (%v): logging to the console", err))
			console = true
		} else {
			l.closers = append(l.closers, sw)
			outs = append(outs, newSyslogOut(sw, o.JSON))
		}
	}
	if o.File != "" {
		f, err := os.OpenFile(o.File, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("log file: %w", err)
		}
		l.closers = append(l.closers, f)
		if o.JSON {
			outs = append(outs, levelWriterAdapter{f})
		} else {
			outs = append(outs, levelWriterAdapter{consoleWriter(f, true)})
		}
	}
	if console {
		if o.JSON {
			outs = append(outs, levelWriterAdapter{o.Stderr})
		} else {
			outs = append(outs, levelWriterAdapter{consoleWriter(o.Stderr, true)})
		}
	}
	var out zerolog.LevelWriter = levelWriterAdapter{io.Discard}
	if len(outs) > 0 {
		out = zerolog.MultiLevelWriter(outs...)
	}
	l.Async = NewAsyncWriter(out, o.Buffer, nil)
	// Microseconds: failover timelines are read from these stamps.
	zerolog.TimeFieldFormat = timeFormat
	level := zerolog.InfoLevel
	if o.Detail {
		level = zerolog.DebugLevel
	}
	l.Logger = zerolog.New(l.Async).Level(level).With().Timestamp().Logger()
	// github.com/moby/ipvs logs through logrus, to stderr unless told.
	RouteLogrus(l.Logger)
	return l, nil
}

// timeFormat is RFC 3339 with microseconds.
const timeFormat = "2006-01-02T15:04:05.000000Z07:00"

// consoleWriter formats zerolog's JSON as text lines.
func consoleWriter(w io.Writer, withTime bool) zerolog.ConsoleWriter {
	cw := zerolog.ConsoleWriter{Out: w, NoColor: true, TimeFormat: timeFormat}
	if !withTime {
		cw.PartsExclude = []string{zerolog.TimestampFieldName}
	}
	return cw
}

// syslogOut writes each line to syslog at its level, as text (syslog
// stamps its own time) or as JSON.
type syslogOut struct {
	w    *syslog.Writer
	json bool
	buf  bytes.Buffer
	cw   zerolog.ConsoleWriter
}

func newSyslogOut(w *syslog.Writer, json bool) *syslogOut {
	s := &syslogOut{w: w, json: json}
	s.cw = consoleWriter(&s.buf, false)
	return s
}

func (s *syslogOut) Write(p []byte) (int, error) { return s.WriteLevel(zerolog.NoLevel, p) }

// WriteLevel is called only from the AsyncWriter's goroutine, so the
// buffer needs no lock.
func (s *syslogOut) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	msg := string(p)
	if !s.json {
		s.buf.Reset()
		if _, err := s.cw.Write(p); err == nil {
			msg = s.buf.String()
		}
	}
	msg = strings.TrimRight(msg, "\n")
	var err error
	switch level {
	case zerolog.DebugLevel, zerolog.TraceLevel:
		err = s.w.Debug(msg)
	case zerolog.WarnLevel:
		err = s.w.Warning(msg)
	case zerolog.ErrorLevel:
		err = s.w.Err(msg)
	case zerolog.FatalLevel:
		err = s.w.Crit(msg)
	case zerolog.PanicLevel:
		err = s.w.Emerg(msg)
	default:
		err = s.w.Info(msg)
	}
	return len(p), err
}

// logEvery rate-limits one kind of repeated message: the first occurrence
// is logged, then at most one per period with the count suppressed.
type logEvery struct {
	period time.Duration
	last   map[string]time.Time
	count  map[string]int
}

func newLogEvery(period time.Duration) *logEvery {
	return &logEvery{period: period, last: map[string]time.Time{}, count: map[string]int{}}
}

// allow reports whether a message with key may be logged now, and how many
// were suppressed since the last one.
func (e *logEvery) allow(key string, now time.Time) (bool, int) {
	if t, ok := e.last[key]; ok && now.Sub(t) < e.period {
		e.count[key]++
		return false, 0
	}
	n := e.count[key]
	e.last[key], e.count[key] = now, 0
	return true, n
}
