package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// retention deletes the oldest files until the directory (the current file
// included) holds at most MaxTotalSize bytes and no file started more than
// MaxAge ago. The current file is never deleted.
func (w *Writer) retention() {
	files, err := listFiles(w.dir)
	if err != nil {
		w.setErr(fmt.Errorf("journal: retention: %w", err))
		return
	}
	var total int64
	for _, f := range files {
		total += f.size
	}
	now := w.opts.Now()
	for _, f := range files {
		if f.path == w.cur.path {
			continue
		}
		if total <= w.opts.MaxTotalSize && now.Sub(f.at) <= w.opts.MaxAge {
			break // files are oldest first: the rest are newer
		}
		if err := os.Remove(f.path); err != nil && !os.IsNotExist(err) {
			w.setErr(fmt.Errorf("journal: retention: %w", err))
			continue
		}
		total -= f.size
		w.deleted.Add(1)
	}
}

// lastSeq returns the sequence after the last one recorded in the newest
// readable file of dir (1 when there is none), and that file's config
// digest. Files without records (a run that stopped at once) are passed
// over for older ones. Unreadable files are skipped: they are someone else's problem
// (the reader reports them), not a reason to refuse to start.
func lastSeq(dir string) (next uint64, digest string) {
	files, err := listFiles(dir)
	if err != nil {
		return 1, ""
	}
	for i := len(files) - 1; i >= 0; i-- {
		db, meta, err := openRead(files[i].path)
		if err != nil {
			continue
		}
		var last uint64
		err = protect(func() error {
			return db.View(func(tx *bolt.Tx) error {
				if _, l, err := seqBounds(tx, meta.Format); err == nil {
					last = max(last, l)
				}
				if k, _ := tx.Bucket(bucketSnapshots).Cursor().Last(); len(k) == 8 {
					s, _ := keySeq(k)
					last = max(last, s)
				}
				return tx.Bucket(bucketGaps).ForEach(func(_, v []byte) error {
					if g, err := decodeGap(v); err == nil {
						last = max(last, g.Last)
					}
					return nil
				})
			})
		})
		db.Close()
		if err == nil && digest == "" {
			digest = meta.ConfigDigest
		}
		if err == nil && last > 0 {
			return last + 1, digest
		}
	}
	return 1, digest
}

// damagedSuffix is appended to the name of a journal file that Open found
// unreadable: the file is kept for inspection, out of the journal.
const damagedSuffix = ".damaged"

// checkLast checks the last journal file in dir, the one a Writer had
// open when a crash or a stop came: structurally (bbolt's pages, cheap)
// here — a failure sets it aside at once — and, if that passes, returns
// its path for a full read-through (deepCheck) in the background, which
// would cost seconds on a large file at a daemon's start. Each file set
// aside is reported as "path: why".
func checkLast(dir string) (damaged []string, deep string) {
	files, err := listFiles(dir)
	if err != nil || len(files) == 0 {
		return nil, ""
	}
	path := files[len(files)-1].path
	db, _, err := openRead(path)
	if err != nil {
		return []string{setAside(path, err)}, ""
	}
	db.Close()
	return nil, path
}

// setAside renames a damaged journal file *.damaged and describes it.
func setAside(path string, why error) string {
	s := path + ": " + why.Error()
	if err := os.Rename(path, path+damagedSuffix); err != nil {
		return s + " (could not set it aside: " + err.Error() + ")"
	}
	return s + " (renamed " + filepath.Base(path) + damagedSuffix + ")"
}

// deepCheck reads path through (its records' chunks, gaps, snapshots)
// and sets it aside if that fails, unless the Writer closes first. The
// sequences its keys show were counted by lastSeq, so none are reused.
func (w *Writer) deepCheck(path string) {
	defer w.checks.Done()
	err := readThrough(path, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.closed
	})
	if err == nil || errors.Is(err, errStopped) {
		return
	}
	w.reportDamaged(setAside(path, err))
}

// reportDamaged counts and reports a file set aside.
func (w *Writer) reportDamaged(what string) {
	w.setAside.Add(1)
	if w.opts.Damaged != nil {
		w.opts.Damaged(what)
	}
}

var errStopped = errors.New("stopped")

// readThrough reads every record, gap and snapshot of one journal file,
// giving up (errStopped) when stop says so.
func readThrough(path string, stop func() bool) error {
	r, err := OpenReader(path)
	if err != nil {
		return err
	}
	defer r.Close()
	n := 0
	for _, err := range r.RawRecords(0) {
		if err != nil {
			return err
		}
		if n++; n%4096 == 0 && stop != nil && stop() {
			return errStopped
		}
	}
	if _, err := r.Gaps(); err != nil {
		return err
	}
	_, err = r.Snapshots()
	return err
}
