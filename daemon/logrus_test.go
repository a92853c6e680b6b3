package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/sirupsen/logrus"
)

// resetLogrus restores logrus's standard logger to its defaults after a test.
func resetLogrus(t *testing.T) {
	t.Cleanup(func() {
		std := logrus.StandardLogger()
		std.SetOutput(os.Stderr)
		std.SetFormatter(new(logrus.TextFormatter))
		std.SetLevel(logrus.InfoLevel)
		std.ReplaceHooks(logrus.LevelHooks{})
	})
}

// jsonLines decodes zerolog's JSON lines.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l == "" {
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestRouteLogrus(t *testing.T) {
	resetLogrus(t)
	var stderr, zl bytes.Buffer
	logrus.SetOutput(&stderr) // stands for stderr, logrus's default output
	RouteLogrus(zerolog.New(&zl).Level(zerolog.DebugLevel))

	logrus.WithField("service", "10.0.0.1:80").WithError(errors.New("exit status 1")).
		Warnf("Running modprobe ip_vs failed with message: `%s`", "not found")
	logrus.Error("Could not get ipvs family information from the kernel.")
	logrus.WithFields(logrus.Fields{"b": 2, "a": "x"}).Info("info")
	logrus.Debug("debug")
	logrus.Trace("trace: below the zerolog logger's level")

	if stderr.Len() != 0 {
		t.Errorf("logrus wrote to its own output: %q", stderr.String())
	}
	got := jsonLines(t, zl.String())
	want := []map[string]any{
		{"level": "warn", "component": "ipvs", "service": "10.0.0.1:80", "error": "exit status 1",
			"message": "Running modprobe ip_vs failed with message: `not found`"},
		{"level": "error", "component": "ipvs", "message": "Could not get ipvs family information from the kernel."},
		{"level": "info", "component": "ipvs", "a": "x", "b": float64(2), "message": "info"},
		{"level": "debug", "component": "ipvs", "message": "debug"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d zerolog lines, want %d:\n%s", len(got), len(want), zl.String())
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Errorf("line %d: got %v, want %v", i, got[i], want[i])
			continue
		}
		for k, v := range want[i] {
			if got[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, got[i][k], v)
			}
		}
	}
	if !strings.Contains(zl.String(), `"a":"x","b":2`) {
		t.Errorf("fields not in key order: %s", zl.String())
	}
}

// TestLoggingRoutesLogrus: the daemon's logger set up by NewLogging takes
// logrus's lines, at its level, through the same outputs as its own.
func TestLoggingRoutesLogrus(t *testing.T) {
	resetLogrus(t)
	var console bytes.Buffer
	lg, err := NewLogging(LogOptions{Console: true, NoSyslog: true, JSON: true, Stderr: &console})
	if err != nil {
		t.Fatal(err)
	}
	if logrus.StandardLogger().Out != io.Discard {
		t.Errorf("logrus still writes to %v", logrus.StandardLogger().Out)
	}
	logrus.Error("Could not get ipvs family information from the kernel.")
	logrus.Debug("hidden without -D")
	lg.Close()
	got := jsonLines(t, console.String())
	if len(got) != 1 || got[0]["level"] != "error" || got[0]["component"] != "ipvs" ||
		got[0]["message"] != "Could not get ipvs family information from the kernel." || got[0]["time"] == nil {
		t.Fatalf("console output %q", console.String())
	}
}
