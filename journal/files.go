package journal

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	filePrefix = "vigil-"
	fileSuffix = ".journal"
	tmpSuffix  = ".tmp"
	nameLayout = "20060102-150405"
)

// journalFile is a journal file in a directory: its name's timestamp and
// collision counter order the files.
type journalFile struct {
	path string
	at   time.Time
	n    int
	size int64
}

// fileName returns the name of the n-th file started at t.
func fileName(t time.Time, n int) string {
	name := filePrefix + t.UTC().Format(nameLayout)
	if n > 0 {
		name += "-" + strconv.Itoa(n)
	}
	return name + fileSuffix
}

// parseName parses a journal file name; ok is false for other files.
func parseName(name string) (at time.Time, n int, ok bool) {
	s, found := strings.CutPrefix(name, filePrefix)
	if !found {
		return time.Time{}, 0, false
	}
	if s, found = strings.CutSuffix(s, fileSuffix); !found || len(s) < len(nameLayout) {
		return time.Time{}, 0, false
	}
	at, err := time.Parse(nameLayout, s[:len(nameLayout)])
	if err != nil {
		return time.Time{}, 0, false
	}
	if rest := s[len(nameLayout):]; rest != "" {
		num, found := strings.CutPrefix(rest, "-")
		if n, err = strconv.Atoi(num); !found || err != nil || n <= 0 {
			return time.Time{}, 0, false
		}
	}
	return at, n, true
}

// listFiles returns the journal files in dir, oldest first.
func listFiles(dir string) ([]journalFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list journal directory: %w", err)
	}
	var fs []journalFile
	for _, e := range ents {
		at, n, ok := parseName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // deleted meanwhile
		}
		fs = append(fs, journalFile{path: filepath.Join(dir, e.Name()), at: at, n: n, size: info.Size()})
	}
	slices.SortFunc(fs, func(a, b journalFile) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.n, b.n))
	})
	return fs, nil
}

// ListFiles returns the paths of the journal files in dir, oldest first.
func ListFiles(dir string) ([]string, error) {
	fs, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(fs))
	for i, f := range fs {
		paths[i] = f.path
	}
	return paths, nil
}
