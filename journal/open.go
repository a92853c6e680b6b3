package journal

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/vigil-ha/vigil/events"
)

// Meta is a journal file's metadata.
type Meta struct {
	// Format is the file format (FormatVersion when written).
	Format int
	// Codec is events.CodecVersion of the writer.
	Codec int
	// Host and Version identify the writing daemon.
	Host, Version string
	// ConfigDigest is the digest of the configuration last loaded while
	// this file was written (ConfigLoaded.Digest), or the previous file's.
	ConfigDigest string
	// Created is the wall time the file was started.
	Created time.Time
}

// protect runs f, turning a panic or memory fault inside bbolt (which
// trusts its file) into an error.
func protect(f func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt journal: %v", r)
		}
	}()
	return f()
}

// openRead opens a journal file read-only after validating it.
func openRead(path string) (*bolt.DB, Meta, error) {
	if err := checkFile(path); err != nil {
		return nil, Meta{}, fmt.Errorf("journal %s: %w", path, err)
	}
	var db *bolt.DB
	var meta Meta
	err := protect(func() error {
		var err error
		db, err = bolt.Open(path, 0, &bolt.Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
		if errors.Is(err, berrors.ErrTimeout) {
			return errors.New("locked by a running writer")
		}
		if err != nil {
			return err
		}
		return db.View(func(tx *bolt.Tx) error {
			meta, err = readMeta(tx)
			return err
		})
	})
	if err != nil {
		if db != nil {
			db.Close()
		}
		return nil, Meta{}, fmt.Errorf("journal %s: %w", path, err)
	}
	return db, meta, nil
}

func readMeta(tx *bolt.Tx) (Meta, error) {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return Meta{}, errors.New("not a vigil journal (no meta bucket)")
	}
	var m Meta
	var err error
	get := func(k string) string { return string(b.Get([]byte(k))) }
	if m.Format, err = strconv.Atoi(get(metaFormat)); err != nil {
		return Meta{}, fmt.Errorf("meta %s: %w", metaFormat, err)
	}
	if m.Format > FormatVersion {
		return Meta{}, fmt.Errorf("journal format %d is newer than this vigil's (%d)", m.Format, FormatVersion)
	}
	if m.Format < 1 {
		return Meta{}, fmt.Errorf("journal format %d is invalid", m.Format)
	}
	for _, name := range recordBuckets(m.Format) {
		if tx.Bucket(name) == nil {
			return Meta{}, fmt.Errorf("bucket %q missing", name)
		}
	}
	if m.Codec, err = strconv.Atoi(get(metaCodec)); err != nil {
		return Meta{}, fmt.Errorf("meta %s: %w", metaCodec, err)
	}
	if m.Codec > events.CodecVersion {
		return Meta{}, fmt.Errorf("journal codec %d is newer than this vigil's (%d)", m.Codec, events.CodecVersion)
	}
	m.Host, m.Version, m.ConfigDigest = get(metaHost), get(metaVersion), get(metaDigest)
	if c := get(metaCreated); c != "" {
		if m.Created, err = time.Parse(time.RFC3339Nano, c); err != nil {
			return Meta{}, fmt.Errorf("meta %s: %w", metaCreated, err)
		}
	}
	return m, nil
}

// recordBuckets are the buckets a file of the given format must have.
func recordBuckets(format int) [][]byte {
	if format == 1 {
		return [][]byte{bucketEvents, bucketEffects, bucketSnapshots, bucketGaps}
	}
	return [][]byte{bucketRecords, bucketSnapshots, bucketGaps}
}

// writeMeta stores m in a new file's meta bucket.
func writeMeta(tx *bolt.Tx, m Meta) error {
	b := tx.Bucket(bucketMeta)
	for _, kv := range [][2]string{
		{metaFormat, strconv.Itoa(m.Format)},
		{metaCodec, strconv.Itoa(m.Codec)},
		{metaHost, m.Host},
		{metaVersion, m.Version},
		{metaDigest, m.ConfigDigest},
		{metaCreated, m.Created.UTC().Format(time.RFC3339Nano)},
	} {
		if err := b.Put([]byte(kv[0]), []byte(kv[1])); err != nil {
			return fmt.Errorf("meta %s: %w", kv[0], err)
		}
	}
	return nil
}
