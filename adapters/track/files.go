package track

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// FileOptions configures a FileWatcher.
type FileOptions struct {
	// Files are the track_file blocks to watch.
	Files []conf.TrackFile
	// Out receives a *events.TrackFileValue per file at start, then one
	// whenever a file's value changes.
	Out chan<- events.Event
	// Now stamps events with the monotonic event time.
	Now func() events.Time
	// Logger receives operator messages; nil means slog.Default().
	Logger *slog.Logger
}

// FileWatcher reports the values of track files.
//
// Like keepalived it watches each file's directory with inotify for
// IN_CLOSE_WRITE, IN_MOVED_TO, IN_MOVED_FROM and IN_DELETE, so a file is
// read only once its writer has closed it or a new file has been renamed
// into place (never half written: `echo 5 > file` truncates before it
// writes, and a reader woken by the truncation would see a transient
// empty file). A file that disappears reads as 0. (fsnotify could not be
// used for this: v1.10 does not export IN_CLOSE_WRITE.)
type FileWatcher struct {
	opts    FileOptions
	log     *slog.Logger
	inotify *os.File
	dirs    map[int32]*watchedDir
	files   []*watchedFile
	stop    chan struct{}
	done    chan struct{}
}

type watchedDir struct {
	path  string
	files map[string][]*watchedFile // by base name
}

type watchedFile struct {
	name, path string
	sent       bool // an event has been sent; value and failed hold it
	value      int64
	failed     bool
}

const inotifyMask = unix.IN_CLOSE_WRITE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO

// WatchFiles applies init_file, starts watching, and sends each file's
// initial value. A file that cannot be watched (its directory does not
// exist, say) is left out and reported in the error, as keepalived removes
// it from the configuration; the watcher still runs for the others.
func WatchFiles(opts FileOptions) (*FileWatcher, error) {
	if opts.Now == nil {
		start := time.Now()
		opts.Now = func() events.Time { return events.Time(time.Since(start)) }
	}
	w := &FileWatcher{
		opts: opts, log: opts.Logger,
		dirs: make(map[int32]*watchedDir),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("track files: inotify: %w", err)
	}
	w.inotify = os.NewFile(uintptr(fd), "inotify")
	var errs []error
	byDir := make(map[string]*watchedDir)
	for _, tf := range opts.Files {
		if err := initFile(tf); err != nil {
			errs = append(errs, err) // keepalived carries on with the file as it is
		}
		path, err := resolveTrackPath(tf.File)
		if err != nil {
			errs = append(errs, fmt.Errorf("track_file %s: %w - not tracked", tf.Name, err))
			continue
		}
		dirPath, base := filepath.Split(path)
		d := byDir[dirPath]
		if d == nil {
			wd, err := unix.InotifyAddWatch(fd, dirPath, inotifyMask)
			if err != nil {
				errs = append(errs, fmt.Errorf("track_file %s: watch %s: %w - not tracked", tf.Name, dirPath, err))
				continue
			}
			d = &watchedDir{path: dirPath, files: make(map[string][]*watchedFile)}
			byDir[dirPath], w.dirs[int32(wd)] = d, d
		}
		f := &watchedFile{name: tf.Name, path: path}
		d.files[base] = append(d.files[base], f)
		w.files = append(w.files, f)
	}
	for _, err := range errs {
		w.log.Error("track file problem", "err", err)
	}
	go w.run()
	return w, errors.Join(errs...)
}

// resolveTrackPath makes the path absolute and resolves symlinks as
// keepalived does: the file's real path when it exists, else the real path
// of its directory, which must exist.
func resolveTrackPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s is not accessible: %w", p, err)
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", fmt.Errorf("directory of %s does not exist: %w", p, err)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("directory of %s is not a directory", p)
	}
	return filepath.Join(dir, filepath.Base(abs)), nil
}

// Close stops watching.
func (w *FileWatcher) Close() error {
	select {
	case <-w.stop:
		return nil
	default:
	}
	close(w.stop)
	err := w.inotify.Close() // wakes the reader
	<-w.done
	return err
}

func (w *FileWatcher) run() {
	defer close(w.done)
	for _, f := range w.files {
		if !w.refresh(f) {
			return
		}
	}
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		n, err := w.inotify.Read(buf)
		if err != nil {
			select {
			case <-w.stop:
			default:
				w.log.Error("track files: inotify read failed; no more track file updates", "err", err)
			}
			return
		}
		if !w.handle(buf[:n]) {
			return
		}
	}
}

// handle processes a buffer of inotify events; false means stopped.
func (w *FileWatcher) handle(b []byte) bool {
	for len(b) >= unix.SizeofInotifyEvent {
		wd := int32(binary.NativeEndian.Uint32(b[0:]))
		mask := binary.NativeEndian.Uint32(b[4:])
		nameLen := int(binary.NativeEndian.Uint32(b[12:]))
		end := min(unix.SizeofInotifyEvent+nameLen, len(b))
		name := string(bytes.TrimRight(b[unix.SizeofInotifyEvent:end], "\x00"))
		b = b[end:]

		switch {
		case mask&unix.IN_Q_OVERFLOW != 0:
			// Events were lost: read every file again.
			w.log.Warn("track files: inotify queue overflow; rereading all files")
			for _, f := range w.files {
				if !w.refresh(f) {
					return false
				}
			}
			continue
		case mask&unix.IN_IGNORED != 0:
			if d := w.dirs[wd]; d != nil {
				w.log.Error("track files: directory no longer watched", "dir", d.path)
			}
			continue
		case mask&unix.IN_ISDIR != 0:
			continue
		}
		d := w.dirs[wd]
		if d == nil {
			continue
		}
		for _, f := range d.files[name] {
			ok := true
			if mask&(unix.IN_DELETE|unix.IN_MOVED_FROM) != 0 {
				ok = w.emit(f, 0, true) // gone: keepalived reads 0
			} else {
				ok = w.refresh(f)
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

// refresh reads a file and reports its value if it changed.
func (w *FileWatcher) refresh(f *watchedFile) bool {
	v, failed, err := readValue(f.path)
	if err != nil {
		w.log.Warn("track file: invalid number, keeping the previous value", "track_file", f.name, "err", err)
		return true
	}
	return w.emit(f, v, failed)
}

// emit sends the value unless it is the one last sent; false means stopped.
func (w *FileWatcher) emit(f *watchedFile, v int64, failed bool) bool {
	if f.sent && f.value == v && f.failed == failed {
		return true
	}
	f.sent, f.value, f.failed = true, v, failed
	ev := &events.TrackFileValue{Header: events.Header{At: w.opts.Now()}, File: f.name, Value: v, Failed: failed}
	select {
	case w.opts.Out <- ev:
		return true
	case <-w.stop:
		return false
	}
}
