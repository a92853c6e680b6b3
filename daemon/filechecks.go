package daemon

import (
	"log/slog"
	"math"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/vigil-ha/vigil/adapters/track"
	"github.com/vigil-ha/vigil/engine/lvs"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// fileChecks answers for the FILE_CHECK checkers: it watches their track
// files (adapters/track, the watcher track_file uses) and turns every
// value the watcher reports into one events.CheckResult per checker of
// that file, as engine/lvs expects (FILE_CHECK is event driven: no
// RunCheck ever asks for it).
//
// Its watcher is private, rather than shared with the VRRP trackers,
// because the two subsystems start and stop independently (-P, -C) and
// the values must reach the engine as different events.
type fileChecks struct {
	out chan<- events.Event
	now func() events.Time
	log *slog.Logger

	mu sync.Mutex
	// running is what the current watcher serves (to skip restarts on
	// reloads that change nothing).
	running []fileCheckTarget
	w       *track.FileWatcher
	stop    chan struct{}
	done    chan struct{}
	// wg counts pending (re)starts, which close waits for.
	wg sync.WaitGroup
	// gen numbers the apply calls: a (re)start goroutine that finds a
	// newer call pending leaves the work to it, so the last configuration
	// wins however the goroutines are scheduled.
	gen atomic.Uint64
}

// fileCheckTarget is one FILE_CHECK with the track file it reads.
type fileCheckTarget struct {
	lvs.FileCheck
	File conf.TrackFile
}

// fileCheckTargets pairs the engine's FILE_CHECK checkers with their
// track_file blocks; a checker naming an unknown file (the configuration
// reports it) is left out.
func fileCheckTargets(cfg *conf.Config, checks []lvs.FileCheck) []fileCheckTarget {
	var out []fileCheckTarget
	for _, c := range checks {
		for _, tf := range cfg.TrackFiles {
			if tf.Name == c.Spec.TrackFile {
				out = append(out, fileCheckTarget{FileCheck: c, File: tf})
				break
			}
		}
	}
	return out
}

// apply (re)starts the watcher for targets; it does not block (the
// watcher sends initial values, and the loop calling apply is the reader).
func (f *fileChecks) apply(targets []fileCheckTarget) {
	f.wg.Add(1)
	gen := f.gen.Add(1)
	go func() {
		defer f.wg.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.gen.Load() != gen {
			return
		}
		if reflect.DeepEqual(targets, f.running) && (f.w != nil || len(targets) == 0) {
			return
		}
		f.closeLocked()
		f.running = targets
		if len(targets) == 0 {
			return
		}
		var files []conf.TrackFile
		seen := map[string]bool{}
		for _, t := range targets {
			if seen[t.File.Name] {
				continue
			}
			seen[t.File.Name] = true
			tf := t.File
			// init_file is the track_file block's business, done once by
			// the VRRP trackers: writing it twice could race.
			tf.InitFile, tf.InitOverwrite = false, false
			files = append(files, tf)
		}
		in := make(chan events.Event, 16)
		w, err := track.WatchFiles(track.FileOptions{Files: files, Out: in, Now: f.now, Logger: f.log})
		if err != nil {
			f.log.Error("FILE_CHECK", "err", err)
		}
		f.w, f.stop, f.done = w, make(chan struct{}), make(chan struct{})
		go f.forward(in, targets, f.stop, f.done)
	}()
}

// forward turns track file values into check results until stop.
func (f *fileChecks) forward(in <-chan events.Event, targets []fileCheckTarget, stop, done chan struct{}) {
	defer close(done)
	for {
		var ev events.Event
		select {
		case ev = <-in:
		case <-stop:
			return
		}
		v, ok := ev.(*events.TrackFileValue)
		if !ok {
			continue
		}
		for _, t := range targets {
			if t.File.Name != v.File {
				continue
			}
			r := fileCheckResult(t.FileCheck, v)
			select {
			case f.out <- r:
			case <-stop:
				return
			}
		}
	}
}

// close stops the watcher; the caller keeps draining the loop's channel
// meanwhile (see adapters.close).
func (f *fileChecks) close() {
	f.wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closeLocked()
	f.running = nil
}

func (f *fileChecks) closeLocked() {
	if f.w == nil {
		return
	}
	// Stop the forwarder first: the watcher may be blocked sending to it.
	close(f.stop)
	<-f.done
	f.w.Close()
	f.w = nil
}

// fileCheckResult is keepalived's reading of a track file for a checker
// (track_file.c, update_track_file_status and
// process_update_checker_track_file_status). A missing or unreadable file
// reads 0. With weight 0 the value is a verdict: 0 is up, anything else
// down (reversed by "weight 0 reverse"). With a weight the checker stays
// up and contributes value×weight (negated by reverse) to the real
// server's weight, unless that product reaches IPVS_WEIGHT_FAULT
// (INT32_MIN), which is down.
func fileCheckResult(c lvs.FileCheck, v *events.TrackFileValue) *events.CheckResult {
	val := v.Value
	if v.Failed {
		val = 0
	}
	r := &events.CheckResult{Header: events.Header{At: v.At}, VirtualServer: c.VirtualServer,
		RealServer: c.RealServer, Checker: c.Checker}
	w := int64(c.Spec.Weight)
	if w == 0 {
		r.OK = (val == 0) != c.Spec.WeightReverse
		r.Message = "track file " + c.Spec.TrackFile + " value " + strconv.FormatInt(val, 10)
		return r
	}
	if c.Spec.WeightReverse {
		w = -w
	}
	status := weightRange(val, w)
	r.OK = status > math.MinInt32
	r.Message = "track file " + c.Spec.TrackFile + " value " + strconv.FormatInt(val, 10)
	if r.OK {
		r.Dynamic, r.Weight = true, int(status)
	}
	return r
}

// weightRange is val×w clamped to int32, as keepalived's weight_range:
// track file values are at most 2^31 and weights below 2^31, so the
// product needs more than 64 bits only in theory; it is computed in float
// to stay safe.
func weightRange(val, w int64) int64 {
	p := float64(val) * float64(w)
	switch {
	case p <= math.MinInt32:
		return math.MinInt32
	case p >= math.MaxInt32:
		return math.MaxInt32
	}
	return val * w
}
