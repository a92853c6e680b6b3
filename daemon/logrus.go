package daemon

import (
	"io"

	"github.com/rs/zerolog"
	"github.com/sirupsen/logrus"
)

// RouteLogrus sends logrus's standard logger into log: each logrus entry
// becomes one zerolog entry at the matching level, with the entry's fields
// and component=ipvs, and nothing is written to logrus's own output
// (stderr by default). In vigil's dependency graph only github.com/moby/ipvs
// logs through logrus (its modprobe and netlink family lookup messages),
// hence the component. NewLogging calls it; logrus's standard logger is
// process-wide, so the last call wins.
func RouteLogrus(log zerolog.Logger) {
	std := logrus.StandardLogger()
	std.SetOutput(io.Discard)
	std.SetFormatter(discardFormatter{})
	std.SetLevel(logrusLevel(log.GetLevel()))
	std.ReplaceHooks(logrus.LevelHooks{})
	std.AddHook(&logrusHook{log: log.With().Str("component", "ipvs").Logger()})
}

// logrusHook writes each logrus entry to a zerolog logger.
type logrusHook struct{ log zerolog.Logger }

func (h *logrusHook) Levels() []logrus.Level { return logrus.AllLevels }

// Fire logs e. WithLevel never exits nor panics: logrus itself does that
// after its hooks for Fatal and Panic entries.
func (h *logrusHook) Fire(e *logrus.Entry) error {
	ev := h.log.WithLevel(zerologLevel(e.Level))
	if len(e.Data) > 0 {
		ev = ev.Fields(map[string]any(e.Data)) // sorted by key; errors as strings
	}
	ev.Msg(e.Message)
	return nil
}

// discardFormatter skips formatting: the hook has logged the entry and the
// output is io.Discard.
type discardFormatter struct{}

func (discardFormatter) Format(*logrus.Entry) ([]byte, error) { return nil, nil }

func zerologLevel(l logrus.Level) zerolog.Level {
	switch l {
	case logrus.PanicLevel:
		return zerolog.PanicLevel
	case logrus.FatalLevel:
		return zerolog.FatalLevel
	case logrus.ErrorLevel:
		return zerolog.ErrorLevel
	case logrus.WarnLevel:
		return zerolog.WarnLevel
	case logrus.InfoLevel:
		return zerolog.InfoLevel
	case logrus.DebugLevel:
		return zerolog.DebugLevel
	}
	return zerolog.TraceLevel
}

// logrusLevel is the logrus level passing what a zerolog logger at l
// keeps, so that logrus does not build entries zerolog would drop.
func logrusLevel(l zerolog.Level) logrus.Level {
	switch l {
	case zerolog.DebugLevel:
		return logrus.DebugLevel
	case zerolog.InfoLevel:
		return logrus.InfoLevel
	case zerolog.WarnLevel:
		return logrus.WarnLevel
	case zerolog.ErrorLevel:
		return logrus.ErrorLevel
	case zerolog.FatalLevel:
		return logrus.FatalLevel
	case zerolog.PanicLevel, zerolog.Disabled:
		return logrus.PanicLevel
	}
	return logrus.TraceLevel
}
