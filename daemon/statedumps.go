package daemon

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-ha/vigil/dumps"
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
)

// keepalived's signal numbers for the JSON dump and the stats dump that
// clears the counters (`keepalived --signum=JSON` / `STATS_CLEAR` print
// them: SIGRTMIN+2 and SIGRTMAX-1 on Linux with glibc).
const (
	SigJSON       = syscall.Signal(36)
	SigStatsClear = syscall.Signal(63)
)

// DumpSignals are the signals the daemon serves with dumps; the command
// line subscribes to them with the others.
var DumpSignals = []os.Signal{syscall.SIGUSR1, syscall.SIGUSR2, SigJSON, SigStatsClear}

// keepalived's dump files: SIGUSR1, SIGUSR2 and its JSON signal.
const (
	DefaultDataFile  = "/tmp/keepalived.data"
	DefaultStatsFile = "/tmp/keepalived.stats"
	DefaultJSONFile  = "/tmp/keepalived.json"
)

// StateDumps serves keepalived's dump signals for the loop: it records
// every Step's effects (the counters and transition times the engine's
// state does not keep) and, on a signal, captures the state in the loop
// and writes the dump from a goroutine. Observe and Signal must be called
// from the loop's goroutine.
//
// The loop wires it with two calls: Observe(ev, effs) after each
// Engine.Step, and Signal(sig) for any signal that is not a stop or a
// reload.
type StateDumps struct {
	Engine *engine.Engine
	// Now is the loop's clock (the one events are stamped with).
	Now func() events.Time
	Log zerolog.Logger
	// DataFile, StatsFile and JSONFile are where the dumps go ("" turns
	// that dump off).
	DataFile, StatsFile, JSONFile string

	rec *dumps.Recorder
}

func (d *StateDumps) recorder() *dumps.Recorder {
	if d.rec == nil {
		d.rec = dumps.NewRecorder()
	}
	return d.rec
}

// Recorder is the recorder of keepalived's counters and transition
// times, which the Observer reads too.
func (d *StateDumps) Recorder() *dumps.Recorder { return d.recorder() }

// Observe feeds one Step to the recorder. A reloaded configuration drops
// the counters of instances it no longer has (keepalived keeps those of
// the instances that remain).
func (d *StateDumps) Observe(ev events.Event, effs []effects.Effect) {
	r := d.recorder()
	r.Observe(ev.EventTime(), effs)
	if _, ok := ev.(*events.ConfigLoaded); ok {
		st := d.Engine.Instances()
		names := make([]string, len(st))
		for k := range st {
			names[k] = st[k].Name
		}
		r.Keep(names)
	}
}

// Signal serves a dump signal; it reports whether sig was one.
func (d *StateDumps) Signal(sig os.Signal) bool {
	switch sig {
	case syscall.SIGUSR1:
		d.take(kindData, false)
	case syscall.SIGUSR2:
		d.take(kindStats, false)
	case SigStatsClear:
		d.take(kindStats, true)
	case SigJSON:
		d.take(kindJSON, false)
	default:
		return false
	}
	return true
}

// dumpKind is one of keepalived's dumps.
type dumpKind int

const (
	kindData dumpKind = iota
	kindStats
	kindJSON
)

// take captures the state for a dump in the loop (the engine is the
// loop's) and formats and writes it in a goroutine, so that a slow /tmp
// never delays an advert. clear zeroes the counters after the capture
// (STATS_CLEAR).
func (d *StateDumps) take(kind dumpKind, clear bool) {
	path := map[dumpKind]string{kindData: d.DataFile, kindStats: d.StatsFile, kindJSON: d.JSONFile}[kind]
	if path == "" || d.Engine == nil {
		return
	}
	v := d.Engine.DumpView()
	in := dumps.Take(v, d.recorder(), d.Now(), time.Now())
	in.ScriptPath = dumps.ResolveScriptPath
	if clear {
		d.recorder().Clear()
	}
	log := d.Log
	go func() {
		var b bytes.Buffer
		var err error
		switch kind {
		case kindData:
			in.Hostname, _ = os.Hostname()
			if v.Config != nil {
				in.ResolveScriptUser(&v.Config.GlobalDefs)
			}
			err = dumps.WriteData(&b, in)
		case kindStats:
			err = dumps.WriteStats(&b, in)
		case kindJSON:
			err = dumps.WriteJSON(&b, in, dumps.JSONVersion(v))
		}
		if err == nil {
			err = writeDumpFile(path, &b)
		}
		if err != nil {
			log.Error().Err(err).Str("file", path).Msg("cannot write dump")
			return
		}
		log.Info().Str("file", path).Msg("dump written")
	}()
}

// writeDumpFile replaces path with the dump, mode 0600 as keepalived
// creates its dumps (they hold passwords). It writes a temporary file and
// renames it, so a reader never sees half a dump (keepalived 2.2.7
// truncates and writes in place), and it refuses to follow a symbolic
// link at path (keepalived opens with O_NOFOLLOW): rename replaces the
// link itself.
func writeDumpFile(path string, r io.Reader) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	tmp := f.Name()
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("dump %s: %w", path, err)
	}
	return nil
}
