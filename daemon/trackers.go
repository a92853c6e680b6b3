package daemon

import (
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/vigil-ha/vigil/adapters/track"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// trackers runs the track_file watcher and the process tracker of the
// current configuration. They are (re)started in a goroutine: both send
// their initial values on the loop's channel while starting, and the loop
// must not wait on itself.
type trackers struct {
	out chan<- events.Event
	now func() events.Time
	log *slog.Logger

	mu    sync.Mutex
	files *track.FileWatcher
	procs *track.ProcessTracker
	// fcfg and pcfg are what is running, to skip restarts on reloads
	// that do not change them.
	fcfg []conf.TrackFile
	pcfg []conf.TrackProcess
	wg   sync.WaitGroup
	// gen numbers the apply calls: a (re)start goroutine that finds a
	// newer call pending leaves the work to it, so the last configuration
	// wins however the goroutines are scheduled.
	gen atomic.Uint64
}

// apply starts, restarts or stops the trackers to match cfg.
func (t *trackers) apply(cfg *conf.Config) {
	files, procs := cfg.TrackFiles, cfg.TrackProcesses
	t.wg.Add(1)
	gen := t.gen.Add(1)
	go func() {
		defer t.wg.Done()
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.gen.Load() != gen {
			return
		}
		if !reflect.DeepEqual(files, t.fcfg) || (t.files == nil && len(files) > 0) {
			if t.files != nil {
				t.files.Close()
				t.files = nil
			}
			t.fcfg = files
			if len(files) > 0 {
				w, err := track.WatchFiles(track.FileOptions{Files: files, Out: t.out, Now: t.now, Logger: t.log})
				if err != nil {
					t.log.Error("track_file", "err", err)
				}
				t.files = w
			}
		}
		if !reflect.DeepEqual(procs, t.pcfg) || (t.procs == nil && len(procs) > 0) {
			if t.procs != nil {
				t.procs.Close()
				t.procs = nil
			}
			t.pcfg = procs
			if len(procs) > 0 {
				p, err := track.TrackProcesses(track.ProcessOptions{Processes: procs, Out: t.out, Now: t.now, Logger: t.log})
				if err != nil {
					t.log.Error("vrrp_track_process", "err", err)
				}
				t.procs = p
			}
		}
	}()
}

// close stops the trackers once pending (re)starts are done. The loop must
// no longer be relied on to drain the channel, so senders blocked on it
// are released by the caller draining it concurrently.
func (t *trackers) close() {
	t.wg.Wait()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.files != nil {
		t.files.Close()
		t.files = nil
	}
	if t.procs != nil {
		t.procs.Close()
		t.procs = nil
	}
}
