package daemon

import (
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// DefaultLogBuffer is the number of log lines the asynchronous writer holds
// before it starts dropping.
const DefaultLogBuffer = 4096

// logLine is one formatted log line waiting for the writer goroutine.
type logLine struct {
	level zerolog.Level
	b     []byte
}

// AsyncWriter is a zerolog.LevelWriter that never blocks its caller: lines
// are copied into a bounded queue and written by one goroutine. When the
// queue is full the line is dropped and counted, and the next line written
// is preceded by a note saying how many were lost.
//
// Why: a log write can block (keepalived's fallback to /dev/console stalled
// for up to 39 ms per line on these machines, a slow syslog daemon does the
// same); the engine loop logs, and must never wait for a disk or a console
// while an advert is due.
type AsyncWriter struct {
	out     zerolog.LevelWriter
	ch      chan logLine
	dropped atomic.Uint64
	// reported is the drop count already announced (writer goroutine only).
	reported uint64
	pool     sync.Pool
	done     chan struct{}
	closeMu  sync.RWMutex
	closed   bool
	// dropNote formats the "lines dropped" note in out's format.
	dropNote func(n uint64) []byte
}

// NewAsyncWriter starts an AsyncWriter in front of out holding at most
// buffer lines. dropNote formats the line announcing n dropped lines; nil
// writes a zerolog JSON line.
func NewAsyncWriter(out zerolog.LevelWriter, buffer int, dropNote func(n uint64) []byte) *AsyncWriter {
	if buffer <= 0 {
		buffer = DefaultLogBuffer
	}
	if dropNote == nil {
		dropNote = jsonDropNote
	}
	w := &AsyncWriter{out: out, ch: make(chan logLine, buffer), done: make(chan struct{}), dropNote: dropNote}
	w.pool.New = func() any { b := make([]byte, 0, 256); return &b }
	go w.run()
	return w
}

// jsonDropNote formats the note as a zerolog JSON line, since every
// output behind the writer (console, syslog) parses zerolog's JSON.
func jsonDropNote(n uint64) []byte {
	var b []byte
	b = append(b, `{"`+zerolog.LevelFieldName+`":"warn","`+zerolog.TimestampFieldName+`":"`...)
	b = time.Now().AppendFormat(b, time.RFC3339)
	b = append(b, `","dropped":`...)
	b = strconv.AppendUint(b, n, 10)
	b = append(b, `,"`+zerolog.MessageFieldName+`":"log lines dropped: the log output is too slow"}`+"\n"...)
	return b
}

// Write queues p at no level.
func (w *AsyncWriter) Write(p []byte) (int, error) {
	return w.WriteLevel(zerolog.NoLevel, p)
}

// WriteLevel queues p (zerolog reuses p after the call, so it is copied).
// It always reports success: a dropped line is counted, not an error, so
// the caller never retries.
func (w *AsyncWriter) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	w.closeMu.RLock()
	defer w.closeMu.RUnlock()
	if w.closed {
		w.dropped.Add(1)
		return len(p), nil
	}
	bp := w.pool.Get().(*[]byte)
	b := append((*bp)[:0], p...)
	select {
	case w.ch <- logLine{level: level, b: b}:
	default:
		*bp = b
		w.pool.Put(bp)
		w.dropped.Add(1)
	}
	return len(p), nil
}

// Dropped reports how many lines were dropped so far.
func (w *AsyncWriter) Dropped() uint64 { return w.dropped.Load() }

func (w *AsyncWriter) run() {
	defer close(w.done)
	for l := range w.ch {
		if d := w.dropped.Load(); d > w.reported {
			w.out.WriteLevel(zerolog.WarnLevel, w.dropNote(d-w.reported))
			w.reported = d
		}
		w.out.WriteLevel(l.level, l.b)
		b := l.b
		w.pool.Put(&b)
	}
	if d := w.dropped.Load(); d > w.reported {
		w.out.WriteLevel(zerolog.WarnLevel, w.dropNote(d-w.reported))
	}
}

// Close writes out what is queued and stops the writer goroutine. Lines
// written afterwards are dropped. It does not close the underlying output.
func (w *AsyncWriter) Close() error {
	w.closeMu.Lock()
	if w.closed {
		w.closeMu.Unlock()
		<-w.done
		return nil
	}
	w.closed = true
	close(w.ch)
	w.closeMu.Unlock()
	<-w.done
	return nil
}

// levelWriterAdapter makes a plain io.Writer a zerolog.LevelWriter.
type levelWriterAdapter struct{ io.Writer }

func (a levelWriterAdapter) WriteLevel(_ zerolog.Level, p []byte) (int, error) {
	return a.Write(p)
}
