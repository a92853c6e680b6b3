package journal

import (
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

// setAsideDamaged reads the last journal file in dir through (records,
// gaps, snapshots: what a crash or an edit while the daemon was stopped
// may have damaged) and, if that fails, renames it *.damaged. It returns
// what it set aside, each as "path: why", and the sequence after the
// last one the damaged file's keys still show (0 if none), so that the
// next file does not reuse them. Only the last file is read: it is the
// one a Writer had open; reading every file would make a start read the
// whole directory.
func setAsideDamaged(dir string) (damaged []string, after uint64) {
	files, err := listFiles(dir)
	if err != nil || len(files) == 0 {
		return nil, 0
	}
	path := files[len(files)-1].path
	err = readThrough(path)
	if err == nil {
		return nil, 0
	}
	if db, meta, oerr := openRead(path); oerr == nil {
		protect(func() error {
			return db.View(func(tx *bolt.Tx) error {
				if _, l, err := seqBounds(tx, meta.Format); err == nil && l > 0 {
					after = l + 1
				}
				return nil
			})
		})
		db.Close()
	}
	why := path + ": " + err.Error()
	if rerr := os.Rename(path, path+damagedSuffix); rerr != nil {
		return []string{why + " (could not set it aside: " + rerr.Error() + ")"}, after
	}
	return []string{why + " (renamed " + filepath.Base(path) + damagedSuffix + ")"}, after
}

// readThrough reads every record, gap and snapshot of one journal file.
func readThrough(path string) error {
	r, err := OpenReader(path)
	if err != nil {
		return err
	}
	defer r.Close()
	for _, err := range r.RawRecords(0) {
		if err != nil {
			return err
		}
	}
	if _, err := r.Gaps(); err != nil {
		return err
	}
	_, err = r.Snapshots()
	return err
}
