package track

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/events/conf"
)

// errRange is a number outside what keepalived accepts from a track file.
var errRange = errors.New("number out of range")

// maxFileRead is how much of a track file keepalived reads.
const maxFileRead = 127

// parseValue reads a track file's number as keepalived does with
// strtol(buf, NULL, 0): leading white space, an optional sign, then a
// decimal, 0x-hexadecimal or 0-octal number, stopping at the first other
// character. ok is false when there is no number at all (keepalived then
// uses 0). A number that overflows, or lies outside [-2^31, 2^31], is an
// error: keepalived ignores such a read and keeps the previous value.
func parseValue(b []byte) (v int64, ok bool, err error) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	base := 10
	switch {
	case i+2 < len(b) && b[i] == '0' && (b[i+1] == 'x' || b[i+1] == 'X') && digitVal(b[i+2]) < 16:
		base, i = 16, i+2
	case i < len(b) && b[i] == '0':
		base = 8
	}
	start := i
	for i < len(b) && digitVal(b[i]) < base {
		i++
	}
	if i == start {
		return 0, false, nil
	}
	u, err := strconv.ParseUint(string(b[start:i]), base, 64)
	if err != nil || u > math.MaxInt64 {
		return 0, true, errRange
	}
	v = int64(u)
	if neg {
		v = -v
	}
	if v < math.MinInt32 || v > math.MaxInt32+1 {
		return 0, true, errRange
	}
	return v, true, nil
}

func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// digitVal is c's value as a digit in any base up to 16, or 16.
func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return 16
}

// readValue reads and parses a track file. failed reports that there was no
// value to read (no file, unreadable, or no number): keepalived counts that
// as 0.
func readValue(path string) (v int64, failed bool, err error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, true, nil
	}
	defer unix.Close(fd)
	buf := make([]byte, maxFileRead)
	n, err := unix.Read(fd, buf)
	if err != nil || n <= 0 {
		return 0, true, nil
	}
	v, ok, err := parseValue(buf[:n])
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", path, err)
	}
	return v, !ok, nil
}

// initFile applies `init_file [VALUE] [overwrite]` at start as keepalived
// does: write VALUE (default 0) and a newline if the file does not exist,
// or always with overwrite (then only over a regular file). The value goes
// to a private temporary file renamed over the path, so no reader ever sees
// a partial file and an existing file's readers cannot see the new content
// early.
func initFile(tf conf.TrackFile) error {
	if !tf.InitFile {
		return nil
	}
	st, err := os.Stat(tf.File)
	switch {
	case err == nil && !tf.InitOverwrite:
		return nil
	case err == nil && !st.Mode().IsRegular():
		return fmt.Errorf("track_file %s: cannot initialise %s: not a regular file", tf.Name, tf.File)
	}
	tmp, err := os.CreateTemp(filepath.Dir(tf.File), filepath.Base(tf.File)+".*")
	if err != nil {
		return fmt.Errorf("track_file %s: initialise: %w", tf.Name, err)
	}
	_, werr := fmt.Fprintf(tmp, "%d\n", tf.InitValue)
	err = errors.Join(werr, tmp.Chmod(0o644), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), tf.File)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("track_file %s: initialise %s: %w", tf.Name, tf.File, err)
	}
	return nil
}
